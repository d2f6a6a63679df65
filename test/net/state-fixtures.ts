/**
 * Real-socket state fixtures (also used by bench/catchup.bench.ts): testCrypto peers with mutual
 * TLS GrpcTransports, a StateCrypto over the orgs' real MSPs (Readers = "an identity of a
 * channel org whose signature verifies"; BlockValidation = "signed by the orderer org", checked
 * as §2.8 by the sim crypto's verifier), the orderer's signer, and catch-up client/server.
 */
import { realClock } from '../../src/base/real-clock.js';
import { join } from 'node:path';
import { commCryptoFromMsps, loadCommIdentity, loadCommTls } from '../../src/comm/identity.js';
import type { CommTls } from '../../src/comm/tls.js';
import { VerifyError } from '../../src/base/errors.js';
import { SimGossipCrypto } from '../../src/sim/crypto.js';
import { fabricMspConfigFromFolder, loadMspFolder, mspFromFabricConfig } from '../../src/identity/index.js';
import type { Msp } from '../../src/identity/types.js';
import type { SimTrust } from '../../src/sim/trust.js';
import type { StateCrypto } from '../../src/core/state/index.js';
import type { Signer } from '../../src/wire/signer.js';
import { orgMsp, orgTlsCaPem, peerFolder } from '../comm/fixtures.js';

export const ORDERER_DIR = 'ordererOrganizations/example.com';

export function ordererMsp(root: string): Msp {
  return mspFromFabricConfig(
    fabricMspConfigFromFolder(loadMspFolder(join(root, ORDERER_DIR, 'msp')), 'OrdererMSP'),
  );
}

export function ordererSigner(root: string): Signer {
  return loadCommIdentity(join(root, ORDERER_DIR, 'orderers', 'orderer0.example.com', 'msp'), 'OrdererMSP')
    .signer;
}

/** StateCrypto for `channel` whose Application orgs are `channelOrgs` (1-based). */
export function mspStateCrypto(
  root: string,
  channel: string,
  channelOrgs: readonly number[],
  allOrgs: readonly number[],
): StateCrypto {
  const msps = [...allOrgs.map((o) => orgMsp(root, o)), ordererMsp(root)];
  const cc = commCryptoFromMsps(() => msps, realClock);
  const trust = {
    pkiIdOf: (i: Uint8Array) => cc.pkiIdOf(i),
    validateIdentity: (i: Uint8Array) => cc.validateIdentity(i),
    verify: (i: Uint8Array, s: Uint8Array, m: Uint8Array) => {
      if (!cc.verifySignature(i, s, m)) throw new VerifyError('BAD_SIGNATURE', 'signature does not verify');
    },
  } as unknown as SimTrust;
  return new SimGossipCrypto(trust, new Map([[channel, new Set(channelOrgs.map((o) => `Org${o}MSP`))]]));
}

export function peerTls(root: string, org: number, peer: number, trust: readonly number[]): CommTls {
  return loadCommTls(
    join(peerFolder(root, org, peer), 'tls'),
    trust.map((o) => orgTlsCaPem(root, o)),
  );
}

export function peerSigner(root: string, org: number, peer: number): Signer {
  return loadCommIdentity(join(peerFolder(root, org, peer), 'msp'), `Org${org}MSP`).signer;
}
