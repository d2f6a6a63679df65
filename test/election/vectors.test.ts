/**
 * The 56 leadership messages captured from a real Fabric v2.4.9 network (53 declarations,
 * 3 proposals; ../shared/fabric-vectors/gossip): they pass the gossip node's acceptance rules
 * (§7.2, via the channel's real handler with the vectors' certificates and the channel's MSPs)
 * and the election's; what we produce for the same values is byte-identical and signed the same
 * way. Skips cleanly without ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { type ReceivedMessage } from '../../src/core/link/types.js';
import { pkiIdKey, type PkiId } from '../../src/base/pkiid.js';
import { GossipChannel } from '../../src/core/channel/channel.js';
import { channelGossipConfig } from '../../src/core/channel/config.js';
import type { GossipDropReason } from '../../src/core/channel/errors.js';
import type { ChannelHost, ChannelPeer, LeadershipEvent } from '../../src/core/channel/types.js';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { GossipElectionAdapter, LeaderElection, electionConfig } from '../../src/core/election/index.js';
import {
  MessageCryptoService,
  identityFromSerialized,
  loadSigningIdentity,
  serializeIdentity,
} from '../../src/identity/index.js';
import type { LocalIdentity } from '../../src/identity/types.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { silentLogger } from '../../src/base/log.js';
import { encode } from '../../src/wire/codec.js';
import {
  GossipMessageSchema,
  GossipMessage_Tag as Tag,
  type Envelope,
  type GossipMessage,
} from '../../src/wire/gen/gossip/message_pb.js';
import { decodeEnvelope, openEnvelope } from '../../src/wire/gossip.js';
import {
  SKIP_VECTORS,
  peerDir,
  readVector,
  vectorIndex,
  vectorPath,
  type GossipIndexEntry,
} from '../helpers/vectors.js';

interface VPeer {
  readonly name: string;
  readonly mspId: string;
  readonly pkiId: PkiId;
  readonly identity: Uint8Array;
}

function load() {
  const idx = vectorIndex();
  const peersJson = idx.peers as Record<
    string,
    { mspid: string; pki_id: string; cert: string; endpoint: string }
  >;
  const peers = new Map<string, VPeer>();
  for (const [name, p] of Object.entries(peersJson)) {
    const identity = serializeIdentity(p.mspid, new Uint8Array(readFileSync(vectorPath(p.cert))));
    peers.set(name, { name, mspId: p.mspid, pkiId: Uint8Array.from(Buffer.from(p.pki_id, 'hex')), identity });
  }
  const msgs = idx.gossip.filter((g) => g.type === 'leadership_msg').sort((a, b) => a.seq - b.seq);
  const when = new Date(Math.round((msgs[0] as GossipIndexEntry & { time: number }).time * 1000));
  const channelConfig = parseChannelConfig(readVector('blocks', 'block_0.pb'));
  return { peers, msgs, when, ctx: channelConfig.cryptoContext() };
}

/** A channel of `self` with the vectors' identities, MSPs and a silent host; drops and deliveries recorded. */
function channelOf(v: ReturnType<typeof load>, self: VPeer) {
  const [org, peer] = [self.name.split('.')[1]!, self.name.split('.')[0]!];
  const local: LocalIdentity = loadSigningIdentity(join(peerDir(org, peer), 'msp'), self.mspId, {
    now: v.when,
  });
  const mcs = new MessageCryptoService(
    local,
    { get: (id) => (id === 'mychannel' ? v.ctx : undefined), all: () => [v.ctx] },
    () => v.when,
  );
  const byKey = new Map([...v.peers.values()].map((p) => [pkiIdKey(p.pkiId), p]));
  const clock = new VirtualClock(v.when.getTime());
  const delivered: LeadershipEvent[] = [];
  const drops: GossipDropReason[] = [];
  const pushed: Envelope[] = [];
  const host: ChannelHost = {
    selfPkiId: self.pkiId,
    ownOrg: self.mspId,
    externalEndpoint: '',
    signer: local.signer,
    crypto: mcs,
    identities: { get: (id) => byKey.get(pkiIdKey(id))?.identity },
    membership: {
      aliveMembers: () => [],
      lookup: () => undefined,
      orgOf: (id) => byKey.get(pkiIdKey(id))?.mspId,
    },
    transport: {} as never,
    clock,
    rng: {} as never,
    config: channelGossipConfig(),
    logger: silentLogger,
    push: (item) => pushed.push(item.envelope),
    deliverBlock: () => {},
    deliverLeadership: (e) => delivered.push(e),
    drop: (reason) => drops.push(reason),
  };
  const channel = new GossipChannel(host, {
    channelId: 'mychannel',
    sequence: 0n,
    orgs: [
      { mspId: 'Org1MSP', anchorPeers: [] },
      { mspId: 'Org2MSP', anchorPeers: [] },
    ],
  });
  /** The node's handler path (it throws a GossipDropError; the node counts it). */
  const receive = (envelope: Envelope, from: VPeer): void => {
    const m: ReceivedMessage = {
      envelope,
      message: openEnvelope(envelope).message,
      conn: {
        pkiId: from.pkiId,
        identity: from.identity,
        endpoint: '',
        auth: { signedData: new Uint8Array(), signature: new Uint8Array() },
      },
      respond: () => {},
      ack: () => {},
    };
    try {
      channel.dissemination.handleLeadership(m);
    } catch (e) {
      host.drop((e as { code: GossipDropReason }).code, String(e));
    }
  };
  return { channel, delivered, drops, pushed, receive, clock, local };
}

