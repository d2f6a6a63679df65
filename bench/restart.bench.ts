/**
 * Restart lag benchmark (`npm run bench restart`), issue 15: how long a follower restarted N
 * blocks behind takes to be back within 2 blocks of its org's leader, with real peer daemons on
 * real sockets.
 *
 * The network of `grapevine network up` (src/network/layout.ts: 2 orgs x 3 peers, dynamic
 * election, each peer joining the channel from the genesis block named in its core.yaml), one
 * change: the genesis block cuts every transaction into a block of its own (BatchSize
 * MaxMessageCount 1). The layout's embedded orderer runs in this process
 * (test/helpers/layout-orderer.ts); every peer is a daemon process of its own, started as
 * `network up` starts them (src/network/children.ts: `grapevine peer start --config <core.yaml>`).
 * Two modes, each a network of its own, one after the other:
 *   default: the layout's core.yaml as written (profile fast, block streams on);
 *   fabric:  `grapevine.profile: fabric`, `grapevine.streams.enabled: false` and
 *            `peer.gossip.state.enabled: true`: Fabric's push, pull and state transfer (plus
 *            Grapevine's catch-up stream, on by default in every profile).
 * Blocks of one ~4 KB transaction are cut at 2 blocks/s throughout. For N = 20, 250, 5,000 in
 * turn: wait until every peer is within 2 blocks of the orderer, stop (SIGTERM) one follower of
 * org 1 (not the leader, and with streams not the orderer puller), let the org advance N blocks
 * (20 and 250 at 2 blocks/s; 5,000 cut as fast as the orderer takes them, then back to 2
 * blocks/s), wait until every other peer is within 2 blocks of the orderer, then restart the
 * follower (same core.yaml, same ledger folder).
 *   restart-lag-N-ms: from the spawn of its process until its ledger height (its
 *     ledger_blockchain_height, scraped every 50 ms, and so is the leader's) is within 2 blocks
 *     of the org leader's; value: default mode; baseline: fabric mode, same run.
 *   restart-lag-N-fabric-ms: the fabric figure alone (value), for the record.
 * The table also shows, per run, how the restarted follower's commits arrived (its
 * grapevine_state_committed_total by source) and the largest lag it had after first being
 * back within 2 blocks (a sawtooth shows here), measured until the next stop.
 * GRAPEVINE_BENCH_RESTART_N (comma-separated) and GRAPEVINE_BENCH_RESTART_MODES (default,fabric)
 * pick a subset; GRAPEVINE_BENCH_KEEP=1 keeps the network folders (logs, ledgers) and
 * GRAPEVINE_BENCH_LOGSPEC sets the daemons' grapevine.logSpec. At the end every daemon is stopped and every peer's ledger is read: blocks
 * 0..height-1, each block's header hash the orderer's; the run fails otherwise.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../test/helpers/until.js';
import {
  checkLedgers,
  metricOf,
  scrapeText,
  startDaemonNetwork,
  type DaemonNetwork,
  type DaemonPeer,
} from './lib/daemons.js';
import { Report } from './lib/report.js';

type Mode = 'default' | 'fabric';
const NS = (process.env.GRAPEVINE_BENCH_RESTART_N ?? '20,250,5000').split(',').map(Number);
const MODES = (process.env.GRAPEVINE_BENCH_RESTART_MODES ?? 'default,fabric').split(',') as Mode[];
const BLOCK_MS = 500;
/** Keep the network folders (logs, ledgers) for a look afterwards. */
const KEEP = process.env.GRAPEVINE_BENCH_KEEP === '1';
/** The daemons' log spec (grapevine.logSpec), e.g. gossip.state=debug:info for the commit lines. */
const LOG_SPEC = process.env.GRAPEVINE_BENCH_LOGSPEC;
const TX_BYTES = 4 * 1024;
/** N above this is cut as fast as the orderer takes it (5,000); at most this, at 2 blocks/s. */
const FAST_ABOVE = 1000;
/** Blocks per Broadcast stream when cutting fast. */
const FAST_CHUNK = 250;
/** How long the lag after catching up is watched (at most; the next stop ends it sooner). */
const WATCH_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Peer = DaemonPeer;

interface View {
  readonly peer: Peer;
  readonly height: number;
  readonly leader: boolean;
  readonly role: number;
}

export interface RestartRun {
  readonly mode: Mode;
  readonly n: number;
  readonly victim: string;
  /** The follower's height when stopped and the leader's when it restarted. */
  readonly from: number;
  readonly to: number;
  /** Spawn -> within 2 blocks of the leader (ms). */
  readonly ms: number;
  /** Spawn -> its operations endpoint answered (ms): process start-up, the rest is catching up. */
  readonly upMs: number;
  /** Its commits by how they first arrived, when back. */
  readonly sources: Record<string, number>;
  /** Largest lag behind the leader after first being back within 2 (blocks). */
  maxLagAfter: number;
}

const scrape = (p: Peer): Promise<string | undefined> => scrapeText(p.metricsUrl);

