/**
 * The `grapevine` launcher (bin/grapevine.js), run as a user runs it: from a folder outside the
 * repository. It serves in its own process, so SIGTERM to the launcher (systemd, `timeout`, a
 * container stop) stops the orderer it started: that process exits and its port is free again (the
 * old launcher left a second process serving).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { genesisFile, ordererCryptoDir, portFree, prepareLayout } from '../../src/network/layout.js';
import { until } from '../helpers/until.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'grapevine.js');

test(
  'grapevine from another folder: --version, and SIGTERM stops the orderer it runs',
  { timeout: 90_000 },
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'grapevine-launcher-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));

    const version = spawn(process.execPath, [BIN, '--version'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    version.stdout.on('data', (d: Buffer) => (out += d.toString()));
    version.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const versionCode = await new Promise<number | null>((r) => version.once('close', r)); // close: all output read
    assert.equal(versionCode, 0, out);
    assert.equal(
      out.trim(),
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
      err,
    );

    const { layout } = await prepareLayout(join(root, 'net'));
    const dir = ordererCryptoDir(layout);
    const listen = `127.0.0.1:${layout.orderer.port}`;
    const orderer = spawn(
      process.execPath,
      [
        BIN,
        'orderer',
        'start',
        '--genesis',
        genesisFile(layout),
        '--msp',
        join(dir, 'msp'),
        '--mspid',
        'OrdererMSP',
        '--tls',
        join(dir, 'tls'),
        '--listen',
        listen,
        '--data',
        join(root, 'orderer-data'),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    orderer.stdout.on('data', (d: Buffer) => (log += d.toString()));
    orderer.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      orderer.once('exit', (code, signal) => r({ code, signal })),
    );
    t.after(() => {
      if (orderer.exitCode === null && orderer.signalCode === null) orderer.kill('SIGKILL');
    });

    // the line is printed once the launcher handles the stop signals
    await until(() => log.includes(`orderer listening on ${listen}`), `the orderer listening on ${listen}`, {
      timeoutMs: 60_000,
      detail: () => log,
    });
    assert.equal(await portFree(layout.orderer.port), false, 'the launcher process itself holds the port');
    orderer.kill('SIGTERM');
    // the process signalled is the one serving: once it has exited, nothing holds the port
    const { code, signal } = await exited;
    assert.ok(code === 0 || signal === 'SIGTERM', `exit ${code} ${signal}: ${log}`);
    assert.ok(await portFree(layout.orderer.port), 'the port is free once the launcher exited');
  },
);

test("Fabric's spelling `peer node start` runs the peer command (a missing core.yaml is named, exit 1)", async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'grapevine-launcher-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const missing = join(root, 'nope', 'core.yaml');
  const p = spawn(process.execPath, [BIN, 'peer', 'node', 'start', '--config', missing], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => p.once('close', r));
  assert.equal(code, 1, out);
  assert.ok(out.includes(missing), out);
});
