/**
 * Unit-test fixtures for discovery: discovery on the scripted fake Transport
 * (test/helpers/fake-transport.ts), deterministic sim identities, and helpers that build alive
 * messages as a remote peer would.
 */
import { create } from '@bufbuild/protobuf';
import { pkiIdKey, type PkiId } from '../../src/base/pkiid.js';
import { FakeTransport } from '../helpers/fake-transport.js';
import { Discovery } from '../../src/core/discovery/index.js';
import { discoveryConfig, type DiscoveryConfigInput } from '../../src/core/discovery/config.js';
import { IdentityStore } from '../../src/identity/store.js';
import {
  NodeClock,
  SeededRng,
  SimTrust,
  VirtualClock,
  simCrypto,
  type SimIdentity,
  type SimOrg,
} from '../../src/sim/index.js';
import { Metrics } from '../../src/base/metrics.js';
import {
  EnvelopeSchema,
  GossipMessage_Tag as Tag,
  type Envelope,
} from '../../src/wire/gen/gossip/message_pb.js';
import { openEnvelope, signGossip, signedSecret, unsignedGossip } from '../../src/wire/gossip.js';

/** The fake Transport as discovery sees it: what it authenticates lands in `store`, as comm does. */
export function discoveryTransport(selfPkiId: PkiId, store: IdentityStore): FakeTransport {
  return new FakeTransport({ selfPkiId, onAuthenticated: (c) => store.put(c.pkiId, c.identity) });
}

export interface AliveSpec {
  readonly endpoint?: string;
  readonly inc?: bigint;
  readonly seq: bigint;
  readonly withIdentity?: boolean;
  readonly internal?: string;
}

/** A signed alive message of `id`, as that peer would produce it. */
export function aliveOf(id: SimIdentity, spec: AliveSpec): Envelope {
  const { envelope } = signGossip(
    {
      tag: Tag.EMPTY,
      content: {
        case: 'aliveMsg',
        value: {
          membership: { endpoint: spec.endpoint ?? `${id.name}:7051`, pkiId: id.pkiId },
          timestamp: { incNum: spec.inc ?? 1000n, seqNum: spec.seq },
          identity: spec.withIdentity === false ? new Uint8Array(0) : id.serialized,
        },
      },
    },
    id.signer,
  );
  if (spec.internal) envelope.secretEnvelope = signedSecret(spec.internal, id.signer);
  return envelope;
}

export function memReqOf(alive: Envelope, nonce = 0n): Envelope {
  return unsignedGossip({
    tag: Tag.EMPTY,
    nonce,
    content: { case: 'memReq', value: { selfInformation: alive } },
  }).envelope;
}

export function memResOf(alive: Envelope[], dead: Envelope[] = [], nonce = 0n): Envelope {
  return unsignedGossip({ tag: Tag.EMPTY, nonce, content: { case: 'memRes', value: { alive, dead } } })
    .envelope;
}

export function withTag(envelope: Envelope, tag: Tag): Envelope {
  const { message } = openEnvelope(envelope);
  const copy = unsignedGossip({ ...message, tag }).envelope;
  return create(EnvelopeSchema, {
    payload: copy.payload,
    signature: envelope.signature,
    secretEnvelope: envelope.secretEnvelope,
  });
}

export interface Harness {
  readonly vc: VirtualClock;
  readonly clock: NodeClock;
  readonly t: FakeTransport;
  readonly d: Discovery;
  readonly metrics: Metrics;
  readonly store: IdentityStore;
  readonly self: SimIdentity;
  /** peers[org][i], org 0 = our org. */
  readonly peers: SimIdentity[][];
  readonly orgs: SimOrg[];
}

/**
 * Discovery for peer0 of org1 on a scripted transport; 2 orgs x 4 peers of identities. `onVerify`
 * sees every signature check discovery asks for.
 */
export async function harness(
  config: DiscoveryConfigInput = {},
  selfIndex = 0,
  onVerify?: (data: Uint8Array) => void,
): Promise<Harness> {
  const crypto = await simCrypto({ orgs: 2, peersPerOrg: 4 });
  const peers = [crypto.peers.slice(0, 4), crypto.peers.slice(4, 8)];
  const self = peers[0][selfIndex];
  const vc = new VirtualClock();
  const clock = new NodeClock(vc);
  const trust = new SimTrust(crypto.orgs, clock);
  const metrics = new Metrics();
  const store = new IdentityStore({
    self: { pkiId: self.pkiId, identity: self.serialized },
    validator: trust,
    clock,
  });
  const t = discoveryTransport(self.pkiId, store);
  const d = new Discovery({
    transport: t,
    identityStore: store,
    crypto: {
      verify: (id, sig, data) => {
        onVerify?.(data);
        return trust.verify(id, sig, data);
      },
    },
    signer: self.signer,
    mspId: self.org.mspId,
    config: discoveryConfig({
      endpoint: `${self.name}:7051`,
      externalEndpoint: `${self.name}:7051`,
      ...config,
    }),
    clock,
    rng: new SeededRng(7),
    metrics,
  });
  return { vc, clock, t, d, metrics, store, self, peers, orgs: crypto.orgs };
}

export const hex = (id: { pkiId: PkiId }): string => pkiIdKey(id.pkiId);
