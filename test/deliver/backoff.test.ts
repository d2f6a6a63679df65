import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReconnectBackoff, backoffDelayMs, maxFailures } from '../../src/core/deliver/backoff.js';

const HOUR = 3_600_000;

test('maxFailures is 57 with the 3600 s default', () => {
  assert.equal(maxFailures(HOUR), 57);
  assert.equal(maxFailures(100), 0);
});

test('the sleep sequence is 100 ms x 1.2^(n-1), truncated to whole ms, capped after maxFailures', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, HOUR)),
    [100, 120, 144, 172, 207, 248],
  );
  // n-1 = 57 is still computed (1.2^57 x 100 ms ~ 3235 s), n-1 = 58 is the cap
  assert.equal(backoffDelayMs(58, HOUR), Math.trunc(Math.pow(1.2, 57) * 100));
  assert.ok(backoffDelayMs(58, HOUR) < HOUR);
  assert.equal(backoffDelayMs(59, HOUR), HOUR);
  assert.equal(backoffDelayMs(1000, HOUR), HOUR);
  // a small cap
  assert.equal(backoffDelayMs(3, 130), 130);
});

test('ReconnectBackoff: no sleep without failure; success resets the counter but not the total', () => {
  const b = new ReconnectBackoff(HOUR, HOUR);
  assert.equal(b.next(), undefined);
  b.failure();
  assert.deepEqual(b.next(), { sleepMs: 100, exceeded: false });
  b.failure();
  assert.deepEqual(b.next(), { sleepMs: 120, exceeded: false });
  b.success();
  assert.equal(b.next(), undefined);
  b.failure();
  assert.deepEqual(b.next(), { sleepMs: 100, exceeded: false });
  assert.equal(b.totalMs, 320);
});

test('the total threshold is exceeded once the summed sleeps pass it (Fabric defaults: on the 49th consecutive failure)', () => {
  const b = new ReconnectBackoff(HOUR, HOUR);
  let n = 0;
  for (;;) {
    b.failure();
    n++;
    const s = b.next()!;
    if (s.exceeded) break;
  }
  // sum_{k=0}^{n-1} trunc(100 x 1.2^k) first exceeds 3.6e6 ms
  let total = 0;
  let expect = 0;
  while (total <= HOUR) total += Math.trunc(Math.pow(1.2, expect++) * 100);
  assert.equal(n, expect);
  assert.equal(n, 49);
  assert.equal(b.totalMs, total);
});