function dropOf(c: ReturnType<typeof channelOf>, f: () => void): GossipDropReason | undefined {
  const before = c.drops.length;
  f();
  return c.drops.length > before ? c.drops.at(-1) : undefined;
}

test(
  'captured leadership messages: 53 declarations and 3 proposals, CHAN_AND_ORG, mychannel, nonce 0, only those fields',
  { skip: SKIP_VECTORS },
  () => {
    const v = load();
    assert.equal(v.msgs.length, 56);
    let decl = 0;
    for (const g of v.msgs) {
      const env = decodeEnvelope(readVector(g.file!));
      const msg = openEnvelope(env).message;
      assert.equal(msg.tag, Tag.CHAN_AND_ORG);
      assert.equal(Buffer.from(msg.channel).toString(), 'mychannel');
      assert.equal(msg.nonce, 0n);
      assert.equal(env.secretEnvelope, undefined);
      assert.equal(msg.content.case, 'leadershipMsg');
      const lm = msg.content.value;
      assert.equal(pkiIdKey(lm.pkiId), g.details.pki_id);
      assert.equal(
        pkiIdKey(lm.pkiId),
        pkiIdKey(v.peers.get(g.from)!.pkiId),
        'the transmitter is the creator: leadership messages are not forwarded',
      );
      assert.equal(String(lm.timestamp?.incNum), g.details.inc_num);
      assert.equal(String(lm.timestamp?.seqNum), g.details.seq_num);
      assert.equal(lm.isDeclaration, g.details.is_declaration);
      if (lm.isDeclaration) decl++;
      assert.deepEqual(
        Buffer.from(encode(GossipMessageSchema, msg)),
        Buffer.from(env.payload),
        `${g.file} re-encodes identically`,
      );
    }
    assert.equal(decl, 53);
  },
);

test(
  'every captured message passes the node-level checks at its receiver and reaches the election',
  { skip: SKIP_VECTORS },
  () => {
    const v = load();
    const receivers = [...new Set(v.msgs.map((g) => g.to))];
    let total = 0;
    for (const to of receivers) {
      const c = channelOf(v, v.peers.get(to)!);
      const mine = v.msgs.filter((g) => g.to === to);
      for (const g of mine) c.receive(decodeEnvelope(readVector(g.file!)), v.peers.get(g.from)!);
      assert.deepEqual(c.drops, [], `${to}: nothing dropped`);
      assert.equal(c.delivered.length, mine.length, `${to}: all delivered`);
      assert.equal(c.pushed.length, 0, 'not forwarded');
      total += c.delivered.length;
    }
    assert.equal(total, 56);
  },
);

test(
  'node-level refusals on real messages: replay is stale, a flipped bit fails, another org is refused',
  { skip: SKIP_VECTORS },
  () => {
    const v = load();
    const decl = v.msgs.find(
      (g) =>
        g.from === 'peer1.org1.example.com' && g.to === 'peer0.org1.example.com' && g.details.is_declaration,
    )!;
    const env = decodeEnvelope(readVector(decl.file!));
    const from = v.peers.get(decl.from)!;
    const c = channelOf(v, v.peers.get('peer0.org1.example.com')!);
    assert.equal(
      dropOf(c, () => c.receive(env, from)),
      undefined,
    );
    assert.equal(
      dropOf(c, () => c.receive(env, from)),
      'stale',
    );
    const flipped = { ...env, payload: Uint8Array.from(env.payload) } as Envelope;
    flipped.payload[flipped.payload.length - 1]! ^= 1; // seq_num changes too: newer, but the signature fails
    assert.equal(
      dropOf(c, () => c.receive(flipped, from)),
      'bad_signature',
    );
    const unsigned = { ...env, signature: new Uint8Array() } as Envelope;
    assert.equal(
      dropOf(c, () => c.receive(unsigned, from)),
      'unsigned',
    );
    const org2 = channelOf(v, v.peers.get('peer0.org2.example.com')!);
    assert.equal(
      dropOf(org2, () => org2.receive(env, from)),
      'not_same_org',
    );
    // relayed by an Org2 peer: the connection's org is not ours either
    const c2 = channelOf(v, v.peers.get('peer2.org1.example.com')!);
    assert.equal(
      dropOf(c2, () => c2.receive(env, v.peers.get('peer1.org2.example.com')!)),
      'not_same_org',
    );
  },
);

