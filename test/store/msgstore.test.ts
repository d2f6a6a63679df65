/**
 * The message store (src/core/store/msgstore.ts): random insert / replace / expire / remove
 * sequences (fast-check) against its invariants and against what its callers rely on:
 *   - checkInvariants() holds after every step (size <= capacity, no held message invalidates
 *     another, nothing past its expiry after expire(), live count, age order);
 *   - the live messages are exactly those added and not yet announced by onRemove nor removed by
 *     the owner (onRemove announces every live message that stops being live, once);
 *   - keyed newest-wins: a refused message has a held one of its key at least as new; an added
 *     one is returned by get until replaced; refusal ('refuse') or eviction ('evictOldest') only
 *     at capacity;
 *   - the block policy (every held message compared): no two held seq_nums are more than
 *     maxBlockCountToStore apart, no duplicates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvariantError } from '../../src/base/errors.js';
import type { Clock } from '../../src/base/time.js';
import {
  MessageStore,
  newestPerKey,
  type RemoveReason,
  type ReplacePolicy,
} from '../../src/core/store/msgstore.js';
import { Metrics } from '../../src/base/metrics.js';
import { METRICS } from '../../src/base/metric-table.js';

/** A clock the test sets by hand (it may even go back, as a wall clock can). */
class HandClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  nowNs(): bigint {
    return BigInt(this.t) * 1_000_000n;
  }
  setTimeout(): never {
    throw new Error('not used');
  }
  setInterval(): never {
    throw new Error('not used');
  }
  clearTimer(): void {}
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

interface Msg {
  readonly id: number;
  readonly key: number;
  readonly time: number;
}

type Op =
  | { readonly op: 'add'; readonly key: number; readonly time: number }
  | { readonly op: 'tick'; readonly ms: number }
  | { readonly op: 'expire' }
  | { readonly op: 'remove'; readonly key: number }
  | { readonly op: 'removeOdd' }
  | { readonly op: 'clear' };

const ops = (keys: number, times: number): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({ op: fc.constant('add' as const), key: fc.nat(keys), time: fc.nat(times) }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          op: fc.constant('tick' as const),
          ms: fc.oneof(fc.integer({ min: -50, max: 400 }), fc.constantFrom(1, 100, 250, 500)),
        }),
      },
      { weight: 3, arbitrary: fc.constant({ op: 'expire' as const }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), key: fc.nat(keys) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'removeOdd' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    ),
    { maxLength: 120 },
  );

interface Run {
  readonly store: MessageStore<Msg, number>;
  readonly clock: HandClock;
  readonly removed: [Msg, RemoveReason][];
  readonly ttlMs: number;
}

/** Drive `ops`; after each step the invariants hold and the live set matches the bookkeeping. */
function drive(run: Run, list: readonly Op[], onAdd: (m: Msg, r: string, before: Msg[]) => void): void {
  const { store, clock, removed, ttlMs } = run;
  const expected = new Map<number, Msg>();
  const addedAt = new Map<number, number>();
  let lastAdded = -Infinity;
  let nextId = 0;
  for (const o of list) {
    removed.length = 0;
    switch (o.op) {
      case 'add': {
        const m: Msg = { id: nextId++, key: o.key, time: o.time };
        const before = store.values();
        const r = store.add(m);
        if (r === 'added') {
          expected.set(m.id, m);
          lastAdded = Math.max(clock.t, lastAdded);
          addedAt.set(m.id, lastAdded);
        }
        onAdd(m, r, before);
        break;
      }
      case 'tick':
        clock.t += o.ms;
        break;
      case 'expire': {
        const out = store.expire();
        assert.deepEqual(
          out.map((m) => m.id).sort(),
          removed
            .filter(([, why]) => why === 'expired')
            .map(([m]) => m.id)
            .sort(),
        );
        for (const m of out) assert.ok(clock.t - addedAt.get(m.id)! > ttlMs, 'expired only past its TTL');
        for (const m of store.values())
          assert.ok(clock.t - addedAt.get(m.id)! <= ttlMs, 'live within its TTL');
        break;
      }
      case 'remove': {
        const m = store.remove(o.key);
        if (m) expected.delete(m.id);
        break;
      }
      case 'removeOdd': {
        const gone: Msg[] = [];
        const n = store.removeWhere((m) => m.time % 2 === 1 && gone.push(m) > 0);
        const live = gone.filter((m) => expected.delete(m.id));
        assert.equal(n, live.length);
        break;
      }
      case 'clear':
        store.clear();
        expected.clear();
        break;
    }
    for (const [m] of removed)
      assert.ok(expected.delete(m.id), `announced once, and only when live: ${m.id}`);
    store.checkInvariants();
    assert.deepEqual(
      store
        .values()
        .map((m) => m.id)
        .sort((a, b) => a - b),
      [...expected.keys()].sort((a, b) => a - b),
    );
    assert.equal(store.size, expected.size);
  }
}

