/**
 * State config (config.ts): Fabric's meaning of peer.gossip.state.maxRetries = 0 (one send per
 * batch, no retry: state.go gives up once tryCounts > maxRetries), other zeros mean the default;
 * and the anti-entropy loop honours it (counted sends with no response).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/sim/index.js';
import { stateConfig, StateProvider, FABRIC_STATE_DEFAULTS } from '../../src/core/state/index.js';
import { Metrics } from '../../src/base/metrics.js';
import { silentLogger } from '../../src/base/log.js';
import type { Rng } from '../../src/base/time.js';
import { FakeTransport } from '../helpers/fake-transport.js';
import { MemLedger } from './fixtures.js';

test('maxRetries 0 is kept (Fabric: one send per batch); other zeros mean the default; negatives refused', () => {
  assert.equal(stateConfig({ maxRetries: 0 }).maxRetries, 0);
  assert.equal(stateConfig({}).maxRetries, 3);
  assert.equal(stateConfig({ maxRetries: 5 }).maxRetries, 5);
  assert.equal(stateConfig({ batchSize: 0 }).batchSize, FABRIC_STATE_DEFAULTS.batchSize);
  assert.equal(stateConfig({ catchup: { maxVerifyInFlight: 0 } }).catchup.maxVerifyInFlight, 64);
  assert.throws(() => stateConfig({ maxRetries: -1 }), { code: 'BAD_VALUE' });
  assert.throws(() => stateConfig({ catchup: { verifyWorkers: 1.5 } }), { code: 'BAD_VALUE' });
});

const rng: Rng = {
  int: () => 0,
  float: () => 0,
  u64: (() => {
    let n = 0n;
    return () => ++n;
  })(),
  bytes: (n) => new Uint8Array(n),
  sample: (a, k) => a.slice(0, k),
};

async function sendsWithoutResponse(maxRetries: number): Promise<number> {
  const clock = new VirtualClock(0);
  const transport = new FakeTransport();
  const provider = new StateProvider({
    channel: 'ch',
    ledger: new MemLedger(),
    crypto: { verifyBlock: () => undefined, verifyByChannel: () => undefined },
    transport,
    view: {
      peersOfChannel: () => [{ pkiId: new Uint8Array(32).fill(7), endpoint: 'p:1', ledgerHeight: 5n }],
    },
    clock,
    rng,
    config: stateConfig({ enabled: true, maxRetries, checkIntervalMs: 3_600_000 }),
    metrics: new Metrics(),
    logger: silentLogger,
  });
  provider.start();
  const round = provider.syncNow();
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setImmediate(r));
    await clock.runFor(3_000);
  }
  await round;
  await provider.stop();
  return transport.sent.length;
}

test('anti-entropy: maxRetries 0 sends a batch request once; the default sends it 4 times', async () => {
  assert.equal(await sendsWithoutResponse(0), 1);
  assert.equal(await sendsWithoutResponse(3), 4);
  assert.equal(await sendsWithoutResponse(1), 2);
});
