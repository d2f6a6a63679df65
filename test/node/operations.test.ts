/**
 * The operations server over real sockets on 127.0.0.1: /healthz (200, 503 with failed checks,
 * 408 on timeout, 405), /metrics (Prometheus text with a registered metric), /logspec (GET, PUT,
 * bad PUT), /version, 404s, HTTPS with client certificates (401 on the secure paths without
 * one), start/stop idempotent and nothing left running after stop.
 */
import assert from 'node:assert/strict';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/base/errors.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { LogLevels } from '../../src/node/logspec.js';
import { OperationsError, OperationsServer } from '../../src/ops/operations.js';
import { operationsOptionsFromConfig } from '../../src/node/operations-config.js';
import { componentLogger } from '../../src/base/log.js';
import { Metrics } from '../../src/base/metrics.js';
import { METRICS } from '../../src/base/metric-table.js';
import { serverClientTls, testCrypto, type ServerClientTls } from '../helpers/crypto.js';
import { poll } from '../helpers/until.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}
interface TlsClient {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One request on its own connection; resolves once the response ended and the socket closed. */
function call(
  addr: AddressInfo,
  method: string,
  path: string,
  opts: { body?: string; tls?: TlsClient; agent?: HttpAgent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port: addr.port, method, path, agent: opts.agent ?? false };
    const req = opts.tls
      ? httpsRequest({ ...common, ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key })
      : httpRequest(common);
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const reply = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const socket = req.socket;
        if (opts.agent || !socket || socket.destroyed) resolve(reply);
        else socket.once('close', () => resolve(reply));
      });
    });
    req.end(opts.body);
  });
}

/** Closed handles leave the list once libuv has run their close callbacks: poll, bounded. */
async function settled(baseline: number): Promise<void> {
  await poll(() => netResources() <= baseline, { timeoutMs: 1000, intervalMs: 1 });
  assert.equal(netResources(), baseline, process.getActiveResourcesInfo().join(','));
}

const netResources = () =>
  process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'TLSWrap' || r === 'Timeout')
    .length;

