/** §4.1 self alive, §4.5 membership exchange, §4.8 disclosure, §4.9 routing, periodic tasks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aliveRoutable,
  discloses,
  parseAlive,
  type MembershipEvent,
} from '../../src/core/discovery/index.js';
import { discoveryConfig, FABRIC_DISCOVERY_DEFAULTS } from '../../src/core/discovery/config.js';
import { ConfigError } from '../../src/base/errors.js';
import { checkEcdsa } from '../../src/identity/ecdsa.js';
import { GossipMessage_Tag as Tag, type Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { openEnvelope, secretInternalEndpoint } from '../../src/wire/gossip.js';
import { aliveOf, harness, hex, memReqOf, memResOf, type Harness } from './fixtures.js';
import type { Sent } from '../helpers/fake-transport.js';
import { X509Certificate } from 'node:crypto';

const aliveIn = (env: Envelope | undefined) => parseAlive(env);

function verifyBy(h: Harness, env: Envelope): void {
  const key = new X509Certificate(Buffer.from(h.self.certPem)).publicKey;
  checkEcdsa(key, env.payload, env.signature);
  if (env.secretEnvelope) checkEcdsa(key, env.secretEnvelope.payload, env.secretEnvelope.signature);
}

/** Member PKI-IDs (hex) listed in a membership response. */
function listed(s: Sent): { alive: string[]; dead: string[]; secrets: number } {
  assert.equal(s.message.content.case, 'memRes');
  const r = s.message.content.value as { alive: Envelope[]; dead: Envelope[] };
  return {
    alive: r.alive.map((e) => hex(aliveIn(e))),
    dead: r.dead.map((e) => hex(aliveIn(e))),
    secrets: [...r.alive, ...r.dead].filter((e) => e.secretEnvelope).length,
  };
}

test('config: Fabric defaults, derived defaults, 0 means default, errors name the key', () => {
  const c = discoveryConfig({ endpoint: 'p:7051' });
  assert.equal(c.aliveTimeIntervalMs, 5000);
  assert.equal(c.aliveExpirationTimeoutMs, 25_000);
  assert.equal(c.reconnectIntervalMs, 25_000);
  assert.equal(c.msgExpirationFactor, 20);
  assert.equal(c.publishCertPeriodMs, 10_000);
  assert.equal(c.pullIntervalMs, 4000);
  assert.equal(c.pullPeerNum, 3);
  assert.equal(c.maxConnectionAttempts, 120);
  assert.deepEqual({ ...c, endpoint: '' }, { ...FABRIC_DISCOVERY_DEFAULTS, bootstrap: [] });
  const fast = discoveryConfig({ endpoint: 'p:7051', aliveTimeIntervalMs: 200, pullPeerNum: 0 });
  assert.equal(fast.aliveExpirationTimeoutMs, 1000);
  assert.equal(fast.reconnectIntervalMs, 1000);
  assert.equal(fast.pullPeerNum, 3);
  assert.throws(() => discoveryConfig({ endpoint: 'p:7051', pullPeerNum: -1 }), /pullPeerNum/);
  assert.throws(() => discoveryConfig({ endpoint: 'p' }), /endpoint must be host:port/);
  assert.throws(() => discoveryConfig({ endpoint: 'p:1', bootstrap: ['nope'] }), /bootstrap/);
  assert.throws(() => discoveryConfig({ endpoint: 'p:1', aliveTimeInterval: 5 } as never), ConfigError);
  assert.throws(() => discoveryConfig({}), /endpoint/);
});

