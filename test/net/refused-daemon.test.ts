/**
 * A peer with an expired enrollment certificate keeps dialling an observer (issue 16), over real
 * sockets: the observer is an in-process peer daemon of org1 (prepareLayout's core.yaml, TLS on
 * gossip, operations over plain HTTP on 127.0.0.1, its log captured at info level); the other
 * side is a GrpcTransport whose identity is a certificate of org1's own CA that expired a minute
 * ago (the layout's CA is minutes old, and the MSP checks the chain as of the leaf's notBefore,
 * so the leaf's validity lies between the two), presenting a valid TLS
 * certificate, doing a gossip handshake every 100 ms for 10 s. The observer never knew it.
 * Then the observer's /status lists the refused handshakes with the remote address, the
 * certificate subject and expiry, the reason and the count; the cert-expired alert names the
 * endpoint and the subject; `grapevine status` prints them; and the observer logged at most one
 * line about it over the ~100 refusals (at most one per minute per remote and reason).
 */
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';
import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import * as x509 from '@peculiar/x509';
import pino from 'pino';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import type { PeerStatusDocument } from '../../src/node/status.js';
import { cryptoDir, peerCryptoDir, peerHome, type NetworkLayout } from '../../src/network/layout.js';
import { main } from '../../src/cli/main.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import { Metrics } from '../../src/base/metrics.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import { commCryptoFromMsps, loadCommTls } from '../../src/comm/identity.js';
import { hasCanonicalSignature, parseCert } from '../../src/identity/cert.js';
import { pkiIdOf, serializeIdentity } from '../../src/identity/x509identity.js';
import { signEcdsa } from '../../src/identity/ecdsa.js';
import type { CommIdentity } from '../../src/core/link/types.js';
import { orgMsp, orgTlsCaPem } from '../comm/fixtures.js';
import { until } from '../helpers/until.js';

const EXPIRED_AGO_MS = 60_000;
const RETRY_MS = 100;
const RETRY_FOR_MS = 10_000;

/**
 * A peer certificate of org<org>'s own CA (cryptogen tree) for a fresh key that expired
 * `agoMs` ago: valid from just after the CA's notBefore (the MSP checks the chain as of the
 * leaf's notBefore, as Fabric's) to now - agoMs; OU=peer, digitalSignature, AKI = the CA's SKI, a
 * low-S signature (the MSP refuses others as not well-formed).
 */
async function expiredPeerCert(
  root: string,
  org: number,
  cn: string,
  agoMs: number,
): Promise<{ pem: string; keyPem: string }> {
  const dir = join(root, 'peerOrganizations', `org${org}.example.com`, 'ca');
  const caPem = readFileSync(
    join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('-cert.pem'))!,
    ),
    'utf8',
  );
  const ca = new x509.X509Certificate(caPem);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(readFileSync(join(dir, 'priv_sk'))).export({ type: 'pkcs8', format: 'der' }),
    alg,
    false,
    ['sign'],
  );
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
  for (;;) {
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '0a0b0c0d',
      subject: `C=US, ST=California, L=San Francisco, OU=peer, CN=${cn}`,
      issuer: ca.subject,
      notBefore: new Date(ca.notBefore.getTime() + 60_000),
      notAfter: new Date(Date.now() - agoMs),
      signingAlgorithm: alg,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.AuthorityKeyIdentifierExtension(ski),
      ],
    });
    const der = new Uint8Array(cert.rawData);
    if (!hasCanonicalSignature(parseCert(der))) continue;
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    return {
      pem: cert.toString('pem'),
      keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64')}\n-----END PRIVATE KEY-----\n`,
    };
  }
}

async function getStatus(d: PeerDaemon): Promise<PeerStatusDocument> {
  const r = await fetch(`${d.operationsUrl()}/status`);
  assert.equal(r.status, 200);
  return (await r.json()) as PeerStatusDocument;
}

