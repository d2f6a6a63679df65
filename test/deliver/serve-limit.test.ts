/**
 * DeliverStreamLimit (core/deliver/serve.ts): at most `max` Deliver streams are served at once.
 * StreamChildren (core/stream/children.ts): at most `fanout` stream children per channel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DeliverStreamLimit,
  handleDeliver,
  type DeliverDeps,
  type DeliverIO,
} from '../../src/core/deliver/serve.js';
import { EnvelopeSchema, Status } from '../../src/wire/gen/common/common_pb.js';
import { StreamChildren } from '../../src/core/stream/children.js';
import { Metrics } from '../../src/base/metrics.js';
import { encode } from '../../src/wire/codec.js';
import { deliverSeekEnvelope } from '../../src/wire/orderer.js';
import type { DeliverSource } from '../../src/core/deliver/serve.js';

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

const signer = { serializedIdentity: Uint8Array.of(1), sign: () => Uint8Array.of(2) };

/** A channel at height 1 whose Readers policy admits everyone; later blocks never come. */
function channel(id: string): DeliverSource {
  return {
    channelId: id,
    errored: false,
    sequence: 0n,
    readers: () => ({ policies: { evaluate: () => undefined }, path: '/Channel/Readers' }),
    height: () => 1n,
    getBlockBytes: async () => Uint8Array.of(9),
    waitForHeight: (h, signal) =>
      h <= 1n ? Promise.resolve() : new Promise<void>((r) => signal.addEventListener('abort', () => r())),
  };
}

/** A stream sending one seek from block 0 on `ch`, that hangs up when told. */
function seeker(ch: string, streamChild: boolean, who = 1) {
  const ac = new AbortController();
  let sent = false;
  const statuses: Status[] = [];
  let blocks = 0;
  const io: DeliverIO = {
    recv: async () => {
      if (!sent) {
        sent = true;
        return encode(
          EnvelopeSchema,
          deliverSeekEnvelope(ch, 0n, { ...signer, serializedIdentity: Uint8Array.of(who) }, 0),
        );
      }
      return new Promise<undefined>((r) => ac.signal.addEventListener('abort', () => r(undefined)));
    },
    sendBlock: async () => void blocks++,
    sendStatus: async (s: Status) => void statuses.push(s),
    signal: ac.signal,
    streamChild,
  };
  return { io, statuses, blocks: () => blocks, hangUp: () => ac.abort() };
}

/** Deliver deps that serve `channel(ch)` and bound stream children with `children`. */
function childDeps(children: StreamChildren): DeliverDeps {
  return {
    source: (ch) => channel(ch),
    now: () => 0,
    timeWindowMs: Infinity,
    mutualTls: false,
    noExpirationChecks: true,
    children: () => children,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

test('stream children beyond the fan-out get SERVICE_UNAVAILABLE before any block, counted per channel; Fabric clients (the relay) are not counted', async () => {
  const metrics = new Metrics();
  const children = new StreamChildren(2, undefined, metrics);
  const deps = childDeps(children);
  const a = seeker('ch', true);
  const b = seeker('ch', true);
  const relay = [seeker('ch', false), seeker('ch', false), seeker('ch', false)];
  const other = seeker('other', true);
  const running = [a, b, ...relay, other].map((s) => ({ s, done: handleDeliver(s.io, deps) }));
  await tick();
  assert.equal(children.inUse('ch'), 2);
  assert.equal(children.inUse('other'), 1, 'the bound is per channel');
  for (const { s } of running) assert.equal(s.blocks(), 1, 'each served block 0');
  const c = seeker('ch', true);
  await handleDeliver(c.io, deps);
  assert.deepEqual(c.statuses, [Status.SERVICE_UNAVAILABLE]);
  assert.equal(c.blocks(), 0);
  assert.equal(
    await metrics.value('grapevine_stream_children_refused_total', { channel: 'ch', reason: 'full' }),
    1,
  );
  assert.equal(await metrics.value('grapevine_stream_children', { channel: 'ch' }), 2);
  // a child that hangs up frees its place
  a.hangUp();
  await running[0]!.done.catch(() => undefined);
  assert.equal(children.inUse('ch'), 1);
  const d = seeker('ch', true);
  const dDone = handleDeliver(d.io, deps);
  await tick();
  assert.equal(d.blocks(), 1);
  assert.equal(children.inUse('ch'), 2);
  for (const { s } of running) s.hangUp();
  d.hangUp();
  await Promise.allSettled([...running.map((r) => r.done), dDone]);
  assert.equal(children.inUse('ch'), 0);
  assert.equal(children.inUse('other'), 0);
});

test('a child planned here takes the place of the newest child that is not (shed: SERVICE_UNAVAILABLE between blocks); a planned child is never shed for another', async () => {
  const metrics = new Metrics();
  // identities 10 and up are children we plan
  const children = new StreamChildren(2, (_ch, identity) => identity[0]! >= 10, metrics);
  const deps = childDeps(children);
  const older = seeker('ch', true, 1);
  const newer = seeker('ch', true, 2);
  const olderDone = handleDeliver(older.io, deps);
  await tick();
  const newerDone = handleDeliver(newer.io, deps);
  await tick();
  assert.equal(children.inUse('ch'), 2);
  const planned = seeker('ch', true, 10);
  const plannedDone = handleDeliver(planned.io, deps);
  await newerDone;
  assert.deepEqual(newer.statuses, [Status.SERVICE_UNAVAILABLE], 'the newest unplanned child is shed');
  assert.equal(newer.blocks(), 1, 'after its block');
  await tick();
  assert.equal(planned.blocks(), 1);
  assert.equal(children.inUse('ch'), 2);
  const planned2 = seeker('ch', true, 11);
  const planned2Done = handleDeliver(planned2.io, deps);
  await tick();
  assert.equal(children.inUse('ch'), 2);
  assert.deepEqual(older.statuses, [Status.SERVICE_UNAVAILABLE], 'then the older one');
  const planned3 = seeker('ch', true, 12);
  await handleDeliver(planned3.io, deps);
  assert.deepEqual(planned3.statuses, [Status.SERVICE_UNAVAILABLE], 'no planned child is shed for another');
  assert.equal(planned.statuses.length + planned2.statuses.length, 0);
  assert.equal(
    await metrics.value('grapevine_stream_children_refused_total', { channel: 'ch', reason: 'shed' }),
    2,
  );
  assert.equal(
    await metrics.value('grapevine_stream_children_refused_total', { channel: 'ch', reason: 'full' }),
    1,
  );
  planned.hangUp();
  planned2.hangUp();
  await Promise.allSettled([olderDone, plannedDone, planned2Done]);
  assert.equal(children.inUse('ch'), 0);
});

test("a halted channel ends a stream child's stream with an error (a failure to the follower), a Fabric client's with SERVICE_UNAVAILABLE", async () => {
  const halted: DeliverSource = { ...channel('ch'), height: () => 0n, waitForHeight: async () => undefined };
  const deps: DeliverDeps = {
    source: () => halted,
    now: () => 0,
    timeWindowMs: Infinity,
    mutualTls: false,
    noExpirationChecks: true,
    children: () => new StreamChildren(2),
  };
  const fabric = seeker('ch', false);
  await handleDeliver(fabric.io, deps);
  assert.deepEqual(fabric.statuses, [Status.SERVICE_UNAVAILABLE]);
  const child = seeker('ch', true);
  await assert.rejects(handleDeliver(child.io, deps), /channel stopped/);
  assert.deepEqual(child.statuses, []);
});
