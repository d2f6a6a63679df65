/**
 * The gossip MessageCryptoService (PROTOCOL.md §2.4, §2.8; Fabric internal/peer/gossip/mcs.go).
 *
 * Validated identity: if its MSP ID is the local MSP's, the local MSP decides (not well-formed or
 *   invalid → error). Otherwise each joined channel's MSP manager in turn: one that deserializes
 *   it but finds it not well-formed → error; the first that validates it wins (its channel is
 *   remembered); none → UNKNOWN_IDENTITY.
 * verify: local identity → plain ECDSA check; channel identity → that channel's
 *   /Channel/Application/Readers policy over SignedData{message, identity, signature}.
 * verifyBlock: header present and number = seqNum; channel of the first transaction = channel;
 *   metadata[SIGNATURES] decodes; header.data_hash = SHA-256(concatenated data); (v2.5) unless
 *   it is a config block, every transaction is an Envelope with payload and signature that
 *   re-encodes to the same bytes; then /Channel/Orderer/BlockValidation over one SignedData per
 *   metadata signature {creator, value ‖ signature_header ‖ DER(header), signature}.
 *   The checks that need no channel state (checkBlockContent) and the policy step
 *   (checkBlockSignatureSet) are exported functions: the simulation's crypto (src/sim/crypto.ts)
 *   runs them with its own BlockValidation, so simulated peers run these very checks.
 * Every failure is a GrapevineError (VerifyError with the codes below, or WireError).
 */
import { toBinary } from '@bufbuild/protobuf';
import { GrapevineError, VerifyError, WireError } from '../base/errors.js';
import { decode } from '../wire/codec.js';
import { EnvelopeSchema, type Block } from '../wire/gen/common/common_pb.js';
import { decodeSignatureHeader } from '../wire/headers.js';
import { SerializedIdentitySchema } from '../wire/gen/msp/identities_pb.js';
import {
  blockDataHash,
  blockHeaderBytes,
  blockSignaturesMetadata,
  decodeTx,
  HeaderType,
  isConfigBlock,
  type DecodedTx,
} from '../wire/block.js';
import type { ChannelCryptoContext, LocalIdentity, MspIdentity, SignedData } from './types.js';
import { pkiIdOf } from './x509identity.js';

export const READERS_POLICY = '/Channel/Application/Readers';
export const BLOCK_VALIDATION_POLICY = '/Channel/Orderer/BlockValidation';

export interface ChannelProvider {
  get(channelId: string): ChannelCryptoContext | undefined;
  all(): Iterable<ChannelCryptoContext>;
}

/** One SignedData per orderer signature of a block: {creator, value ‖ signature_header ‖ DER(header), signature}. */
export type BlockSignatureSet = readonly SignedData[];
/** A block's signature set, built on first call and then kept. */
export type LazySignatureSet = () => BlockSignatureSet;

interface Validated {
  readonly identity: MspIdentity;
  /** undefined: validated by the local MSP. */
  readonly channel?: ChannelCryptoContext;
}

/** Run `f`, turning anything that is not a GrapevineError into a VerifyError with `code`. */
function guard<T>(code: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof GrapevineError) throw e;
    throw new VerifyError(code, (e as Error)?.message ?? String(e), { cause: e });
  }
}

export class MessageCryptoService {
  constructor(
    readonly local: LocalIdentity,
    private readonly channels: ChannelProvider,
    /** Wall-clock time for certificate validity (injected: src/base/real-clock or a test's fixed time). */
    private readonly now: () => Date,
  ) {}

  /** Sign with the local identity (ECDSA, low-S, DER). */
  sign(msg: Uint8Array): Uint8Array {
    return this.local.signer.sign(msg);
  }

  /** SHA-256(mspid ‖ id_bytes) of a serialized identity. */
  pkiIdOf(identity: Uint8Array): Uint8Array {
    return guard('NOT_WELL_FORMED', () => pkiIdOf(identity));
  }

  /** NotAfter of a valid identity (validity apart from time, as Fabric's Expiration). */
  expiration(identity: Uint8Array): Date {
    return this.validated(identity, true).identity.expiresAt;
  }