describe('operations server (plain HTTP)', () => {
  const metrics = new Metrics();
  const logLevels = new LogLevels();
  const discoveryLog = componentLogger('discovery', {}, logLevels.root);
  let server: OperationsServer;
  let addr: AddressInfo;
  let baseline: number;

  before(async () => {
    baseline = netResources();
    server = new OperationsServer({
      listenAddress: '127.0.0.1:0',
      metrics,
      logSpec: logLevels,
      version: { version: '0.1.0', commitSHA: 'abc123' },
      healthTimeoutMs: 200,
      now: () => new Date('2024-05-01T12:00:00.000Z'),
    });
    addr = await server.start();
    assert.equal(await server.start(), addr, 'start is idempotent');
  });
  after(() => server.stop());

  it('/healthz: 200 OK with the time when every checker passes', async () => {
    server.registerChecker('ledger', () => undefined);
    server.registerChecker('gossip', { healthCheck: async () => undefined });
    const r = await call(addr, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { status: 'OK', time: '2024-05-01T12:00:00.000Z' });
  });

  it('/healthz: 503 with the failed checks, back to 200 when deregistered', async () => {
    server.registerChecker('orderer', async () => {
      throw new Error('no orderer reachable');
    });
    server.registerChecker('disk', () => {
      throw new Error('disk full');
    });
    const r = await call(addr, 'GET', '/healthz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), {
      status: 'Service Unavailable',
      time: '2024-05-01T12:00:00.000Z',
      failed_checks: [
        { component: 'disk', reason: 'disk full' },
        { component: 'orderer', reason: 'no orderer reachable' },
      ],
    });
    server.deregisterChecker('orderer');
    server.deregisterChecker('disk');
    assert.equal((await call(addr, 'GET', '/healthz')).status, 200);
    assert.throws(
      () => server.registerChecker('ledger', () => undefined),
      (e: unknown) => e instanceof OperationsError && e.message === "'ledger' is already registered",
    );
  });

  it('/readyz: its own checkers (503 naming the failed one), independent of /healthz', async () => {
    server.registerReadinessChecker('gossip', () => {
      throw new Error('no gossip connection to any peer');
    });
    assert.equal((await call(addr, 'GET', '/healthz')).status, 200, 'a readiness check is no liveness check');
    const r = await call(addr, 'GET', '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), {
      status: 'Service Unavailable',
      time: '2024-05-01T12:00:00.000Z',
      failed_checks: [{ component: 'gossip', reason: 'no gossip connection to any peer' }],
    });
    assert.throws(() => server.registerReadinessChecker('gossip', () => undefined), OperationsError);
  });

  it('/healthz: 408 when a check outlasts the timeout (its signal is aborted); 405 for other methods', async () => {
    let aborted = false;
    server.registerChecker(
      'slow',
      (signal) =>
        new Promise<void>((resolve) => signal.addEventListener('abort', () => ((aborted = true), resolve()))),
    );
    const r = await call(addr, 'GET', '/healthz');
    server.deregisterChecker('slow');
    assert.equal(r.status, 408);
    assert.equal(aborted, true);
    assert.equal((await call(addr, 'POST', '/healthz')).status, 405);
  });

  it('/metrics: Prometheus text containing a registered metric', async () => {
    metrics.counter(METRICS.gossipCommMessagesSent).inc(3);
    const r = await call(addr, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.body, /^# HELP gossip_comm_messages_sent Number of messages sent$/m);
    assert.match(r.body, /^gossip_comm_messages_sent 3$/m);
  });

  it('/logspec: GET, PUT changes live levels, bad PUTs are 400 with a message', async () => {
    let r = await call(addr, 'GET', '/logspec');
    assert.deepEqual([r.status, JSON.parse(r.body)], [200, { spec: 'info' }]);
    assert.equal(discoveryLog.level, 'info');

    r = await call(addr, 'PUT', '/logspec', { body: '{"spec":"info:gossip.discovery=debug"}' });
    assert.equal(r.status, 204);
    assert.equal(discoveryLog.level, 'debug');
    r = await call(addr, 'GET', '/logspec');
    assert.deepEqual(JSON.parse(r.body), { spec: 'gossip.discovery=debug:info' });

    r = await call(addr, 'PUT', '/logspec', { body: '{"spec":"info:gossip=loud"}' });
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), {
      error: "invalid logging specification 'info:gossip=loud': bad segment 'gossip=loud'",
    });
    assert.equal(discoveryLog.level, 'debug', 'unchanged by a bad spec');

    for (const body of ['not json', '["info"]', '{"spec":5}']) {
      r = await call(addr, 'PUT', '/logspec', { body });
      assert.equal(r.status, 400, body);
      assert.ok(typeof JSON.parse(r.body).error === 'string' && JSON.parse(r.body).error.length > 0);
    }
    r = await call(addr, 'PUT', '/logspec', { body: `{"spec":"${'x'.repeat(70_000)}"}` });
    assert.equal(r.status, 413);
    r = await call(addr, 'POST', '/logspec', { body: '{}' });
    assert.deepEqual([r.status, JSON.parse(r.body)], [400, { error: 'invalid request method: POST' }]);
    r = await call(addr, 'PUT', '/logspec', { body: '{}' });
    assert.equal(r.status, 204, 'an absent spec is the empty spec (info), as Fabric');
    assert.equal(logLevels.spec(), 'info');
  });

  it('/version and unknown paths', async () => {
    let r = await call(addr, 'GET', '/version');
    assert.deepEqual([r.status, JSON.parse(r.body)], [200, { CommitSHA: 'abc123', Version: '0.1.0' }]);
    r = await call(addr, 'DELETE', '/version');
    assert.deepEqual([r.status, JSON.parse(r.body)], [400, { Error: 'invalid request method: DELETE' }]);
    r = await call(addr, 'GET', '/healthz/extra');
    assert.equal(r.status, 404);
    assert.equal((await call(addr, 'GET', '/')).status, 404);
  });

  it('a second server on the same port fails to start, naming operations.listenAddress', async () => {
    const other = new OperationsServer({ listenAddress: `127.0.0.1:${addr.port}` });
    await assert.rejects(
      other.start(),
      (e: unknown) =>
        e instanceof OperationsError &&
        e.code === 'LISTEN_FAILED' &&
        /operations\.listenAddress/.test(e.message),
    );
    await other.stop();
  });

  it('stop is idempotent, closes idle keep-alive connections, and leaves nothing running', async () => {
    const agent = new HttpAgent({ keepAlive: true });
    const r = await call(addr, 'GET', '/version', { agent });
    assert.equal(r.status, 200);
    const idle = Object.values(agent.freeSockets).flat()[0];
    assert.ok(idle, 'the agent keeps the connection open');
    idle.ref(); // the agent unrefs idle sockets; keep the loop alive until the server closes it
    const closed = new Promise((resolve) => idle.once('close', resolve));
    await Promise.all([server.stop(), server.stop()]);
    await closed;
    agent.destroy();
    await assert.rejects(call(addr, 'GET', '/healthz'), /ECONNREFUSED/);
    await assert.rejects(server.start(), OperationsError);
    await settled(baseline);
  });
});

