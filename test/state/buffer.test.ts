/**
 * The payload buffer's rules (buffer.ts) and the commit loop (commit.ts) with an in-memory ledger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PayloadBuffer, type BufferedPayload } from '../../src/core/state/buffer.js';
import { CommitLoop } from '../../src/core/state/commit.js';
import { GrapevineError } from '../../src/base/errors.js';
import { VirtualClock } from '../../src/sim/index.js';
import { silentLogger } from '../../src/base/log.js';
import { simOrg, simPeer } from '../../src/sim/index.js';
import { MemLedger, chain, fastSigner } from './fixtures.js';

const p = (seqNum: bigint | number, source: BufferedPayload['source'] = 'gossip'): BufferedPayload => ({
  seqNum: BigInt(seqNum),
  bytes: new Uint8Array([Number(seqNum) & 0xff]),
  source,
});

test('non-blocking adds: below height, duplicate and too far ahead are refused; the window is accepted', () => {
  const b = new PayloadBuffer(10n, 20);
  assert.equal(b.tryPush(p(9)), 'below_height');
  assert.equal(b.tryPush(p(0)), 'below_height');
  assert.equal(b.tryPush(p(10)), 'added');
  assert.equal(b.tryPush(p(10)), 'duplicate');
  assert.equal(b.tryPush(p(29)), 'added');
  assert.equal(b.tryPush(p(30)), 'too_far_ahead');
  assert.equal(b.tryPush(p(2n ** 64n - 1n)), 'too_far_ahead');
  assert.equal(b.size, 2);
  assert.equal(b.popReady()?.seqNum, 10n);
  assert.equal(b.popReady(), undefined, '11 is missing');
  assert.equal(b.next, 11n);
  assert.equal(b.tryPush(p(30)), 'added', 'the window moved with next');
});

test('blocking adds have no distance limit but wait while the buffer holds more than 2 x blockBufferSize', async () => {
  const b = new PayloadBuffer(0n, 2);
  // far-ahead payloads fill the buffer past 2 x 2 = 4
  for (let i = 100; i < 105; i++) assert.equal(await b.pushBlocking(p(i, 'state')), 'added');
  assert.equal(b.size, 5);
  let done = false;
  const waiting = b.pushBlocking(p(200, 'state')).then((r) => {
    done = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'a far-ahead blocking add waits');
  // the payload at next is inside the window: admitted at once, never behind the far ones
  assert.equal(await b.pushBlocking(p(0, 'orderer')), 'added');
  assert.equal(await b.pushBlocking(p(1, 'orderer')), 'added');
  assert.equal(done, false);
  b.popReady();
  b.popReady();
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'still 5 payloads held');
  b.resetNext(101n); // drops 100
  assert.equal(await waiting, 'added');
  assert.equal(b.has(200n), true);
});

test('close wakes blocked adds and waiters with stopped', async () => {
  const b = new PayloadBuffer(0n, 1);
  for (let i = 10; i < 13; i++) await b.pushBlocking(p(i, 'state'));
  const w = b.pushBlocking(p(50, 'state'));
  const ready = b.waitReady();
  b.close();
  assert.equal(await w, 'stopped');
  await ready;
  assert.equal(b.tryPush(p(0)), 'stopped');
});

test('property: any mix of adds and pops keeps order, the bounds and no duplicates', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('gossip', 'pop'), fc.integer({ min: 0, max: 80 })), {
        maxLength: 300,
      }),
      (ops) => {
        const bbs = 5;
        const b = new PayloadBuffer(3n, bbs);
        let expect = 3n;
        for (const [op, n] of ops) {
          if (op === 'pop') {
            const got = b.popReady();
            if (got) {
              assert.equal(got.seqNum, expect);
              expect++;
            }
          } else {
            const before = b.size;
            const r = b.tryPush(p(n));
            if (r === 'added') assert.ok(BigInt(n) >= b.next && BigInt(n) < b.next + BigInt(bbs));
            else assert.equal(b.size, before);
          }
          assert.ok(b.size <= bbs);
          assert.equal(b.next, expect);
        }
      },
    ),
  );
});

test('property: blocking adds, pops and backward resets never break the asserted invariants', async () => {
  // the buffer asserts (InvariantError) nothing below next and its size bound at every insert
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.tuple(fc.constantFrom('gossip', 'blocking'), fc.integer({ min: 0, max: 60 })),
          fc.tuple(fc.constant('pop'), fc.constant(0)),
          fc.tuple(fc.constant('reset'), fc.integer({ min: 0, max: 8 })),
        ),
        { maxLength: 200 },
      ),
      async (ops) => {
        const bbs = 4;
        const b = new PayloadBuffer(0n, bbs);
        const pending: Promise<unknown>[] = [];
        const failures: unknown[] = [];
        for (const [op, n] of ops) {
          if (op === 'pop') b.popReady();
          else if (op === 'reset') b.resetNext(b.next - BigInt(Math.min(n, Number(b.next))));
          else if (op === 'gossip') b.tryPush(p(n));
          else pending.push(b.pushBlocking(p(n, 'state')).catch((e) => failures.push(e)));
          await new Promise((r) => setImmediate(r));
          assert.deepEqual(failures, []);
          for (let s = 0n; s < b.next; s++) assert.equal(b.has(s), false, 'nothing below next');
        }
        b.close();
        await Promise.all(pending);
        assert.deepEqual(failures, []);
      },
    ),
    { numRuns: 100 },
  );
});

test('a backward reset turns window payloads into far-ahead ones; the window then fills again', async () => {
  const bbs = 4;
  const b = new PayloadBuffer(0n, bbs);
  for (let i = 10; i <= 18; i++) assert.equal(await b.pushBlocking(p(i, 'state')), 'added');
  for (let i = 0; i < 4; i++) assert.equal(b.tryPush(p(i)), 'added');
  assert.equal(b.size, 3 * bbs + 1);
  for (let i = 0; i < 4; i++) b.popReady();
  for (let i = 4; i < 8; i++) assert.equal(b.tryPush(p(i)), 'added');
  b.resetNext(0n); // the ledger refused block 0: 4..7 are now beyond the window
  for (let i = 0; i < 4; i++) assert.equal(b.tryPush(p(i)), 'added');
  assert.equal(b.size, 4 * bbs + 1);
});

/** maxBytes: the loop's byte bound, or a function of the world's blocks giving it. */
async function loopWorld(initial = 1, maxBytes: number | ((blocks: Uint8Array[]) => number) = 1 << 30) {
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer = fastSigner(await simPeer(org, 0));
  const blocks = chain('ch', orderer, 30);
  const maxBytesInFlight = typeof maxBytes === 'function' ? maxBytes(blocks) : maxBytes;
  const ledger = new MemLedger(blocks.slice(0, initial));
  const buffer = new PayloadBuffer(ledger.height(), 20);
  const committed: bigint[] = [];
  const drops: string[] = [];
  let fatal: unknown;
  const loop = new CommitLoop({
    buffer,
    ledger,
    clock: new VirtualClock(),
    logger: silentLogger,
    maxInFlight: 4,
    maxBytesInFlight,
    observeDuration: () => {},
    onCommitted: (h) => committed.push(h),
    onFatal: (e) => (fatal = e),
    drop: (r) => drops.push(r),
  });
  loop.start();
  const add = (n: number, bytes = blocks[n]) =>
    buffer.tryPush({ seqNum: BigInt(n), bytes, source: 'gossip' });
  const settle = async () => {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  };
  return { blocks, ledger, buffer, committed, drops, loop, add, settle, fatal: () => fatal };
}

