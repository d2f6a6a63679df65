/**
 * OperationsServer.registerRoute over real sockets on 127.0.0.1: a registered path is served by
 * its handler, a path is registered once (built-in paths included), other paths stay 404; with
 * TLS a route needs a verified client certificate (401 without one) unless requireCert is false.
 * And `grapevine status`'s fetch over HTTPS with --cacert/--cert/--key (collectStatus).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { OperationsError, OperationsServer } from '../../src/ops/operations.js';
import { collectStatus } from '../../src/watch/client.js';
import { serverClientTls, testCrypto, type ServerClientTls } from '../helpers/crypto.js';

const DOC = { time: 't', peer: { id: 'p', mspId: 'Org1MSP' }, channels: [], members: [], connections: [] };

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe('operations server routes', () => {
  it('serves a registered route; one registration per path; others 404', async () => {
    const server = new OperationsServer({ listenAddress: '127.0.0.1:0' });
    server.registerRoute('/status', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ method: req.method }));
    });
    assert.throws(
      () => server.registerRoute('/status', () => undefined),
      (e: unknown) => e instanceof OperationsError && e.code === 'ALREADY_REGISTERED',
    );
    assert.throws(() => server.registerRoute('/healthz', () => undefined), OperationsError);
    try {
      const { port } = await server.start();
      const r = await get(`http://127.0.0.1:${port}/status`);
      assert.deepEqual([r.status, JSON.parse(r.body)], [200, { method: 'GET' }]);
      assert.equal((await get(`http://127.0.0.1:${port}/statusx`)).status, 404);
      assert.equal((await get(`http://127.0.0.1:${port}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  describe('with TLS', () => {
    let tls: ServerClientTls;
    before(async () => {
      const root = await testCrypto({ orgs: 1, peersPerOrg: 1 });
      tls = serverClientTls(root);
    });

    it('a route needs a verified client certificate unless requireCert is false', async () => {
      const server = new OperationsServer({
        listenAddress: '127.0.0.1:0',
        tls: { cert: tls.serverCert, key: tls.serverKey, clientRootCAs: [tls.ca] },
      });
      server.registerRoute('/status', (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(DOC));
      });
      server.registerRoute('/open', (_req, res) => void res.writeHead(204).end(), { requireCert: false });
      try {
        const { port } = await server.start();
        const url = `https://localhost:${port}`;
        const [anonymous, open] = await collectStatus([url, `${url}/open`], 5000, { ca: tls.ca });
        const [withCert] = await collectStatus([url], 5000, {
          ca: tls.ca,
          cert: tls.clientCert,
          key: tls.clientKey,
        });
        assert.ok(!anonymous.ok && /HTTP 401/.test(anonymous.error), JSON.stringify(anonymous));
        assert.ok(withCert.ok, JSON.stringify(withCert));
        assert.equal(withCert.status.peer.mspId, 'Org1MSP');
        // requireCert: false answers without a certificate (204: not a status document)
        assert.ok(!open.ok && /HTTP 204/.test(open.error), JSON.stringify(open));
      } finally {
        await server.stop();
      }
    });
  });
});
