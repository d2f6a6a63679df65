/**
 * In-memory fakes for channel tests: one local peer hosting one GossipChannel, fed through the
 * node's real receive path (src/gossip/receive.ts) and routed through the real router, with a
 * virtual clock, a seeded rng, a recording transport, a fake membership view (alive members with
 * orgs and endpoints) and fake crypto (signature = SHA-256(identity ‖ payload); Readers policy =
 * org in the channel + signature; a block verifies when header.number = seq and its data hash
 * is "good"). Drops are counted in grapevine_gossip_dropped_total{reason} exactly as GossipNode does.
 */
import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { ReceivedMessage, RemotePeer } from '../../src/core/link/types.js';
import type { PkiId } from '../../src/base/pkiid.js';
import { GossipChannel } from '../../src/core/channel/channel.js';
import { channelGossipConfig, type ChannelGossipConfigInput } from '../../src/core/channel/config.js';
import type { GossipDropReason } from '../../src/core/channel/errors.js';
import type { JoinInfo } from '../../src/core/channel/join.js';
import { channelMac } from '../../src/core/channel/mac.js';
import { createForeignStateInfoStore, type ForeignStateInfoStore } from '../../src/core/channel/stores.js';
import type {
  BlockEvent,
  ChannelHost,
  GossipCrypto,
  LeadershipEvent,
  PushItem,
} from '../../src/core/channel/types.js';
import type { MemberInfo } from '../../src/core/discovery/types.js';
import { VerifyError } from '../../src/base/errors.js';
import { createBlockPuller } from '../../src/core/pull/block-puller.js';
import { isChannelMessage, receive } from '../../src/core/gossip/receive.js';
import { routeBatch } from '../../src/core/gossip/router.js';
import { SeededRng, VirtualClock } from '../../src/sim/index.js';
import { silentLogger } from '../../src/base/log.js';
import { Metrics } from '../../src/base/metrics.js';
import { encodeBlock } from '../../src/wire/block.js';
import { BlockSchema } from '../../src/wire/gen/common/common_pb.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import {
  channelBytes,
  openEnvelope,
  signGossip,
  Tag,
  unsignedGossip,
  type GossipMessageInit,
} from '../../src/wire/gossip.js';
import type { Signer } from '../../src/wire/signer.js';
import { FakeTransport } from '../helpers/fake-transport.js';
import { METRICS } from '../../src/base/metric-table.js';
import { pullConfig } from '../../src/core/pull/config.js';

export const CH = 'mychannel';
export const ORG1 = 'Org1MSP';
export const ORG2 = 'Org2MSP';
export const ORG3 = 'Org3MSP';

export interface FakePeer {
  readonly name: string;
  readonly org: string;
  readonly identity: Uint8Array;
  readonly pkiId: PkiId;
  readonly endpoint: string;
  readonly signer: Signer;
}

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export function fakePeer(name: string, org: string, endpoint = `${name}:7051`): FakePeer {
  const identity = new TextEncoder().encode(`${org}|${name}`);
  return {
    name,
    org,
    identity,
    pkiId: sha(identity),
    endpoint,
    signer: { serializedIdentity: identity, sign: (d) => sha(identity, d) },
  };
}

export const orgOfIdentity = (identity: Uint8Array): string =>
  Buffer.from(identity).toString().split('|')[0]!;