const keyedPolicy = newestPerKey<Msg, number>(
  (m) => m.key,
  (a, b) => a.time > b.time,
);

test('fast-check: keyed newest-wins store (capacity refuse / evict oldest, TTL with and without a seen period)', () => {
  fc.assert(
    fc.property(
      ops(12, 20),
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom('refuse' as const, 'evictOldest' as const),
      fc.constantFrom(0, 300),
      (list, capacity, whenFull, keepExpiredMs) => {
        const clock = new HandClock();
        const removed: [Msg, RemoveReason][] = [];
        const store = new MessageStore<Msg, number>({
          clock,
          policy: keyedPolicy,
          ttlMs: 500,
          keepExpiredMs,
          capacity,
          whenFull,
          onRemove: (m, why) => removed.push([m, why]),
        });
        drive({ store, clock, removed, ttlMs: 500 }, list, (m, r, before) => {
          const heldBefore = before.find((x) => x.key === m.key);
          if (r === 'invalid') {
            assert.equal(store.checkValid(m), false);
            if (heldBefore) assert.ok(heldBefore.time >= m.time, 'refused only for an equal or newer one');
            return;
          }
          if (r === 'full') {
            assert.equal(whenFull, 'refuse');
            assert.equal(store.held, capacity);
            return;
          }
          assert.equal(store.get(m.key), m);
          if (heldBefore) assert.deepEqual(removed, [[heldBefore, 'replaced']]);
          for (const [, why] of removed) assert.ok(why === 'replaced' || why === 'evicted');
          if (removed.some(([, why]) => why === 'evicted')) assert.equal(whenFull, 'evictOldest');
        });
      },
    ),
    { numRuns: 300 },
  );
});

/** Fabric's DataMessage policy over small numbers (window 3). */
const WINDOW = 3;
const blockPolicy: ReplacePolicy<Msg, number> = {
  key: (m) => m.key,
  sameKeyOnly: false,
  compare: (n, s) => {
    if (n.key === s.key) return 'invalidated';
    if (Math.abs(n.key - s.key) <= WINDOW) return 'none';
    return n.key > s.key ? 'invalidates' : 'invalidated';
  },
};

test('fast-check: the block policy (every held message compared): a window of seq_nums, no duplicates', () => {
  fc.assert(
    fc.property(ops(20, 1), fc.constantFrom(0, 500), (list, keepExpiredMs) => {
      const clock = new HandClock();
      const removed: [Msg, RemoveReason][] = [];
      const store = new MessageStore<Msg, number>({
        clock,
        policy: blockPolicy,
        ttlMs: 500,
        keepExpiredMs,
        onRemove: (m, why) => removed.push([m, why]),
      });
      drive({ store, clock, removed, ttlMs: 500 }, list, (m, r) => {
        assert.notEqual(r, 'full');
        if (r === 'added') {
          for (const [old, why] of removed) {
            assert.equal(why, 'replaced');
            assert.ok(m.key - old.key > WINDOW);
          }
        } else assert.deepEqual(removed, [], 'a refused block evicts nothing');
        const keys = store.values().map((x) => x.key);
        assert.ok(keys.length === 0 || Math.max(...keys) - Math.min(...keys) <= WINDOW);
      });
    }),
    { numRuns: 300 },
  );
});