test('self alive (§4.1): inc_num = start ns, seq_num counts up, identity only during publishCertPeriod, signed secret', async () => {
  const h = await harness({ endpoint: 'int.org1:7051', externalEndpoint: 'ext.org1:7051' });
  const startNs = BigInt(h.vc.now()) * 1_000_000n;
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  await h.vc.runFor(5_010);
  const first = h.t.ofKind('aliveMsg', b);
  assert.equal(first.length, 1);
  const a1 = aliveIn(first[0].envelope);
  assert.equal(a1.message.tag, Tag.EMPTY);
  assert.equal(a1.message.nonce, 0n);
  assert.equal(a1.message.channel.length, 0);
  assert.ok(a1.time.incNum >= startNs && a1.time.incNum < startNs + 1_000_000n);
  assert.equal(a1.endpoint, 'ext.org1:7051', 'Member.endpoint is the external endpoint');
  assert.equal(hex(a1), hex(h.self));
  assert.deepEqual((a1.message.content.value as { identity: Uint8Array }).identity, h.self.serialized);
  assert.equal(
    secretInternalEndpoint(first[0].envelope.secretEnvelope),
    'int.org1:7051',
    'same org: secret kept',
  );
  verifyBy(h, first[0].envelope);
  // Keep b alive, and look at later messages.
  for (let i = 2n; i < 5n; i++) {
    h.t.deliver(aliveOf(b, { seq: i }), b);
    await h.vc.runFor(5_000);
  }
  const all = h.t.ofKind('aliveMsg', b).map((s) => aliveIn(s.envelope));
  const seqs = all.map((a) => a.time.seqNum);
  assert.ok(
    seqs.every((s, i) => i === 0 || s > seqs[i - 1]),
    `strictly increasing: ${seqs}`,
  );
  assert.ok(
    all.every((a) => a.time.incNum === a1.time.incNum),
    'inc_num constant',
  );
  const withIdentity = all.map(
    (a) => (a.message.content.value as { identity: Uint8Array }).identity.length > 0,
  );
  assert.deepEqual(withIdentity, [true, false, false, false], 'identity at 5 s only; not at 10, 15, 20 s');
  h.d.stop();
});

test('membership request (§4.5): answered with a sieved response, our alive last, nonce echoed; secrets only in-org', async () => {
  const h = await harness({ endpoint: 'p0.org1:7051', externalEndpoint: 'p0.org1:7051' });
  h.d.start();
  const [, b, c, noExt] = h.peers[0];
  const [x, y, xNoExt] = h.peers[1];
  h.t.deliver(aliveOf(b, { seq: 1n, internal: 'b.int:1' }), b);
  h.t.deliver(aliveOf(c, { seq: 1n, internal: 'c.int:1' }), c);
  h.t.deliver(aliveOf(noExt, { seq: 1n, endpoint: '', internal: 'n.int:1' }), noExt);
  h.t.deliver(aliveOf(x, { seq: 1n }), x);
  h.t.deliver(aliveOf(xNoExt, { seq: 1n, endpoint: '' }), xNoExt);
  h.t.presumeDead(c.pkiId);

  // Same-org requester: everything, with secrets.
  h.t.deliver(memReqOf(aliveOf(b, { seq: 2n, internal: 'b.int:1' }), 77n), b);
  let res = h.t.ofKind('memRes', b);
  assert.equal(res.length, 1);
  assert.equal(res[0].message.nonce, 77n);
  assert.equal(res[0].message.tag, Tag.EMPTY);
  assert.equal(res[0].envelope.signature.length, 0, 'unsigned');
  assert.equal(res[0].to.endpoint, 'b.int:1', 'sent to the requester by its preferred endpoint');
  let l = listed(res[0]);
  assert.deepEqual(
    l.alive.slice(0, -1).sort(),
    [hex(b), hex(noExt)].sort(),
    'Org2 members are only disclosed to Org2',
  );
  assert.equal(l.alive.at(-1), hex(h.self), 'our own alive last');
  assert.deepEqual(l.dead, [hex(c)]);
  assert.equal(l.secrets, 4, 'b, noExt, c and our own keep their secrets');

  // Foreign requester with an external endpoint: its org's peers with or without endpoint, ours with one.
  h.t.deliver(memReqOf(aliveOf(y, { seq: 1n, internal: 'y.int:1' }), 5n), y);
  res = h.t.ofKind('memRes', y);
  l = listed(res[0]);
  assert.deepEqual(
    l.alive.slice(0, -1).sort(),
    [hex(b), hex(x), hex(xNoExt), hex(y)].sort(),
    'y itself was just learned, as in Fabric',
  );
  assert.equal(l.alive.at(-1), hex(h.self));
  assert.deepEqual(l.dead, [hex(c)]);
  assert.equal(l.secrets, 0, 'no internal endpoint crosses orgs');
  assert.equal(h.d.lookup(y.pkiId)?.state, 'alive', 'the request self-information was learned');

  // Foreign requester without an external endpoint: we may not disclose ourselves -> close, no response.
  h.t.deliver(memReqOf(aliveOf(xNoExt, { seq: 2n, endpoint: '' }), 9n), xNoExt);
  assert.equal(h.t.ofKind('memRes', xNoExt).length, 0);
  assert.ok(h.t.closed.some((p) => hex({ pkiId: p.pkiId! }) === hex(xNoExt)));
  assert.equal(await h.metrics.value('grapevine_gossip_discovery_requests_refused_total'), 1);
  h.d.stop();
});

