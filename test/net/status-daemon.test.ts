/**
 * GET /status and `grapevine status` against three in-process peer daemons of org1 (prepareLayout's
 * core.yaml: MSPs, mutual TLS on gossip, block streams on; operations over plain HTTP on
 * 127.0.0.1) with the stand-in orderer of daemon-fixtures. The peer with the lowest PKI-ID (the
 * one an election ends with as leader) holds 21 blocks; the two others start at genesis and
 * stream the rest from it. Each peer's /status then lists the two others
 * with their org, endpoint, height and certificate expiry, its own gossip connections, and its
 * last commits with their source (the two others: 'stream', from the peer whose session delivered it); the CLI prints a table
 * naming every peer and --json parses; an unreachable URL is reported and fails the command.
 */
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import pino from 'pino';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import type { PeerStatusDocument } from '../../src/node/status.js';
import { peerHome, type NetworkLayout, type PeerSpec } from '../../src/network/layout.js';
import { main } from '../../src/cli/main.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { loadSigningIdentity } from '../../src/identity/signer.js';
import { until } from '../helpers/until.js';

const AHEAD = 20;

async function getStatus(d: PeerDaemon): Promise<PeerStatusDocument> {
  const r = await fetch(`${d.operationsUrl()}/status`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  return (await r.json()) as PeerStatusDocument;
}

/** Run `grapevine ...args` in-process; what it printed and its exit code. */
async function cli(t: TestContext, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = t.mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  const stderr = t.mock.method(process.stderr, 'write', (s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await main(['node', 'grapevine', ...args]);
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    stderr.mock.restore();
  }
}

describe('GET /status and grapevine status against peer daemons', { timeout: 50_000 }, () => {
  let fx: DaemonFixture;
  let layout: NetworkLayout;
  const logger = pino({ level: 'warn' }, { write: () => undefined });
  const peers: PeerDaemon[] = [];

  /** org1's peers, lowest PKI-ID first: the peer an election ends with as leader holds the blocks. */
  let specs: PeerSpec[];
  const spec = (i: number): PeerSpec => specs[i];
  const configOf = (p: PeerSpec) =>
    loadPeerConfig({
      file: join(peerHome(layout, p), 'core.yaml'),
      env: {},
      overrides: { 'operations.listenAddress': '127.0.0.1:0' },
    });
  const height = (d: PeerDaemon): bigint => d.service.channel(layout.channel)!.height();

  before(async () => {
    fx = await daemonFixture('grapevine-status-daemon-');
    layout = fx.layout;
    const pkiOf = (p: PeerSpec) =>
      pkiIdKey(
        loadSigningIdentity(configOf(p).peer.mspConfigPath, 'Org1MSP', { now: new Date() }).identity.pkiId,
      );
    specs = layout.peers
      .filter((p) => p.org === 1)
      .map((p) => ({ p, id: pkiOf(p) }))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((x) => x.p);
    await fx.seedLedger(configOf(spec(0)).grapevine.ledgerPath, AHEAD);
    // the source leads before the others start (and keeps leading: lowest PKI-ID); a peer
    // elected at genesis would wait for the orderer (a stand-in that sends nothing)
    peers.push(await PeerDaemon.start({ config: configOf(spec(0)), logger }));
    await until(() => peers[0].service.isLeader(layout.channel), 'the up-to-date peer leads its org', {
      timeoutMs: 20_000,
    });
    for (const i of [1, 2]) peers.push(await PeerDaemon.start({ config: configOf(spec(i)), logger }));
    // every peer caught up, and every peer's /status sees the two others with their height
    await until(
      async () => {
        if (!peers.every((d) => height(d) === BigInt(AHEAD + 1))) return false;
        for (const d of peers) {
          const s = await getStatus(d);
          const known = s.members.filter(
            (m) =>
              m.alive &&
              m.cert &&
              m.channels.some((c) => c.name === layout.channel && c.height === AHEAD + 1),
          );
          if (known.length < 2) return false;
          // the leader's declarations reached the others
          const leader = pkiIdKey(peers[0].transport.selfPkiId);
          if (
            d !== peers[0] &&
            !s.members.some((m) => m.pkiId === leader && m.channels.some((c) => c.leader === true))
          )
            return false;
        }
        return true;
      },
      'every peer caught up, seen by the others at its height, the leader known as such',
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        detail: () =>
          peers
            .map(
              (d) =>
                `${height(d)} ${JSON.stringify(d.snapshot().channels.map(({ members: _m, ...c }) => c))}`,
            )
            .join('\n'),
      },
    );
  });
  after(async () => {
    for (const d of peers.splice(0).reverse()) await d.stop();
    await fx.close();
  });

  test('/status lists every peer of the org, this peer, its connections, its last blocks', async () => {
    const docs = await Promise.all(peers.map(getStatus));
    const endpoints = peers.map((d) => d.transport.endpoint);
    for (const [i, s] of docs.entries()) {
      const d = peers[i];
      assert.equal(s.peer.mspId, 'Org1MSP');
      assert.equal(s.peer.endpoint, d.transport.endpoint);
      assert.match(s.peer.pkiId, /^[0-9a-f]{64}$/);
      assert.ok(s.peer.version.length > 0);
      assert.ok(!Number.isNaN(Date.parse(s.peer.startedAt)));
      assert.ok(!Number.isNaN(Date.parse(s.time)));
      const ch = s.channels.find((c) => c.name === layout.channel)!;
      assert.equal(ch.height, AHEAD + 1);
      assert.equal(typeof ch.leader, 'boolean');
      assert.ok(ch.mode.length > 0);
      assert.ok(ch.stream, 'block streams run: plan, upstream, depth');
      assert.equal('members' in ch, false, 'members are listed once, under members');

      // the two other peers, with org, endpoint, height, certificate
      for (const [j, other] of docs.entries()) {
        if (j === i) continue;
        const m = s.members.find((x) => x.pkiId === other.peer.pkiId);
        assert.ok(m, `${s.peer.id} lists ${other.peer.id}`);
        assert.equal(m.mspId, 'Org1MSP');
        assert.equal(m.alive, true);
        assert.ok(endpoints.includes(m.endpoint || m.internalEndpoint), m.endpoint);
        assert.ok(Math.abs(Date.now() - Date.parse(m.lastSeen)) < 60_000, m.lastSeen);
        assert.ok(m.cert, 'the certificate of every member');
        assert.match(m.cert.subject, /CN=peer\d\.org1\.example\.com/);
        assert.ok(Date.parse(m.cert.notAfter) > Date.now());
        assert.equal(m.cert.expired, false);
        const mc = m.channels.find((c) => c.name === layout.channel);
        assert.equal(mc?.height, AHEAD + 1);
        assert.equal(ch.mode, 'dynamic');
        // own org: the leader flag is known (a peer that stepped down keeps it until its last
        // declaration is leaderAliveThreshold old, as Fabric's followers see a leader alive)
        assert.equal(typeof mc?.leader, 'boolean', `${s.peer.id}: whether ${other.peer.id} leads`);
        if (other === docs[0]) assert.equal(mc?.leader, true, `${s.peer.id} sees ${other.peer.id} lead`);
      }

      // this peer's gossip connections, each with an endpoint
      assert.ok(s.connections.length >= 1);
      for (const c of s.connections) {
        assert.match(c.pkiId, /^[0-9a-f]{64}$/);
        assert.ok(c.endpoint.length > 0);
        assert.ok(c.direction === 'in' || c.direction === 'out');
      }
      // refused counters: a list of {metric, labels, value > 0}
      for (const r of s.refused) assert.ok(r.value > 0 && r.metric.startsWith('g'), JSON.stringify(r));
    }
    // the two others streamed their blocks; the ring is bounded
    for (const s of docs.slice(1)) {
      assert.ok(s.commits.length > 0 && s.commits.length <= 50);
      const streamed = s.commits.filter((c) => c.source === 'stream');
      assert.ok(streamed.length > 0, JSON.stringify(s.commits.slice(-3)));
      const last = s.commits.at(-1)!;
      assert.equal(last.block, AHEAD);
      assert.equal(last.channel, layout.channel);
      assert.ok(!Number.isNaN(Date.parse(last.at)));
      // from the peer whose stream session delivered it (the source, or the other peer relaying)
      for (const c of streamed) {
        const up = docs.find((d) => d.peer.pkiId === c.from);
        assert.ok(up && up !== s, `streamed from another peer: ${JSON.stringify(c)}`);
        assert.equal(c.fromEndpoint, up.peer.endpoint);
      }
    }
    // a method other than GET
    const r = await fetch(`${peers[0].operationsUrl()}/status`, { method: 'POST' });
    assert.equal(r.status, 405);
  });

  test('grapevine status prints a table naming every peer; --json parses; failures exit 1', async (t) => {
    const urls = peers.map((d) => d.operationsUrl()!);
    const table = await cli(t, 'status', ...urls);
    assert.equal(table.code, 0, table.err);
    const lines = table.out.split('\n');
    assert.match(
      lines[0],
      new RegExp(`^NAME\\s+ENDPOINT\\s+ORG\\s+ALIVE\\s+HEIGHT ${layout.channel}\\s+LEADER\\s+CERT EXPIRES$`),
    );
    for (const d of peers) {
      const row = lines.find((l) => l.includes(d.transport.endpoint));
      assert.ok(row, `a row for ${d.transport.endpoint}:\n${table.out}`);
      assert.match(row, /Org1MSP/);
      assert.match(row, new RegExp(`\\s${AHEAD + 1}\\s`));
      assert.match(row, /\d{4}-\d\d-\d\d/, 'cert expiry');
      assert.match(row, new RegExp(d.config.peer.id.replace(/\./g, '\\.')));
    }
    for (const u of urls)
      assert.ok(
        lines.some((l) => l.startsWith(`${u}: `)),
        `a line for ${u}`,
      );

    const json = await cli(t, 'status', '--json', ...urls);
    assert.equal(json.code, 0, json.err);
    const doc = JSON.parse(json.out) as { peers: { url: string; ok: boolean; status: PeerStatusDocument }[] };
    assert.deepEqual(
      doc.peers.map((p) => [p.url, p.ok]),
      urls.map((u) => [u, true]),
    );
    assert.equal(doc.peers[1].status.peer.endpoint, peers[1].transport.endpoint);

    // an unreachable URL: reported on its own line, the others still shown, exit code 1
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const bad = await cli(t, 'status', urls[0], `127.0.0.1:${port}`, `${urls[1]}/nothing`);
    assert.equal(bad.code, 1);
    assert.match(bad.out, new RegExp(`127\\.0\\.0\\.1:${port}: error: .*ECONNREFUSED`));
    assert.match(bad.out, /\/nothing: error: HTTP 404/);
    assert.ok(bad.out.includes(peers[0].transport.endpoint));
    const badJson = await cli(t, 'status', '--json', `127.0.0.1:${port}`);
    assert.equal(badJson.code, 1);
    const parsed = JSON.parse(badJson.out) as { peers: { ok: boolean; error: string }[] };
    assert.equal(parsed.peers[0].ok, false);
    assert.match(parsed.peers[0].error, /ECONNREFUSED/);
  });
});
