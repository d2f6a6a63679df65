/** VirtualClock, NodeClock, SeededRng and the deterministic P-256 signer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { NodeClock, SeededRng, VirtualClock, DeterministicP256Key, simCrypto } from '../../src/sim/index.js';
import { signDigest } from '../../src/sim/p256.js';

test('timers fire in due order, equal times in insertion order; intervals re-arm; clear works', async () => {
  const clock = new VirtualClock(0);
  const log: string[] = [];
  clock.setTimeout(() => log.push('b@10'), 10);
  clock.setTimeout(() => log.push('a@5'), 5);
  clock.setTimeout(() => log.push('c@10'), 10);
  const cancelled = clock.setTimeout(() => log.push('never'), 7);
  const iv = clock.setInterval(() => log.push(`i@${clock.now()}`), 4);
  clock.clearTimer(cancelled);
  await clock.runFor(12);
  clock.clearTimer(iv);
  await clock.runFor(100);
  assert.deepEqual(log, ['i@4', 'a@5', 'i@8', 'b@10', 'c@10', 'i@12']);
  assert.equal(clock.now(), 112);
});

test('promise continuations run before virtual time moves on', async () => {
  const clock = new VirtualClock(0);
  const seen: number[] = [];
  const worker = async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(100);
      await Promise.resolve();
      await Promise.resolve();
      seen.push(clock.now());
    }
  };
  void worker();
  clock.setTimeout(() => seen.push(-clock.now()), 100);
  await clock.runFor(1000);
  assert.deepEqual(seen, [100, -100, 200, 300]);
});

test('runUntil stops at the firing that makes the predicate true; step fires one timer', async () => {
  const clock = new VirtualClock(0);
  let n = 0;
  clock.setInterval(() => n++, 10);
  assert.equal(await clock.runUntil(() => n === 5, 1000), true);
  assert.equal(clock.now(), 50);
  assert.equal(await clock.runUntil(() => n === 1000, 100), false);
  assert.equal(clock.now(), 150);
  assert.equal(await clock.step(), true);
  assert.equal(clock.now(), 160);
});

test('ten minutes of protocol time with 100 periodic tasks runs in well under a second', async () => {
  const clock = new VirtualClock(0);
  let fired = 0;
  for (let i = 0; i < 100; i++) clock.setInterval(() => fired++, 1000 + i);
  const t0 = performance.now();
  await clock.runFor(10 * 60 * 1000);
  assert.ok(fired > 50_000, `fired ${fired}`);
  assert.ok(performance.now() - t0 < 5000, `took ${performance.now() - t0} ms`);
});

test('nowNs is strictly increasing and follows virtual time', () => {
  const clock = new VirtualClock(1000);
  const a = clock.nowNs();
  const b = clock.nowNs();
  assert.equal(a, 1000n * 1_000_000n);
  assert.ok(b > a);
});

test('NodeClock.halt cancels the node timers and refuses new ones', async () => {
  const base = new VirtualClock(0);
  const node = new NodeClock(base);
  let fired = 0;
  node.setTimeout(() => fired++, 10);
  node.setInterval(() => fired++, 5);
  assert.equal(node.activeTimers(), 2);
  node.halt();
  node.setTimeout(() => fired++, 1);
  await base.runFor(100);
  assert.equal(fired, 0);
});

test('SeededRng: same seed same stream, forks independent and stable, ranges respected', () => {
  const a = new SeededRng(42);
  const b = new SeededRng(42);
  const xs = Array.from({ length: 50 }, () => a.next32());
  assert.deepEqual(
    xs,
    Array.from({ length: 50 }, () => b.next32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 50 }, () => new SeededRng(43).next32()),
  );
  // A fork does not depend on how much the parent consumed.
  const parent = new SeededRng(42);
  parent.next32();
  assert.equal(parent.fork('peer0').u64(), new SeededRng(42).fork('peer0').u64());
  assert.notEqual(new SeededRng(42).fork('peer0').u64(), new SeededRng(42).fork('peer1').u64());
  const r = new SeededRng(7);
  for (let i = 0; i < 2000; i++) {
    const v = r.int(10);
    assert.ok(Number.isInteger(v) && v >= 0 && v < 10);
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
  }
  const s = r.sample([1, 2, 3, 4, 5, 6], 4);
  assert.equal(new Set(s).size, 4);
  assert.equal(r.sample([1, 2], 5).length, 2);
  assert.equal(r.bytes(7).length, 7);
  assert.equal(typeof r.u64(), 'bigint');
});

test('SeededRng.int is roughly uniform', () => {
  const r = new SeededRng(1);
  const counts = new Array(8).fill(0);
  for (let i = 0; i < 80_000; i++) counts[r.int(8)]++;
  for (const c of counts) assert.ok(c > 9_000 && c < 11_000, `bucket ${c}`);
});

test('P-256 RFC 6979 vector (A.2.5, SHA-256, "sample") and low-S', () => {
  const d = 0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721n;
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const { r, s } = signDigest(d, createHash('sha256').update('sample').digest());
  assert.equal(r, 0xefd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716n);
  assert.equal(s, n - 0xf7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8n);
});

test('deterministic signatures verify with node:crypto and repeat byte for byte', () => {
  const key = DeterministicP256Key.fromSeed('test-key');
  for (let i = 0; i < 20; i++) {
    const data = Buffer.from(`message ${i}`);
    const sig = key.sign(data);
    assert.ok(verify('sha256', data, key.publicKey, sig));
    assert.deepEqual(sig, key.sign(data));
  }
});

test('sim identities are deterministic and chain to their org CA', async () => {
  const { orgs, peers } = await simCrypto({ orgs: 2, peersPerOrg: 2 });
  assert.equal(peers.length, 4);
  assert.equal(peers[0].name, 'peer0.org1.example.com');
  assert.equal(peers[2].org.mspId, 'Org2MSP');
  assert.equal(orgs[1].domain, 'org2.example.com');
  // Fixed across processes: derived only from names.
  assert.equal(
    Buffer.from(peers[0].pkiId).toString('hex'),
    '7abef4fd4d0e1edb2dfbf103ba5c6bc84320713f0806657e75385a15c41de18f',
  );
});