async function cli(t: TestContext, ...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = t.mock.method(console, 'error', () => undefined);
  try {
    return { code: await main(['node', 'grapevine', ...args]), out: out.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

describe('a peer with an expired certificate keeps dialling an observer', { timeout: 40_000 }, () => {
  let fx: DaemonFixture;
  let layout: NetworkLayout;
  let observer: PeerDaemon;
  let expired: GrpcTransport;
  let expiredPkiId: string;
  const lines: string[] = [];
  let attempts = 0;
  let linesBefore = 0;

  before(async () => {
    fx = await daemonFixture('grapevine-refused-');
    layout = fx.layout;
    const spec = layout.peers.find((p) => p.org === 1 && p.index === 0)!;
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    observer = await PeerDaemon.start({
      config: loadPeerConfig({
        file: join(peerHome(layout, spec), 'core.yaml'),
        env: {},
        overrides: { 'operations.listenAddress': '127.0.0.1:0' },
      }),
      logger,
    });

    // peer9's enrollment certificate, by org1's CA, expired a minute ago
    const root = cryptoDir(layout);
    const cert = await expiredPeerCert(root, 1, 'peer9.org1.example.com', EXPIRED_AGO_MS);
    const serialized = serializeIdentity('Org1MSP', new TextEncoder().encode(cert.pem));
    const key = createPrivateKey(cert.keyPem);
    const identity: CommIdentity = {
      pkiId: pkiIdOf(serialized),
      mspId: 'Org1MSP',
      signer: { serializedIdentity: serialized, sign: (data) => signEcdsa(key, data) },
    };
    expiredPkiId = pkiIdKey(identity.pkiId);
    const other = layout.peers.find((p) => p.org === 1 && p.index === 2)!;
    const msps = [orgMsp(root, 1), orgMsp(root, 2)];
    expired = await GrpcTransport.start({
      identity,
      crypto: commCryptoFromMsps(() => msps, realClock),
      // a valid TLS certificate: the enrollment certificate is what expired
      tls: loadCommTls(join(peerCryptoDir(layout, other), 'tls'), [
        orgTlsCaPem(root, 1),
        orgTlsCaPem(root, 2),
      ]),
      listenAddress: '127.0.0.1:0',
      clock: realClock,
      rng: cryptoRng,
      metrics: new Metrics(),
    });

    // a handshake every RETRY_MS for RETRY_FOR_MS, as a peer retrying its connection
    linesBefore = lines.length;
    const until = Date.now() + RETRY_FOR_MS;
    while (Date.now() < until) {
      attempts++;
      await expired.handshake({ endpoint: observer.transport.endpoint }).catch(() => undefined);
      await delay(RETRY_MS);
    }
  });
  after(async () => {
    await expired?.stop();
    await observer?.stop();
    await fx?.close();
  });

  test('/status lists the refused handshakes: remote, subject, expiry, reason, count', async () => {
    const s = await getStatus(observer);
    const r = s.refusedHandshakes?.find((x) => x.claimedPkiId === expiredPkiId);
    assert.ok(r, `refused handshakes: ${JSON.stringify(s.refusedHandshakes)}`);
    assert.equal(r.direction, 'in');
    assert.match(r.endpoint, /^127\.0\.0\.1:\d+$/);
    assert.equal(r.reason, 'IDENTITY_REJECTED');
    assert.ok(r.count >= attempts * 0.9 && r.count <= attempts, `${r.count} of ${attempts} attempts`);
    assert.ok(Date.parse(r.last) - Date.parse(r.first) >= RETRY_FOR_MS * 0.8, `${r.first} .. ${r.last}`);
    assert.ok(r.cert, 'the certificate presented');
    assert.match(r.cert.subject, /CN=peer9\.org1\.example\.com/);
    assert.equal(r.cert.from, 'identity');
    assert.equal(r.cert.mspId, 'Org1MSP');
    assert.equal(r.cert.expired, true);
    assert.ok(Date.parse(r.cert.notAfter) < Date.now() - EXPIRED_AGO_MS + 1000, r.cert.notAfter);
    assert.equal(r.identityMismatch, false);
    assert.match(r.error, /expired/i);
    // the count of the metric the record names
    const metric = s.refused.find(
      (x) =>
        x.metric === 'grapevine_gossip_comm_handshake_failures_total' &&
        x.labels.reason === 'IDENTITY_REJECTED',
    );
    assert.ok(metric && metric.value >= r.count, JSON.stringify(s.refused));
    // it never became a member
    assert.equal(
      s.members.some((m) => m.pkiId === expiredPkiId),
      false,
    );
  });

  test('the cert-expired alert names the endpoint and the subject', async () => {
    const s = await getStatus(observer);
    const a = s.alerts.find((x) => x.kind === 'cert-expired' && x.pkiId === expiredPkiId);
    assert.ok(a, JSON.stringify(s.alerts));
    assert.equal(a.severity, 'critical');
    assert.match(a.endpoint ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(a.org, 'Org1MSP');
    assert.match(a.message, /CN=peer9\.org1\.example\.com/);
    assert.match(a.message, /expired/);
    // and on the grapevine_alerts gauge (judged every second)
    await until(
      async () => {
        const m = await (await fetch(`${observer.operationsUrl()}/metrics`)).text();
        return /grapevine_alerts\{kind="cert-expired"\} [1-9]/.test(m);
      },
      'grapevine_alerts{kind="cert-expired"} > 0',
      { timeoutMs: 5_000 },
    );
  });

  test('grapevine status prints the refused handshakes and the alert', async (t) => {
    const { code, out } = await cli(t, 'status', observer.operationsUrl()!);
    assert.equal(code, 0, out);
    t.diagnostic(out);
    assert.match(out, /REFUSED HANDSHAKES \(\d+/);
    assert.match(
      out,
      /from\s+127\.0\.0\.1:\d+\s+IDENTITY_REJECTED\s+\d+\s.*CN=peer9\.org1\.example\.com.*EXPIRED/,
    );
    assert.match(out, /CRITICAL\s+cert-expired\s+gossip handshakes from 127\.0\.0\.1:\d+ are refused/);
  });

  test('the observer logged at most one line about ~100 refusals in 10 s', (t) => {
    const about = lines
      .slice(linesBefore)
      .filter((l) => /peer9|refused|handshake|IDENTITY_REJECTED/i.test(l));
    assert.ok(attempts >= 50, `${attempts} attempts`);
    assert.equal(about.length, 1, about.join('\n'));
    t.diagnostic(about[0]);
    const line = JSON.parse(about[0]) as Record<string, unknown>;
    assert.equal(line.level, 40, 'warn');
    assert.equal(line.reason, 'IDENTITY_REJECTED');
    assert.match(String(line.subject), /CN=peer9\.org1\.example\.com/);
    assert.match(String(line.msg), /its certificate .* expired/);
  });
});
