/**
 * `grapevine network up` as a user runs it (a real process tree on 127.0.0.1): it starts, every
 * peer commits at least 20 blocks, /api/network shows the peers (org, endpoint, height, leader)
 * and the orderer with one leader per org; a peer SIGKILLed is restarted by the supervisor and
 * catches up (its restart count shown); SIGINT stops it with exit 0 and no child process left
 * behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_MAIN } from '../../src/network/children.js';
import type { NetworkSnapshot } from '../../src/network/state.js';
import { poll } from '../helpers/until.js';

/** Child processes of `pid` that are our own (tsx may also run an `esbuild --service` helper). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '' && !/\besbuild\b/.test(line))
      .map((line) => Number(line.trim().split(/\s+/)[0]))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'network up: 6 peers commit 20+ blocks, leaders per org, a killed peer restarted, clean stop',
  { timeout: 180_000 },
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'grapevine-netup-'));
    let passed = false;
    // kept on failure for its logs (logs/<process>.log)
    t.after(() =>
      passed ? rmSync(root, { recursive: true, force: true }) : console.error(`network folder kept: ${root}`),
    );
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', CLI_MAIN, 'network', 'up', '--dir', join(root, 'net'), '--no-view', '--rate', '40'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const pids: number[] = [];
    try {
      let url: string | undefined;
      let last: NetworkSnapshot | undefined;
      await poll(
        async () => {
          url ??= /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
          if (proc.exitCode !== null) assert.fail(`network up exited early (${proc.exitCode}):\n${out}`);
          if (!url) return false;
          const r = await fetch(`${url}api/network`).catch(() => undefined);
          if (!r?.ok) return false;
          last = (await r.json()) as NetworkSnapshot;
          return (
            last.peers.length === 6 &&
            last.peers.every((p) => p.height >= 21) &&
            last.orgs.every((o) => o.leader)
          );
        },
        { timeoutMs: 150_000, intervalMs: 500 },
      );
      assert.ok(last, `no state from the dashboard:\n${out}`);
      const summary = JSON.stringify({
        peers: last.peers.map((p) => [p.name, p.status, p.height, p.leader, p.connections.length]),
        orgs: last.orgs,
        orderer: last.orderer,
      });
      assert.equal(last.channel, 'grapevine');
      assert.equal(last.peers.length, 6);
      for (const p of last.peers) {
        assert.ok(p.height >= 21, `${p.name} at height ${p.height}: ${summary}\n${out}`);
        assert.match(p.org, /^Org[12]MSP$/);
        assert.match(p.endpoint, /^127\.0\.0\.1:\d+$/);
        assert.equal(typeof p.leader, 'boolean');
        assert.equal(p.status, 'running');
      }
      assert.deepEqual(
        last.orgs.map((o) => o.mspId),
        ['Org1MSP', 'Org2MSP'],
      );
      for (const o of last.orgs) {
        assert.ok(o.leader && o.peers.includes(o.leader), `org ${o.mspId} leader ${o.leader}: ${summary}`);
        assert.ok(last.peers.some((p) => p.name === o.leader && p.leader && p.org === o.mspId));
      }
      assert.equal(last.orderer.status, 'running');
      assert.match(last.orderer.endpoint, /^127\.0\.0\.1:\d+$/);
      assert.ok(
        last.blocks.some((b) => b.complete && b.hops.some((h) => h.source === 'orderer')),
        'a block path starting at the orderer',
      );
      assert.ok(last.milestones.firstBlockEverywhereAt, 'first block on every peer recorded');
      pids.push(...childPids(proc.pid!));
      assert.equal(pids.length, 7, `orderer + 6 peers as child processes, got ${pids.join(',')}`);

      // supervision: a peer that dies is restarted, and catches up
      const victim = last.peers.find((p) => !p.leader)!;
      assert.ok(victim.pid, summary);
      process.kill(victim.pid, 'SIGKILL');
      let again: NetworkSnapshot | undefined;
      await poll(
        async () => {
          again = (await (await fetch(`${url!}api/network`)).json()) as NetworkSnapshot;
          const v = again.peers.find((p) => p.name === victim.name)!;
          const top = Math.max(...again.peers.map((p) => p.height));
          return v.restarts === 1 && v.status === 'running' && v.pid !== victim.pid && v.height >= top - 2;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      assert.match(out, new RegExp(`${victim.name} exited unexpectedly \\(SIGKILL\\); restarting it in 1 s`));
      assert.match(out, new RegExp(`${victim.name} running again \\(restart 1\\)`));
      const restarted = again!.peers.find((p) => p.name === victim.name)!;
      pids.push(restarted.pid!);
    } finally {
      proc.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 0, out);
    }
    assert.match(out, /every child process has exited/);
    for (const pid of pids) assert.equal(alive(pid), false, `child ${pid} still running`);
    passed = true;
  },
);
