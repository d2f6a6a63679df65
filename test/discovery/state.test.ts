/** The §4.3 state machine on a virtual clock, through the Discovery API and a scripted transport. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MembershipEvent } from '../../src/core/discovery/index.js';
import { GossipMessage_Tag as Tag } from '../../src/wire/gen/gossip/message_pb.js';
import { aliveOf, harness, hex, memResOf, withTag } from './fixtures.js';

test('unknown -> alive on a valid gossiped alive; forwarded, never back to the sender', async () => {
  const h = await harness();
  const events: MembershipEvent[] = [];
  h.d.onChange((e) => events.push(e));
  h.d.start();
  const [, b, c] = h.peers[0];
  h.t.deliver(aliveOf(c, { seq: 1n }), c);
  const env = aliveOf(b, { seq: 1n, internal: 'b.internal:7051' });
  h.t.deliver(env, c);
  assert.deepEqual(h.d.aliveMembers().map(hex).sort(), [hex(b), hex(c)].sort());
  const info = h.d.lookup(b.pkiId)!;
  assert.equal(info.state, 'alive');
  assert.equal(info.endpoint, `${b.name}:7051`);
  assert.equal(info.internalEndpoint, 'b.internal:7051');
  assert.equal(info.mspId, 'Org1MSP');
  assert.deepEqual(info.lastAlive, { incNum: 1000n, seqNum: 1n });
  assert.equal(h.d.preferredEndpoint(info), 'b.internal:7051');
  assert.deepEqual(
    events.map((e) => e.kind),
    ['alive', 'alive'],
  );
  await h.vc.runFor(20); // emitter latency
  const fwd = h.t.ofKind('aliveMsg').filter((s) => Buffer.from(s.envelope.payload).equals(env.payload));
  assert.equal(fwd.length, 0, 'b came from c and the only other member is b itself: nothing to forward to');
  const [, , , d4] = h.peers[0];
  h.t.deliver(aliveOf(d4, { seq: 1n }), d4);
  const env2 = aliveOf(b, { seq: 2n });
  h.t.deliver(env2, c);
  await h.vc.runFor(20);
  const fwd2 = h.t.ofKind('aliveMsg').filter((s) => Buffer.from(s.envelope.payload).equals(env2.payload));
  assert.deepEqual(
    fwd2.map((s) => hex({ pkiId: s.to.pkiId! })),
    [hex(d4)],
    'forwarded once, to the member that is neither sender nor originator',
  );
  assert.equal(fwd2[0].envelope, env2, 'the original envelope object, not a re-encoding');
  h.d.stop();
});

test('alive -> dead after aliveExpirationTimeout (checked every timeout/10); connection closed', async () => {
  const h = await harness();
  const events: MembershipEvent[] = [];
  h.d.onChange((e) => events.push(e));
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  await h.vc.runFor(25_000);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'alive', 'not yet: silence must exceed 25 s');
  await h.vc.runFor(2_500);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'dead');
  assert.deepEqual(h.d.deadMembers().map(hex), [hex(b)]);
  assert.deepEqual(h.d.aliveMembers(), []);
  assert.ok(h.t.closed.some((p) => hex({ pkiId: p.pkiId! }) === hex(b)));
  assert.deepEqual(
    events.map((e) => e.kind),
    ['alive', 'dead'],
  );
  h.d.stop();
});

test('a newer alive refreshes lastSeen; an older or equal one does not', async () => {
  const h = await harness();
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 5n }), b);
  await h.vc.runFor(20_000);
  h.t.deliver(aliveOf(b, { seq: 5n }), b); // equal: dropped as stale
  h.t.deliver(aliveOf(b, { seq: 4n }), b); // older
  assert.equal(await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'stale' }), 2);
  await h.vc.runFor(7_500);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'dead', 'neither copy refreshed lastSeen');
  h.d.stop();

  const h2 = await harness();
  h2.d.start();
  h2.t.deliver(aliveOf(b, { seq: 5n }), b);
  await h2.vc.runFor(20_000);
  h2.t.deliver(aliveOf(b, { seq: 6n }), b);
  await h2.vc.runFor(7_500);
  assert.equal(h2.d.lookup(b.pkiId)!.state, 'alive');
  assert.deepEqual(h2.d.lookup(b.pkiId)!.lastAlive, { incNum: 1000n, seqNum: 6n });
  h2.d.stop();
});

test('dead -> alive (resurrection) only with a PeerTime newer than the dead record; restart wins', async () => {
  const h = await harness();
  const events: string[] = [];
  h.d.onChange((e) => events.push(e.kind));
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 3n, inc: 2000n, internal: 'b-int:1' }), b);
  h.t.presumeDead(b.pkiId);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'dead', 'presumed dead moves alive -> dead at once');
  // Not through the gossip store (which has seq 3): a membership response with the same timestamp.
  h.t.deliver(memResOf([aliveOf(b, { seq: 3n, inc: 2000n })]), b);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'dead');
  h.t.deliver(aliveOf(b, { seq: 1n, inc: 3000n }), b); // restarted peer: higher inc_num, lower seq
  const info = h.d.lookup(b.pkiId)!;
  assert.equal(info.state, 'alive');
  assert.equal(
    info.internalEndpoint,
    'b-int:1',
    'internal endpoint kept when the new message has no secret (§4.4)',
  );
  assert.deepEqual(events, ['alive', 'dead', 'alive']);
  h.d.stop();
});

test('removed 500 s after its last gossiped alive, unless bootstrap or anchor', async () => {
  const h = await harness({ bootstrap: ['boot.org1:7051'] });
  const events: MembershipEvent[] = [];
  h.d.onChange((e) => events.push(e));
  h.d.connectToAnchors([{ host: 'anchor.org2', port: 9051, mspId: 'Org2MSP' }], 'ch1');
  h.d.start();
  const [, b, c] = h.peers[0];
  const x = h.peers[1][0];
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  h.t.deliver(aliveOf(c, { seq: 1n, endpoint: 'boot.org1:7051' }), c);
  h.t.deliver(aliveOf(x, { seq: 1n, endpoint: 'anchor.org2:9051' }), x);
  await h.vc.runFor(500_000);
  assert.equal(h.d.deadMembers().length, 3);
  await h.vc.runFor(2_500);
  assert.equal(h.d.lookup(b.pkiId), undefined, 'b removed');
  assert.ok(h.d.lookup(c.pkiId), 'bootstrap peer kept');
  assert.ok(h.d.lookup(x.pkiId), 'anchor peer kept');
  const removed = events.filter((e) => e.kind === 'removed');
  assert.equal(removed.length, 1);
  assert.deepEqual(removed[0], { kind: 'removed', pkiId: b.pkiId, reason: 'expired' });
  // The same peer can come back as a new member.
  h.t.deliver(aliveOf(b, { seq: 2n }), b);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'alive');
  h.d.stop();
});

test('identity switch removes the member', async () => {
  const h = await harness();
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  const events: MembershipEvent[] = [];
  h.d.onChange((e) => events.push(e));
  h.t.switchIdentity(b.pkiId);
  assert.equal(h.d.lookup(b.pkiId), undefined);
  assert.deepEqual(events, [{ kind: 'removed', pkiId: b.pkiId, reason: 'identity-switch' }]);
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  assert.equal(h.d.lookup(b.pkiId)!.state, 'alive', 'the alive store was purged too');
  h.d.stop();
});

test('bad input is dropped, counted by reason, and never forwarded', async () => {
  const h = await harness();
  h.d.start();
  const [, b, c] = h.peers[0];
  const x = h.peers[1][0];
  h.t.deliver(aliveOf(c, { seq: 1n }), c);
  h.t.deliver(aliveOf(x, { seq: 1n }), x);
  await h.vc.runFor(20);
  const before = h.t.sent.length;

  // Unknown identity: no identity field and none stored for b (first: a rejected message below
  // may still store b's valid identity, as Fabric's Put precedes the signature check).
  h.t.deliver(aliveOf(b, { seq: 3n, withIdentity: false }), c);
  // Forged: b's message signed by c.
  const forged = aliveOf(b, { seq: 1n });
  forged.signature = aliveOf(c, { seq: 1n }).signature;
  h.t.deliver(forged, c);
  // Missing signature.
  const unsigned = aliveOf(b, { seq: 2n });
  unsigned.signature = new Uint8Array(0);
  h.t.deliver(unsigned, c);
  // Wrong tag.
  h.t.deliver(withTag(aliveOf(b, { seq: 4n }), Tag.ORG_ONLY), c);
  // A secret envelope signed by someone else.
  const badSecret = aliveOf(b, { seq: 5n, internal: 'b:1' });
  badSecret.secretEnvelope = aliveOf(c, { seq: 1n, internal: 'b:1' }).secretEnvelope;
  h.t.deliver(badSecret, c);
  // Identity that does not hash to the PKI-ID: b's PKI-ID carrying c's identity.
  const { envelope: wrongId } = (await import('../../src/wire/gossip.js')).signGossip(
    {
      tag: Tag.EMPTY,
      content: {
        case: 'aliveMsg',
        value: {
          membership: { endpoint: 'e:1', pkiId: b.pkiId },
          timestamp: { incNum: 1n, seqNum: 9n },
          identity: c.serialized,
        },
      },
    },
    c.signer,
  );
  h.t.deliver(wrongId, c);
  // Garbage payload inside a membership response (a bad top-level payload never leaves comm).
  const garbage = aliveOf(b, { seq: 6n });
  garbage.payload = new Uint8Array([0x2a, 0x05, 1, 2]);
  h.t.deliver(memResOf([garbage, aliveOf(b, { seq: 7n })]), c);

  assert.equal(h.d.lookup(b.pkiId), undefined);
  await h.vc.runFor(50);
  assert.equal(h.t.sent.length, before, 'nothing forwarded');
  const reasons = ['bad_signature', 'unsigned', 'unknown_identity', 'bad_tag', 'identity_rejected'];
  const counts = await Promise.all(
    reasons.map((reason) => h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason })),
  );
  assert.deepEqual(Object.fromEntries(reasons.map((r, i) => [r, counts[i]])), {
    bad_signature: 2,
    unsigned: 1,
    unknown_identity: 1,
    bad_tag: 1,
    identity_rejected: 1,
  });
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'malformed' }),
    1,
    'the bad element aborts the rest',
  );
  h.d.stop();
});

test('alive messages about ourselves are ignored and not forwarded', async () => {
  const h = await harness();
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  h.t.deliver(aliveOf(h.self, { seq: 99n, endpoint: 'elsewhere:1' }), b);
  await h.vc.runFor(50);
  assert.equal(h.d.lookup(h.self.pkiId), undefined);
  assert.equal(h.t.ofKind('aliveMsg').length, 0);
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'self' }),
    1,
    'counted because the endpoint differs',
  );
  h.d.stop();
});

test('bounded membership: new members beyond maxMembers are refused and counted', async () => {
  const h = await harness({ maxMembers: 2 });
  h.d.start();
  for (const p of h.peers[0].slice(1)) h.t.deliver(aliveOf(p, { seq: 1n }), p);
  assert.equal(h.d.aliveMembers().length, 2);
  assert.equal(await h.metrics.value('grapevine_gossip_discovery_members_full_total'), 1);
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'members_full' }),
    1,
  );
  h.d.stop();
});

test('bounded alive store: the oldest entry is evicted and counted', async () => {
  const h = await harness({ maxAliveStore: 2 });
  h.d.start();
  for (const p of h.peers[0].slice(1)) h.t.deliver(aliveOf(p, { seq: 1n }), p);
  assert.equal(await h.metrics.value('grapevine_gossip_discovery_alive_store_evicted_total'), 1);
  assert.equal(await h.metrics.value('grapevine_gossip_discovery_alive_store_size'), 2);
  h.d.stop();
});