test('a peer without external endpoint refuses foreign requesters; answers its own org', async () => {
  const h = await harness({ endpoint: 'p0.org1:7051', externalEndpoint: '' });
  h.d.start();
  const b = h.peers[0][1];
  const x = h.peers[1][0];
  h.t.deliver(memReqOf(aliveOf(x, { seq: 1n }), 1n), x);
  assert.equal(h.t.ofKind('memRes').length, 0);
  assert.equal(h.t.closed.length, 1);
  h.t.deliver(memReqOf(aliveOf(b, { seq: 1n }), 1n), b);
  assert.equal(h.t.ofKind('memRes', b).length, 1);
  h.d.stop();
});

test('membership request checks: self_information PKI-ID must be the connection, signature valid; not stored or forwarded', async () => {
  const h = await harness();
  h.d.start();
  const [, b, c] = h.peers[0];
  h.t.deliver(aliveOf(c, { seq: 1n }), c);
  h.t.deliver(memReqOf(aliveOf(b, { seq: 1n })), c); // b's alive on c's connection
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'pki_id_mismatch' }),
    1,
  );
  assert.equal(h.t.ofKind('memRes').length, 0);
  const forged = aliveOf(b, { seq: 1n });
  forged.signature = aliveOf(c, { seq: 5n }).signature;
  h.t.deliver(memReqOf(forged), b);
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'bad_signature' }),
    1,
  );
  assert.equal(h.t.ofKind('memRes').length, 0);
  assert.equal(h.d.lookup(b.pkiId), undefined);
  const ok = aliveOf(b, { seq: 1n });
  h.t.deliver(memReqOf(ok), b);
  assert.equal(h.d.lookup(b.pkiId)?.state, 'alive');
  await h.vc.runFor(20);
  assert.ok(
    !h.t.ofKind('aliveMsg').some((s) => Buffer.from(s.envelope.payload).equals(ok.payload)),
    'not forwarded',
  );
  h.t.deliver(ok, c);
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'stale' }),
    0,
    'not in the alive store: the same message gossiped is accepted',
  );
  h.d.stop();
});

test('membership response: alive learned, dead learned only when unknown; wakes nothing unsolicited', async () => {
  const h = await harness();
  const events: MembershipEvent[] = [];
  h.d.onChange((e) => events.push(e));
  h.d.start();
  const [, b, c, d4] = h.peers[0];
  h.t.deliver(aliveOf(c, { seq: 1n }), c);
  h.t.deliver(memResOf([aliveOf(b, { seq: 1n })], [aliveOf(c, { seq: 2n }), aliveOf(d4, { seq: 1n })]), c);
  assert.equal(h.d.lookup(b.pkiId)?.state, 'alive');
  assert.equal(h.d.lookup(c.pkiId)?.state, 'alive', 'a dead envelope about a known member is ignored');
  assert.equal(h.d.lookup(d4.pkiId)?.state, 'dead');
  assert.deepEqual(
    events.map((e) => e.kind),
    ['alive', 'alive', 'dead'],
  );
  h.d.stop();
});

