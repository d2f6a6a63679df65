/**
 * Footprint benchmark (`npm run bench footprint`), issue 14's figures, side by side in one run.
 * Every Grapevine process is started as an operator starts it: bin/grapevine.js executed itself
 * (its `#!` line, with whatever Node flags it carries), which runs dist/ when built (printed).
 *
 *   footprint-help-s: wall time of `grapevine --help`, median of RUNS; baseline `node -e ''` the
 *     same way, runs interleaved; target 1.5 x baseline. CPU (user+sys of the child, from its
 *     rusage: wait4 in a small python3 harness, else /proc/self/stat's cutime+cstime in clock
 *     ticks) and the child's max RSS are in the table.
 *   footprint-verify-26-s: `grapevine block verify --config block_0.pb block_1.pb .. block_26.pb`
 *     on the real Fabric blocks of ../shared/fabric-vectors, the same way; baseline `node -e ''`;
 *     also "the work itself": verifyFiles (what the command calls) once, as the command does it, in
 *     a fresh process with the command's flags whose modules are loaded before the clock starts
 *     (median of RUNS; the same call again in this warm process is printed beside it); target
 *     1.5 x baseline + work.
 *   footprint-start-ready-s: from the spawn of `grapevine peer node start` (peer1.org1 of a
 *     prepared layout, a fresh ledger each run) until its /readyz answers 200 (a gossip
 *     connection), with peer0.org1 already up and the layout's orderer running in this process;
 *     median of START_RUNS; baseline 0, target 1 s (ratio printed as value / 1 s).
 *   footprint-rss-idle-mib, footprint-rss-2bps-mib: one channel on the embedded orderer (in this
 *     process); org 1 = 2 Fabric v2.4.9 peers (peer0 static leader pulling from the orderer, peer1
 *     a follower fed by Fabric gossip), org 2 = 2 Grapevine peer daemons (the layout's core.yaml,
 *     profile PROFILE, dynamic election). Idle: once every peer joined and holds the genesis
 *     block, IDLE_S s without blocks, RSS sampled every second over the last IDLE_SAMPLE_S s;
 *     then 2 blocks/s of one ~16 KB transaction for LOAD_S s, sampled every second over the last
 *     SAMPLE_S s. RSS from /proc/<pid>/status (VmRSS, RssAnon, RssFile); every peer's /metrics is
 *     scraped each second (as Prometheus would), the Grapevine peers' heap spaces and external
 *     memory read from it. value: the largest per-peer mean VmRSS of the Grapevine peers;
 *     baseline: the same of the Fabric peers. Without ../shared/fabric the Fabric side is skipped
 *     with a message (baseline 0, no ratio).
 *   footprint-network-first-block-s: `grapevine network up --dir <fresh tmp> --no-view` from
 *     spawn until every peer's ledger_blockchain_height (its /metrics, polled every 100 ms once
 *     network.json is written) is >= 2; median of NETWORK_RUNS; network up's own "first block
 *     committed on every peer" figure printed beside it. No baseline.
 *
 * Knobs (a smoke run: RUNS=2 START_RUNS=1 IDLE_S=4 IDLE_SAMPLE_S=2 LOAD_S=6 SAMPLE_S=3
 * NETWORK_RUNS=1, well under 2 minutes), each GRAPEVINE_BENCH_FOOTPRINT_<knob>; PROFILE is the
 * Grapevine peers' grapevine.profile in the start and RSS parts (default fabric, the default of a
 * core.yaml without one). GRAPEVINE_BENCH_PART=cli,start,rss,network picks parts. Every process
 * started is killed on exit and on failure; everything listens on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { userCryptoPath } from '../src/network/crypto-layout.js';
import {
  cryptoDir,
  genesisFile,
  peerCryptoDir,
  peerHome,
  prepareLayout,
  type NetworkLayout,
  type PeerSpec,
} from '../src/network/layout.js';
import type { Orderer } from '../src/orderer/server.js';
import { FABRIC_DIR, FabricPeer, HAVE_FABRIC } from '../test/helpers/fabric.js';
import { startLayoutOrderer } from '../test/helpers/layout-orderer.js';
import { HAVE_VECTORS, VECTORS_DIR } from '../test/helpers/vectors.js';
import { until } from '../test/helpers/until.js';
import { COMPILED, metricOf, scrapeText } from './lib/daemons.js';
import { percentile } from './lib/figures.js';
import { Report, runParts } from './lib/report.js';

const knob = (name: string, dflt: number): number => {
  const v = Number(process.env[`GRAPEVINE_BENCH_FOOTPRINT_${name}`] ?? dflt);
  if (!Number.isFinite(v) || v < 0) throw new Error(`GRAPEVINE_BENCH_FOOTPRINT_${name}: not a number >= 0`);
  return v;
};
const RUNS = Math.max(1, knob('RUNS', 7));
const START_RUNS = Math.max(1, knob('START_RUNS', 5));
const IDLE_S = knob('IDLE_S', 20);
const IDLE_SAMPLE_S = Math.max(1, Math.min(IDLE_S, knob('IDLE_SAMPLE_S', 10)));
const LOAD_S = knob('LOAD_S', 60);
const SAMPLE_S = Math.max(1, Math.min(LOAD_S, knob('SAMPLE_S', 30)));
const NETWORK_RUNS = Math.max(1, knob('NETWORK_RUNS', 3));
/** Longest wait for `network up` to get block 1 everywhere (its --duration, too). */
const NETWORK_TIMEOUT_S = knob('NETWORK_TIMEOUT_S', 120);
const PROFILE = process.env.GRAPEVINE_BENCH_FOOTPRINT_PROFILE ?? 'fabric';
const TX_BYTES = 16 * 1024;
const BLOCK_MS = 500;
const MIB = 1024 * 1024;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'grapevine.js');
const RUNS_WHAT = COMPILED ? 'the compiled dist/' : 'the sources through tsx (run `npm run build` for dist/)';

