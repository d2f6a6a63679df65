/**
 * The peer daemon (`grapevine peer start`) on 127.0.0.1 with a network folder from
 * prepareLayout: a broken or missing config exits non-zero naming the key or file (real CLI
 * processes); in-process, a missing MSP and a port in use fail with an error naming what to fix
 * and leave nothing running (ledger reopenable, ports free); no orderer answering does not stop a
 * start (a leader warns until one answers); a good start serves the channel (height 1, healthz,
 * readyz, state snapshot) and stop() frees everything.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { BlockStore } from '../../src/ledger/index.js';
import { until } from '../helpers/until.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import { CLI_MAIN } from '../../src/network/children.js';
import {
  peerHome,
  portFree,
  prepareLayout,
  type NetworkLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import { GrapevineError } from '../../src/base/errors.js';
import { METRIC_BY_NAME } from '../../src/base/metric-table.js';
import { grapevineVersion } from '../../src/base/version.js';

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((sock) => sock.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe('peer daemon', { timeout: 120_000 }, () => {
  let root: string;
  let layout: NetworkLayout;
  let peer: PeerSpec;
  const configOf = (overrides: Record<string, unknown> = {}) =>
    loadPeerConfig({ file: join(peerHome(layout, peer), 'core.yaml'), env: {}, overrides });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'grapevine-daemon-'));
    layout = (await prepareLayout(join(root, 'net'))).layout;
    peer = layout.peers[1]!;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a broken or missing config: the CLI exits non-zero naming the key or the file', async () => {
    const bad = join(root, 'bad-core.yaml');
    writeFileSync(bad, 'peer:\n  address: 127.0.0.1:7051\n  gossip:\n    aliveTimeInterval: banana\n');
    const missing = join(root, 'nope', 'core.yaml');
    const [a, b] = await Promise.all([
      runCli(['peer', 'start', '--config', bad]),
      runCli(['peer', 'start', '--config', missing]),
    ]);
    assert.equal(a.code, 1, a.out);
    assert.match(a.out, /peer\.gossip\.aliveTimeInterval/);
    assert.match(a.out, /banana/);
    assert.equal(b.code, 1, b.out);
    assert.ok(b.out.includes(missing), b.out);
  });

  test('a missing MSP folder is named (peer.mspConfigPath)', async () => {
    const cfg = configOf({ 'peer.mspConfigPath': join(root, 'no-msp') });
    await assert.rejects(PeerDaemon.start({ config: cfg }), (e: unknown) => {
      assert.ok(e instanceof GrapevineError);
      assert.equal(e.code, 'MISSING_MSP');
      assert.match(e.message, /peer\.mspConfigPath/);
      assert.ok(e.message.includes(join(root, 'no-msp')));
      return true;
    });
  });

  test('no orderer answering: the peer starts anyway (healthz 200, readyz 503), a leader warns naming the endpoint, and says so when one answers', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    // a static leader: its deliver client runs, so the watch dials the orderer
    const cfg = configOf({ 'peer.gossip.useLeaderElection': false, 'peer.gossip.orgLeader': true });
    const d = await PeerDaemon.start({ config: cfg, logger, ordererCheckMs: 100, ordererWarnMs: 60_000 });
    let orderer: Server | undefined;
    try {
      const warned = () =>
        lines
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((l) => /no orderer endpoint answers/.test(String(l.msg)));
      await until(() => warned().length > 0, 'a warning that no orderer answers', {
        detail: () => lines.join(''),
      });
      const w = warned()[0]!;
      assert.equal(w.channel, 'grapevine');
      assert.ok(String(w.endpoints).includes(`127.0.0.1:${layout.orderer.port}`), String(w.endpoints));
      assert.equal((await fetch(`${d.operationsUrl()}/healthz`)).status, 200);
      const ready = await fetch(`${d.operationsUrl()}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /no gossip connection/);
      orderer = await listen(layout.orderer.port);
      await until(
        () => lines.some((l) => l.includes('an orderer endpoint answers again')),
        'the orderer answering again',
        { detail: () => lines.join('') },
      );
      assert.equal(warned().length, 1, 'the warning repeats only every ordererWarnMs');
    } finally {
      await d.stop();
      if (orderer) await close(orderer);
    }
    // the ledger was closed: it opens again (a second open of a live store would fail on its lock)
    const ledger = await BlockStore.open(join(cfg.grapevine.ledgerPath, 'grapevine'));
    assert.equal(ledger.height(), 1n);
    await ledger.close();
    assert.ok(await portFree(peer.port));
    assert.ok(await portFree(peer.opsPort));
  });

  test('a port in use is named (peer.listenAddress), and nothing is left open', async () => {
    const orderer = await listen(layout.orderer.port);
    const squatter = await listen(peer.port);
    try {
      await assert.rejects(PeerDaemon.start({ config: configOf() }), (e: unknown) => {
        assert.ok(e instanceof GrapevineError);
        assert.equal(e.code, 'LISTEN_FAILED');
        assert.match(e.message, /peer\.listenAddress/);
        assert.ok(e.message.includes(`127.0.0.1:${peer.port}`));
        return true;
      });
      assert.ok(await portFree(peer.opsPort));
    } finally {
      await close(squatter);
      await close(orderer);
    }
  });

  test('a good start serves the channel, healthz and a state snapshot; stop frees the ports', async () => {
    const orderer = await listen(layout.orderer.port);
    try {
      const d = await PeerDaemon.start({ config: configOf() });
      try {
        const s = d.snapshot();
        assert.equal(s.id, peer.name);
        assert.equal(s.mspId, 'Org1MSP');
        assert.equal(s.endpoint, `127.0.0.1:${peer.port}`);
        assert.deepEqual(
          s.channels.map((c) => [c.name, c.height]),
          [['grapevine', 1]],
        );
        assert.equal(d.operationsUrl(), `http://127.0.0.1:${peer.opsPort}`);
        const r = await fetch(`${d.operationsUrl()}/healthz`);
        // alone, the peer is alive (Fabric's /healthz has no gossip check) but not ready
        assert.equal(r.status, 200);
        const ready = await fetch(`${d.operationsUrl()}/readyz`);
        assert.equal(ready.status, 503);
        assert.match(await ready.text(), /no gossip connection/);
        const m = await fetch(`${d.operationsUrl()}/metrics`);
        assert.equal(m.status, 200);
        const text = await m.text();
        assert.match(text, /^grapevine_gossip_comm_conns_open 0$/m);
        // Fabric's version gauge, ledger height, process metrics; no `peer` label anywhere
        assert.match(text, new RegExp(`^fabric_version\\{version="${grapevineVersion()}"\\} 1$`, 'm'));
        assert.match(text, /^ledger_blockchain_height\{channel="grapevine"\} 1$/m);
        assert.match(text, /^process_cpu_seconds_total \d/m);
        assert.match(text, /^process_resident_memory_bytes \d/m);
        assert.doesNotMatch(text, /\bpeer="/);
        // every metric the started peer exposes is an entry of the metrics table, or prom-client's
        // process and Node.js metrics
        const exposed = [...text.matchAll(/^# TYPE (\S+) /gm)].map((t) => t[1]!);
        assert.ok(exposed.length > 0);
        for (const name of exposed)
          assert.ok(
            METRIC_BY_NAME.has(name) || /^(process|nodejs)_/.test(name),
            `${name} is not in the metrics table`,
          );
      } finally {
        await d.stop();
      }
      assert.ok(await portFree(peer.port));
      assert.ok(await portFree(peer.opsPort));
    } finally {
      await close(orderer);
    }
  });
});