  /** Throws VerifyError unless the local MSP or some channel's MSP validates the identity. */
  validateIdentity(identity: Uint8Array): void {
    this.validated(identity, false);
  }

  /** Verify a gossip signature (§2.4). */
  verify(identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void {
    const v = this.validated(identity, false);
    if (v.channel) {
      this.evaluate(v.channel, READERS_POLICY, [{ data: message, identity, signature }]);
      return;
    }
    const id = v.identity as MspIdentity & { checkSignature?: (d: Uint8Array, s: Uint8Array) => void };
    if (id.checkSignature) guard('BAD_SIGNATURE', () => id.checkSignature!(message, signature));
    else if (!id.verify(message, signature))
      throw new VerifyError('BAD_SIGNATURE', 'signature does not verify');
  }

  /** Verify a signature against the Readers policy of one channel. */
  verifyByChannel(channelId: string, identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void {
    if (identity.length === 0) throw new VerifyError('UNKNOWN_IDENTITY', 'empty peer identity');
    this.evaluate(this.channel(channelId), READERS_POLICY, [{ data: message, identity, signature }]);
  }

  /** Verify a block for a channel (§2.8 plus the v2.5 transaction well-formedness check). */
  verifyBlock(channelId: string, seqNum: bigint, block: Block): void {
    this.checkBlockSignatures(channelId, seqNum, this.checkBlockContent(channelId, seqNum, block));
  }

  /**
   * verifyBlock up to, not including, the orderer signatures: checkBlockContent below, then the
   * channel known. Returns the block's signature set for checkBlockSignatures.
   */
  checkBlockContent(channelId: string, seqNum: bigint, block: Block): LazySignatureSet {
    const lazy = checkBlockContent(channelId, seqNum, block);
    this.channel(channelId);
    return lazy;
  }

  /**
   * /Channel/Orderer/BlockValidation over a block's signature set (checkBlockContent), under
   * `ctx` when given (a config the caller verified and adopted ahead of its commit), else the
   * channel's current one.
   */
  checkBlockSignatures(
    channelId: string,
    seqNum: bigint,
    lazy: LazySignatureSet,
    ctx: ChannelCryptoContext = this.channel(channelId),
  ): void {
    checkBlockSignatureSet(channelId, seqNum, lazy, (signed) =>
      this.evaluate(ctx, BLOCK_VALIDATION_POLICY, signed),
    );
  }

  private channel(channelId: string): ChannelCryptoContext {
    const ctx = this.channels.get(channelId);
    if (!ctx)
      throw new VerifyError('UNKNOWN_CHANNEL', `no policies for channel ${JSON.stringify(channelId)}`);
    return ctx;
  }

  private evaluate(ctx: ChannelCryptoContext, path: string, signed: readonly SignedData[]): void {
    guard('POLICY', () => ctx.policies.evaluate(path, signed, this.now()));
  }

  private validated(serialized: Uint8Array, ignoreExpiry: boolean): Validated {
    return guard('UNKNOWN_IDENTITY', () => this.validatedInner(serialized, ignoreExpiry));
  }

  private validatedInner(serialized: Uint8Array, ignoreExpiry: boolean): Validated {
    if (serialized.length === 0) throw new VerifyError('UNKNOWN_IDENTITY', 'empty peer identity');
    const now = this.now();
    const check = (validate: () => void) => {
      try {
        validate();
      } catch (e) {
        if (!(ignoreExpiry && e instanceof VerifyError && e.code === 'EXPIRED')) throw e;
      }
    };
    const localMsp = this.local.msp;
    const mspId = this.mspIdOf(serialized);
    if (mspId === localMsp.id) {
      const identity = localMsp.deserialize(serialized);
      check(() => localMsp.validate(identity, now));
      return { identity };
    }
    let lastError: unknown;
    for (const channel of this.channels.all()) {
      let found;
      try {
        found = channel.msps.deserialize(serialized);
      } catch (e) {
        if (e instanceof VerifyError && e.code === 'NOT_WELL_FORMED') throw e;
        continue;
      }
      try {
        check(() => found.msp.validate(found.identity, now));
        return { identity: found.identity, channel };
      } catch (e) {
        lastError = e;
      }
    }
    throw new VerifyError(
      'UNKNOWN_IDENTITY',
      `identity of MSP ${JSON.stringify(mspId)} cannot be validated by the local MSP or any channel's MSPs` +
        (lastError ? `: ${(lastError as Error).message}` : ''),
      { cause: lastError },
    );
  }

  private mspIdOf(serialized: Uint8Array): string {
    // parse once to learn the MSP ID; the deserializers re-check everything
    return guard(
      'NOT_WELL_FORMED',
      () => decode(SerializedIdentitySchema, serialized, 'msp.SerializedIdentity').mspid,
    );
  }
}

/**
 * The block checks of VerifyBlock that need no channel state (§2.8; the simulation's crypto runs
 * them too): header present and number = seqNum; channel of the first transaction = channelId;
 * metadata present and metadata[SIGNATURES] decodes; data hash; (v2.5) well-formed transactions.
 * Returns the block's signature set for checkBlockSignatureSet, built when first asked for
 * (catch-up verifies runs of chained blocks with one signature check, state/verify/segment.ts,
 * so most sets are never built; a signature header that does not decode fails there, MALFORMED).
 */
export function checkBlockContent(channelId: string, seqNum: bigint, block: Block): LazySignatureSet {
  const header = block.header;
  if (!header) throw new VerifyError('HEADER_MISMATCH', `invalid block on channel ${channelId}: no header`);
  if (header.number !== seqNum) {
    throw new VerifyError(
      'HEADER_MISMATCH',
      `claimed seqNum is ${seqNum} but the block's number is ${header.number}`,
    );
  }
  const data = block.data?.data ?? [];
  let first: DecodedTx;
  try {
    if (data.length === 0) throw new WireError('MALFORMED', 'block has no transactions');
    first = decodeTx(data[0]);
  } catch (e) {
    throw new VerifyError(
      'MALFORMED_TX',
      `block ${seqNum}: cannot read the channel of its first transaction: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const blockChannel = first.channelHeader.channelId;
  if (blockChannel !== channelId) {
    throw new VerifyError(
      'WRONG_CHANNEL',
      `block ${seqNum}: channel is ${JSON.stringify(blockChannel)}, expected ${JSON.stringify(channelId)}`,
    );
  }
  if (!block.metadata || block.metadata.metadata.length === 0) {
    throw new VerifyError('NO_METADATA', `block ${seqNum} on channel ${channelId} has no metadata`);
  }
  const metadata = guard('MALFORMED', () => blockSignaturesMetadata(block));
  if (!Buffer.from(blockDataHash(data)).equals(header.dataHash)) {
    throw new VerifyError(
      'DATA_HASH',
      `block ${seqNum} on channel ${channelId}: header data hash differs from the hash of the block data`,
    );
  }
  // the first transaction decoded above: a config block is exactly one CONFIG transaction
  checkWellFormed(data, data.length === 1 && first.channelHeader.type === HeaderType.CONFIG);
  let set: BlockSignatureSet | undefined;
  return () => {
    if (set) return set;
    const headerBytes = blockHeaderBytes(header);
    set = metadata.signatures.map((ms, i) => {
      const shdr = guard('MALFORMED', () =>
        decodeSignatureHeader(ms.signatureHeader, `signature header ${i} of block ${seqNum}`),
      );
      return {
        identity: shdr.creator,
        data: Buffer.concat([metadata.value, ms.signatureHeader, headerBytes]),
        signature: ms.signature,
      };
    });
    return set;
  };
}

/**
 * Evaluate the BlockValidation policy (`blockValidation`, which throws when it refuses) over a
 * block's signature set; a refusal of a block that carries no signatures is NO_SIGNATURES.
 */
export function checkBlockSignatureSet(
  channelId: string,
  seqNum: bigint,
  lazy: LazySignatureSet,
  blockValidation: (signed: BlockSignatureSet) => void,
): void {
  const signed = lazy();
  try {
    blockValidation(signed);
  } catch (e) {
    if (signed.length === 0) {
      throw new VerifyError(
        'NO_SIGNATURES',
        `block ${seqNum} on channel ${channelId} carries no signatures: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    throw e;
  }
}

/** v2.5 VerifyTransactionsAreWellFormed: throws VerifyError MALFORMED_TX. */
export function checkTransactionsWellFormed(block: Block): void {
  checkWellFormed(block.data?.data ?? [], isConfigBlock(block));
}

/**
 * The well-formedness check given whether the block is a config block. A transaction whose bytes
 * are exactly the canonical encoding of an Envelope with a non-empty payload and signature
 * (isCanonicalEnvelope) passes without decoding; anything else goes through decode and re-encode,
 * which decides it and words the error. Both accept exactly the same bytes.
 */
function checkWellFormed(data: readonly Uint8Array[], configBlock: boolean): void {
  if (data.length === 0) throw new VerifyError('MALFORMED_TX', 'empty block');
  if (configBlock) return;
  for (let i = 0; i < data.length; i++) if (!isCanonicalEnvelope(data[i])) checkEnvelopeSlow(data[i], i);
}

/**
 * True when b is `0x0a len(P) P 0x12 len(S) S` with P and S non-empty and both lengths minimal
 * varints, nothing before, between or after: what toBinary writes for an Envelope with a
 * non-empty payload and signature and no unknown fields. Such bytes decode (bytes fields take
 * any content) and re-encode to themselves, so the decode-and-compare check accepts them too.
 */
export function isCanonicalEnvelope(b: Uint8Array): boolean {
  if (b.length < 4 || b[0] !== 0x0a) return false;
  let o = 1;
  let len = 0;
  let shift = 1;
  for (let i = 0; ; i++) {
    if (i === 4 || o >= b.length) return false; // lengths above 2^28 take the slow path
    const c = b[o++];
    len += (c & 0x7f) * shift;
    shift *= 128;
    if (c < 0x80) {
      if (c === 0 && i > 0) return false; // not minimal
      break;
    }
  }
  if (len === 0) return false;
  o += len;
  if (o >= b.length || b[o] !== 0x12) return false;
  o++;
  len = 0;
  shift = 1;
  for (let i = 0; ; i++) {
    if (i === 4 || o >= b.length) return false;
    const c = b[o++];
    len += (c & 0x7f) * shift;
    shift *= 128;
    if (c < 0x80) {
      if (c === 0 && i > 0) return false;
      break;
    }
  }
  return len > 0 && o + len === b.length;
}

/**
 * Why the transaction envelope `raw` is not well formed as a peer's block verification requires
 * (non-empty payload and signature, the canonical encoding: no unknown fields or trailing bytes),
 * or undefined when it is. The orderer refuses such envelopes at Broadcast, so that it never cuts a
 * block its peers refuse.
 */
export function envelopeMalformation(raw: Uint8Array): string | undefined {
  if (isCanonicalEnvelope(raw)) return undefined;
  try {
    checkEnvelopeSlow(raw, 0);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^transaction 0 /, 'the envelope ');
  }
}

/** The decode-and-re-encode check of one transaction (throws VerifyError MALFORMED_TX). */
function checkEnvelopeSlow(raw: Uint8Array, i: number): void {
  const env = guard('MALFORMED_TX', () => {
    try {
      return decode(EnvelopeSchema, raw, `transaction ${i}`);
    } catch (e) {
      throw new VerifyError('MALFORMED_TX', `transaction ${i} is invalid: ${(e as Error).message}`, {
        cause: e,
      });
    }
  });
  if (env.payload.length === 0) throw new VerifyError('MALFORMED_TX', `transaction ${i} has no payload`);
  if (env.signature.length === 0) throw new VerifyError('MALFORMED_TX', `transaction ${i} has no signature`);
  const again = toBinary(EnvelopeSchema, env);
  if (!Buffer.from(again).equals(raw)) {
    throw new VerifyError(
      'MALFORMED_TX',
      again.length < raw.length
        ? `transaction ${i} has ${raw.length - again.length} trailing bytes`
        : `transaction ${i} does not match its canonical encoding`,
    );
  }
}