const report = new Report();
const median = (xs: readonly number[]): number => percentile(xs, 50);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- every process started here dies with this one --------------------------------------------

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

/** `command ...args` (no shell), output appended to `logFile`, killed when this process exits. */
function start(command: string, args: readonly string[], logFile: string, env: Record<string, string> = {}) {
  const fd = openSync(logFile, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(command, [...args], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
  live.add(proc);
  const exited = new Promise<void>((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r();
    proc.once('exit', () => r());
    proc.once('error', () => r());
  }).then(() => void live.delete(proc));
  return { proc, exited };
}

/** SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
async function stop(p: { proc: ChildProcess; exited: Promise<void> }, graceMs = 10_000): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

const tail = (file: string, n = 30): string => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
};

// --- part cli: grapevine --help and block verify against node -e '' -----------------------------

interface Run {
  wall: number;
  cpu: number;
  /** KiB; 0 unknown. */
  maxrss: number;
}

/**
 * Runs each command `rounds` times, interleaved (a, b, a, b, ...: a slow moment of a shared
 * machine falls on both); per run its wall time and its own CPU time and max RSS. With python3:
 * os.wait4's rusage of exactly that child (microseconds); without, /proc/self/stat's
 * cutime+cstime of this process around a spawnSync (clock ticks, usually 10 ms).
 */
const HARNESS = `
import json, os, subprocess, sys, time
cmds = json.loads(sys.argv[1]); rounds = int(sys.argv[2]); out = {k: [] for k in cmds}
for _ in range(rounds):
    for name, argv in cmds.items():
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            print(json.dumps({"error": name, "code": p.returncode, "stderr": err.decode(errors="replace")[-2000:]}))
            sys.exit(1)
        out[name].append({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss": ru.ru_maxrss})
print(json.dumps(out))
`;

let harnessKind: 'python3 wait4' | '/proc/self/stat ticks' | undefined;

function childTicks(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // fields 16 and 17 (cutime, cstime); rest[0] is field 3
  return Number(rest[13]) + Number(rest[14]);
}

function measure(cmds: Record<string, string[]>, rounds: number, cwd: string): Record<string, Run[]> {
  if (harnessKind !== '/proc/self/stat ticks') {
    const r = spawnSync('python3', ['-c', HARNESS, JSON.stringify(cmds), String(rounds)], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const line = r.stdout?.trim().split('\n').pop() ?? '';
    if (r.status === 0 && line.startsWith('{')) {
      harnessKind = 'python3 wait4';
      return JSON.parse(line) as Record<string, Run[]>;
    }
    if (line.startsWith('{"error"')) throw new Error(`measuring: ${line}`);
    harnessKind = '/proc/self/stat ticks';
    report.note(
      `no python3 (${r.error?.message ?? r.stderr?.slice(-200)}): CPU from /proc/self/stat in ticks`,
    );
  }
  const tick = 1 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
  const out: Record<string, Run[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++)
    for (const [name, argv] of Object.entries(cmds)) {
      const c0 = childTicks();
      const t0 = performance.now();
      const r = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      const wall = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr.toString().slice(-2000)}`);
      out[name]!.push({ wall, cpu: (childTicks() - c0) * tick, maxrss: 0 });
    }
  return out;
}

interface Summary {
  wall: number;
  cpu: number;
  maxrssMib: number;
}
const summarize = (runs: readonly Run[]): Summary => ({
  wall: median(runs.map((r) => r.wall)),
  cpu: median(runs.map((r) => r.cpu)),
  maxrssMib: Math.max(...runs.map((r) => r.maxrss)) / 1024,
});

function rowOf(what: string, s: Summary): string {
  return `${what.padEnd(44)}${f3(s.wall).padStart(9)}${f3(s.cpu).padStart(9)}${(s.maxrssMib > 0 ? f2(s.maxrssMib) : '-').padStart(11)}`;
}

async function partCli(): Promise<void> {
  // from a folder that is not the checkout, as an operator would
  const cwd = mkdtempSync(join(tmpdir(), 'grapevine-bench-footprint-cli-'));
  try {
    const node = [process.execPath, '-e', ''];
    const blocks = Array.from({ length: 26 }, (_, i) => join(VECTORS_DIR, 'blocks', `block_${i + 1}.pb`));
    const config = join(VECTORS_DIR, 'blocks', 'block_0.pb');
    const cmds: Record<string, string[]> = { node, help: [BIN, '--help'] };
    if (HAVE_VECTORS) cmds.verify = [BIN, 'block', 'verify', '--config', config, ...blocks];
    else report.note(`footprint-verify-26-s skipped: no Fabric vectors at ${VECTORS_DIR}`);
    // one untimed round first: the file cache warm for every command alike
    measure(cmds, 1, cwd);
    const got = measure(cmds, RUNS, cwd);
    const [n, h] = [summarize(got.node!), summarize(got.help!)];
    console.log(
      `\ncli: median of ${RUNS} interleaved runs, from ${cwd}; grapevine runs ${RUNS_WHAT}; CPU and max RSS by ${harnessKind}`,
    );
    console.log(
      `${'command'.padEnd(44)}${'wall s'.padStart(9)}${'cpu s'.padStart(9)}${'maxrss MiB'.padStart(11)}`,
    );
    console.log(rowOf(`node -e '' (${process.version})`, n));
    console.log(rowOf('grapevine --help', h));
    console.log(
      `${"  target 1.5 x node -e ''".padEnd(44)}${f3(1.5 * n.wall).padStart(9)}${f3(1.5 * n.cpu).padStart(9)}`,
    );
    report.note(
      `help: wall ${f3(h.wall)} s (cpu ${f3(h.cpu)} s) vs node -e '' ${f3(n.wall)} s (cpu ${f3(n.cpu)} s); target 1.5 x = ${f3(1.5 * n.wall)} s (cpu ${f3(1.5 * n.cpu)} s): ${h.wall <= 1.5 * n.wall ? 'met' : 'NOT met'}`,
    );
    report.fig('footprint-help-s', h.wall, 's', n.wall, 3);
    if (!got.verify) return;
    const v = summarize(got.verify);
    // the work itself: the function the command calls, in this (warm) process; from dist/ when
    // the command runs dist/, so the same code is timed
    const mod = (await import(
      pathToFileURL(
        join(ROOT, COMPILED ? 'dist' : 'src', 'cli', 'commands', `block.${COMPILED ? 'js' : 'ts'}`),
      ).href
    )) as typeof import('../src/cli/commands/block.js');
    const once = (): void => {
      const r = mod.verifyFiles(config, blocks, new Date());
      if (!r.ok) throw new Error(`in-process verify failed: ${r.lines.join('; ')}`);
    };
    once();
    const work: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      once();
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      work.push({ wall, cpu: (c.user + c.system) / 1e6, maxrss: 0 });
    }
    const warm = summarize(work);
    // the work as the command does it: once, in a fresh process with the command's flags, its
    // modules already loaded (not timed): what is left of the command's time is start-up
    const blockModule = pathToFileURL(
      join(ROOT, COMPILED ? 'dist' : 'src', 'cli', 'commands', `block.${COMPILED ? 'js' : 'ts'}`),
    ).href;
    const script = [
      `const { verifyFiles } = await import(${JSON.stringify(blockModule)});`,
      'const c0 = process.cpuUsage(); const t0 = performance.now();',
      `const r = verifyFiles(${JSON.stringify(config)}, ${JSON.stringify(blocks)}, new Date());`,
      'const wall = (performance.now() - t0) / 1000; const c = process.cpuUsage(c0);',
      'if (!r.ok) process.exit(1);',
      'console.log(JSON.stringify({ wall, cpu: (c.user + c.system) / 1e6, maxrss: 0 }));',
    ].join(' ');
    const loader = COMPILED ? [] : ['--import', 'tsx'];
    const cold: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(
        process.execPath,
        [...SHEBANG_FLAGS, ...loader, '--input-type=module', '-e', script],
        { cwd, encoding: 'utf8', timeout: 60_000 },
      );
      if (r.status !== 0) throw new Error(`cold verify child failed (${r.status}): ${r.stderr}`);
      cold.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as Run);
    }
    const w = summarize(cold);
    console.log(rowOf('grapevine block verify (26 blocks)', v));
    console.log(rowOf('  the work: verifyFiles once, fresh process', w));
    console.log(rowOf('  (verifyFiles again, warm bench process)', warm));
    const target = { wall: 1.5 * n.wall + w.wall, cpu: 1.5 * n.cpu + w.cpu };
    console.log(
      `${"  target 1.5 x node -e '' + work".padEnd(44)}${f3(target.wall).padStart(9)}${f3(target.cpu).padStart(9)}`,
    );
    report.note(
      `verify 26: wall ${f3(v.wall)} s (cpu ${f3(v.cpu)} s); work (once, fresh process) ${f3(w.wall)} s (cpu ${f3(w.cpu)} s), warm ${f3(warm.wall)} s; target 1.5 x node + work = ${f3(target.wall)} s (cpu ${f3(target.cpu)} s): ${v.wall <= target.wall ? 'met' : 'NOT met'}`,
    );
    report.fig('footprint-verify-26-s', v.wall, 's', n.wall, 3);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

// --- part start: spawn to /readyz ----------------------------------------------------------------

const opsUrl = (p: PeerSpec) => `http://127.0.0.1:${p.opsPort}`;
const statusOf = async (url: string): Promise<number> =>
  (await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status ?? 0;
const peerEnv = (): Record<string, string> => ({ CORE_GRAPEVINE_PROFILE: PROFILE });
const peerArgs = (layout: NetworkLayout, p: PeerSpec) => [
  'peer',
  'node',
  'start',
  '--config',
  join(peerHome(layout, p), 'core.yaml'),
];

async function partStart(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'grapevine-bench-footprint-start-'));
  let orderer: Orderer | undefined;
  const procs: ReturnType<typeof start>[] = [];
  try {
    const layout = (await prepareLayout(join(root, 'net'))).layout;
    const spec = (org: number, i: number) => layout.peers.find((p) => p.org === org && p.index === i)!;
    orderer = (await startLayoutOrderer(layout, join(root, 'orderer'), pino({ level: 'error' }))).orderer;
    const [other, me] = [spec(1, 0), spec(1, 1)];
    const otherLog = join(root, `${other.name}.log`);
    procs.push(start(BIN, peerArgs(layout, other), otherLog, peerEnv()));
    await until(async () => (await statusOf(`${opsUrl(other)}/healthz`)) === 200, `${other.name} /healthz`, {
      timeoutMs: 60_000,
      intervalMs: 50,
      detail: () => tail(otherLog),
    });
    const runs: { healthz: number; readyz: number }[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      // a fresh ledger every run (peer.fileSystemPath is data/ beside its core.yaml)
      rmSync(join(peerHome(layout, me), 'data'), { recursive: true, force: true });
      const log = join(root, `${me.name}.${i}.log`);
      const t0 = performance.now();
      const p = start(BIN, peerArgs(layout, me), log, peerEnv());
      procs.push(p);
      let healthz = NaN;
      await until(
        async () => {
          if (p.proc.exitCode !== null)
            throw new Error(`${me.name} exited (${p.proc.exitCode}): ${tail(log)}`);
          const ready = (await statusOf(`${opsUrl(me)}/readyz`)) === 200;
          if (Number.isNaN(healthz) && (ready || (await statusOf(`${opsUrl(me)}/healthz`)) === 200))
            healthz = (performance.now() - t0) / 1000;
          return ready;
        },
        `${me.name} /readyz`,
        { timeoutMs: 60_000, intervalMs: 20, detail: () => tail(log) },
      );
      runs.push({ healthz, readyz: (performance.now() - t0) / 1000 });
      await stop(p);
    }
    const r = median(runs.map((x) => x.readyz));
    console.log(
      `\nstart: ${me.name} (profile ${PROFILE}, ${RUNS_WHAT}, fresh ledger) with ${other.name} up; spawn -> (s)`,
    );
    console.log('run   /healthz 200   /readyz 200');
    for (const [i, x] of runs.entries())
      console.log(`${String(i + 1).padEnd(6)}${f3(x.healthz).padStart(12)}${f3(x.readyz).padStart(14)}`);
    report.note(
      `start to ready: median ${f3(r)} s (/healthz ${f3(median(runs.map((x) => x.healthz)))} s); target 1 s: ${r <= 1 ? 'met' : 'NOT met'}`,
    );
    // no baseline but the target: ratio = value / 1 s
    report.fig('footprint-start-ready-s', r, 's', 1, 3);
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await orderer?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

// --- part rss: Grapevine peers vs Fabric peers ----------------------------------------------------

interface Mem {
  rss: number;
  anon: number;
  file: number;
  threads: number;
  /** user + system CPU of the process so far, seconds (/proc/<pid>/stat) */
  cpuS: number;
  at: number;
}

const TICK_S = 0.01; // USER_HZ on Linux

/** CPU seconds (utime + stime) of a process, NaN once gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_S;
  } catch {
    return NaN;
  }
}

/** VmRSS, RssAnon, RssFile (bytes) and Threads of /proc/<pid>/status; undefined once gone. */
function procMem(pid: number): Mem | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return {
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? NaN),
    cpuS: cpuSeconds(pid),
    at: performance.now(),
  };
}

/** The Node flags on bin/grapevine.js's `#!` line (`#!/usr/bin/env -S node <flags>`). */
const SHEBANG_FLAGS: readonly string[] = (() => {
  const m = /^#!\S*env -S node (.*)$/.exec(readFileSync(BIN, 'utf8').split('\n')[0] ?? '');
  return m ? m[1]!.split(/\s+/).filter((f) => f !== '') : [];
})();

/**
 * A bare Node process, once it has printed its first line and settled for `settleMs`: its
 * /proc status. The threads of one whose libuv pool started (a file read) show which of a peer's
 * threads are its own; one with the peers' flags that loaded TLS, HTTP/2 and crypto and idles is
 * the floor of the runtime alone, under any Node.js program that does what a peer does.
 */
async function bareNode(flags: readonly string[], script: string, settleMs = 0): Promise<Mem> {
  const p = spawn(process.execPath, [...flags, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  live.add(p);
  try {
    await new Promise<void>((resolve, reject) => {
      p.stdout!.once('data', () => resolve());
      p.once('exit', (code) => reject(new Error(`bare node exited (${code})`)));
    });
    if (settleMs > 0) await sleep(settleMs);
    const mem = procMem(p.pid!);
    if (!mem) throw new Error('bare node is gone');
    return mem;
  } finally {
    p.kill('SIGKILL');
    live.delete(p);
  }
}

const bareNodeThreads = async (): Promise<number> =>
  (
    await bareNode(
      [],
      "require('fs').readFile('/proc/self/status', () => console.log('read')); setTimeout(() => {}, 60000)",
    )
  ).threads;

/** The runtime alone: the `#!` line's flags, TLS + HTTP/2 + crypto loaded and used once, idle 3 s. */
const runtimeFloor = (): Promise<Mem> =>
  bareNode(
    SHEBANG_FLAGS,
    [
      "require('node:http2').createServer().close();",
      "require('node:tls').createSecureContext();",
      "require('node:crypto').createHash('sha256').update('x').digest();",
      "require('fs').readFile('/proc/self/status', () => console.log('ready'));",
      'setInterval(() => {}, 60000);',
    ].join(' '),
    3000,
  );

/** Thread names (comm) of a process, counted: what the Node/V8/libuv threads are. */
function threadNames(pid: number): string {
  const counts = new Map<string, number>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
  } catch {
    return '?';
  }
  return [...counts.entries()].map(([c, n]) => `${c} x${n}`).join(', ');
}

interface Watched {
  readonly name: string;
  readonly kind: 'grapevine' | 'fabric';
  readonly pid: number;
  readonly metricsUrl: string;
  samples: Mem[];
  /** Grapevine: per sample, heap space sizes and external memory (bytes) from /metrics. */
  heap: Map<string, number>[];
}

/** Short names of the heap figures in the table (heapOf's keys). */
const HEAP_LABEL: Record<string, string> = {
  large_object: 'lo',
  code_large_object: 'code-lo',
  new_large_object: 'new-lo',
  shared_large_object: 'shared-lo',
  read_only: 'ro',
  heap_size_total: '| total',
  heap_size_used: 'used',
  external_memory: 'external',
};

const HEAP_SPACE = /^nodejs_heap_space_size_total_bytes\{[^}]*space="([^"]+)"[^}]*\} (\S+)/gm;

function heapOf(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of text.matchAll(HEAP_SPACE)) m.set(x[1]!, Number(x[2]));
  for (const name of [
    'nodejs_heap_size_total_bytes',
    'nodejs_heap_size_used_bytes',
    'nodejs_external_memory_bytes',
  ]) {
    const v = metricOf(text, name);
    if (v !== undefined) m.set(name.replace(/^nodejs_|_bytes$/g, ''), v);
  }
  return m;
}