test('commit loop: out-of-order arrivals commit in order, once each; onCommitted follows the height', async () => {
  const w = await loopWorld();
  for (const n of [5, 3, 1, 4, 3, 2]) w.add(n);
  await w.settle();
  assert.equal(w.ledger.height(), 6n);
  assert.deepEqual(w.committed, [2n, 3n, 4n, 5n, 6n]);
  assert.equal(w.ledger.appends, 5);
  assert.equal(w.ledger.vouchedAppends, 5, 'verified blocks: the ledger is told their data hash was checked');
  w.buffer.close();
  await w.loop.stop();
});

test('commit loop: with a clock that has immediate, onIssued of the blocks popped in a turn comes before their appends, which start in the next turn', async () => {
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const blocks = chain('ch', fastSigner(await simPeer(org, 0)), 5);
  const events: string[] = [];
  const ledger = new MemLedger(blocks.slice(0, 1));
  const append = ledger.append.bind(ledger);
  ledger.append = (bytes, decoded, opts) => {
    events.push(`append ${ledger.height() + BigInt(events.filter((e) => e.startsWith('append')).length)}`);
    return append(bytes, decoded, opts);
  };
  const turns: (() => void)[] = [];
  const clock = Object.assign(new VirtualClock(), { immediate: (fn: () => void) => turns.push(fn) });
  const buffer = new PayloadBuffer(ledger.height(), 20);
  const loop = new CommitLoop({
    buffer,
    ledger,
    clock,
    logger: silentLogger,
    maxInFlight: 4,
    maxBytesInFlight: 1 << 30,
    observeDuration: () => {},
    onCommitted: () => {},
    onIssued: (p) => events.push(`issued ${p.seqNum}`),
    onFatal: () => {},
    drop: () => {},
  });
  loop.start();
  for (const n of [1, 2, 3]) buffer.tryPush({ seqNum: BigInt(n), bytes: blocks[n]!, source: 'gossip' });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  await settle();
  // the turn has not come: staged for the Deliver streams, nothing appended yet
  assert.deepEqual(events, ['issued 1', 'issued 2', 'issued 3']);
  assert.equal(ledger.appends, 0);
  turns.shift()!();
  await settle();
  assert.deepEqual(events.slice(3), ['append 1', 'append 2', 'append 3']);
  assert.equal(ledger.height(), 4n);
  buffer.close();
  turns.splice(0).forEach((f) => f());
  await loop.stop();
});

