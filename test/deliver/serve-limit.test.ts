/** DeliverStreamLimit (core/deliver/serve.ts): at most `max` Deliver streams are served at once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DeliverStreamLimit,
  handleDeliver,
  type DeliverDeps,
  type DeliverIO,
} from '../../src/core/deliver/serve.js';
import { Status } from '../../src/wire/gen/common/common_pb.js';

function io(): DeliverIO & { statuses: Status[]; hangUp(): void } {
  let hangUp!: () => void;
  const pending = new Promise<undefined>((r) => (hangUp = () => r(undefined)));
  const statuses: Status[] = [];
  return {
    recv: () => pending,
    sendBlock: async () => undefined,
    sendStatus: async (s: Status) => void statuses.push(s),
    signal: new AbortController().signal,
    statuses,
    hangUp,
  };
}

test('one stream over maxStreams gets SERVICE_UNAVAILABLE and is counted; a finished stream frees its place', async () => {
  let refused = 0;
  const limit = new DeliverStreamLimit(1, () => refused++);
  const deps: DeliverDeps = {
    source: () => undefined,
    now: () => 0,
    timeWindowMs: Infinity,
    mutualTls: false,
    limit,
  };
  const first = io();
  const served = handleDeliver(first, deps);
  assert.equal(limit.inUse, 1);
  const second = io();
  await handleDeliver(second, deps);
  assert.deepEqual(second.statuses, [Status.SERVICE_UNAVAILABLE]);
  assert.equal(refused, 1);
  first.hangUp();
  await served;
  assert.equal(limit.inUse, 0);
  const third = io();
  const again = handleDeliver(third, deps);
  assert.equal(limit.inUse, 1, 'the place is free again');
  third.hangUp();
  await again;
  assert.deepEqual(third.statuses, []);
});