test('disclosure sieve table (§4.8)', () => {
  const own = 'Org1MSP';
  const rows: [string | undefined, string, string | undefined, string, boolean][] = [
    // remote org, remote endpoint, member org, member endpoint, disclosed
    ['Org1MSP', '', 'Org1MSP', '', true],
    ['Org1MSP', 'r:1', 'Org1MSP', 'm:1', true],
    ['Org1MSP', '', 'Org2MSP', 'm:1', true], // foreign member shown to our own org: Ox = own? no: Ox != Or and Ox != own
    ['Org2MSP', 'r:1', 'Org2MSP', '', true],
    ['Org2MSP', '', 'Org2MSP', '', true],
    ['Org2MSP', 'r:1', 'Org1MSP', 'm:1', true],
    ['Org2MSP', '', 'Org1MSP', 'm:1', false],
    ['Org2MSP', 'r:1', 'Org1MSP', '', false],
    ['Org2MSP', 'r:1', 'Org3MSP', 'm:1', false],
    [undefined, 'r:1', 'Org1MSP', 'm:1', false],
    ['Org1MSP', 'r:1', undefined, 'm:1', false],
  ];
  rows[2][4] = false; // Org2 member to an Org1 remote with no endpoint: Ox != Or and Ox != own -> hidden
  for (const [ro, re, mo, me, want] of rows) {
    assert.equal(
      discloses(own, { org: ro, endpoint: re }, { org: mo, endpoint: me }),
      want,
      JSON.stringify([ro, re, mo, me]),
    );
  }
});

test('alive routing table (§4.9)', () => {
  const own = 'Org1MSP';
  const rows: [string | undefined, string, string | undefined, string, boolean][] = [
    // member org, member endpoint, target org, target endpoint, routable
    ['Org1MSP', '', 'Org1MSP', '', true],
    ['Org1MSP', '', 'Org2MSP', 't:1', false],
    ['Org1MSP', 'm:1', 'Org2MSP', '', true],
    ['Org2MSP', 'm:1', 'Org1MSP', 't:1', true],
    ['Org2MSP', 'm:1', 'Org1MSP', '', false],
    ['Org2MSP', '', 'Org2MSP', 't:1', true],
    ['Org2MSP', 'm:1', 'Org3MSP', 't:1', false],
    [undefined, 'm:1', 'Org1MSP', 't:1', false],
  ];
  for (const [mo, me, to, te, want] of rows) {
    assert.equal(
      aliveRoutable(own, { org: mo, endpoint: me }, { org: to, endpoint: te }),
      want,
      JSON.stringify([mo, me, to, te]),
    );
  }
});

test('alive push (§4.9): our alive to random members, secret stripped for foreign targets; own-org-only without external endpoint', async () => {
  for (const external of ['p0.org1:7051', '']) {
    const h = await harness({ endpoint: 'p0.org1:7051', externalEndpoint: external, propagatePeerNum: 10 });
    h.d.start();
    const [, b] = h.peers[0];
    const [x] = h.peers[1];
    h.t.deliver(aliveOf(b, { seq: 1n }), b);
    h.t.deliver(aliveOf(x, { seq: 1n }), x);
    await h.vc.runFor(5_010);
    const own = h.t.ofKind('aliveMsg').filter((s) => hex(aliveIn(s.envelope)) === hex(h.self));
    const toB = own.filter((s) => hex({ pkiId: s.to.pkiId! }) === hex(b));
    const toX = own.filter((s) => hex({ pkiId: s.to.pkiId! }) === hex(x));
    assert.equal(toB.length, 1);
    assert.ok(toB[0].envelope.secretEnvelope, 'same org keeps the secret');
    if (external) {
      assert.equal(toX.length, 1);
      assert.equal(toX[0].envelope.secretEnvelope, undefined, 'foreign target: secret stripped');
      assert.deepEqual(toX[0].envelope.payload, toB[0].envelope.payload, 'same signed payload');
    } else {
      assert.equal(toX.length, 0, 'no external endpoint: never pushed outside the org');
    }
    h.d.stop();
  }
});

