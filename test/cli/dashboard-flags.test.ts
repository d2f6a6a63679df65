/**
 * `grapevine dashboard` in-process: a missing --peer, a URL that is not http(s), and durations
 * below their minimum are refused with exit 1 naming the flag; with a status URL nobody listens
 * on it still serves the page (the URL shown unreachable, not fatal), prints its address, and
 * stops by itself after --duration.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { DashboardState } from '../../src/watch/model.js';
import { until } from '../helpers/until.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function run(t: TestContext, ...args: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  const error = t.mock.method(console, 'error', (...a: unknown[]) => void err.push(a.join(' ')));
  const stderr = t.mock.method(process.stderr, 'write', (s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await main(['node', 'grapevine', 'dashboard', ...args]);
    return { code, out, err: err.join('') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    stderr.mock.restore();
  }
}

test('grapevine dashboard refuses bad flags naming them', async (t) => {
  // commander's own errors exit the process: a child process for the missing --peer
  const none = spawnSync(process.execPath, [join(ROOT, 'bin', 'grapevine.js'), 'dashboard'], {
    encoding: 'utf8',
    env: { ...process.env, GRAPEVINE_FROM_SOURCE: '1' },
  });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /required option '--peer <ops-url\.\.\.>' not specified/);
  const ftp = await run(t, '--peer', 'ftp://127.0.0.1:1');
  assert.equal(ftp.code, 1);
  assert.match(ftp.err, /expected http:\/\/ or https:\/\//);
  const fast = await run(t, '--peer', '127.0.0.1:1', '--interval', '10');
  assert.equal(fast.code, 1);
  assert.match(fast.err, /--interval: "10" is below 100 ms/);
  const port = await run(t, '--peer', '127.0.0.1:1', '--port', '70000');
  assert.equal(port.code, 1);
  assert.match(port.err, /--port/);
  const half = await run(t, '--peer', '127.0.0.1:1', '--cert', 'a.pem');
  assert.equal(half.code, 1);
  assert.match(half.err, /--cert and --key go together/);
});

test('grapevine dashboard serves the page with an unreachable status URL, and stops after --duration', async (t) => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  const out: string[] = [];
  const log = t.mock.method(console, 'log', (...a: unknown[]) => void out.push(a.join(' ')));
  try {
    const running = main([
      'node',
      'grapevine',
      'dashboard',
      '--peer',
      `127.0.0.1:${port}`,
      '--interval',
      '200',
      '--duration',
      '3s',
    ]);
    let url: string | undefined;
    await until(
      () => (url = /dashboard: (http:\/\/\S+\/)/.exec(out.join('\n'))?.[1]) !== undefined,
      'the address',
    );
    assert.match(
      out.join('\n'),
      new RegExp(`watching 1 operations endpoint every 200 ms: 127\\.0\\.0\\.1:${port}`),
    );
    let state: DashboardState | undefined;
    await until(async () => {
      state = (await (await fetch(`${url!}api/network`)).json()) as DashboardState;
      return state.sources[0]?.failures > 0;
    }, 'the status URL tried');
    assert.equal(state!.sources[0].ok, false);
    assert.match(state!.sources[0].error ?? '', /ECONNREFUSED/);
    assert.equal(state!.alerts[0].kind, 'status_unreachable');
    const page = await fetch(url!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Grapevine dashboard/);
    assert.equal(await running, 0);
  } finally {
    log.mock.restore();
  }
});
