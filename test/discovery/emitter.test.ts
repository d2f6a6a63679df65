import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchingEmitter } from '../../src/core/link/emitter.js';
import { NodeClock, VirtualClock } from '../../src/sim/clock.js';
import { Metrics } from '../../src/base/metrics.js';
import { ConfigError } from '../../src/base/errors.js';

function setup(config: ConstructorParameters<typeof BatchingEmitter<string>>[0]['config'] = {}) {
  const vc = new VirtualClock();
  const clock = new NodeClock(vc);
  const batches: { at: number; items: string[] }[] = [];
  const metrics = new Metrics();
  const emitter = new BatchingEmitter<string>({
    clock,
    metrics,
    name: 't',
    config,
    route: (b) => batches.push({ at: vc.elapsed(), items: [...b] }),
  });
  return { vc, clock, batches, metrics, emitter };
}

test('emitter: flushes after maxPropagationBurstLatency, once per item with 1 iteration', async () => {
  const { vc, clock, batches, emitter } = setup();
  emitter.add('a');
  await vc.runFor(5);
  emitter.add('b');
  assert.equal(batches.length, 0);
  await vc.runFor(5);
  assert.deepEqual(batches, [{ at: 10, items: ['a', 'b'] }]);
  await vc.runFor(100);
  assert.equal(batches.length, 1, 'nothing is routed twice');
  assert.equal(clock.activeTimers(), 0, 'an idle emitter holds no timer');
});

test('emitter: flushes at once when maxPropagationBurstSize items wait', async () => {
  const { vc, batches, emitter } = setup({ maxPropagationBurstSize: 3 });
  emitter.add('a');
  emitter.add('b');
  assert.equal(batches.length, 0);
  emitter.add('c');
  assert.deepEqual(batches, [{ at: 0, items: ['a', 'b', 'c'] }]);
  assert.equal(emitter.size, 0);
  await vc.runFor(50);
  assert.equal(batches.length, 1);
});

test('emitter: propagateIterations routes each item that many times, one latency apart', async () => {
  const { vc, batches, emitter } = setup({ propagateIterations: 3, maxPropagationBurstLatencyMs: 20 });
  emitter.add('x');
  await vc.runFor(200);
  assert.deepEqual(
    batches.map((b) => [b.at, b.items.join()]),
    [
      [20, 'x'],
      [40, 'x'],
      [60, 'x'],
    ],
  );
});

test('emitter: propagateIterations 0 disables it', async () => {
  const { vc, batches, emitter } = setup({ propagateIterations: 0 });
  emitter.add('x');
  await vc.runFor(100);
  assert.equal(batches.length, 0);
});

test('emitter: bounded; the oldest item is dropped and counted', async () => {
  const { vc, batches, emitter, metrics } = setup({
    propagateIterations: 5,
    maxPending: 3,
    maxPropagationBurstSize: 100,
  });
  for (const x of ['a', 'b', 'c', 'd', 'e']) emitter.add(x);
  assert.equal(emitter.size, 3);
  assert.equal(await metrics.value('grapevine_gossip_emitter_dropped_total', { emitter: 't' }), 2);
  await vc.runFor(10);
  assert.deepEqual(batches[0].items, ['c', 'd', 'e']);
});

test('emitter: a throwing route is counted and does not stop later flushes', async () => {
  const vc = new VirtualClock();
  const metrics = new Metrics();
  let calls = 0;
  const emitter = new BatchingEmitter<number>({
    clock: vc,
    metrics,
    route: () => {
      calls++;
      if (calls === 1) throw new Error('boom');
    },
  });
  emitter.add(1);
  await vc.runFor(10);
  emitter.add(2);
  await vc.runFor(10);
  assert.equal(calls, 2);
  assert.equal(await metrics.value('grapevine_gossip_emitter_route_errors_total'), 1);
});

test('emitter: items added by route itself are kept for the next flush', async () => {
  const vc = new VirtualClock();
  const seen: number[][] = [];
  const emitter: BatchingEmitter<number> = new BatchingEmitter<number>({
    clock: vc,
    route: (b) => {
      seen.push([...b]);
      if (b[0] === 1) emitter.add(2);
    },
  });
  emitter.add(1);
  await vc.runFor(30);
  assert.deepEqual(seen, [[1], [2]]);
});

test('emitter: stop drops the buffer and releases the timer; add after stop is ignored', async () => {
  const { vc, clock, batches, emitter } = setup();
  emitter.add('a');
  assert.equal(clock.activeTimers(), 1);
  emitter.stop();
  emitter.stop();
  assert.equal(clock.activeTimers(), 0);
  emitter.add('b');
  await vc.runFor(100);
  assert.equal(batches.length, 0);
});

test('emitter: config is validated', () => {
  assert.throws(() => setup({ maxPropagationBurstSize: 0 }), ConfigError);
  assert.throws(() => setup({ propagateIterations: -1 }), ConfigError);
  assert.throws(() => setup({ maxPropagationBurstLatencyMs: 1.5 }), ConfigError);
});