test('commit loop: at most maxInFlight appends in flight, and within maxBytesInFlight (one always goes)', async () => {
  /** Commits blocks 1..n through a loop with this byte bound; the height and the most appends at once. */
  const run = async (n: number, maxBytes?: number | ((blocks: Uint8Array[]) => number)) => {
    const w = await loopWorld(1, maxBytes);
    for (let i = 1; i <= n; i++) w.add(i);
    await w.settle();
    w.buffer.close();
    await w.loop.stop();
    return { height: w.ledger.height(), peak: w.ledger.peakInFlight };
  };
  const byCount = await run(12);
  assert.deepEqual([byCount.height, byCount.peak], [13n, 4], 'maxInFlight 4');
  // signatures vary in length, so the bound comes from this world's own blocks 1 and 2
  const byBytes = await run(12, (b) => b[1].length + b[2].length + 1);
  assert.deepEqual(
    [byBytes.height, byBytes.peak],
    [13n, 3],
    'issued while under the byte bound: the third crosses it',
  );
  const tiny = await run(5, 1);
  assert.deepEqual([tiny.height, tiny.peak], [6n, 1], 'a block larger than the bound still commits, alone');
});

test('commit loop: a block the ledger refuses is dropped and next goes back to the ledger height', async () => {
  const w = await loopWorld();
  const other = chain(
    'ch',
    fastSigner(await simPeer(await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' }), 1)),
    3,
  );
  assert.equal(w.add(1, other[1]), 'added', 'a block 1 of another chain');
  await w.settle();
  assert.deepEqual(w.drops, ['ledger_rejected']);
  assert.equal(w.ledger.height(), 1n);
  assert.equal(w.buffer.next, 1n, 'block 1 can be fetched again');
  assert.equal(w.add(1), 'added');
  assert.equal(w.add(2), 'added');
  await w.settle();
  assert.equal(w.ledger.height(), 3n);
  w.buffer.close();
  await w.loop.stop();
});

test('commit loop: after an I/O failure a ledger that can recover is retried with backoff; once it recovers the loop goes on from its height', async () => {
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const blocks = chain('ch', fastSigner(await simPeer(org, 0)), 10);
  const ledger = new MemLedger(blocks.slice(0, 1));
  let healed = false;
  const attempts: number[] = [];
  const clock = new VirtualClock();
  const recover = async () => {
    attempts.push(clock.now());
    if (!healed) throw new GrapevineError('IO', 'still no space');
    ledger.failWith = undefined;
  };
  const buffer = new PayloadBuffer(ledger.height(), 20);
  const events: string[] = [];
  const loop = new CommitLoop({
    buffer,
    ledger: Object.assign(ledger, { recover }),
    clock,
    logger: silentLogger,
    maxInFlight: 4,
    maxBytesInFlight: 1 << 30,
    observeDuration: () => {},
    onCommitted: (h) => events.push(`committed ${h}`),
    onFatal: (e) => events.push(`fatal ${(e as GrapevineError).code}`),
    onRecovered: (h) => events.push(`recovered ${h}`),
    onRewound: (h) => events.push(`rewound ${h}`),
    drop: () => {},
  });
  loop.start();
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const add = (n: number) => buffer.tryPush({ seqNum: BigInt(n), bytes: blocks[n]!, source: 'gossip' });
  add(1);
  await settle();
  ledger.failWith = new GrapevineError('IO', 'no space left on device');
  add(2);
  add(3);
  await settle();
  assert.deepEqual(events, ['committed 2', 'fatal IO']);
  const t0 = clock.now();
  await clock.runFor(1000 + 2000 + 4000);
  await settle();
  assert.deepEqual(
    attempts.map((t) => t - t0),
    [1000, 3000, 7000],
    'retried after 1 s, then 2 s, then 4 s',
  );
  healed = true;
  await clock.runFor(8000);
  await settle();
  assert.ok(events.includes('recovered 2'), events.join(', '));
  // blocks 2 and 3 failed: the buffer went back to the ledger height; they come again
  add(2);
  add(3);
  await settle();
  assert.equal(ledger.height(), 4n);
  assert.deepEqual(events.slice(-2), ['committed 3', 'committed 4']);
  buffer.close();
  await loop.stop();
});

test('commit loop: stop() ends a recovery wait at once', async () => {
  const w = await loopWorld();
  Object.assign(w.ledger, { recover: async () => Promise.reject(new Error('never')) });
  w.ledger.failWith = new GrapevineError('IO', 'disk gone');
  w.add(1);
  await w.settle();
  w.buffer.close();
  await w.loop.stop(); // resolves although the virtual clock never reaches the retry
});

test('commit loop: an I/O failure stops the loop and reports it', async () => {
  const w = await loopWorld();
  w.ledger.failWith = new GrapevineError('IO', 'disk gone');
  w.add(1);
  await w.settle();
  assert.equal((w.fatal() as GrapevineError).code, 'IO');
  w.ledger.failWith = undefined;
  w.add(2);
  await w.settle();
  assert.equal(w.ledger.height(), 1n, 'nothing committed after the failure');
  w.buffer.close();
  await w.loop.stop();
});
