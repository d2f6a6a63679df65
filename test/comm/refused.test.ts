/**
 * The record of refused handshakes (src/core/link/refused.ts) on a hand-made clock: one entry per
 * (direction, remote, reason, claimed PKI-ID) with count, first/last time and the certificate
 * parsed once; an inbound remote is its host (the source port changes per retry); bounded, the
 * least recently refused evicted and counted; log lines at most once a minute per entry (with
 * how many were not logged) and at most maxLogsPerWindow a minute overall; and the alerts it
 * raises (src/node/alerts.ts): cert-expired naming endpoint and subject, identity-changed for a
 * remote that claims to be a different peer, both held REFUSED_HOLD_MS after the last refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefusedHandshakes, refusedCertOf, describeRefusal } from '../../src/core/link/refused.js';
import { Metrics } from '../../src/base/metrics.js';
import { METRICS } from '../../src/base/metric-table.js';
import { serializeIdentity } from '../../src/identity/x509identity.js';
import { AlertEvaluator, REFUSED_HOLD_MS } from '../../src/node/alerts.js';
import { alertInputOf, refusedHandshakeStatus } from '../../src/node/status.js';
import { issue } from '../identity/pki.js';

const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const DAY = 86_400_000;

function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const expiredLeaf = await issue({
  cn: 'peer9.org1.example.com',
  notBefore: new Date(T0 - 400 * DAY),
  notAfter: new Date(T0 - 10 * DAY),
});
const validLeaf = await issue({ cn: 'peer1.org1.example.com', notAfter: new Date(T0 + 300 * DAY) });
const expiredId = serializeIdentity('Org1MSP', expiredLeaf.pem);
const validId = serializeIdentity('Org1MSP', validLeaf.pem);
const pki = (c: string) => new Uint8Array(32).fill(c.charCodeAt(0));

async function evicted(m: Metrics): Promise<number> {
  const data = await m.registry
    .getSingleMetric(METRICS.grapevineGossipCommRefusedHandshakesEvictedTotal.name)!
    .get();
  return data.values.reduce((n, v) => n + v.value, 0);
}

describe('refused handshakes record', () => {
  it('parses the certificate of the identity, else of the TLS leaf', () => {
    const c = refusedCertOf(expiredId, validLeaf.der)!;
    assert.match(c.subject, /CN=peer9\.org1\.example\.com/);
    assert.equal(c.notAfterMs, T0 - 10 * DAY);
    assert.equal(c.from, 'identity');
    assert.equal(c.mspId, 'Org1MSP');
    const t = refusedCertOf(new Uint8Array([1, 2, 3]), validLeaf.der)!;
    assert.equal(t.from, 'tls');
    assert.match(t.subject, /CN=peer1\.org1\.example\.com/);
    assert.equal(refusedCertOf(undefined, new Uint8Array([1])), undefined);
  });

  it('one entry per inbound host, reason and claimed PKI-ID: count, first, last, expired', () => {
    const c = clock();
    const r = new RefusedHandshakes(c);
    for (let i = 0; i < 50; i++) {
      r.record({
        direction: 'in',
        endpoint: `127.0.0.1:${40000 + i}`,
        reason: 'IDENTITY_REJECTED',
        error: 'identity refused: expired',
        claimedPkiId: pki('e'),
        identity: expiredId,
      });
      c.advance(100);
    }
    const [e, ...rest] = r.list();
    assert.equal(rest.length, 0);
    assert.equal(e.count, 50);
    assert.equal(e.firstMs, T0);
    assert.equal(e.lastMs, T0 + 49 * 100);
    assert.equal(e.endpoint, '127.0.0.1:40049', 'the last remote address');
    assert.equal(e.expired, true);
    assert.equal(e.claimedPkiId, Buffer.from(pki('e')).toString('hex'));
    assert.equal(e.identityMismatch, false);
    assert.match(
      describeRefusal(e),
      /from 127\.0\.0\.1:40049 refused: its certificate \(.*peer9.*\) expired/,
    );
    // another reason, another host, another claimed identity: other entries, newest first
    r.record({ direction: 'in', endpoint: '127.0.0.2:1', reason: 'TIMEOUT', error: 'no ConnEstablish' });
    r.record({
      direction: 'in',
      endpoint: '127.0.0.1:2',
      reason: 'IDENTITY_REJECTED',
      error: 'x',
      claimedPkiId: pki('f'),
    });
    assert.deepEqual(
      r.list().map((x) => [x.endpoint, x.reason]),
      [
        ['127.0.0.1:2', 'IDENTITY_REJECTED'],
        ['127.0.0.2:1', 'TIMEOUT'],
        ['127.0.0.1:40049', 'IDENTITY_REJECTED'],
      ],
    );
  });

  it('an outbound remote that claims another PKI-ID than dialled: claimed vs expected', () => {
    const r = new RefusedHandshakes(clock());
    r.record({
      direction: 'out',
      endpoint: 'peer1:7051',
      reason: 'IDENTITY_REJECTED',
      error: 'claims to be a different peer',
      expectedPkiId: pki('a'),
      claimedPkiId: pki('b'),
      identity: validId,
    });
    const [e] = r.list();
    assert.equal(e.identityMismatch, true);
    assert.equal(e.expired, false);
    assert.match(describeRefusal(e), /to peer1:7051 refused: it claims to be a different peer/);
  });

  it('bounded: the least recently refused is evicted and counted', async () => {
    const m = new Metrics();
    const c = clock();
    const r = new RefusedHandshakes(c, m, { max: 4 });
    for (let i = 0; i < 4; i++)
      r.record({ direction: 'out', endpoint: `p${i}:7051`, reason: 'TIMEOUT', error: '' });
    r.record({ direction: 'out', endpoint: 'p0:7051', reason: 'TIMEOUT', error: '' }); // p0 refreshed
    r.record({ direction: 'out', endpoint: 'p9:7051', reason: 'TIMEOUT', error: '' });
    assert.equal(r.size, 4);
    assert.deepEqual(
      r.list().map((x) => x.endpoint),
      ['p9:7051', 'p0:7051', 'p3:7051', 'p2:7051'],
    );
    assert.equal(await evicted(m), 1);
    for (let i = 10; i < 1000; i++)
      r.record({ direction: 'out', endpoint: `p${i}:7051`, reason: 'TIMEOUT', error: '' });
    assert.equal(r.size, 4);
    assert.equal(await evicted(m), 991);
  });

  it('logs: at most one line per entry per minute, with how many were not logged', () => {
    const c = clock();
    const r = new RefusedHandshakes(c);
    const logged: number[] = [];
    for (let i = 0; i < 1200; i++) {
      // a retry every 100 ms for two minutes
      const l = r.record({
        direction: 'in',
        endpoint: `127.0.0.1:${i}`,
        reason: 'IDENTITY_REJECTED',
        error: '',
      });
      if (l.log) logged.push(l.suppressed);
      c.advance(100);
    }
    assert.deepEqual(logged, [0, 599]);
  });

  it('logs: at most maxLogsPerWindow lines a minute over all entries', () => {
    const c = clock();
    const r = new RefusedHandshakes(c, undefined, { maxLogsPerWindow: 5 });
    let lines = 0;
    for (let i = 0; i < 100; i++)
      if (r.record({ direction: 'out', endpoint: `p${i}:1`, reason: 'TIMEOUT', error: '' }).log) lines++;
    assert.equal(lines, 5);
    c.advance(60_000);
    assert.equal(r.record({ direction: 'out', endpoint: 'p99:1', reason: 'TIMEOUT', error: '' }).log, true);
  });
});

describe('refused handshakes alerts', () => {
  const cfg = { lagBlocks: 10, afterMs: 30_000, certExpiryMs: 30 * DAY };

  it('cert-expired names the endpoint and the subject; identity-changed for a different peer; both held, then cleared', () => {
    const c = clock();
    const r = new RefusedHandshakes(c);
    r.record({
      direction: 'in',
      endpoint: '127.0.0.1:40001',
      reason: 'IDENTITY_REJECTED',
      error: 'identity refused',
      claimedPkiId: pki('e'),
      identity: expiredId,
    });
    r.record({
      direction: 'out',
      endpoint: 'peer1:7051',
      reason: 'IDENTITY_REJECTED',
      error: 'claims to be a different peer',
      expectedPkiId: pki('a'),
      claimedPkiId: pki('b'),
      identity: validId,
    });
    const doc = {
      time: new Date(c.now()).toISOString(),
      peer: {
        id: 'obs',
        mspId: 'Org1MSP',
        endpoint: 'obs:7051',
        pkiId: 'aa'.repeat(32),
        version: '1',
        startedAt: new Date(T0).toISOString(),
        observer: true,
      },
      channels: [],
      members: [],
      connections: [],
      commits: [],
      refused: [],
      refusedHandshakes: r.list().map(refusedHandshakeStatus),
    };
    const input = alertInputOf(doc, { elected: () => false, declarers: () => [], unreachable: [] });
    const ev = new AlertEvaluator(cfg, c);
    const alerts = ev.evaluate(input);
    const expired = alerts.find((a) => a.kind === 'cert-expired')!;
    assert.equal(expired.severity, 'critical');
    assert.equal(expired.endpoint, '127.0.0.1:40001');
    assert.equal(expired.org, 'Org1MSP');
    assert.match(
      expired.message,
      /from 127\.0\.0\.1:40001 are refused: the certificate .*CN=peer9\.org1\.example\.com/,
    );
    const changed = alerts.find((a) => a.kind === 'identity-changed')!;
    assert.equal(changed.endpoint, 'peer1:7051');
    assert.match(changed.message, /peer1:7051 claims to be a different peer/);
    // a member already alerted for its expired certificate: not twice
    const member = {
      pkiId: Buffer.from(pki('e')).toString('hex'),
      endpoint: 'p9:7051',
      internalEndpoint: '',
      alive: false,
      lastSeenMs: T0,
      notAfterMs: T0 - 10 * DAY,
      heights: [],
    };
    assert.equal(
      ev.evaluate({ ...input, members: [member] }).filter((a) => a.kind === 'cert-expired').length,
      1,
    );
    c.advance(REFUSED_HOLD_MS);
    assert.deepEqual(
      ev.evaluate(input).map((a) => a.kind),
      [],
    );
  });
});