test(
  "the election accepts them: peer0.org1 leading steps down on peer1.org1's real declaration (lower PKI-ID)",
  { skip: SKIP_VECTORS },
  async () => {
    const v = load();
    const self = v.peers.get('peer0.org1.example.com')!;
    const c = channelOf(v, self);
    const handlers = new Set<(e: LeadershipEvent) => void>();
    const orgPeers: ChannelPeer[] = [...v.peers.values()]
      .filter((p) => p !== self)
      .map((p) => ({
        pkiId: p.pkiId,
        endpoint: '',
        internalEndpoint: '',
        mspId: p.mspId,
        properties: undefined,
        metadata: new Uint8Array(0),
      }));
    const sent: Envelope[] = [];
    const adapter = new GossipElectionAdapter(
      {
        gossipLeadership: (_ch, m) => sent.push(c.channel.dissemination.originateLeadership(m)),
        onLeadership: (h) => (handlers.add(h), () => handlers.delete(h)),
        peersOfChannel: () => orgPeers,
      },
      { channel: 'mychannel', selfPkiId: self.pkiId, mspId: 'Org1MSP', clock: c.clock },
    );
    assert.equal(adapter.peers().length, 2, 'Org1 peers only');
    const changes: boolean[] = [];
    const e = new LeaderElection({
      adapter,
      selfPkiId: self.pkiId,
      channel: 'mychannel',
      config: electionConfig({ useLeaderElection: true }),
      clock: c.clock,
      onLeadershipChange: (b) => changes.push(b),
    });
    e.start();
    await c.clock.runFor(6000);
    assert.deepEqual(changes, [true]);
    // what we sent verifies with our certificate and passes the same checks at peer1.org1
    const peer1 = channelOf(v, v.peers.get('peer1.org1.example.com')!);
    for (const env of sent) peer1.receive(env, self);
    assert.deepEqual(peer1.drops, []);
    assert.deepEqual(
      peer1.delivered.map((d) => d.message.isDeclaration),
      [false, true],
    );
    // now the captured declaration of peer1.org1 (6766... < c0bf...)
    for (const g of v.msgs
      .filter((x) => x.from === 'peer1.org1.example.com' && x.to === self.name)
      .slice(0, 3)) {
      c.receive(decodeEnvelope(readVector(g.file!)), v.peers.get(g.from)!);
    }
    for (const d of c.delivered) for (const h of handlers) h(d);
    assert.deepEqual(changes, [true, false]);
    e.stop();
  },
);

test(
  'what we produce for the captured values is byte-identical to Fabric, and verifies with the signer certificate',
  { skip: SKIP_VECTORS },
  () => {
    const v = load();
    const channels = new Map<string, ReturnType<typeof channelOf>>();
    for (const g of v.msgs) {
      const sender = v.peers.get(g.from)!;
      let c = channels.get(g.from);
      if (!c) channels.set(g.from, (c = channelOf(v, sender)));
      const captured = decodeEnvelope(readVector(g.file!));
      const lm = (openEnvelope(captured).message as GossipMessage & { content: { case: 'leadershipMsg' } })
        .content.value;
      const ours = c.channel.dissemination.originateLeadership({
        timestamp: { incNum: lm.timestamp!.incNum, seqNum: lm.timestamp!.seqNum },
        isDeclaration: lm.isDeclaration,
      });
      assert.deepEqual(
        Buffer.from(ours.payload),
        Buffer.from(captured.payload),
        `${g.file}: same payload bytes`,
      );
      const id = identityFromSerialized(sender.identity);
      assert.ok(id.verify(ours.payload, ours.signature), 'our signature verifies with the certificate');
      assert.ok(id.verify(captured.payload, captured.signature));
      assert.equal(ours.secretEnvelope, undefined);
    }
    // and the adapter's own messages have the same shape (PeerTime from its creation, seq from 1)
    const c = channelOf(v, v.peers.get('peer0.org2.example.com')!);
    const a = new GossipElectionAdapter(
      {
        gossipLeadership: (_ch, m) => c.channel.dissemination.originateLeadership(m),
        onLeadership: () => () => {},
        peersOfChannel: () => [],
      },
      { channel: 'mychannel', selfPkiId: c.local.identity.pkiId, mspId: 'Org2MSP', clock: c.clock },
    );
    assert.ok(
      a.incNum >= BigInt(v.when.getTime()) * 1_000_000n &&
        a.incNum < BigInt(v.when.getTime() + 1) * 1_000_000n,
      'inc_num: ns at creation',
    );
    const m = a.createMessage(false);
    const env = c.channel.dissemination.originateLeadership(m);
    const expect = create(GossipMessageSchema, {
      tag: Tag.CHAN_AND_ORG,
      channel: Buffer.from('mychannel'),
      content: {
        case: 'leadershipMsg',
        value: {
          pkiId: c.local.identity.pkiId,
          isDeclaration: false,
          timestamp: { incNum: a.incNum, seqNum: 1n },
        },
      },
    });
    assert.deepEqual(Buffer.from(env.payload), Buffer.from(encode(GossipMessageSchema, expect)));
  },
);