test('expiry: gone after TTL, still seen until TTL + keepExpiredMs, walk in age order', () => {
  const clock = new HandClock();
  const removed: [Msg, RemoveReason][] = [];
  const store = new MessageStore<Msg, number>({
    clock,
    policy: keyedPolicy,
    ttlMs: 100,
    keepExpiredMs: 100,
    onRemove: (m, why) => removed.push([m, why]),
  });
  const a = { id: 1, key: 1, time: 5 };
  const b = { id: 2, key: 2, time: 5 };
  store.add(a);
  clock.t += 50;
  store.add(b);
  clock.t += 51; // a is 101 ms old, b 51
  assert.deepEqual(store.expire(), [a]);
  assert.deepEqual(removed, [[a, 'expired']]);
  assert.equal(store.get(1), undefined);
  assert.equal(store.size, 1);
  assert.equal(store.held, 2);
  assert.equal(store.add({ id: 3, key: 1, time: 5 }), 'invalid', 'still seen');
  clock.t += 100; // a 201: deleted; b 151: expired
  assert.deepEqual(store.expire(), [b]);
  assert.equal(store.held, 1);
  assert.equal(store.add({ id: 3, key: 1, time: 5 }), 'added', 'forgotten after TTL + keep');
  store.checkInvariants();
});

test('a wall clock that goes back: addition order stays age order', () => {
  const clock = new HandClock();
  const store = new MessageStore<Msg, number>({ clock, policy: keyedPolicy, ttlMs: 100 });
  store.add({ id: 1, key: 1, time: 1 });
  clock.t -= 1000;
  store.add({ id: 2, key: 2, time: 1 });
  store.checkInvariants();
  clock.t += 1101; // both are 101 ms past the first's time
  assert.deepEqual(
    store.expire().map((m) => m.id),
    [1, 2],
  );
});

test('capacity: metrics on hitting the bound; live size gauge', async () => {
  const metrics = new Metrics();
  const clock = new HandClock();
  const store = new MessageStore<Msg, number>({
    clock,
    policy: keyedPolicy,
    capacity: 2,
    whenFull: 'refuse',
    metrics,
    fullMetric: { def: METRICS.grapevineGossipChannelMapFullTotal, labels: { map: 'test' } },
    sizeMetric: { def: METRICS.grapevineGossipDiscoveryAliveStoreSize },
  });
  store.add({ id: 1, key: 1, time: 1 });
  store.add({ id: 2, key: 2, time: 1 });
  assert.equal(store.add({ id: 3, key: 3, time: 1 }), 'full');
  assert.equal(
    store.add({ id: 4, key: 2, time: 2 }),
    'added',
    'a newer message of a held key is no new entry',
  );
  assert.equal(await metrics.value('grapevine_gossip_channel_map_full_total', { map: 'test' }), 1);
  assert.equal(await metrics.value('grapevine_gossip_discovery_alive_store_size'), 2);
  assert.throws(() => new MessageStore({ clock, policy: keyedPolicy, capacity: 0 }), RangeError);
});

test('a policy that leaves two messages of one key side by side is an InvariantError', () => {
  const clock = new HandClock();
  const store = new MessageStore<Msg, number>({
    clock,
    policy: { key: (m) => m.key, sameKeyOnly: true, compare: () => 'none' },
  });
  store.add({ id: 1, key: 1, time: 1 });
  assert.throws(
    () => store.add({ id: 2, key: 1, time: 2 }),
    (e) => e instanceof InvariantError && e.code === 'INVARIANT',
  );
  const asym = new MessageStore<Msg, number>({
    clock,
    policy: {
      key: (m) => m.key,
      sameKeyOnly: false,
      compare: (n, s) => (n.key < s.key ? 'invalidates' : 'none'),
    },
  });
  asym.add({ id: 1, key: 5, time: 1 });
  assert.throws(() => asym.add({ id: 2, key: 6, time: 1 }), InvariantError);
});
