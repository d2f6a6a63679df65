import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkiIdKey, type PkiId } from '../../src/base/pkiid.js';
import { IdentityStore } from '../../src/identity/store.js';
import {
  SeededRng,
  SimTrust,
  VirtualClock,
  simCrypto,
  simOrg,
  simPeer,
  type SimIdentity,
} from '../../src/sim/index.js';
import { Metrics } from '../../src/base/metrics.js';
import { IdentityPuller, type IdentityPullCrypto } from '../../src/core/gossip/identity-pull.js';
import { sameOrgOrOurOrgPullFilter, type OrgView, type PullMember } from '../../src/core/pull/index.js';
import { digestEnvelope, updateEnvelope } from '../../src/core/pull/messages.js';
import { PullMsgType, Tag, signGossip, unsignedGossip } from '../../src/wire/gossip.js';
import type { Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { FakeNet } from './fakenet.js';
import type { FakeTransport } from '../helpers/fake-transport.js';

const KIND = { msgType: PullMsgType.IDENTITY_MSG, tag: Tag.EMPTY, channel: '' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('sameOrgOrOurOrgPullFilter: the egress table', () => {
  const id = (s: string) => Buffer.from(s);
  // items: name -> [org, has external endpoint]
  const items: Record<string, [string | undefined, boolean]> = {
    self: ['A', false],
    selfExt: ['A', true],
    ourExt: ['A', true],
    ourNoExt: ['A', false],
    theirsExt: ['B', true],
    theirsNoExt: ['B', false],
    thirdExt: ['C', true],
    unknownOrg: [undefined, true],
  };
  const view: OrgView = {
    selfOrg: 'A',
    orgOfIdentity: (i) => ({ reqA: 'A', reqB: 'B' })[Buffer.from(i).toString()],
    orgOfPeer: (p) => items[Buffer.from(p).toString()]?.[0],
    hasExternalEndpoint: (p) => items[Buffer.from(p).toString()]?.[1] ?? false,
  };
  const offered = (requester: string) =>
    Object.keys(items)
      .filter((name) => sameOrgOrOurOrgPullFilter(view, id(requester))(id(name)))
      .sort();
  assert.deepEqual(offered('reqA'), Object.keys(items).sort(), 'same org: everything');
  assert.deepEqual(offered('reqUnknown'), [], 'unknown org: nothing');
  assert.deepEqual(
    offered('reqB'),
    ['ourExt', 'selfExt', 'theirsExt'],
    'foreign org: ours or theirs, with external endpoint',
  );
});

interface Node {
  readonly who: SimIdentity;
  readonly t: FakeTransport;
  readonly store: IdentityStore;
  readonly puller: IdentityPuller;
  readonly metrics: Metrics;
  members: PullMember[];
}

async function setup(
  n: { orgs: number; peersPerOrg: number },
  opts: { crypto?: (trust: SimTrust) => IdentityPullCrypto; usageThresholdMs?: number } = {},
) {
  const sim = await simCrypto(n);
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  const nodes = sim.peers.map((who, i) => {
    const t = net.node(`${who.name}:7051`, who.pkiId, who.serialized);
    const trust = new SimTrust(sim.orgs, clock);
    const metrics = new Metrics();
    const store = new IdentityStore({
      self: { pkiId: who.pkiId, identity: who.serialized },
      validator: trust,
      clock,
      usageThresholdMs: opts.usageThresholdMs,
    });
    const node: Node = {
      who,
      t,
      store,
      metrics,
      members: [],
      puller: new IdentityPuller({
        transport: t,
        clock,
        rng: new SeededRng(i + 7),
        signer: who.signer,
        selfPkiId: who.pkiId,
        selfOrg: who.org.mspId,
        identities: store,
        crypto: opts.crypto ? opts.crypto(trust) : trust,
        membership: () => node.members,
        hasExternalEndpoint: () => true,
        metrics,
      }),
    };
    return node;
  });
  const member = (x: Node): PullMember => ({ pkiId: x.who.pkiId, endpoint: x.t.endpoint });
  const link = (a: Node, b: Node) => {
    a.members.push(member(b));
    b.members.push(member(a));
  };
  return { sim, clock, net, nodes, link };
}

test('own PeerIdentity: tag EMPTY, nonce 0, no channel, signed, held under the raw PKI-ID', async () => {
  const { nodes, sim, clock } = await setup({ orgs: 1, peersPerOrg: 1 });
  const a = nodes[0]!;
  const { envelope, message } = a.puller.selfItem;
  assert.equal(message.tag, Tag.EMPTY);
  assert.equal(message.nonce, 0n);
  assert.equal(message.channel.length, 0);
  assert.equal(message.content.case, 'peerIdentity');
  const pi = message.content.value as { pkiId: Uint8Array; cert: Uint8Array; metadata: Uint8Array };
  assert.equal(hex(pi.pkiId), hex(a.who.pkiId));
  assert.equal(hex(pi.cert), hex(a.who.serialized));
  assert.equal(pi.metadata.length, 0);
  new SimTrust(sim.orgs, clock).verify(a.who.serialized, envelope.signature, envelope.payload);
  assert.ok(a.puller.engine.has(a.who.pkiId));
});

test('identities travel across orgs and then within an org: A verifies a message of C without ever talking to C', async () => {
  const { nodes, clock, net, link } = await setup({ orgs: 2, peersPerOrg: 2 });
  const [a, b, , c] = nodes as [Node, Node, Node, Node]; // a, b: Org1; c: Org2
  link(a, b);
  link(b, c);
  for (const x of nodes) x.puller.start();
  await clock.runUntil(() => a.store.has(c.who.pkiId), 5 * 4000);
  assert.ok(a.store.has(c.who.pkiId), 'A learned C through B');
  assert.equal(
    net.log.filter(
      (s) =>
        (s.from === a.t.endpoint && s.to === c.t.endpoint) ||
        (s.from === c.t.endpoint && s.to === a.t.endpoint),
    ).length,
    0,
  );
  const signed = signGossip(
    { tag: Tag.EMPTY, content: { case: 'memReq', value: {} } },
    c.who.signer,
  ).envelope;
  const identity = a.store.get(c.who.pkiId)!;
  new SimTrust([c.who.org], clock).verify(identity, signed.signature, signed.payload);
  assert.ok(a.puller.engine.has(c.who.pkiId), 'held for pulling by others');
  for (const s of net.log) {
    assert.equal(s.message.tag, Tag.EMPTY);
    assert.equal(s.message.channel.length, 0);
    assert.equal(s.message.nonce, 0n);
  }
  for (const d of net.sent('dataDig')) {
    for (const id of (d.message.content.value as { digests: Uint8Array[] }).digests)
      assert.equal(id.length, 32, 'digests are raw PKI-IDs');
  }
  assert.ok((await a.metrics.value('grapevine_gossip_pull_items_pulled_total')) >= 2);
  for (const x of nodes) x.puller.stop();
});

test('foreign-org requester gets only identities of its org or ours, with external endpoints', async () => {
  const { nodes, clock, net } = await setup({ orgs: 3, peersPerOrg: 1 });
  const [o1, o2, o3] = nodes as [Node, Node, Node];
  // o1 holds identities of org2 and org3 (learned by pull from its own org, simulated by adding directly)
  for (const x of [o2, o3]) {
    o1.store.put(x.who.pkiId, x.who.serialized);
    o1.puller.engine.add(x.puller.selfItem);
  }
  o1.puller.engine.handleMessage(
    o1.t.received(
      unsignedGossip({
        tag: Tag.EMPTY,
        content: { case: 'hello', value: { nonce: 5n, msgType: PullMsgType.IDENTITY_MSG } },
      }).envelope,
      o2.t,
    ),
  );
  await clock.runFor(5);
  const dig = net.sent('dataDig', o1.t.endpoint, o2.t.endpoint)[0]!;
  const got = (dig.message.content.value as { digests: Uint8Array[] }).digests.map(hex).sort();
  assert.deepEqual(got, [o1.who.pkiId, o2.who.pkiId].map(hex).sort());
});

async function badUpdate(
  bad: (ctx: { c: Node; d: Node; good: Envelope }) => Envelope,
  crypto?: (t: SimTrust) => IdentityPullCrypto,
) {
  const ctx = await setup({ orgs: 2, peersPerOrg: 2 }, { crypto });
  const [a, b, c, d] = ctx.nodes as [Node, Node, Node, Node];
  a.members.push({ pkiId: b.who.pkiId, endpoint: b.t.endpoint });
  // b is a misbehaving responder: advertises two identities and answers with a crafted update
  const crafted = [c.puller.selfItem.envelope, bad({ c, d, good: c.puller.selfItem.envelope })];
  b.t.subscribe(
    () => true,
    (m) => {
      const v = m.message.content.value as { nonce: bigint };
      if (m.message.content.case === 'hello')
        m.respond(digestEnvelope(KIND, v.nonce, [c.who.pkiId, d.who.pkiId]));
      if (m.message.content.case === 'dataReq') m.respond(updateEnvelope(KIND, v.nonce, crafted));
    },
  );
  a.puller.start();
  await ctx.clock.runFor(4000 + 3000);
  assert.equal(ctx.net.sent('dataUpdate').length, 1);
  a.puller.stop();
  return { a, c, d };
}

test('one bad identity drops the whole update (the good one too)', async (t) => {
  const sim = await simCrypto({ orgs: 2, peersPerOrg: 2 });
  const revoked = Buffer.from(sim.peers[3]!.serialized);
  const outsider = sim.peers[0]!.signer;
  const cases: [
    string,
    (x: { c: Node; d: Node; good: Envelope }) => Envelope,
    string,
    ((t: SimTrust) => IdentityPullCrypto)?,
  ][] = [
    [
      'pki_id is not hash(cert)',
      ({ c, d }) =>
        signGossip(
          {
            tag: Tag.EMPTY,
            content: { case: 'peerIdentity', value: { pkiId: c.who.pkiId, cert: d.who.serialized } },
          },
          d.who.signer,
        ).envelope,
      'pki_id_mismatch',
    ],
    [
      'signed by another key',
      ({ c, d }) =>
        signGossip(
          {
            tag: Tag.EMPTY,
            content: { case: 'peerIdentity', value: { pkiId: d.who.pkiId, cert: d.who.serialized } },
          },
          c.who.signer,
        ).envelope,
      'bad_signature',
    ],
    [
      'unsigned',
      ({ d }) =>
        unsignedGossip({
          tag: Tag.EMPTY,
          content: { case: 'peerIdentity', value: { pkiId: d.who.pkiId, cert: d.who.serialized } },
        }).envelope,
      'bad_signature',
    ],
    [
      'signature of a different payload',
      ({ d }) => {
        const other = unsignedGossip({
          tag: Tag.ORG_ONLY,
          content: { case: 'peerIdentity', value: { pkiId: d.who.pkiId, cert: d.who.serialized } },
        });
        return { ...other.envelope, signature: d.puller.selfItem.envelope.signature };
      },
      'bad_signature',
    ],
    [
      'cert does not validate',
      ({ d }) => d.puller.selfItem.envelope,
      'invalid_identity',
      (trust) => ({
        pkiIdOf: (i) => trust.pkiIdOf(i),
        verify: (i, s, m) => trust.verify(i, s, m),
        validateIdentity: (i) => {
          if (revoked.equals(i)) throw new Error('revoked');
          trust.validateIdentity(i);
        },
      }),
    ],
  ];
  for (const [name, make, reason, crypto] of cases) {
    await t.test(name, async () => {
      const { a, c, d } = await badUpdate(make, crypto);
      assert.equal(a.store.has(c.who.pkiId), false, 'good identity not stored');
      assert.equal(a.store.has(d.who.pkiId), false);
      assert.equal(a.puller.engine.has(c.who.pkiId), false);
      assert.equal(await a.metrics.value('grapevine_gossip_identity_pull_rejected_total', { reason }), 1);
      assert.equal(
        await a.metrics.value('grapevine_gossip_pull_dropped_total', { reason: 'invalid_update' }),
        1,
      );
    });
  }
  await t.test('an element that is not a PeerIdentity', async () => {
    const { a, c } = await badUpdate(
      () => signGossip({ tag: Tag.EMPTY, content: { case: 'memReq', value: {} } }, outsider).envelope,
    );
    assert.equal(a.store.has(c.who.pkiId), false);
    assert.equal(
      await a.metrics.value('grapevine_gossip_pull_dropped_total', { reason: 'malformed_update' }),
      1,
    );
  });
  await t.test('control: the same responder with two good identities', async () => {
    const { a, c, d } = await badUpdate(({ d }) => d.puller.selfItem.envelope);
    assert.ok(a.store.has(c.who.pkiId) && a.store.has(d.who.pkiId));
    assert.ok(a.puller.engine.has(c.who.pkiId) && a.puller.engine.has(d.who.pkiId));
  });
});

test('a verified identity the store refuses (untrusted org) is not held; purged identities leave the pull store', async () => {
  const ctx = await setup({ orgs: 2, peersPerOrg: 1 }, { usageThresholdMs: 60_000 });
  const [a, b] = ctx.nodes as [Node, Node];
  ctx.link(a, b);
  a.puller.start();
  b.puller.start();
  await ctx.clock.runUntil(() => a.puller.engine.has(b.who.pkiId), 20_000);
  assert.ok(a.store.has(b.who.pkiId));
  // stop traffic; b's identity goes unused for over an hour-equivalent threshold
  a.members = [];
  b.members = [];
  const purged: PkiId[] = [];
  a.store.onPurge((p) => purged.push(p));
  await ctx.clock.runFor(60_000 + 6_000 + 1);
  assert.deepEqual(purged.map(pkiIdKey), [pkiIdKey(b.who.pkiId)]);
  assert.equal(a.puller.engine.has(b.who.pkiId), false);
  assert.ok(a.puller.engine.has(a.who.pkiId), 'own identity stays');
  a.puller.stop();
  b.puller.stop();
  // an identity of an org the store does not trust verifies (crypto says yes) but is refused by Put
  const stranger = await simPeer(await simOrg(9), 0);
  const crypto: IdentityPullCrypto = {
    pkiIdOf: (i) => new SimTrust([stranger.org], ctx.clock).pkiIdOf(i),
    verify: () => true,
    validateIdentity: () => undefined,
  };
  const x = await setup({ orgs: 2, peersPerOrg: 2 }, { crypto: () => crypto });
  const [p, q] = x.nodes as [Node, Node];
  p.members.push({ pkiId: q.who.pkiId, endpoint: q.t.endpoint });
  const strangerEnv = signGossip(
    {
      tag: Tag.EMPTY,
      content: { case: 'peerIdentity', value: { pkiId: stranger.pkiId, cert: stranger.serialized } },
    },
    stranger.signer,
  ).envelope;
  q.t.subscribe(
    () => true,
    (m) => {
      const v = m.message.content.value as { nonce: bigint };
      if (m.message.content.case === 'hello') m.respond(digestEnvelope(KIND, v.nonce, [stranger.pkiId]));
      if (m.message.content.case === 'dataReq') m.respond(updateEnvelope(KIND, v.nonce, [strangerEnv]));
    },
  );
  p.puller.start();
  await x.clock.runFor(7000);
  assert.equal(p.store.has(stranger.pkiId), false);
  assert.equal(p.puller.engine.has(stranger.pkiId), false);
  assert.equal(
    await p.metrics.value('grapevine_gossip_identity_pull_put_refused_total', { reason: 'UNKNOWN_MSP' }),
    1,
  );
  p.puller.stop();
});
