import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockCutter, type OrderedMessage } from '../../src/orderer/blockcutter.js';

const msg = (size: number, tag = size): OrderedMessage => ({ bytes: new Uint8Array([tag & 0xff]), size });
const sizes = (batches: OrderedMessage[][]) => batches.map((b) => b.map((m) => m.size));

test('cuts at MaxMessageCount', () => {
  const c = new BlockCutter({ maxMessageCount: 3, absoluteMaxBytes: 1000, preferredMaxBytes: 100 });
  assert.deepEqual(c.ordered(msg(1)), { batches: [], pending: true });
  assert.deepEqual(c.ordered(msg(2)), { batches: [], pending: true });
  const r = c.ordered(msg(3));
  assert.deepEqual(sizes(r.batches), [[1, 2, 3]]);
  assert.equal(r.pending, false);
  assert.equal(c.pendingCount, 0);
});

test('a message that would overflow PreferredMaxBytes cuts the pending batch first', () => {
  const c = new BlockCutter({ maxMessageCount: 10, absoluteMaxBytes: 1000, preferredMaxBytes: 100 });
  c.ordered(msg(60));
  const r = c.ordered(msg(50));
  assert.deepEqual(sizes(r.batches), [[60]]);
  assert.equal(r.pending, true);
  assert.deepEqual(
    c.cut().map((m) => m.size),
    [50],
  );
});

test('exactly PreferredMaxBytes in total still fits one batch', () => {
  const c = new BlockCutter({ maxMessageCount: 10, absoluteMaxBytes: 1000, preferredMaxBytes: 100 });
  c.ordered(msg(60));
  const r = c.ordered(msg(40));
  assert.deepEqual(r.batches, []);
  assert.equal(c.pendingCount, 2);
});

test('an oversized message (> PreferredMaxBytes) goes alone, after the pending batch', () => {
  const c = new BlockCutter({ maxMessageCount: 10, absoluteMaxBytes: 1000, preferredMaxBytes: 100 });
  c.ordered(msg(10));
  c.ordered(msg(20));
  const r = c.ordered(msg(101));
  assert.deepEqual(sizes(r.batches), [[10, 20], [101]]);
  assert.equal(r.pending, false);
  const alone = new BlockCutter({
    maxMessageCount: 10,
    absoluteMaxBytes: 1000,
    preferredMaxBytes: 100,
  }).ordered(msg(500));
  assert.deepEqual(sizes(alone.batches), [[500]]);
  assert.equal(alone.pending, false);
});

test('overflow cut plus MaxMessageCount 1 gives two batches', () => {
  const c = new BlockCutter({ maxMessageCount: 2, absoluteMaxBytes: 1000, preferredMaxBytes: 100 });
  c.ordered(msg(90));
  const r = c.ordered(msg(20));
  assert.deepEqual(sizes(r.batches), [[90]]);
  assert.equal(r.pending, true);
});

test('cut() empties the batch and returns [] when nothing is pending', () => {
  const c = new BlockCutter({ maxMessageCount: 10, absoluteMaxBytes: 1000, preferredMaxBytes: 100 });
  assert.deepEqual(c.cut(), []);
  c.ordered(msg(5));
  assert.equal(c.cut().length, 1);
  assert.deepEqual(c.cut(), []);
});

test('property: order is kept, nothing lost, batches respect the limits', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }),
      (maxCount, preferred, list) => {
        const c = new BlockCutter({
          maxMessageCount: maxCount,
          absoluteMaxBytes: 10_000,
          preferredMaxBytes: preferred,
        });
        const out: OrderedMessage[][] = [];
        list.forEach((s, i) => out.push(...c.ordered(msg(s, i)).batches));
        const rest = c.cut();
        if (rest.length) out.push(rest);
        assert.deepEqual(
          out.flat().map((m) => m.size),
          list,
        );
        for (const b of out) {
          assert.ok(b.length >= 1 && b.length <= maxCount);
          const total = b.reduce((a, m) => a + m.size, 0);
          if (b.length > 1)
            assert.ok(total <= preferred, `batch of ${b.length} holds ${total} > ${preferred}`);
          if (b.some((m) => m.size > preferred)) assert.equal(b.length, 1);
        }
      },
    ),
  );
});
