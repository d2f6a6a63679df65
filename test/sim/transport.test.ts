/** The comm-level scenarios of the real transport, on the simulated network, deterministic per seed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { SimNode, simOrg, simPeer } from '../../src/sim/index.js';
import { cluster, fullMesh, links, msg, peerOf, seeds } from './helpers.js';

for (const seed of seeds(3, 20)) {
  test(`full mesh of 10 nodes, everyone sends to everyone at once (seed ${seed})`, async () => {
    const c = await cluster(seed, 10, { orgs: 2 });
    for (const a of c.nodes)
      for (const b of c.nodes) if (a !== b) a.transport.send(msg(`${a.endpoint}>${b.endpoint}`), peerOf(b));
    await c.net.clock.runFor(2000);
    assert.ok(fullMesh(c.nodes), 'exactly one connection per pair');
    for (const b of c.nodes) {
      const got = c.inbox.get(b.endpoint)!;
      assert.equal(got.length, 9, `${b.endpoint} got ${got.length}`);
      for (const a of c.nodes)
        if (a !== b) assert.ok(got.some((l) => l.endsWith(`:${a.endpoint}>${b.endpoint}`)));
    }
    let sent = 0;
    for (const n of c.nodes) sent += await n.metrics.value('gossip_comm_messages_sent');
    assert.equal(sent, 90);
  });
}

test('two nodes dialling each other at the same instant keep exactly one shared connection', async () => {
  for (const seed of seeds(10, 100)) {
    const c = await cluster(seed, 2, { link: { jitterMs: 0 } });
    const [a, b] = c.nodes;
    a.transport.send(msg('x'), peerOf(b));
    b.transport.send(msg('y'), peerOf(a));
    await c.net.clock.runFor(1000);
    assert.deepEqual(links(a), [pkiIdKey(b.identity.pkiId)], `seed ${seed}`);
    assert.deepEqual(links(b), [pkiIdKey(a.identity.pkiId)], `seed ${seed}`);
    // The surviving connection works both ways.
    a.transport.send(msg('after-a'), peerOf(b));
    b.transport.send(msg('after-b'), peerOf(a));
    await c.net.clock.runFor(1000);
    assert.ok(c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':after-a')));
    assert.ok(c.inbox.get(a.endpoint)!.some((l) => l.endsWith(':after-b')));
    assert.equal(c.net.stats.streamsBroken, 0);
  }
});

test('an identity of no trusted org is refused and counted; so is an impostor CA for a trusted MSP ID', async () => {
  const c = await cluster(5, 2);
  const [a] = c.nodes;
  const org3 = await simOrg(3);
  const stranger = new SimNode(c.net, { identity: await simPeer(org3, 0), trust: [...c.orgs, org3] });
  const impostorOrg = await simOrg(1, { keyLabel: 'impostor' });
  const impostor = new SimNode(c.net, {
    identity: await simPeer(impostorOrg, 7),
    endpoint: 'impostor:7051',
    trust: c.orgs,
  });
  const dead: string[] = [];
  stranger.transport.onPresumedDead((p) => dead.push(pkiIdKey(p)));
  stranger.transport.send(msg('let me in'), peerOf(a));
  impostor.transport.send(msg('me too'), peerOf(a));
  await c.net.clock.runFor(5000);
  assert.deepEqual(c.inbox.get(a.endpoint), []);
  assert.deepEqual(a.transport.connectedPeers(), []);
  assert.equal(
    await a.metrics.value('grapevine_gossip_comm_handshake_failures_total', { reason: 'UNKNOWN_MSP' }),
    1,
  );
  assert.equal(
    await a.metrics.value('grapevine_gossip_comm_handshake_failures_total', { reason: 'IDENTITY_REJECTED' }),
    1,
  );
  // The refused dialler authenticated `a` but `a` ended the stream: no connection survives.
  assert.deepEqual(stranger.transport.connectedPeers(), []);
  assert.deepEqual(impostor.transport.connectedPeers(), []);
  assert.equal(await a.metrics.value('gossip_comm_messages_received'), 0);
  void dead;
});

test('a dial reaching a different peer than expected fails (other org) or switches identity (same org)', async () => {
  const c = await cluster(9, 4, { orgs: 2 });
  const [a, b, other] = c.nodes; // peer0.org1, peer1.org1, peer0.org2
  const switches: string[] = [];
  const dead: string[] = [];
  a.transport.onIdentitySwitch((p) => switches.push(pkiIdKey(p)));
  a.transport.onPresumedDead((p) => dead.push(pkiIdKey(p)));
  // Learn b's and other's identities first.
  a.transport.send(msg('hi'), peerOf(b), peerOf(other));
  await c.net.clock.runFor(1000);
  a.transport.closeConn(peerOf(b));
  a.transport.closeConn(peerOf(other));
  await c.net.clock.runFor(1000);
  // Expect `other` (Org2) at b's endpoint (Org1): authentication failure.
  a.transport.send(msg('wrong-org'), { endpoint: b.endpoint, pkiId: other.identity.pkiId });
  await c.net.clock.runFor(1000);
  assert.deepEqual(dead, [pkiIdKey(other.identity.pkiId)]);
  assert.ok(!c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':wrong-org')));
  // Expect an Org1 identity (a's own, known to a's store) at b's endpoint, reach b (Org1): same
  // org -> accepted, identity switch reported for the expected PKI-ID.
  a.transport.send(msg('same-org'), { endpoint: b.endpoint, pkiId: a.identity.pkiId });
  await c.net.clock.runFor(1000);
  assert.deepEqual(switches, [pkiIdKey(a.identity.pkiId)]);
  assert.ok(c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':same-org')));
});

test('a flood beyond the send queue overflows, is counted, and the connection stays up', async () => {
  const c = await cluster(11, 2, { link: { bandwidth: 100_000 }, config: { sendBuffSize: 20 } });
  const [a, b] = c.nodes;
  a.transport.send(msg('warm-up'), peerOf(b));
  await c.net.clock.runFor(1000);
  for (let i = 0; i < 500; i++) a.transport.send(msg(`flood-${i}`), peerOf(b));
  await c.net.clock.runFor(10_000);
  const overflow = await a.metrics.value('gossip_comm_overflow_count');
  const sent = await a.metrics.value('gossip_comm_messages_sent');
  const received = c.inbox.get(b.endpoint)!.length - 1;
  assert.ok(overflow >= 470, `overflow ${overflow}`);
  assert.equal(sent - 1 + overflow, 500);
  assert.equal(received, sent - 1);
  assert.deepEqual(links(a), [pkiIdKey(b.identity.pkiId)]);
  assert.equal(await b.metrics.value('gossip_comm_messages_received'), sent);
});

test('loss drops a share of messages, deterministically', async () => {
  const run = async () => {
    const c = await cluster(13, 2, { link: { loss: 0.3 } });
    const [a, b] = c.nodes;
    for (let i = 0; i < 10; i++) a.transport.send(msg(`warm-${i}`), peerOf(b));
    await c.net.clock.runUntil(() => links(a).length === 1, 60_000);
    for (let i = 0; i < 200; i++) {
      a.transport.send(msg(`m${i}`), peerOf(b));
      await c.net.clock.runFor(10);
    }
    await c.net.clock.runFor(1000);
    return c.inbox.get(b.endpoint)!.filter((l) => /:m\d+$/.test(l));
  };
  const first = await run();
  assert.ok(first.length > 100 && first.length < 180, `delivered ${first.length}`);
  assert.deepEqual(await run(), first);
});

test('partition: nothing crosses, presumed dead fires, and after heal connections re-form', async () => {
  const c = await cluster(17, 4, { breakDetectMs: 20_000 });
  const [a, b, x, y] = c.nodes;
  const all = c.nodes;
  const everyoneTalks = (tag: string) => {
    for (const s of all)
      for (const r of all) if (s !== r && s.isUp) s.transport.send(msg(`${tag}:${s.endpoint}`), peerOf(r));
  };
  everyoneTalks('before');
  await c.net.clock.runFor(1000);
  assert.ok(fullMesh(all));
  const dead = new Map<string, string[]>();
  for (const n of all)
    n.transport.onPresumedDead((p) =>
      (dead.get(n.endpoint) ?? dead.set(n.endpoint, []).get(n.endpoint)!).push(pkiIdKey(p)),
    );
  c.net.partition([a.endpoint, b.endpoint], [x.endpoint, y.endpoint]);
  everyoneTalks('during');
  await c.net.clock.runFor(25_000); // past keepalive: cross streams broke
  everyoneTalks('during2');
  await c.net.clock.runFor(5_000); // dials across the cut time out (3 s)
  for (const r of all) {
    const box = c.inbox.get(r.endpoint)!;
    const side = [a, b].includes(r) ? [a, b] : [x, y];
    for (const l of box.filter((m) => m.includes(':during'))) {
      assert.ok(
        side.some((s) => l.endsWith(`:${s.endpoint}`)),
        `${r.endpoint} got ${l} across the partition`,
      );
    }
  }
  assert.ok(dead.get(a.endpoint)!.includes(pkiIdKey(x.identity.pkiId)));
  assert.equal(links(a).length, 1);
  c.net.heal();
  everyoneTalks('after');
  await c.net.clock.runFor(2000);
  assert.ok(fullMesh(all));
  for (const r of all) assert.equal(c.inbox.get(r.endpoint)!.filter((m) => m.includes('after:')).length, 3);
});

test('a short partition delays messages (TCP keeps them) instead of losing them', async () => {
  const c = await cluster(19, 2, { breakDetectMs: 20_000 });
  const [a, b] = c.nodes;
  a.transport.send(msg('hello'), peerOf(b));
  await c.net.clock.runFor(1000);
  c.net.partition([a.endpoint], [b.endpoint]);
  a.transport.send(msg('held'), peerOf(b));
  await c.net.clock.runFor(5000);
  assert.ok(!c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':held')));
  c.net.heal();
  await c.net.clock.runFor(100);
  assert.ok(c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':held')));
  assert.equal(c.net.stats.streamsBroken, 0);
});

test('crash: peers see the stream reset, sends fail as presumed dead; restart: a new incarnation reconnects', async () => {
  const c = await cluster(23, 3);
  const [a, b, z] = c.nodes;
  for (const s of c.nodes) for (const r of c.nodes) if (s !== r) s.transport.send(msg('hi'), peerOf(r));
  await c.net.clock.runFor(1000);
  const dead: string[] = [];
  a.transport.onPresumedDead((p) => dead.push(pkiIdKey(p)));
  const oldTransport = z.transport;
  z.crash();
  await c.net.clock.runFor(100);
  assert.deepEqual(links(a), [pkiIdKey(b.identity.pkiId)]);
  assert.deepEqual(oldTransport.connectedPeers(), []);
  a.transport.send(msg('to-the-dead'), peerOf(z));
  await c.net.clock.runFor(1000);
  assert.deepEqual(dead, [pkiIdKey(z.identity.pkiId)]);
  assert.equal(z.clock.activeTimers(), 0);
  z.restart();
  assert.equal(z.incarnation, 2);
  assert.notEqual(z.transport, oldTransport);
  a.transport.send(msg('welcome-back'), peerOf(z));
  z.transport.send(msg('i-am-back'), peerOf(b));
  await c.net.clock.runFor(1000);
  assert.ok(c.inbox.get(z.endpoint)!.some((l) => l.endsWith(':welcome-back')));
  assert.ok(c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':i-am-back')));
  assert.ok(!c.inbox.get(z.endpoint)!.some((l) => l.endsWith(':to-the-dead')));
});

test('sendWithAck collects acks, times out silent peers; respond answers on the same connection', async () => {
  const c = await cluster(29, 3);
  const [a, b, z] = c.nodes;
  b.transport.subscribe(
    (m) => m.message.content.case === 'memReq',
    (m) => {
      m.ack();
      m.respond(msg('reply'));
    },
  );
  z.transport.subscribe(
    () => true,
    (m) => m.ack('busy'),
  );
  const envelopeMsg = (await import('../../src/wire/gossip.js')).openEnvelope(msg('ask')).message;
  const p = a.transport.sendWithAck(envelopeMsg, 1000, 2, [peerOf(b), peerOf(z)]);
  await c.net.clock.runFor(2000);
  const results = await p;
  assert.equal(results.length, 2);
  const byPeer = new Map(results.map((r) => [pkiIdKey(r.pkiId), r.error]));
  assert.equal(byPeer.get(pkiIdKey(b.identity.pkiId)), undefined);
  assert.equal(byPeer.get(pkiIdKey(z.identity.pkiId)), 'busy');
  assert.ok(c.inbox.get(a.endpoint)!.some((l) => l.endsWith(':reply')));
  z.crash();
  const q = a.transport.sendWithAck(envelopeMsg, 500, 1, [peerOf(z)]);
  await c.net.clock.runFor(5000);
  const [timedOut] = await q;
  assert.ok(timedOut.error);
});

test('probe and handshake(probe) authenticate without keeping a connection; unreachable rejects', async () => {
  const c = await cluster(31, 2);
  const [a, b] = c.nodes;
  const info = a.transport.handshake({ endpoint: b.endpoint });
  const probe = a.transport.probe({ endpoint: b.endpoint });
  const nowhere = a.transport.probe({ endpoint: 'nowhere:7051' }).then(
    () => 'ok',
    (e: Error) => e.message,
  );
  await c.net.clock.runFor(1000);
  assert.equal(pkiIdKey((await info).pkiId), pkiIdKey(b.identity.pkiId));
  await probe;
  assert.match(await nowhere, /refused/);
  assert.deepEqual(a.transport.connectedPeers(), []);
  assert.deepEqual(b.transport.connectedPeers(), []);
});

test('malformed bytes on an authenticated stream close it and are counted', async () => {
  const c = await cluster(37, 2);
  const [a, b] = c.nodes;
  // A rogue client that completes a real handshake with a's identity material, then sends junk.
  const rogue = new SimNode(c.net, { identity: a.identity, endpoint: 'rogue:7051', trust: c.orgs });
  rogue.transport.send(msg('legit'), peerOf(b));
  await c.net.clock.runFor(500);
  const sock = c.net.openStream('rogue:7051', b.endpoint);
  const { buildConnEstablish } = await import('../../src/core/link/handshake.js');
  const { encodeEnvelope } = await import('../../src/wire/gossip.js');
  void sock.write(
    encodeEnvelope(
      buildConnEstablish({ pkiId: a.identity.pkiId, signer: a.identity.signer }, undefined, false),
    ),
  );
  await c.net.clock.runFor(500);
  void sock.write(Uint8Array.of(0xff, 0xff, 0xff));
  let closed = '';
  sock.onClose = (why) => (closed = why);
  await c.net.clock.runFor(500);
  assert.equal(
    await b.metrics.value('grapevine_gossip_comm_bad_input_total', { reason: 'malformed_envelope' }),
    1,
  );
  assert.notEqual(closed, '');
});

test('stop closes every connection, is idempotent, and peers notice', async () => {
  const c = await cluster(41, 3);
  const [a, b, z] = c.nodes;
  a.transport.send(msg('1'), peerOf(b), peerOf(z));
  await c.net.clock.runFor(1000);
  await a.transport.stop();
  await a.transport.stop();
  await c.net.clock.runFor(100);
  assert.deepEqual(a.transport.connectedPeers(), []);
  assert.deepEqual(links(b), []);
  assert.deepEqual(links(z), []);
  a.transport.send(msg('after-stop'), peerOf(b));
  await c.net.clock.runFor(1000);
  assert.ok(!c.inbox.get(b.endpoint)!.some((l) => l.endsWith(':after-stop')));
});

test('an oversized message is a write error: connection closed, peer presumed dead', async () => {
  const c = await cluster(43, 2, { config: { maxSendMsgSize: 1000 } });
  const [a, b] = c.nodes;
  const dead: string[] = [];
  a.transport.onPresumedDead((p) => dead.push(pkiIdKey(p)));
  a.transport.send(msg('small'), peerOf(b));
  await c.net.clock.runFor(1000);
  a.transport.send(msg('x'.repeat(2000)), peerOf(b));
  await c.net.clock.runFor(1000);
  assert.deepEqual(dead, [pkiIdKey(b.identity.pkiId)]);
  assert.equal(c.inbox.get(b.endpoint)!.length, 1);
});
