/**
 * The simulated network's rpc facility (src/sim/rpc.ts): request/response and server-streaming
 * calls between hosts, with latency, flow control, cancel, deadlines, crashes and partitions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimNetwork, SimRpcError, type SimServerCall } from '../../src/sim/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function world(link: Record<string, number> = {}) {
  const net = new SimNetwork({ seed: 7, link: { latencyMs: 10, jitterMs: 0, ...link } });
  net.addHost('client');
  net.addHost('server');
  return net;
}

/** The settled outcome of a promise, without awaiting virtual time. */
function settle<T>(p: Promise<T>) {
  const out: { done: boolean; value?: T; code?: string } = { done: false };
  p.then(
    (value) => Object.assign(out, { done: true, value }),
    (e: SimRpcError) => Object.assign(out, { done: true, code: e.code }),
  );
  return out;
}

test('unary: the reply arrives after one round trip of latency', async () => {
  const net = world();
  net.rpc.serve('server', 'echo', (call) => {
    void call.send(enc(`echo:${dec(call.request)}`));
    call.end();
  });
  const t0 = net.clock.now();
  let at = 0;
  const reply = settle(
    net.rpc.unary('client', 'server', 'echo', enc('hi')).then((r) => {
      at = net.clock.now() - t0;
      return dec(r);
    }),
  );
  await net.clock.runFor(100);
  assert.deepEqual(reply, { done: true, value: 'echo:hi' });
  assert.ok(at >= 20 && at < 30, `answered after ${at} ms`);
});

test('server streaming: every message in order, then the end; a slow reader holds the server back', async () => {
  const net = world();
  let sentBeforeRead = 0;
  net.rpc.serve('server', 'count', async (call) => {
    for (let i = 0; i < 100; i++) {
      await call.send(enc(String(i)));
      sentBeforeRead++;
    }
  });
  const call = net.rpc.call('client', 'server', 'count', new Uint8Array(0), { window: 8 });
  await net.clock.runFor(1000);
  // Nobody reads: the server could send one window's worth, no more.
  assert.equal(call.buffered, 8);
  assert.ok(sentBeforeRead <= 9, `server went ${sentBeforeRead} ahead`);
  const got: string[] = [];
  const reading = (async () => {
    for await (const m of call) got.push(dec(m));
  })();
  await net.clock.runUntil(() => got.length === 100, 60_000);
  await net.clock.runFor(100);
  await reading;
  assert.deepEqual(
    got,
    Array.from({ length: 100 }, (_, i) => String(i)),
  );
  assert.equal((await call.status).code, 'OK');
});

test('cancel: the server sees the call cancelled, its waiting send rejects, the client reads CANCELLED', async () => {
  const net = world();
  let server: SimServerCall | undefined;
  let cancelled = 0;
  let sendError = '';
  net.rpc.serve('server', 'forever', async (call) => {
    server = call;
    call.onCancel(() => cancelled++);
    try {
      for (;;) await call.send(enc('x'));
    } catch (e) {
      sendError = (e as SimRpcError).code;
    }
  });
  const call = net.rpc.call('client', 'server', 'forever', new Uint8Array(0), { window: 2 });
  await net.clock.runFor(100);
  call.cancel();
  const next = settle(call.next());
  await net.clock.runFor(100);
  assert.equal(next.code, 'CANCELLED');
  assert.equal(server?.cancelled, true);
  assert.equal(cancelled, 1);
  assert.equal(sendError, 'CANCELLED');
});

test('status codes: unknown method, a failing handler, a deadline, nobody listening', async () => {
  const net = world();
  net.addHost('idle');
  net.rpc.serve('server', 'fails', () => {
    throw new Error('boom');
  });
  net.rpc.serve('server', 'fails-async', () => Promise.reject(new SimRpcError('RESOURCE_EXHAUSTED', 'full')));
  net.rpc.serve('server', 'silent', () => undefined);
  const outcomes = {
    unknown: settle(net.rpc.unary('client', 'server', 'nope', new Uint8Array(0))),
    fails: settle(net.rpc.unary('client', 'server', 'fails', new Uint8Array(0))),
    failsAsync: settle(net.rpc.unary('client', 'server', 'fails-async', new Uint8Array(0))),
    deadline: settle(net.rpc.unary('client', 'server', 'silent', new Uint8Array(0), { deadlineMs: 500 })),
    refused: settle(net.rpc.unary('client', 'idle', 'anything', new Uint8Array(0))),
  };
  await net.clock.runFor(1000);
  assert.deepEqual(Object.fromEntries(Object.entries(outcomes).map(([k, v]) => [k, v.code])), {
    unknown: 'UNIMPLEMENTED',
    fails: 'UNKNOWN',
    failsAsync: 'RESOURCE_EXHAUSTED',
    deadline: 'DEADLINE_EXCEEDED',
    refused: 'UNAVAILABLE',
  });
});

test('a server crash fails the call UNAVAILABLE; after restart the method must be served again', async () => {
  const net = new SimNetwork({ seed: 3, link: { latencyMs: 5, jitterMs: 0 } });
  net.addHost('client');
  const boot = () => {
    net.rpc.serve('server', 'stream', async (call) => {
      for (;;) await call.send(enc('tick'));
    });
  };
  net.addHost('server', boot);
  const call = net.rpc.call('client', 'server', 'stream', new Uint8Array(0));
  await net.clock.runFor(100);
  net.crash('server');
  const drained: string[] = [];
  const end = settle(
    (async () => {
      for await (const m of call) drained.push(dec(m));
    })(),
  );
  await net.clock.runFor(100);
  assert.equal(end.code, 'UNAVAILABLE');
  assert.equal((await call.status).code, 'UNAVAILABLE');
  net.restart('server');
  const again = net.rpc.call('client', 'server', 'stream', new Uint8Array(0));
  const first = settle(again.next());
  await net.clock.runFor(100);
  assert.equal(first.value && dec(first.value), 'tick');
  again.cancel();
});

test('partitions: a short cut delays the call, a long one breaks it at both ends', async () => {
  const net = world();
  net.rpc.serve('server', 'echo', (call) => {
    void call.send(call.request);
    call.end();
  });
  let brokenServer: SimServerCall | undefined;
  net.rpc.serve('server', 'hold', (call) => {
    brokenServer = call;
  });
  await net.clock.runFor(10);
  const held = net.rpc.call('client', 'server', 'hold', new Uint8Array(0));
  await net.clock.runFor(100);
  net.partition(['client'], ['server']);
  const delayed = settle(net.rpc.unary('client', 'server', 'echo', enc('later')));
  await net.clock.runFor(5_000);
  assert.equal(delayed.done, false);
  net.heal();
  await net.clock.runFor(100);
  assert.equal(delayed.value && dec(delayed.value), 'later');
  net.partition(['client'], ['server']);
  await net.clock.runFor(net.breakDetectMs + 100);
  assert.equal((await held.status).code, 'UNAVAILABLE');
  assert.equal(brokenServer?.cancelled, true);
});

test('loss drops frames of a call too; a deadline still ends it', async () => {
  const net = world({ loss: 1 });
  net.rpc.serve('server', 'echo', (call) => {
    void call.send(call.request);
    call.end();
  });
  const lost = settle(net.rpc.unary('client', 'server', 'echo', enc('x'), { deadlineMs: 1000 }));
  await net.clock.runFor(2000);
  assert.equal(lost.code, 'DEADLINE_EXCEEDED');
});
