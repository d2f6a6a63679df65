/**
 * ProcessResources (base/resources.ts) on injected readings: descriptors short within the reserve
 * of the soft limit, memory short at the configured or default limit, a failed reading counts as
 * short, readings cached for a second; and a ConnGate that is short of descriptors sheds its oldest
 * stranger for a new connection (as many as bring it back to the reserve when it is past it), or
 * refuses it when every connection authenticated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { ProcessResources, type ResourceReadings } from '../../src/base/resources.js';
import { ConnGate, DEFAULT_CONN_LIMITS, peerKey } from '../../src/base/conn-gate.js';
import { Metrics } from '../../src/base/metrics.js';

function readings(over: Partial<ResourceReadings> & { t?: { now: number } }): ResourceReadings {
  const t = over.t ?? { now: 0 };
  return {
    fdsInUse: () => 100,
    fdLimit: () => 1024,
    rss: () => 100 * 2 ** 20,
    memoryLimit: () => 1024 * 2 ** 20,
    now: () => t.now,
    ...over,
  };
}

test('descriptors: short within a tenth (at least 64) of the soft limit; unknown limit = never short', () => {
  let inUse = 900;
  const t = { now: 0 };
  const r = new ProcessResources(readings({ fdsInUse: () => inUse, t }));
  assert.equal(r.shortage(), undefined, '900 of 1024: 124 left, reserve 102');
  inUse = 922;
  assert.equal(r.shortage(), undefined, 'cached for a second');
  t.now = 1000;
  assert.equal(r.shortage(), 'fds');
  const small = new ProcessResources(readings({ fdLimit: () => 256, fdsInUse: () => 191 }));
  assert.equal(small.shortage(), undefined, 'reserve 64 of 256');
  const small2 = new ProcessResources(readings({ fdLimit: () => 256, fdsInUse: () => 192 }));
  assert.equal(small2.shortage(), 'fds');
  const none = new ProcessResources(readings({ fdLimit: () => undefined, fdsInUse: () => 1e9 }));
  assert.equal(none.shortage(), undefined);
});

test('a reading that fails for want of a descriptor counts as short', () => {
  const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
  const r = new ProcessResources(
    readings({
      fdsInUse: () => {
        throw emfile;
      },
    }),
  );
  assert.equal(r.shortage(), 'fds');
  const m = new ProcessResources(
    readings({
      rss: () => {
        throw emfile;
      },
    }),
  );
  assert.equal(m.shortage(), 'memory');
});

test('memory: short at 90 % of the limit by default, or at maxMemoryBytes', () => {
  let rss = 900 * 2 ** 20;
  const t = { now: 0 };
  const r = new ProcessResources(readings({ rss: () => rss, t }));
  assert.equal(r.shortage(), undefined, '900 MiB of 1 GiB');
  rss = 922 * 2 ** 20;
  t.now = 1000;
  assert.equal(r.shortage(), 'memory');
  r.maxMemoryBytes = 2 ** 30;
  t.now = 2000;
  assert.equal(r.shortage(), undefined, 'the configured limit replaces the default');
});

/** A socket as ConnGate sees it. */
function fakeSocket(port: number, remoteAddress = '10.0.0.1'): Socket & { reset: boolean } {
  const e = new EventEmitter() as unknown as Socket & { reset: boolean };
  Object.assign(e, {
    remoteAddress,
    remotePort: port,
    bytesRead: 0,
    destroyed: false,
    reset: false,
    destroy() {
      (e as { destroyed: boolean }).destroyed = true;
      e.emit('close');
    },
    resetAndDestroy() {
      e.reset = true;
      e.destroy();
    },
  });
  return e;
}

/** A gossip gate on injected readings: `fds.inUse` is the next reading, taken once `t.now` moved 1 s. */
function gateOnReadings(inUse: number) {
  const fds = { inUse };
  const t = { now: 0 };
  const resources = new ProcessResources(readings({ fdsInUse: () => fds.inUse, t }));
  const metrics = new Metrics();
  const gate = new ConnGate('gossip', DEFAULT_CONN_LIMITS, {
    tls: false,
    authOnActive: false,
    metrics,
    resources,
  });
  return { fds, t, resources, metrics, gate };
}

test('a gate short of descriptors sheds its oldest stranger for a new connection, never an authenticated one', async () => {
  const { fds, t, metrics, gate } = gateOnReadings(10);
  const [a, b, c, d] = [1, 2, 3, 4].map((p) => fakeSocket(p));
  assert.ok(gate.admit(a!) && gate.admit(b!));
  gate.authenticated(peerKey(a!));
  fds.inUse = 922; // at the reserve of 1024
  t.now = 1000;
  assert.ok(gate.admit(c!), 'admitted in place of the oldest stranger');
  assert.ok(b!.reset && !a!.destroyed);
  assert.equal(await metrics.value('grapevine_conn_evicted_total', { server: 'gossip', reason: 'fds' }), 1);
  gate.authenticated(peerKey(c!));
  assert.equal(gate.admit(d!), false, 'every connection authenticated: refused');
  assert.ok(d!.destroyed && !a!.destroyed && !c!.destroyed);
  assert.equal(await metrics.value('grapevine_conn_refused_total', { server: 'gossip', reason: 'fds' }), 1);
  assert.equal(gate.open, 2);
  gate.destroyAll();
});

test('between readings, connections the gates open and close count: a flood within one second stops at the reserve', () => {
  const r = new ProcessResources(readings({ fdsInUse: () => 800 }));
  assert.equal(r.shortage(), undefined, '800 of 1024, short at 922');
  for (let i = 0; i < 121; i++) r.opened();
  assert.equal(r.shortage(), undefined, '921');
  r.opened();
  assert.equal(r.shortage(), 'fds', '922');
  r.closed();
  assert.equal(r.shortage(), undefined);
});

test('a gate past the reserve (a limit lowered under it) sheds back to the reserve, then one for one', async () => {
  const { fds, t, resources, metrics, gate } = gateOnReadings(50);
  const strangers = Array.from({ length: 100 }, (_, i) => fakeSocket(1000 + i, `10.0.1.${i}`));
  for (const s of strangers) assert.ok(gate.admit(s));
  // the next reading: 1000 in use of 1024, the reserve starts at 922
  fds.inUse = 1000;
  t.now = 1000;
  assert.equal(resources.fdsOver(), 79);
  assert.ok(gate.admit(fakeSocket(5000)));
  const reset = strangers.filter((s) => s.reset).length;
  assert.equal(reset, 79, 'back to the reserve at once');
  assert.ok(
    strangers.slice(0, 79).every((s) => s.reset),
    'the oldest first',
  );
  assert.equal(await metrics.value('grapevine_conn_evicted_total', { server: 'gossip', reason: 'fds' }), 79);
  assert.ok(gate.admit(fakeSocket(5001)));
  assert.equal(strangers.filter((s) => s.reset).length, 80, 'then one for one');
  assert.equal(gate.open, 100 - 80 + 2);
  gate.destroyAll();
});