/** One sample of every watched peer: /proc status, and a scrape of its /metrics. */
async function sampleAll(ws: readonly Watched[]): Promise<void> {
  await Promise.all(
    ws.map(async (w) => {
      const mem = procMem(w.pid);
      if (!mem) throw new Error(`${w.name} (pid ${w.pid}) is gone`);
      w.samples.push(mem);
      const text = await scrapeText(w.metricsUrl);
      if (w.kind === 'grapevine' && text) w.heap.push(heapOf(text));
    }),
  );
}

interface PhaseMem {
  readonly phase: string;
  readonly rows: {
    name: string;
    kind: string;
    rssMean: number;
    rssMax: number;
    anon: number;
    file: number;
    threads: number;
    /** CPU over the sampled window, % of one core */
    cpuPct: number;
    heap: Map<string, number>;
  }[];
}

function cpuPctOf(samples: readonly Mem[]): number {
  const a = samples[0];
  const b = samples.at(-1);
  if (!a || !b || b.at <= a.at) return NaN;
  return (100 * (b.cpuS - a.cpuS)) / ((b.at - a.at) / 1000);
}

function summarizePhase(phase: string, ws: readonly Watched[]): PhaseMem {
  return {
    phase,
    rows: ws.map((w) => {
      const heap = new Map<string, number>();
      for (const k of new Set(w.heap.flatMap((h) => [...h.keys()])))
        heap.set(k, mean(w.heap.map((h) => h.get(k) ?? 0)));
      return {
        name: w.name,
        kind: w.kind,
        rssMean: mean(w.samples.map((s) => s.rss)),
        rssMax: Math.max(...w.samples.map((s) => s.rss)),
        anon: mean(w.samples.map((s) => s.anon)),
        file: mean(w.samples.map((s) => s.file)),
        threads: Math.max(...w.samples.map((s) => s.threads)),
        cpuPct: cpuPctOf(w.samples),
        heap,
      };
    }),
  };
}

