/**
 * `grapevine network up` as a user runs it (a real process tree on 127.0.0.1): it starts, every
 * peer commits at least 20 blocks, the dashboard's /api/network (the same state as `grapevine
 * dashboard`: the peers' GET /status merged, with what network up knows over IPC) shows the peers
 * (org, endpoint, height, leader, process status) and the orderer with one leader per org; a
 * peer SIGKILLed is restarted by the supervisor and catches up (its restart count shown); SIGINT
 * stops it with exit 0 and no child process left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_MAIN } from '../../src/network/children.js';
import type { DashboardState, MemberView } from '../../src/watch/model.js';
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
      let last: DashboardState | undefined;
      const height = (m: MemberView) => m.heights.grapevine ?? 0;
      const leaderOf = (s: DashboardState, org: string) =>
        s.orgs.find((o) => o.mspId === org)?.leaders.grapevine ?? [];
      await poll(
        async () => {
          url ??= /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
          if (proc.exitCode !== null) assert.fail(`network up exited early (${proc.exitCode}):\n${out}`);
          if (!url) return false;
          const r = await fetch(`${url}api/network`).catch(() => undefined);
          if (!r?.ok) return false;
          last = (await r.json()) as DashboardState;
          return (
            last.members.length === 6 &&
            last.members.every((p) => height(p) >= 21 && p.state === 'answering') &&
            last.orgs.every((o) => leaderOf(last!, o.mspId).length === 1)
          );
        },
        { timeoutMs: 150_000, intervalMs: 500 },
      );
      assert.ok(last, `no state from the dashboard:\n${out}`);
      const summary = JSON.stringify({
        peers: last.members.map((p) => [p.name, p.state, p.local?.status, height(p), p.leaderOf]),
        orgs: last.orgs,
        orderer: last.local?.orderer,
      });
      assert.deepEqual(
        last.channels.map((c) => c.name),
        ['grapevine'],
      );
      assert.equal(last.title, 'local network');
      assert.equal(last.members.length, 6);
      assert.equal(last.sources.filter((s) => s.ok).length, 6, 'every peer answers GET /status');
      for (const p of last.members) {
        assert.ok(height(p) >= 21, `${p.name} at height ${height(p)}: ${summary}\n${out}`);
        assert.match(p.org, /^Org[12]MSP$/);
        assert.match(p.endpoint, /^127\.0\.0\.1:\d+$/);
        assert.equal(p.local?.status, 'running');
        assert.ok(p.local?.pid, summary);
      }
      assert.deepEqual(
        last.orgs.map((o) => o.mspId),
        ['Org1MSP', 'Org2MSP'],
      );
      for (const o of last.orgs) {
        const [leader] = leaderOf(last, o.mspId);
        const m = last.members.find((p) => p.pkiId === leader);
        assert.ok(
          m && m.org === o.mspId && m.leaderOf.includes('grapevine'),
          `org ${o.mspId} leader: ${summary}`,
        );
      }
      assert.equal(last.local?.orderer?.status, 'running');
      assert.match(last.local?.orderer?.endpoint ?? '', /^127\.0\.0\.1:\d+$/);
      assert.ok(
        last.blocks.some((b) => b.arrivals.length === 6 && b.arrivals.some((h) => h.source === 'orderer')),
        'a block that arrived at every peer, first from the orderer',
      );
      assert.match(out, /first block committed on every peer/);
      pids.push(...childPids(proc.pid!));
      assert.equal(pids.length, 7, `orderer + 6 peers as child processes, got ${pids.join(',')}`);

      // supervision: a peer that dies is restarted, and catches up
      const victim = last.members.find((p) => p.leaderOf.length === 0)!;
      const victimPid = victim.local!.pid!;
      process.kill(victimPid, 'SIGKILL');
      let again: DashboardState | undefined;
      await poll(
        async () => {
          again = (await (await fetch(`${url!}api/network`)).json()) as DashboardState;
          const v = again.members.find((p) => p.name === victim.name);
          const top = Math.max(...again.members.map(height));
          return (
            v !== undefined &&
            v.local?.restarts === 1 &&
            v.local.status === 'running' &&
            v.local.pid !== victimPid &&
            v.state === 'answering' &&
            height(v) >= top - 2
          );
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      assert.match(out, new RegExp(`${victim.name} exited unexpectedly \\(SIGKILL\\); restarting it in 1 s`));
      assert.match(out, new RegExp(`${victim.name} running again \\(restart 1\\)`));
      assert.ok(
        again!.events.some((e) => e.kind === 'unreachable') &&
          again!.events.some((e) => e.kind === 'answering'),
        'the restart seen in the event log: its status URL stopped answering, then answered again',
      );
      const restarted = again!.members.find((p) => p.name === victim.name)!;
      pids.push(restarted.local!.pid!);
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
