/**
 * The gossip node's crypto for simulated peers (src/sim): identities and plain signatures from
 * SimTrust (chain to the org CA, validity at virtual time, DER low-S ECDSA); the Readers policy
 * of a channel stands as "the identity's org is a channel org and its signature verifies"; a
 * block goes through the production checks of identity/mcs.ts (§2.8: header number = seq,
 * channel of the first transaction, metadata, data hash, well-formed transactions, the channel
 * known, the signature set over value ‖ signature_header ‖ DER(header)) with BlockValidation =
 * "every signature verifies and at least one is by a trusted identity of the orderer org".
 * Signature checks that succeeded are remembered process-wide by SimTrust (keyed by a hash of
 * identity, signature and message), so a message flooded to 100 simulated peers costs one ECDSA
 * verify: the simulation measures the protocol, not the CPU of 100 peers sharing one process.
 */
import { VerifyError } from '../base/errors.js';
import { checkBlockContent, checkBlockSignatureSet, type BlockSignatureSet } from '../identity/mcs.js';
import { parseSerializedIdentity } from '../identity/x509identity.js';
import type { SimTrust } from './trust.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import type { NodeCrypto } from '../core/gossip/node.js';

export class SimGossipCrypto implements NodeCrypto {
  constructor(
    private readonly trust: SimTrust,
    /** Channel -> MSP IDs of its Application orgs. */
    private readonly channels: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly ordererMspId = 'OrdererMSP',
  ) {}

  pkiIdOf(identity: Uint8Array): Uint8Array {
    return this.trust.pkiIdOf(identity);
  }

  validateIdentity(identity: Uint8Array): void {
    this.trust.validateIdentity(identity);
  }

  verify(identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void {
    // two calls, not SimTrust.verifyValid: callers may hand in any object with SimTrust's Verify side
    this.trust.validateIdentity(identity);
    this.trust.verify(identity, signature, message);
  }

  verifyByChannel(channel: string, identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void {
    const orgs = this.channels.get(channel);
    if (!orgs) throw new VerifyError('UNKNOWN_CHANNEL', `no policies for channel ${channel}`);
    if (!orgs.has(parseSerializedIdentity(identity).mspId))
      throw new VerifyError('POLICY', 'identity is not of a channel org');
    this.verify(identity, signature, message);
  }

  /**
   * The production block checks (identity/mcs.ts: checkBlockContent, the channel known,
   * checkBlockSignatureSet) with the simulation's BlockValidation: every signature verifies
   * (SimTrust) and at least one is by the orderer org.
   */
  verifyBlock(channel: string, seqNum: bigint, block: Block): void {
    const lazy = checkBlockContent(channel, seqNum, block);
    if (!this.channels.has(channel))
      throw new VerifyError('UNKNOWN_CHANNEL', `no policies for channel ${JSON.stringify(channel)}`);
    checkBlockSignatureSet(channel, seqNum, lazy, (signed) => this.blockValidation(signed));
  }

  private blockValidation(signed: BlockSignatureSet): void {
    let byOrderer = 0;
    for (const sd of signed) {
      this.verify(sd.identity, sd.signature, sd.data);
      if (parseSerializedIdentity(sd.identity).mspId === this.ordererMspId) byOrderer++;
    }
    if (byOrderer === 0) throw new VerifyError('POLICY', 'block is not signed by the orderer org');
  }
}
