/**
 * Test fixtures for the orderer and the deliver client: a channel genesis block over the
 * testCrypto material (configtx.yaml written to a temp folder), and identities of its nodes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningIdentity } from '../../src/identity/index.js';
import type { LocalIdentity } from '../../src/identity/types.js';
import { channelConfigtxYaml, writeConfigtxGenesis } from '../../src/network/channel-yaml.js';
import { testCrypto } from '../helpers/crypto.js';

export interface GenesisSpec {
  channel?: string;
  /** Application orgs in the channel (1-based org numbers). Default [1, 2]. */
  orgs?: number[];
  maxMessageCount?: number;
  batchTimeout?: string;
  absoluteMaxBytes?: string;
  preferredMaxBytes?: string;
  /** OrdererEndpoints of the orderer org. Default ['127.0.0.1:7050']. */
  ordererEndpoints?: string[];
}

export const ORDERER_MSP = 'ordererOrganizations/example.com/orderers/orderer0.example.com/msp';
export const ORDERER_TLS = 'ordererOrganizations/example.com/orderers/orderer0.example.com/tls';

export function peerMsp(org: number, peer = 0): string {
  return `peerOrganizations/org${org}.example.com/peers/peer${peer}.org${org}.example.com/msp`;
}
export function peerTls(org: number, peer = 0): string {
  return `peerOrganizations/org${org}.example.com/peers/peer${peer}.org${org}.example.com/tls`;
}
export function userMsp(org: number): string {
  return `peerOrganizations/org${org}.example.com/users/User1@org${org}.example.com/msp`;
}

export function configtxYaml(root: string, spec: GenesisSpec = {}): string {
  return channelConfigtxYaml({
    root,
    profile: 'Test',
    orgs: spec.orgs ?? [1, 2],
    anchorPort: (n) => 7051 + n * 1000,
    ordererEndpoints: spec.ordererEndpoints ?? ['127.0.0.1:7050'],
    consenterPort: 7050,
    batchTimeout: spec.batchTimeout ?? '2s',
    maxMessageCount: spec.maxMessageCount ?? 10,
    absoluteMaxBytes: spec.absoluteMaxBytes,
    preferredMaxBytes: spec.preferredMaxBytes,
  });
}

export interface Fixture {
  readonly root: string;
  readonly genesis: Uint8Array;
  readonly channel: string;
  readonly orderer: LocalIdentity;
  /** Writers: User1@org1. */
  readonly user: LocalIdentity;
  /** Readers: peer0.org1. */
  readonly peer: LocalIdentity;
  /** Not a member of the channel: peer0.org3 (org 3 exists in the crypto, not in the channel). */
  readonly outsider: LocalIdentity;
  file(rel: string): Uint8Array;
}

export async function fixture(spec: GenesisSpec = {}): Promise<Fixture> {
  const root = await testCrypto({ orgs: 3, peersPerOrg: 1 });
  const channel = spec.channel ?? 'testchannel';
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-orderer-cfg-'));
  const genesis = writeConfigtxGenesis(join(dir, 'configtx.yaml'), configtxYaml(root, spec), 'Test', channel);
  return {
    root,
    genesis,
    channel,
    orderer: loadSigningIdentity(join(root, ORDERER_MSP), 'OrdererMSP', { now: new Date() }),
    user: loadSigningIdentity(join(root, userMsp(1)), 'Org1MSP', { now: new Date() }),
    peer: loadSigningIdentity(join(root, peerMsp(1)), 'Org1MSP', { now: new Date() }),
    outsider: loadSigningIdentity(join(root, peerMsp(3)), 'Org3MSP', { now: new Date() }),
    file: (rel) => new Uint8Array(readFileSync(join(root, rel))),
  };
}

import { BlockStore } from '../../src/ledger/index.js';
import { Chain } from '../../src/orderer/chain.js';
import type { Clock } from '../../src/base/time.js';
import type { Signer } from '../../src/wire/signer.js';
import { randomBytes } from 'node:crypto';
import { encode } from '../../src/wire/codec.js';
import { signedEnvelope } from '../../src/wire/index.js';
import { EnvelopeSchema, HeaderType } from '../../src/wire/gen/common/common_pb.js';
import type { DeliverIO } from '../../src/orderer/deliver.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { deliverBlockFrame, deliverStatusFrame } from '../../src/wire/deliver-frames.js';

/** A chain on a fresh temp ledger; close() stops it and closes the ledger. */
export async function tempChain(
  genesis: Uint8Array,
  signer: Signer,
  clock: Clock,
): Promise<{ chain: Chain; store: BlockStore; close(): Promise<void> }> {
  const store = await BlockStore.open(mkdtempSync(join(tmpdir(), 'grapevine-orderer-ledger-')));
  const chain = await Chain.open(
    { store, signer, clock, rng: { bytes: (n) => new Uint8Array(randomBytes(n)) } },
    genesis,
  );
  return {
    chain,
    store,
    async close() {
      await chain.stop();
      await store.close();
    },
  };
}

/** An in-memory Deliver stream: requests queued by the test, responses recorded as frames. */
export class MemDeliverIO implements DeliverIO {
  readonly frames: Uint8Array[] = [];
  private readonly requests: (Uint8Array | undefined)[] = [];
  private waiting: ((r: Uint8Array | undefined) => void) | undefined;
  private readonly ac = new AbortController();
  readonly signal = this.ac.signal;
  onFrame: (() => void) | undefined;

  constructor(readonly clientCertHash?: Uint8Array) {}

  push(req: Uint8Array | undefined): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(req);
    } else this.requests.push(req);
  }

  cancel(): void {
    this.ac.abort();
  }

  recv(): Promise<Uint8Array | undefined> {
    if (this.requests.length) return Promise.resolve(this.requests.shift());
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async sendBlock(block: Uint8Array): Promise<void> {
    this.frames.push(deliverBlockFrame(block));
    this.onFrame?.();
  }

  async sendStatus(status: number): Promise<void> {
    this.frames.push(deliverStatusFrame(status));
    this.onFrame?.();
  }

  /** Decoded responses: block numbers (as bigint via the frame) or status numbers. */
  responses(): ({ block: Uint8Array } | { status: number })[] {
    return this.frames.map((f) => {
      const r = parseDeliverResponse(f);
      if (r.case === 'block') return { block: r.block };
      if (r.case === 'status') return { status: r.status };
      throw new Error('unknown frame');
    });
  }
}

/** `n` signed ENDORSER_TRANSACTION envelopes for the fixture's channel (data [i], tx ids prefix+i), encoded. */
export function endorserTxs(f: Fixture, signer: Signer, n: number, prefix = 't'): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    encode(
      EnvelopeSchema,
      signedEnvelope(
        {
          type: HeaderType.ENDORSER_TRANSACTION,
          channelId: f.channel,
          data: new Uint8Array([i]),
          nowMs: Date.now(),
          txId: `${prefix}${i}`,
          preciseTimestamp: true,
        },
        signer,
      ),
    ),
  );
}