describe('operations server (HTTPS)', () => {
  let baseline = 0;
  after(() => settled(baseline));
  let tls: ServerClientTls;
  before(async () => {
    const root = await testCrypto({ orgs: 1, peersPerOrg: 1 });
    tls = serverClientTls(root);
    baseline = netResources();
  });

  it('verifies client certificates when given: /healthz open, /logspec and /metrics need one (401)', async () => {
    const server = new OperationsServer({
      listenAddress: '127.0.0.1:0',
      tls: { cert: tls.serverCert, key: tls.serverKey, clientRootCAs: [tls.ca] },
      metrics: new Metrics(),
      logSpec: new LogLevels(),
    });
    try {
      const addr = await server.start();
      const anonymous = { ca: tls.ca };
      const withCert = { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey };
      assert.equal((await call(addr, 'GET', '/healthz', { tls: anonymous })).status, 200);
      assert.equal((await call(addr, 'GET', '/logspec', { tls: anonymous })).status, 401);
      assert.equal((await call(addr, 'GET', '/metrics', { tls: anonymous })).status, 401);
      const r = await call(addr, 'GET', '/logspec', { tls: withCert });
      assert.deepEqual([r.status, JSON.parse(r.body)], [200, { spec: 'info' }]);
      assert.equal((await call(addr, 'GET', '/metrics', { tls: withCert })).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('an unusable certificate or key is an OperationsError from start()', async () => {
    const server = new OperationsServer({
      listenAddress: '127.0.0.1:0',
      tls: { cert: 'not a pem', key: tls.serverKey },
    });
    await assert.rejects(
      server.start(),
      (e: unknown) =>
        e instanceof OperationsError && e.code === 'BAD_TLS' && /operations\.tls\.cert\.file/.test(e.message),
    );
    await server.stop();
  });

  it('clientAuthRequired refuses a client without a certificate at the handshake', async () => {
    const server = new OperationsServer({
      listenAddress: '127.0.0.1:0',
      tls: { cert: tls.serverCert, key: tls.serverKey, clientRootCAs: [tls.ca], clientAuthRequired: true },
    });
    try {
      const addr = await server.start();
      await assert.rejects(call(addr, 'GET', '/healthz', { tls: { ca: tls.ca } }));
      assert.equal(
        (
          await call(addr, 'GET', '/healthz', {
            tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey },
          })
        ).status,
        200,
      );
    } finally {
      await server.stop();
    }
  });
});

describe('operationsOptionsFromConfig', () => {
  const cfg = (overrides: Record<string, unknown>) =>
    loadPeerConfig({ env: {}, overrides: { 'peer.address': 'p0:7051', ...overrides } });

  it('no listen address: no server; /metrics only with the prometheus provider', () => {
    assert.equal(operationsOptionsFromConfig(cfg({})), undefined);
    const metrics = new Metrics();
    assert.equal(
      operationsOptionsFromConfig(cfg({ 'operations.listenAddress': '127.0.0.1:0' }), { metrics })?.metrics,
      undefined,
    );
    const on = operationsOptionsFromConfig(
      cfg({ 'operations.listenAddress': '127.0.0.1:0', 'metrics.provider': 'prometheus' }),
      { metrics },
    );
    assert.equal(on?.metrics, metrics);
    assert.equal(on?.tls, undefined);
  });

  it('an unreadable TLS file is a ConfigError naming the key and the file', () => {
    const c = cfg({
      'operations.listenAddress': '127.0.0.1:0',
      'operations.tls.enabled': true,
      'operations.tls.cert.file': '/nonexistent/ops.crt',
      'operations.tls.key.file': '/nonexistent/ops.key',
    });
    assert.throws(
      () => operationsOptionsFromConfig(c),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith('operations.tls.cert.file: cannot read /nonexistent/ops.crt'),
    );
  });
});