test('membership sync every pullInterval to min(pullPeerNum, alive) members; secrets only in-org', async () => {
  const h = await harness();
  h.d.start();
  const [, b] = h.peers[0];
  const [x] = h.peers[1];
  h.t.deliver(aliveOf(b, { seq: 1n }), b);
  h.t.deliver(aliveOf(x, { seq: 1n }), x);
  await h.vc.runFor(4_000);
  const reqs = h.t.ofKind('memReq');
  assert.equal(reqs.length, 2);
  for (const r of reqs) {
    assert.equal(r.message.nonce, 0n);
    assert.equal(r.envelope.signature.length, 0);
    const self = (r.message.content.value as { selfInformation: Envelope }).selfInformation;
    assert.equal(hex(aliveIn(self)), hex(h.self));
    const sameOrg = hex({ pkiId: r.to.pkiId! }) === hex(b);
    assert.equal(!!self.secretEnvelope, sameOrg);
  }
  h.d.stop();
});

test('reconnect to dead: probe every reconnectInterval; reachable -> membership request', async () => {
  const h = await harness();
  h.d.start();
  const b = h.peers[0][1];
  h.t.deliver(aliveOf(b, { seq: 1n, internal: 'b.int:7051' }), b);
  h.t.presumeDead(b.pkiId);
  await h.vc.runFor(25_000);
  assert.deepEqual(
    h.t.probed.map((p) => p.endpoint),
    ['b.int:7051'],
    'probed by its preferred endpoint',
  );
  assert.equal(h.t.ofKind('memReq', b).length, 0, 'unreachable: no request');
  h.t.reachable.set('b.int:7051', b);
  await h.vc.runFor(25_000);
  assert.equal(h.t.ofKind('memReq', b).length, 1);
  h.d.stop();
});

test('stop is idempotent and releases every timer, subscription and pending sleep', async () => {
  const h = await harness({ bootstrap: ['peer1.org1.example.com:7051', 'nobody:1'] });
  const baseline = h.clock.activeTimers();
  h.d.start();
  h.t.reachable.set('peer1.org1.example.com:7051', h.peers[0][1]);
  h.t.deliver(aliveOf(h.peers[0][2], { seq: 1n }), h.peers[0][2]);
  await h.vc.runFor(1_000);
  assert.ok(h.clock.activeTimers() > baseline);
  h.d.stop();
  h.d.stop();
  await h.vc.runFor(0);
  assert.equal(
    h.clock.activeTimers(),
    baseline + h.store.size - 1,
    'only the identity store expiry timers remain',
  );
  assert.equal(h.t.subscribers, 0);
  const sent = h.t.sent.length;
  await h.vc.runFor(100_000);
  assert.equal(h.t.sent.length, sent);
  assert.throws(() => h.d.start(), /stopped/);
});

