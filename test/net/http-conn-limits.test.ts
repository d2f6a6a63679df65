/**
 * Connection limits of the HTTP servers (ops/http-limits.ts, base/conn-gate.ts) over real sockets on
 * 127.0.0.1: over the operations server's per-address cap a new connection sheds the oldest one that
 * sent no request, while a kept-alive client keeps getting /healthz; idle TCP and idle TLS connections (handshake done, no request) are
 * closed after the idle deadline and a half-done handshake after the handshake deadline; the
 * dashboard's total cap and idle deadline; each counted in grapevine_conn_*.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, get } from 'node:http';
import { type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCrypto } from '../helpers/crypto.js';
import { peerFolder } from '../comm/fixtures.js';
import { until, untilMetric } from '../helpers/until.js';
import { Metrics } from '../../src/base/metrics.js';
import { OperationsServer } from '../../src/ops/operations.js';
import { DashboardServer } from '../../src/dashboard/server.js';
import { HTTP_TIMEOUTS } from '../../src/ops/http-limits.js';
import { rawConn } from '../helpers/raw-conn.js';

let root: string;
const sockets: Socket[] = [];
const stops: (() => Promise<void>)[] = [];

before(async () => {
  root = await testCrypto({ orgs: 1, peersPerOrg: 1 });
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of stops) await s();
});

async function ops(metrics: Metrics, opts: Partial<ConstructorParameters<typeof OperationsServer>[0]>) {
  const server = new OperationsServer({ listenAddress: '127.0.0.1:0', metrics, ...opts });
  stops.push(() => server.stop());
  const { port } = await server.start();
  return port;
}

/** GET path over `agent`: status and whether the agent reused a connection. */
function getVia(port: number, path: string, agent: Agent): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

const open = (m: Metrics, server: string) => m.value('grapevine_conn_open', { server });

describe('operations server connection limits', () => {
  test('over the per-address cap a new connection sheds the oldest one without a request; a kept-alive client keeps working', async () => {
    const m = new Metrics();
    const port = await ops(m, { connLimits: { maxConnsPerAddress: 3 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await getVia(port, '/healthz', agent)).status, 200);
      const held = [await rawConn(port, sockets), await rawConn(port, sockets)];
      await until(async () => (await open(m, 'operations')) === 3, 'the server to hold 3 connections');
      const over = await rawConn(port, sockets);
      await until(held[0]!.closed, 'the oldest connection without a request to be closed');
      await untilMetric(
        m,
        'grapevine_conn_evicted_total',
        { server: 'operations', reason: 'per_address' },
        1,
      );
      assert.deepEqual(await getVia(port, '/healthz', agent), { status: 200, reused: true });
      assert.ok(!held[1]!.closed() && !over.closed());
      for (const h of [...held, over]) h.socket.destroy();
    } finally {
      agent.destroy();
    }
  });

  test('idle TCP and idle TLS connections are closed after the idle deadline, a half handshake after the handshake deadline', async () => {
    const plainMetrics = new Metrics();
    const plain = await ops(plainMetrics, { connLimits: { idleTimeoutMs: 300 } });
    const idle = await rawConn(plain, sockets);
    await until(idle.closed, 'the idle TCP connection to be closed');
    await untilMetric(plainMetrics, 'grapevine_conn_closed_idle_total', { server: 'operations' }, 1);
    // garbage instead of a request: 400, closed, counted
    const junk = await rawConn(plain, sockets);
    junk.socket.write('\u0000\u0001 not http\r\n\r\n');
    await until(junk.closed, 'the garbage client to be closed');
    await untilMetric(plainMetrics, 'grapevine_conn_errors_total', { server: 'operations', kind: 'http' }, 1);

    const tls = join(peerFolder(root, 1, 0), 'tls');
    const m = new Metrics();
    const port = await ops(m, {
      tls: { cert: readFileSync(join(tls, 'server.crt')), key: readFileSync(join(tls, 'server.key')) },
      connLimits: { idleTimeoutMs: 300, handshakeTimeoutMs: 300 },
    });
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    sockets.push(s);
    let closed = false;
    s.on('error', () => undefined);
    s.on('close', () => (closed = true));
    await new Promise<void>((resolve) => s.once('secureConnect', resolve));
    await until(() => closed, 'the idle TLS connection to be closed');
    await untilMetric(m, 'grapevine_conn_closed_idle_total', { server: 'operations' }, 1);
    const half = await rawConn(port, sockets);
    half.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x01, 0x00, 0x01]));
    await until(half.closed, 'the half-done handshake to be closed');
    await untilMetric(m, 'grapevine_conn_handshake_timeouts_total', { server: 'operations' }, 1);
    assert.equal(await m.value('grapevine_conn_closed_idle_total'), 1);
  });
});

describe('dashboard connection limits', () => {
  test('at the total cap one more sheds the oldest idle connection; idle ones are closed; Node timeouts set', async () => {
    const m = new Metrics();
    const d = new DashboardServer({
      state: () => ({ ok: true }),
      metrics: m,
      connLimits: { maxConns: 2, idleTimeoutMs: 300 },
    });
    stops.push(() => d.stop());
    const port = Number(new URL(await d.start()).port);
    const held = [await rawConn(port, sockets), await rawConn(port, sockets)];
    await until(async () => (await open(m, 'dashboard')) === 2, 'the dashboard to hold 2 connections');
    const over = await rawConn(port, sockets);
    await until(held[0]!.closed, 'the oldest connection to be closed for the new one');
    await untilMetric(m, 'grapevine_conn_evicted_total', { server: 'dashboard', reason: 'total' }, 1);
    await until(() => held[1]!.closed() && over.closed(), 'the idle connections to be closed');
    await untilMetric(m, 'grapevine_conn_closed_idle_total', { server: 'dashboard' }, 2);
    const agent = new Agent({ keepAlive: false });
    assert.equal((await getVia(port, '/api/network', agent)).status, 200);
    agent.destroy();
    const server = (d as unknown as { server: import('node:http').Server }).server;
    assert.equal(server.headersTimeout, HTTP_TIMEOUTS.headersTimeoutMs);
    assert.equal(server.requestTimeout, HTTP_TIMEOUTS.requestTimeoutMs);
    assert.equal(server.keepAliveTimeout, HTTP_TIMEOUTS.keepAliveTimeoutMs);
  });
});