/** Fake crypto: `channelOrgs` is read at each call (reconfiguration changes it). */
export function fakeCrypto(channelOrgs: () => readonly string[]): GossipCrypto {
  const verify = (identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void => {
    if (!Buffer.from(sha(identity, message)).equals(signature))
      throw new VerifyError('BAD_SIGNATURE', 'signature does not verify');
  };
  return {
    verify,
    verifyByChannel: (_ch, identity, signature, message) => {
      if (!channelOrgs().includes(orgOfIdentity(identity)))
        throw new VerifyError('POLICY', 'not a channel org');
      verify(identity, signature, message);
    },
    verifyBlock: (_ch, seq, block) => {
      if (block.header?.number !== seq) throw new VerifyError('HEADER_MISMATCH', `not block ${seq}`);
      if (Buffer.from(block.header.dataHash).toString() !== 'good')
        throw new VerifyError('POLICY', 'not signed by the orderer');
    },
  };
}

export function blockBytes(seq: bigint, good = true): Uint8Array {
  return encodeBlock(
    create(BlockSchema, { header: { number: seq, dataHash: Buffer.from(good ? 'good' : 'evil') } }),
  );
}

export function dataMsg(seq: bigint, opts: { good?: boolean; channel?: string; tag?: Tag } = {}): Envelope {
  return unsignedGossip({
    tag: opts.tag ?? Tag.CHAN_AND_ORG,
    nonce: 0n,
    channel: channelBytes(opts.channel ?? CH),
    content: {
      case: 'dataMsg',
      value: { payload: { seqNum: seq, data: blockBytes(seq, opts.good ?? true) } },
    },
  }).envelope;
}

let stateInfoSeq = 1_000n;

/** A StateInfo of `p` for `channel`, signed by `signer` (default p's). */
export function stateInfo(
  p: FakePeer,
  o: {
    height?: bigint;
    left?: boolean;
    time?: { incNum: bigint; seqNum: bigint };
    channel?: string;
    signer?: Signer;
    tag?: Tag;
    mac?: Uint8Array;
  } = {},
): Envelope {
  return signGossip(
    {
      tag: o.tag ?? Tag.CHAN_OR_ORG,
      nonce: 0n,
      content: {
        case: 'stateInfo',
        value: {
          pkiId: p.pkiId,
          channelMAC: o.mac ?? channelMac(p.pkiId, o.channel ?? CH),
          timestamp: o.time ?? { incNum: 1n, seqNum: stateInfoSeq++ },
          properties: { ledgerHeight: o.height ?? 1n, leftChannel: o.left ?? false, chaincodes: [] },
        },
      },
    },
    o.signer ?? p.signer,
  ).envelope;
}

export function leadership(
  p: FakePeer,
  time: { incNum: bigint; seqNum: bigint },
  signer: Signer = p.signer,
): Envelope {
  return signGossip(
    {
      tag: Tag.CHAN_AND_ORG,
      nonce: 0n,
      channel: channelBytes(CH),
      content: { case: 'leadershipMsg', value: { pkiId: p.pkiId, timestamp: time, isDeclaration: true } },
    },
    signer,
  ).envelope;
}

export function gossip(init: GossipMessageInit): Envelope {
  return unsignedGossip(init).envelope;
}

export interface SentRecord {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  readonly to: RemotePeer[];
}

export interface HarnessOptions {
  readonly self?: FakePeer;
  /** Orgs of the channel (JoinInfo). */
  readonly orgs?: readonly string[];
  readonly peers?: readonly FakePeer[];
  /** Our external endpoint ('' = none). */
  readonly externalEndpoint?: string;
  readonly config?: ChannelGossipConfigInput;
  /** Build a real block puller. Default true. */
  readonly blockPull?: boolean;
  readonly seed?: number;
}

export class Harness {
  readonly clock = new VirtualClock();
  readonly rng: SeededRng;
  readonly metrics = new Metrics();
  readonly self: FakePeer;
  readonly sent: SentRecord[] = [];
  readonly responses: { to: FakePeer; envelope: Envelope; message: GossipMessage }[] = [];
  readonly pushed: PushItem[] = [];
  readonly delivered: BlockEvent[] = [];
  /** Blocks the fake state layer refuses as too far ahead. */
  refuse?: (seq: bigint) => boolean;
  readonly leaderships: LeadershipEvent[] = [];
  readonly drops: { reason: GossipDropReason; detail: string }[] = [];
  /** Known members (alive unless in `dead`); `forgotten` ones are unknown to discovery. */
  readonly members = new Map<string, FakePeer>();
  readonly dead = new Set<string>();
  /** Members without an external endpoint (only an internal one). */
  readonly internalOnly = new Set<string>();
  readonly identities = new Map<string, Uint8Array>();
  orgs: string[];
  readonly host: ChannelHost;
  readonly channel: GossipChannel;
  readonly foreign: ForeignStateInfoStore;

  constructor(o: HarnessOptions = {}) {
    this.rng = new SeededRng(o.seed ?? 7);
    this.self = o.self ?? fakePeer('self', ORG1);
    this.orgs = [...(o.orgs ?? [ORG1, ORG2])];
    this.identities.set(key(this.self.pkiId), this.self.identity);
    for (const p of o.peers ?? []) this.addMember(p);
    const config = channelGossipConfig(o.config);
    const transport = new FakeTransport({ selfPkiId: this.self.pkiId, endpoint: this.self.endpoint });
    transport.onSend = (envelope, message, to) => this.sent.push({ envelope, message, to });
    this.foreign = createForeignStateInfoStore({
      clock: this.clock,
      ttlMs: 400_000,
      maxEntries: 100,
      metrics: this.metrics,
    });
    this.host = {
      selfPkiId: this.self.pkiId,
      ownOrg: this.self.org,
      externalEndpoint: o.externalEndpoint ?? this.self.endpoint,
      signer: this.self.signer,
      crypto: fakeCrypto(() => this.orgs),
      identities: { get: (id) => this.identities.get(key(id)) },
      membership: this.membership,
      transport,
      clock: this.clock,
      rng: this.rng,
      config,
      metrics: this.metrics,
      logger: silentLogger,
      push: (item) => this.pushed.push(item),
      deliverBlock: (e) => {
        this.delivered.push(e);
        // a state layer refusing the block as too far ahead (attachToGossipNode does this)
        if (this.refuse?.(e.seqNum)) this.channel.dissemination.refused(e.seqNum);
      },
      deliverLeadership: (e) => this.leaderships.push(e),
      drop: (reason, detail) => this.drop(reason, detail),
      createBlockPull:
        o.blockPull === false
          ? undefined
          : (hooks) =>
              createBlockPuller({
                ...hooks,
                transport,
                clock: this.clock,
                rng: this.rng,
                config: pullConfig({
                  pullIntervalMs: config.pullIntervalMs,
                  pullPeerNum: config.pullPeerNum,
                }),
                metrics: this.metrics,
              }),
    };
    this.channel = new GossipChannel(this.host, this.join());
  }

  join(sequence = 0n, orgs: readonly string[] = this.orgs): JoinInfo {
    return { channelId: CH, sequence, orgs: orgs.map((mspId) => ({ mspId, anchorPeers: [] })) };
  }

  readonly membership = {
    aliveMembers: (): MemberInfo[] =>
      [...this.members.values()].filter((p) => !this.dead.has(key(p.pkiId))).map((p) => this.info(p)),
    lookup: (id: PkiId): MemberInfo | undefined => {
      const p = this.members.get(key(id));
      return p && this.info(p);
    },
    orgOf: (id: PkiId): string | undefined => {
      const identity = this.identities.get(key(id));
      return identity && orgOfIdentity(identity);
    },
  };

  private info(p: FakePeer): MemberInfo {
    const internalOnly = this.internalOnly.has(key(p.pkiId));
    return {
      pkiId: p.pkiId,
      endpoint: internalOnly ? '' : p.endpoint,
      internalEndpoint: p.endpoint,
      mspId: p.org,
      state: this.dead.has(key(p.pkiId)) ? 'dead' : 'alive',
      lastAlive: { incNum: 1n, seqNum: 1n },
      lastSeenMs: 0,
      envelope: {} as Envelope,
    } as MemberInfo;
  }

  addMember(p: FakePeer, o: { internalOnly?: boolean } = {}): void {
    this.members.set(key(p.pkiId), p);
    this.identities.set(key(p.pkiId), p.identity);
    if (o.internalOnly) this.internalOnly.add(key(p.pkiId));
  }

  /** Discovery forgets the member (expired); its identity stays known. */
  forget(p: FakePeer): void {
    this.members.delete(key(p.pkiId));
  }

  drop(reason: GossipDropReason, detail: string): void {
    this.drops.push({ reason, detail });
    this.metrics.counter(METRICS.grapevineGossipDroppedTotal).inc({ reason });
  }

  dropped(reason: GossipDropReason): Promise<number> {
    return this.metrics.value('grapevine_gossip_dropped_total', { reason });
  }

  /** `envelope` as it arrives on a connection from `from` (responses recorded in `responses`). */
  received(envelope: Envelope, from: FakePeer): ReceivedMessage {
    return {
      envelope,
      message: openEnvelope(envelope).message,
      conn: {
        pkiId: from.pkiId,
        identity: from.identity,
        endpoint: from.endpoint,
        auth: { signedData: new Uint8Array(0), signature: new Uint8Array(0) },
      },
      respond: (e) => this.responses.push({ to: from, envelope: e, message: openEnvelope(e).message }),
      ack: () => {},
    };
  }

  /** A message arriving from `from` through the node's receive path. */
  receive(envelope: Envelope, from: FakePeer): void {
    const m = this.received(envelope, from);
    if (!isChannelMessage(m)) {
      this.drop('malformed', 'not a channel message');
      return;
    }
    receive(
      {
        ownOrg: this.self.org,
        crypto: this.host.crypto,
        identities: this.host.identities,
        membership: this.membership,
        foreign: this.foreign,
        clock: this.clock,
        channels: () => [this.channel],
        channel: (n) => (n === CH ? this.channel : undefined),
        push: (item) => this.pushed.push(item),
        drop: (reason, detail) => this.drop(reason, detail),
      },
      m,
    );
  }

  /** Route every pushed item as the node's emitter would (fresh targets); returns the sends. */
  flush(): SentRecord[] {
    const before = this.sent.length;
    const batch = this.pushed.splice(0);
    routeBatch(
      {
        transport: this.host.transport,
        rng: this.rng,
        membership: this.membership,
        ownOrg: this.self.org,
        propagatePeerNum: this.host.config.propagatePeerNum,
        channel: (n) => (n === CH ? this.channel : undefined),
      },
      batch,
    );
    return this.sent.slice(before);
  }

  /** Make `p` eligible: its StateInfo received and cached. */
  admit(p: FakePeer, height = 1n): void {
    this.receive(stateInfo(p, { height }), p);
    if (!this.channel.eligible(p.pkiId))
      throw new Error(`${p.name} was not admitted: ${JSON.stringify(this.drops.at(-1))}`);
    this.pushed.length = 0;
  }
}

export function key(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}

export const names = (h: Harness, to: readonly RemotePeer[]): string[] =>
  to
    .map(
      (r) =>
        [...h.members.values()].find((p) => key(p.pkiId) === key(r.pkiId ?? new Uint8Array()))?.name ??
        `?${key(r.pkiId ?? new Uint8Array()).slice(0, 6)}`,
    )
    .sort();