/** Sample every second for `seconds` s (the first sample right away). */
async function sampleFor(ws: readonly Watched[], seconds: number): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < seconds; i++) {
    await sampleAll(ws);
    const next = t0 + (i + 1) * 1000;
    if (next > performance.now()) await sleep(next - performance.now());
  }
}

async function partRss(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'grapevine-bench-footprint-rss-'));
  let orderer: Orderer | undefined;
  const gvProcs: ReturnType<typeof start>[] = [];
  const fabs: FabricPeer[] = [];
  try {
    const layout = (await prepareLayout(join(root, 'net'))).layout;
    const spec = (org: number, i: number) => layout.peers.find((p) => p.org === org && p.index === i)!;
    const lo = await startLayoutOrderer(layout, join(root, 'orderer'), pino({ level: 'error' }));
    orderer = lo.orderer;
    const watched: Watched[] = [];
    // org 2: Grapevine peer daemons, the layout's core.yaml (peer1 bootstraps to peer0, the anchor)
    for (const i of [0, 1]) {
      const s = spec(2, i);
      const log = join(root, `${s.name}.log`);
      const p = start(BIN, peerArgs(layout, s), log, peerEnv());
      gvProcs.push(p);
      await until(async () => (await statusOf(`${opsUrl(s)}/healthz`)) === 200, `${s.name} /healthz`, {
        timeoutMs: 60_000,
        intervalMs: 50,
        detail: () => tail(log),
      });
      watched.push({
        name: s.name,
        kind: 'grapevine',
        pid: p.proc.pid!,
        metricsUrl: `${opsUrl(s)}/metrics`,
        samples: [],
        heap: [],
      });
    }
    // org 1: Fabric peers on the layout's ports (peer0 is the channel's anchor peer of org 1)
    if (!HAVE_FABRIC) report.note(`Fabric side skipped: no Fabric v2.4.9 binaries at ${FABRIC_DIR}`);
    else {
      for (const i of [0, 1]) {
        const s = spec(1, i);
        const crypto = peerCryptoDir(layout, s);
        const f = await FabricPeer.start({
          fabric: FABRIC_DIR,
          dir: join(root, s.name),
          name: s.name,
          mspId: 'Org1MSP',
          mspDir: join(crypto, 'msp'),
          tlsDir: join(crypto, 'tls'),
          port: s.port,
          ...(i === 0 ? {} : { bootstrap: fabs[0]!.address }),
          env: {
            CORE_PEER_GOSSIP_USELEADERELECTION: 'false',
            CORE_PEER_GOSSIP_ORGLEADER: i === 0 ? 'true' : 'false',
          },
        });
        fabs.push(f);
        await f.joinChannel(genesisFile(layout), join(userCryptoPath(cryptoDir(layout), 1, 'Admin'), 'msp'));
        watched.push({
          name: `${s.name} (Fabric)`,
          kind: 'fabric',
          pid: f.pid!,
          metricsUrl: `${f.operationsUrl}/metrics`,
          samples: [],
          heap: [],
        });
      }
    }
    const heights = async (): Promise<number[]> =>
      Promise.all(
        watched.map(
          async (w) =>
            metricOf((await scrapeText(w.metricsUrl)) ?? '', 'ledger_blockchain_height', {
              channel: layout.channel,
            }) ?? 0,
        ),
      );
    const allAt = (h: number) =>
      until(async () => (await heights()).every((x) => x === h), `every peer at height ${h}`, {
        timeoutMs: 120_000,
        intervalMs: 200,
        detail: () => `heights ${watched.map((w) => w.name).join(', ')}`,
      });
    await allAt(1);
    console.log(
      `\nrss: ${watched.map((w) => w.name).join(', ')} joined, height 1; idle ${IDLE_S} s (sampled over the last ${IDLE_SAMPLE_S} s)`,
    );
    await sleep((IDLE_S - IDLE_SAMPLE_S) * 1000);
    await sampleFor(watched, IDLE_SAMPLE_S);
    const idle = summarizePhase('idle', watched);
    for (const w of watched) {
      w.samples = [];
      w.heap = [];
    }
    // 2 blocks/s of one ~16 KB transaction; sampling over the last SAMPLE_S s
    const blocks = Math.round((LOAD_S * 1000) / BLOCK_MS);
    console.log(`rss: ${blocks} blocks at 2 blocks/s (sampled over the last ${SAMPLE_S} s)`);
    let sampling: Promise<void> | undefined;
    const t0 = performance.now();
    for (let i = 0; i < blocks; i++) {
      if (!sampling && performance.now() - t0 >= (LOAD_S - SAMPLE_S) * 1000)
        sampling = sampleFor(watched, SAMPLE_S);
      await lo.cutBlock(new Uint8Array(TX_BYTES).fill(i & 0xff), `footprint${i}`);
      const next = t0 + (i + 1) * BLOCK_MS;
      if (next > performance.now()) await sleep(next - performance.now());
    }
    await (sampling ?? sampleFor(watched, SAMPLE_S));
    const load = summarizePhase('2 blocks/s', watched);
    const threads = watched.map((w) => `${w.name}: ${threadNames(w.pid)}`);
    await allAt(blocks + 1);

    const mib = (x: number) => f2(x / MIB);
    console.log(
      `\nrss (MiB) by phase; Grapevine peers run ${RUNS_WHAT}, profile ${PROFILE}; Fabric ${HAVE_FABRIC ? 'v2.4.9' : 'absent'}`,
    );
    console.log(
      `${'phase'.padEnd(12)}${'peer'.padEnd(36)}${'rss mean'.padStart(9)}${'rss max'.padStart(9)}${'anon'.padStart(8)}${'file'.padStart(8)}${'thr'.padStart(5)}${'cpu %'.padStart(7)}  heap MiB by space | total, used, external (Grapevine)`,
    );
    for (const ph of [idle, load])
      for (const r of ph.rows) {
        // the spaces that hold anything, then the heap's total and used size and external memory
        const heap =
          r.kind === 'grapevine'
            ? [...r.heap.entries()]
                .filter(([, v]) => v >= MIB / 100)
                .map(([k, v]) => `${HEAP_LABEL[k] ?? k} ${f1(v / MIB)}`)
                .join(' ')
            : '';
        console.log(
          `${ph.phase.padEnd(12)}${r.name.padEnd(36)}${mib(r.rssMean).padStart(9)}${mib(r.rssMax).padStart(9)}${mib(r.anon).padStart(8)}${mib(r.file).padStart(8)}${String(r.threads).padStart(5)}${f1(r.cpuPct).padStart(7)}  ${heap}`,
        );
      }
    console.log(
      `threads (comm) at the end of the load; a bare Node process with its libuv pool started has ${await bareNodeThreads()} (Grapevine starts worker threads only for a catch-up run, src/service/verify/pool.ts):`,
    );
    for (const t of threads) console.log(`  ${t}`);
    const floor = await runtimeFloor();
    const gvIdle = Math.max(0, ...idle.rows.filter((r) => r.kind === 'grapevine').map((r) => r.rssMean));
    console.log(
      `the runtime alone (node ${SHEBANG_FLAGS.join(' ')}, TLS + HTTP/2 + crypto loaded, idle): rss ${mib(floor.rss)} MiB (anon ${mib(floor.anon)}, file ${mib(floor.file)}); an idle Grapevine peer is ${mib(gvIdle - floor.rss)} MiB above it`,
    );
    const figure = (ph: PhaseMem, kind: string) =>
      Math.max(0, ...ph.rows.filter((r) => r.kind === kind).map((r) => r.rssMean)) / MIB;
    report.fig('footprint-rss-idle-mib', figure(idle, 'grapevine'), 'MiB', figure(idle, 'fabric'));
    report.fig('footprint-rss-2bps-mib', figure(load, 'grapevine'), 'MiB', figure(load, 'fabric'));
  } finally {
    for (const f of fabs.reverse()) await f.stop();
    for (const p of gvProcs.reverse()) await stop(p);
    await orderer?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

// --- part network: network up to block 1 on every peer --------------------------------------------

async function partNetwork(): Promise<void> {
  const runs: { metrics: number; line: number; own: number }[] = [];
  for (let i = 0; i < NETWORK_RUNS; i++) {
    const root = mkdtempSync(join(tmpdir(), 'grapevine-bench-footprint-net-'));
    const dir = join(root, 'network');
    const log = join(root, 'network-up.log');
    const t0 = performance.now();
    const p = start(
      BIN,
      ['network', 'up', '--dir', dir, '--no-view', '--duration', `${NETWORK_TIMEOUT_S}s`],
      log,
    );
    try {
      let peers: readonly { opsPort: number }[] | undefined;
      let byMetrics = NaN;
      await until(
        async () => {
          if (p.proc.exitCode !== null)
            throw new Error(`network up exited (${p.proc.exitCode}): ${tail(log)}`);
          if (!peers && existsSync(join(dir, 'network.json'))) {
            try {
              peers = (JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkLayout).peers;
            } catch {
              // being written: next time
            }
          }
          if (!peers) return false;
          const hs = await Promise.all(
            peers.map(
              async (q) =>
                metricOf(
                  (await scrapeText(`http://127.0.0.1:${q.opsPort}/metrics`, 1000)) ?? '',
                  'ledger_blockchain_height',
                ) ?? 0,
            ),
          );
          if (hs.every((h) => h >= 2)) byMetrics = (performance.now() - t0) / 1000;
          return !Number.isNaN(byMetrics);
        },
        'block 1 on every peer of network up',
        { timeoutMs: NETWORK_TIMEOUT_S * 1000, intervalMs: 100, detail: () => tail(log) },
      );
      // network up's own line (IPC state reports, every 250 ms): seen by the time it is printed
      let line = NaN;
      let own = NaN;
      await until(
        () => {
          const m = /first block committed on every peer ([\d.]+) s after start/.exec(
            readFileSync(log, 'utf8'),
          );
          if (m) {
            line = (performance.now() - t0) / 1000;
            own = Number(m[1]);
          }
          return m !== null;
        },
        'network up\'s "first block committed on every peer" line',
        { timeoutMs: 10_000, intervalMs: 20, detail: () => tail(log) },
      ).catch((e: Error) => report.note(e.message));
      runs.push({ metrics: byMetrics, line, own });
    } finally {
      await stop(p, 30_000);
      rmSync(root, { recursive: true, force: true });
    }
  }
  console.log(`\nnetwork up (fresh --dir, ${RUNS_WHAT}): spawn -> block 1 on every peer (s)`);
  console.log('run   /metrics height>=2   its line seen   its own figure');
  for (const [i, r] of runs.entries())
    console.log(
      `${String(i + 1).padEnd(6)}${f3(r.metrics).padStart(18)}${f3(r.line).padStart(16)}${f3(r.own).padStart(17)}`,
    );
  report.fig('footprint-network-first-block-s', median(runs.map((r) => r.metrics)), 's', 0, 3);
}

console.log(`footprint: grapevine is ${BIN} executed itself (its #! line), running ${RUNS_WHAT}`);
console.log(`#! line: ${readFileSync(BIN, 'utf8').split('\n')[0]}`);
await runParts({ cli: partCli, start: partStart, rss: partRss, network: partNetwork });
report.print(
  "footprint: value Grapevine; baseline node -e '' (cli figures), a Fabric v2.4.9 peer (rss figures), the 1 s target (start-ready), none (network)",
);
process.exit(0);
