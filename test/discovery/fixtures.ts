/**
 * Unit-test fixtures for discovery: a scripted in-memory Transport (records what discovery
 * sends, lets the test inject received messages), deterministic sim identities, and helpers that
 * build alive messages as a remote peer would.
 */
import { create } from '@bufbuild/protobuf';
import { type AckResult, type ConnectionInfo, type ReceivedMessage, type RemotePeer, type Transport, type Unsubscribe } from '../../src/core/link/types.js';
import { pkiIdKey, type PkiId } from '../../src/base/pkiid.js';
import { Discovery } from '../../src/core/discovery/index.js';
import type { DiscoveryConfigInput } from '../../src/core/discovery/config.js';
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
  type GossipMessage,
} from '../../src/wire/gen/gossip/message_pb.js';
import { openEnvelope, signGossip, signedSecret, unsignedGossip } from '../../src/wire/gossip.js';

export interface Sent {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  readonly to: RemotePeer;
}

/** A Transport whose network is the test. */
export class FakeTransport implements Transport {
  readonly sent: Sent[] = [];
  readonly closed: RemotePeer[] = [];
  readonly probed: RemotePeer[] = [];
  readonly handshakes: RemotePeer[] = [];
  /** Endpoint -> identity reachable there (probe and handshake succeed). */
  readonly reachable = new Map<string, SimIdentity>();
  private readonly subs = new Set<{ p: (m: ReceivedMessage) => boolean; h: (m: ReceivedMessage) => void }>();
  private readonly dead = new Set<(p: PkiId) => void>();
  private readonly switches = new Set<(p: PkiId) => void>();

  constructor(
    readonly selfPkiId: PkiId,
    private readonly store: IdentityStore,
  ) {}

  send(envelope: Envelope, ...peers: RemotePeer[]): void {
    const { message } = openEnvelope(envelope);
    for (const to of peers) this.sent.push({ envelope, message, to });
  }
  async sendWithAck(): Promise<AckResult[]> {
    return [];
  }
  async probe(peer: RemotePeer): Promise<void> {
    this.probed.push(peer);
    if (!this.reachable.has(peer.endpoint)) throw new Error('unreachable');
  }
  async handshake(peer: RemotePeer): Promise<ConnectionInfo> {
    this.handshakes.push(peer);
    const id = this.reachable.get(peer.endpoint);
    if (!id) throw new Error('connection refused');
    this.store.put(id.pkiId, id.serialized);
    return connInfo(id, peer.endpoint);
  }
  subscribe(p: (m: ReceivedMessage) => boolean, h: (m: ReceivedMessage) => void): Unsubscribe {
    const s = { p, h };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }
  onPresumedDead(h: (p: PkiId) => void): Unsubscribe {
    this.dead.add(h);
    return () => this.dead.delete(h);
  }
  onIdentitySwitch(h: (p: PkiId) => void): Unsubscribe {
    this.switches.add(h);
    return () => this.switches.delete(h);
  }
  closeConn(peer: RemotePeer): void {
    this.closed.push(peer);
  }
  connectedPeers(): PkiId[] {
    return [];
  }
  async stop(): Promise<void> {}

  get subscriberCount(): number {
    return this.subs.size;
  }

  /** Deliver `envelope` as received on an authenticated connection from `from` (handshake done). */
  deliver(envelope: Envelope, from: SimIdentity): void {
    this.store.put(from.pkiId, from.serialized);
    const message = openEnvelope(envelope).message;
    const m: ReceivedMessage = {
      envelope,
      message,
      conn: connInfo(from, `${from.name}:7051`),
      respond: () => {},
      ack: () => {},
    };
    for (const s of [...this.subs]) if (s.p(m)) s.h(m);
  }
  presumeDead(pkiId: PkiId): void {
    for (const h of this.dead) h(pkiId);
  }
  switchIdentity(pkiId: PkiId): void {
    for (const h of this.switches) h(pkiId);
  }
  /** Sent messages of one content kind, optionally to one PKI-ID; clears nothing. */
  ofKind(kind: string, to?: SimIdentity): Sent[] {
    return this.sent.filter(
      (s) =>
        s.message.content.case === kind &&
        (!to || (s.to.pkiId && pkiIdKey(s.to.pkiId) === pkiIdKey(to.pkiId))),
    );
  }
}

export function connInfo(id: SimIdentity, endpoint: string): ConnectionInfo {
  return {
    pkiId: id.pkiId,
    identity: id.serialized,
    endpoint,
    auth: { signedData: new Uint8Array(0), signature: new Uint8Array(0) },
  };
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

/** Discovery for peer0 of org1 on a scripted transport; 2 orgs x 4 peers of identities. */
export async function harness(config: DiscoveryConfigInput = {}, selfIndex = 0): Promise<Harness> {
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
  const t = new FakeTransport(self.pkiId, store);
  const d = new Discovery({
    transport: t,
    identityStore: store,
    crypto: { verify: (id, sig, data) => trust.verify(id, sig, data) },
    signer: self.signer,
    mspId: self.org.mspId,
    config: { endpoint: `${self.name}:7051`, externalEndpoint: `${self.name}:7051`, ...config },
    clock,
    rng: new SeededRng(7),
    metrics,
  });
  return { vc, clock, t, d, metrics, store, self, peers, orgs: crypto.orgs };
}

export const hex = (id: { pkiId: PkiId }): string => pkiIdKey(id.pkiId);