/** Make a layout's core.yaml Fabric's mode: profile fabric, no streams, state transfer on. */
function fabricMode(config: string): void {
  let s = readFileSync(config, 'utf8');
  const before = s;
  s = s.replace('\n  profile: fast\n', '\n  profile: fabric\n');
  s = s.replace('\n  gossip:\n', '\n  gossip:\n    state:\n      enabled: true\n');
  if (s === before || !s.includes('profile: fabric') || !s.includes('state:'))
    throw new Error(`${config}: the layout's core.yaml changed; cannot switch it to fabric mode`);
  writeFileSync(config, s);
  // the grapevine: section is the last of the layout's core.yaml
  appendFileSync(config, '  streams:\n    enabled: false\n');
}

/** One network in one mode: every N in turn. */
async function runMode(mode: Mode, ns: readonly number[], log: (l: string) => void): Promise<RestartRun[]> {
  const root = mkdtempSync(join(tmpdir(), `grapevine-bench-restart-${mode}-`));
  let net: DaemonNetwork | undefined;
  let producing = false;
  let paused = false;
  let busy = false;
  let producer: Promise<void> | undefined;
  let producerError: unknown;
  try {
    net = await startDaemonNetwork(join(root, 'net'), (config) => {
      if (mode === 'fabric') fabricMode(config);
      if (LOG_SPEC) appendFileSync(config, `  logSpec: ${LOG_SPEC}\n`);
    });
    const { channel, chain, peers, children, start, live } = net;
    const lo = net.orderer;

    const stop = async (p: Peer): Promise<void> => {
      p.alive = false;
      const c = p.child!;
      c.proc.kill('SIGTERM');
      const t = setTimeout(() => c.proc.kill('SIGKILL'), 8000);
      await c.exited;
      clearTimeout(t);
    };

    const view = async (p: Peer): Promise<View> => {
      const text = (await scrape(p)) ?? '';
      return {
        peer: p,
        height: metricOf(text, 'ledger_blockchain_height', { channel }) ?? -1,
        leader: metricOf(text, 'gossip_leader_election_leader', { channel }) === 1,
        role: metricOf(text, 'grapevine_stream_role', { channel }) ?? 0,
      };
    };
    const views = () => Promise.all(live().map(view));
    const describe = (vs: View[]) =>
      vs.map((v) => `${v.peer.spec.name}@${v.height}${v.leader ? ' L' : ''} r${v.role}`).join(', ');
    let last: View[] = [];
    /** Every live peer within 2 blocks of the orderer, one leader in org 1. */
    const settle = async (what: string, timeoutMs = 180_000): Promise<View[]> => {
      await until(
        async () => {
          last = await views();
          const h = Number(chain.height());
          const leaders = last.filter((v) => v.peer.spec.org === 1 && v.leader);
          return leaders.length === 1 && last.every((v) => v.height >= h - 2);
        },
        what,
        {
          timeoutMs,
          intervalMs: 200,
          detail: () => `orderer at ${chain.height()}: ${describe(last)}`,
        },
      );
      return last;
    };

    producing = true;
    let i = 0;
    producer = (async () => {
      let next = Date.now();
      while (producing) {
        if (paused) {
          await sleep(20);
          next = Date.now();
          continue;
        }
        busy = true;
        await lo.cutBlock(new Uint8Array(TX_BYTES).fill(i & 0xff), `restart${i}`).finally(() => {
          busy = false;
        });
        i++;
        next += BLOCK_MS;
        if (next > Date.now()) await sleep(next - Date.now());
        else next = Date.now();
      }
    })().catch((e: unknown) => {
      producerError = e;
    });
    const checkProducer = () => {
      if (producerError) throw new Error(`cutting blocks failed: ${String(producerError)}`);
    };
    /** Pause the 2 blocks/s producer once its block in flight is cut. */
    const pause = async () => {
      paused = true;
      await until(() => !busy, 'the producer idle', { timeoutMs: 30_000, intervalMs: 10 });
    };

    await settle(`the ${mode} network up, every peer within 2 blocks`, 240_000);
    log(`restart ${mode}: ${peers.length} peer daemons up, ${BLOCK_MS} ms per block`);
    const runs: RestartRun[] = [];
    let watching: { run: RestartRun; victim: Peer; stop: boolean; done: Promise<void> } | undefined;
    for (const n of ns) {
      checkProducer();
      const vs = await settle(`every peer within 2 blocks before N=${n}`);
      if (watching) {
        watching.stop = true;
        await watching.done;
        watching = undefined;
      }
      // a follower of org 1: not its leader, not pulling from the orderer (role 2, 3)
      const candidates = vs
        .filter((v) => v.peer.spec.org === 1 && !v.leader && v.role !== 2 && v.role !== 3)
        .sort((a, b) => b.peer.spec.index - a.peer.spec.index);
      const victim = candidates[0]?.peer;
      if (!victim) throw new Error(`no follower in org 1 to stop: ${describe(vs)}`);
      const from = vs.find((v) => v.peer === victim)!.height;
      await stop(victim);
      const target = Number(chain.height()) + n;
      if (n > FAST_ABOVE) {
        await pause();
        for (let k = Number(chain.height()); k < target;) {
          const m = Math.min(FAST_CHUNK, target - k);
          await lo.cutBlocks(
            Array.from({ length: m }, (_, j) => new Uint8Array(TX_BYTES).fill((k + j) & 0xff)),
            `fast${k}-`,
          );
          k += m;
        }
        paused = false;
      }
      await until(
        () => {
          checkProducer();
          return Number(chain.height()) >= target;
        },
        `the orderer at ${target}`,
        { timeoutMs: n * BLOCK_MS + 60_000, intervalMs: 50 },
      );
      const others = await settle(`every live peer within 2 blocks after ${n} blocks`, 600_000);
      const leader = others.find((v) => v.peer.spec.org === 1 && v.leader)!.peer;
      const to = Number(chain.height());
      const t0 = Date.now();
      let upMs = -1;
      const startP = start(victim);
      let lead = -1;
      let mine = -1;
      await until(
        async () => {
          checkProducer();
          const [a, b] = await Promise.all([view(leader), view(victim)]);
          if (b.height >= 0 && upMs < 0) upMs = Date.now() - t0;
          lead = a.height;
          mine = b.height;
          return b.height >= 0 && a.height >= 0 && a.height - b.height <= 2;
        },
        `the restarted ${victim.spec.name} within 2 blocks of ${leader.spec.name}`,
        {
          timeoutMs: 900_000,
          intervalMs: 50,
          detail: () => `leader at ${lead}, ${victim.spec.name} at ${mine}`,
        },
      );
      const ms = Date.now() - t0;
      await startP;
      const text = (await scrape(victim)) ?? '';
      const sources: Record<string, number> = {};
      for (const s of ['orderer', 'stream', 'gossip', 'state', 'catchup']) {
        const v = metricOf(text, 'grapevine_state_committed_total', { channel, source: s });
        if (v) sources[s] = v;
      }
      const run: RestartRun = {
        mode,
        n,
        victim: victim.spec.name,
        from,
        to,
        ms,
        upMs,
        sources,
        maxLagAfter: 0,
      };
      runs.push(run);
      log(
        `  ${mode} N=${n}: ${victim.spec.name} stopped at ${from}, restarted with the orderer at ${to}: operations up after ${upMs} ms, within 2 blocks of ${leader.spec.name} after ${ms} ms; commits by source ${JSON.stringify(sources)}`,
      );
      // watch its lag for a while (until the next stop)
      const w = { run, victim, stop: false, done: Promise.resolve() };
      w.done = (async () => {
        const end = Date.now() + WATCH_MS;
        while (!w.stop && Date.now() < end) {
          const [a, b] = await Promise.all([view(leader), view(victim)]);
          if (a.height >= 0 && b.height >= 0)
            run.maxLagAfter = Math.max(run.maxLagAfter, a.height - b.height);
          await sleep(100);
        }
      })();
      watching = w;
      await w.done; // a full watch window: the next stop would cut it short
    }
    producing = false;
    await producer;
    checkProducer();
    const height = Number(chain.height());
    await until(
      async () => (await views()).every((v) => v.height === height),
      `every peer at the orderer height ${height}`,
      { timeoutMs: 120_000, intervalMs: 100, detail: () => describe(last) },
    );
    await children.stopAll();
    for (const p of peers) p.alive = false;
    await checkLedgers(
      chain,
      channel,
      peers.map((p) => ({ name: p.spec.name, config: p.config })),
      height,
    );
    log(
      `restart ${mode}: every peer's ledger holds blocks 0..${height - 1}, header hashes equal to the orderer's`,
    );
    return runs;
  } finally {
    producing = false;
    await producer;
    await net?.stop();
    if (KEEP) console.log(`restart ${mode}: kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

const report = new Report();
const all: RestartRun[] = [];
for (const mode of MODES) all.push(...(await runMode(mode, NS, (l) => console.log(l))));
console.log(
  '\nrestart lag: a follower of org 1 stopped, the org advanced N blocks, the follower restarted (6 peer daemons, 2 blocks/s, ~4 KB blocks)',
);
console.log(
  'mode      N     follower               back (ms)  ops up (ms)  ops up->back (ms)  lag after (max)  commits by source',
);
for (const r of all)
  console.log(
    `${r.mode.padEnd(8)}${String(r.n).padStart(5)}  ${r.victim.padEnd(22)} ${String(r.ms).padStart(9)}  ${String(r.upMs).padStart(11)}  ${String(r.ms - r.upMs).padStart(16)}  ${String(r.maxLagAfter).padStart(15)}  ${JSON.stringify(r.sources)}`,
  );
for (const n of NS) {
  const d = all.find((r) => r.mode === 'default' && r.n === n);
  const f = all.find((r) => r.mode === 'fabric' && r.n === n);
  if (d) report.fig(`restart-lag-${n}-ms`, d.ms, 'ms', f?.ms ?? 0);
  if (f) report.fig(`restart-lag-${n}-fabric-ms`, f.ms, 'ms', 0);
}
report.print('value: default mode (streams); baseline: fabric mode (profile fabric, streams off), same run');
process.exit(0);