test('bootstrap (§4.6): handshake probe, same org only, random nonce, resend until answered', async () => {
  const h = await harness({
    endpoint: 'p0.org1:7051',
    bootstrap: ['b:7051', 'x:7051', '127.0.0.1:7051', 'localhost:7051', 'p0.org1:7051'],
  });
  const [, b] = h.peers[0];
  const [x] = h.peers[1];
  h.t.reachable.set('x:7051', x);
  h.d.start();
  await h.vc.runFor(0);
  assert.deepEqual(
    h.t.handshakes.map((p) => p.endpoint).sort(),
    ['b:7051', 'x:7051'],
    'own endpoints skipped',
  );
  assert.equal(h.t.ofKind('memReq').length, 0, 'b unreachable; x is of another org');
  h.t.reachable.set('b:7051', b);
  await h.vc.runFor(25_000);
  const reqs = h.t.ofKind('memReq', b);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].to.endpoint, 'b:7051');
  const nonce = reqs[0].message.nonce;
  assert.notEqual(nonce, 0n);
  assert.ok(
    (reqs[0].message.content.value as { selfInformation: Envelope }).selfInformation.secretEnvelope,
    'with our internal endpoint',
  );
  assert.equal(h.t.ofKind('memReq', x).length, 0, 'a foreign bootstrap peer is never asked');
  await h.vc.runFor(5_000 + 25_000);
  assert.equal(h.t.ofKind('memReq', b).length, 2, 'no answer within 5 s: resent after reconnectInterval');
  h.t.deliver(memResOf([aliveOf(b, { seq: 1n })], [], nonce), b);
  assert.equal(h.d.lookup(b.pkiId)?.state, 'alive');
  await h.vc.runFor(100_000);
  assert.equal(
    h.t.ofKind('memReq', b).filter((r) => r.message.nonce === nonce).length,
    2,
    'answered: no more resends',
  );
  h.d.stop();
});

test('anchors (§4.7): any org; foreign anchors skipped without external endpoint; claimed org enforced; no secret abroad', async () => {
  const h = await harness({ endpoint: 'p0.org1:7051', externalEndpoint: 'p0.org1:7051' });
  const [, b] = h.peers[0];
  const [x] = h.peers[1];
  h.t.reachable.set('x:7051', x);
  h.t.reachable.set('b:7051', b);
  h.t.reachable.set('liar:7051', x);
  h.d.start();
  h.d.connectToAnchors(
    [
      { host: 'x', port: 7051, mspId: 'Org2MSP' },
      { host: 'b', port: 7051, mspId: 'Org1MSP' },
      { host: 'liar', port: 7051, mspId: 'Org1MSP' },
      { host: 'p0.org1', port: 7051, mspId: 'Org1MSP' },
      { host: '', port: 7051, mspId: 'Org1MSP' },
    ],
    'ch',
  );
  await h.vc.runFor(10);
  const toX = h.t.ofKind('memReq', x);
  assert.equal(toX.length, 1, 'liar claims Org1 but is Org2: refused; x (Org2 as configured) asked');
  assert.equal(
    (toX[0].message.content.value as { selfInformation: Envelope }).selfInformation.secretEnvelope,
    undefined,
  );
  const toB = h.t.ofKind('memReq', b);
  assert.equal(toB.length, 1);
  assert.ok((toB[0].message.content.value as { selfInformation: Envelope }).selfInformation.secretEnvelope);
  assert.deepEqual(h.t.handshakes.map((p) => p.endpoint).sort(), ['b:7051', 'liar:7051', 'x:7051']);
  h.d.stop();

  const h2 = await harness({ endpoint: 'p0.org1:7051', externalEndpoint: '' });
  h2.t.reachable.set('x:7051', x);
  h2.d.start();
  h2.d.connectToAnchors([{ host: 'x', port: 7051, mspId: 'Org2MSP' }]);
  await h2.vc.runFor(10);
  assert.equal(h2.t.handshakes.length, 0, 'no external endpoint: foreign anchors are not contacted');
  h2.d.stop();
});

test('a response to a foreign member never carries a secret, even for our own org members', async () => {
  const h = await harness();
  h.d.start();
  const b = h.peers[0][1];
  const x = h.peers[1][0];
  h.t.deliver(aliveOf(b, { seq: 1n, internal: 'b.int:1' }), b);
  h.t.deliver(memReqOf(aliveOf(x, { seq: 1n })), x);
  const [res] = h.t.ofKind('memRes', x);
  const alive = (res.message.content.value as { alive: Envelope[] }).alive;
  assert.equal(alive.length, 3);
  for (const e of alive) {
    assert.equal(e.secretEnvelope, undefined);
    assert.ok(e.signature.length > 0);
    openEnvelope(e);
  }
  h.d.stop();
});
