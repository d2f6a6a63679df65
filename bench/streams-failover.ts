/**
 * The fail-over figure of `npm run bench streams` (part `failover`; issue 13): SIGKILL of the
 * peer that pulls from the orderer, with real peer daemons on real sockets.
 *
 * The network of `grapevine network up` (src/network/layout.ts: 2 orgs x 3 peers, the fast
 * profile, dynamic election, block streams on, each peer joining the channel from the genesis
 * block named in its core.yaml's grapevine.channels), one change: the genesis block cuts every
 * transaction into a block of its own (BatchSize.MaxMessageCount 1). The layout's embedded
 * orderer runs in this process (test/helpers/layout-orderer.ts); every peer is a daemon process
 * of its own, started as `network up` starts them (src/network/children.ts: `grapevine peer
 * start --config <core.yaml>` with an IPC channel, so none outlives this process), its log at
 * gossip.state=debug (grapevine.logSpec), which logs one `committed block` line per block with a
 * millisecond timestamp when the ledger append resolved.
 *
 * Blocks of one ~16 KB transaction are cut at 10 blocks/s throughout. KILLS times
 * (GRAPEVINE_BENCH_FAILOVER_KILLS, default 20): wait until every live peer is within 2 blocks of
 * the orderer and both orgs' trees hold still (per org exactly one peer pulling from the orderer,
 * grapevine_stream_role 2 or 3, every other one following a stream, role 1; the same for 1 s),
 * SIGKILL the daemon of org 1's puller, and per survivor read from its log when it committed
 * block h, the first block cut after the kill (h = the orderer height at the kill); then restart
 * the killed daemon (same core.yaml, same ledger folder) and wait for it to catch up.
 *   stream-failover-p99-ms: kill -> commit of block h, p99 over org 1's survivors x kills (ms);
 *     baseline: the same for org 2's peers (untouched) in the same windows.
 * At the end every daemon is stopped and every peer's ledger is read (BlockStore): blocks
 * 0..height-1, each block's number its position and its header hash the orderer's (nothing
 * lost, reordered or forked); the run fails otherwise.
 */
import { appendFileSync, closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
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
import { percentile, type Figure } from './lib/figures.js';

const KILLS = Number(process.env.GRAPEVINE_BENCH_FAILOVER_KILLS ?? 20);
const BLOCK_MS = 100;
const TX_BYTES = 16 * 1024;
/** The daemons' log spec: the commit lines, everything else at info. */
const LOG_SPEC = 'gossip.state=debug:info';
/** How long the trees must hold still before a kill. */
const STILL_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The daemon's `committed block` debug lines (text or JSON format): block -> epoch ms and how it came. */
const TEXT_COMMIT =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC .*\] state -> committed block .*\bblock=(\d+)/;

class CommitLog {
  private offset = 0;
  private rest = '';
  readonly at = new Map<number, number>();
  /** block -> how the block first arrived (orderer, stream, gossip, state, catchup) */
  readonly source = new Map<number, string>();

  constructor(readonly file: string) {}

  /** Read what was appended since the last call. */
  poll(): void {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const lines = (this.rest + buf.subarray(0, n).toString('utf8')).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) this.parse(line);
    } finally {
      closeSync(fd);
    }
  }

  private parse(line: string): void {
    if (!line.includes('committed block')) return;
    if (line.startsWith('{')) {
      const r = JSON.parse(line) as { msg?: string; ts?: number; block?: number; source?: string };
      if (
        r.msg === 'committed block' &&
        r.ts !== undefined &&
        r.block !== undefined &&
        !this.at.has(r.block)
      ) {
        this.at.set(r.block, Math.round(r.ts * 1000));
        this.source.set(r.block, r.source ?? '?');
      }
      return;
    }
    const m = TEXT_COMMIT.exec(line);
    if (!m || this.at.has(Number(m[2]))) return;
    this.at.set(Number(m[2]), Date.parse(`${m[1]!.replace(' ', 'T')}Z`));
    this.source.set(Number(m[2]), /\bsource=(\w+)/.exec(line)?.[1] ?? '?');
  }
}

type Peer = DaemonPeer;

interface KillResult {
  readonly victim: string;
  readonly block: number;
  /** survivor name -> kill -> its commit of `block` (ms) */
  readonly org1: Map<string, number>;
  readonly org2: Map<string, number>;
  /** org 1 survivor name -> how it got `block` */
  readonly via: Map<string, string>;
  /** restart -> the trees held still again (ms, STILL_MS included) */
  settleMs?: number;
  /** The puller of org 1 after the kill, when the trees held still again. */
  next?: string;
}

export interface FailoverResult {
  readonly kills: KillResult[];
  readonly height: number;
}

const scrape = (p: Peer): Promise<string | undefined> => scrapeText(p.metricsUrl);

/** Run the kills; every process started is stopped and the folder removed, also on failure. */
export async function runFailover(
  kills = KILLS,
  log: (line: string) => void = console.log,
): Promise<FailoverResult> {
  const root = mkdtempSync(join(tmpdir(), 'grapevine-bench-failover-'));
  let net: DaemonNetwork | undefined;
  let producing = false;
  let producer: Promise<void> | undefined;
  let producerError: unknown;
  try {
    // the grapevine: section is the last of the layout's core.yaml
    net = await startDaemonNetwork(join(root, 'net'), (config) =>
      appendFileSync(config, `  logSpec: ${LOG_SPEC}\n`),
    );
    const { channel, chain, children, peers, start, live } = net;
    const lo = net.orderer;
    const commits = new Map(net.peers.map((p) => [p, new CommitLog(p.logFile)] as const));
    const commitsOf = (p: Peer): CommitLog => commits.get(p)!;

    interface View {
      readonly peer: Peer;
      readonly height: number;
      readonly role: number;
    }
    const views = async (): Promise<View[]> =>
      Promise.all(
        live().map(async (p) => {
          const text = (await scrape(p)) ?? '';
          return {
            peer: p,
            height: metricOf(text, 'ledger_blockchain_height', { channel }) ?? -1,
            role: metricOf(text, 'grapevine_stream_role', { channel }) ?? -1,
          };
        }),
      );
    const pullerOf = (vs: View[], org: number): Peer | undefined => {
      const mine = vs.filter((v) => v.peer.spec.org === org);
      const pullers = mine.filter((v) => v.role === 2 || v.role === 3);
      if (pullers.length !== 1 || !mine.every((v) => v.role === 1 || v === pullers[0])) return undefined;
      return pullers[0]!.peer;
    };
    const describe = (vs: View[]) =>
      vs.map((v) => `${v.peer.spec.name}@${v.height} role ${v.role}`).join(', ');
    let last: View[] = [];
    /** Every live peer within 2 blocks of the orderer, both trees still for STILL_MS; org 1's puller. */
    const settle = async (what: string): Promise<Peer> => {
      let still: { key: string; since: number } | undefined;
      let puller: Peer | undefined;
      await until(
        async () => {
          last = await views();
          const h = Number(chain.height());
          const p1 = pullerOf(last, 1);
          const p2 = pullerOf(last, 2);
          if (!p1 || !p2 || !last.every((v) => v.height >= h - 2)) {
            still = undefined;
            return false;
          }
          const key = `${p1.spec.name} ${p2.spec.name}`;
          if (still?.key !== key) still = { key, since: Date.now() };
          puller = p1;
          return Date.now() - still.since >= STILL_MS;
        },
        what,
        {
          timeoutMs: 120_000,
          intervalMs: 100,
          detail: () => `orderer at ${chain.height()}: ${describe(last)}`,
        },
      );
      return puller!;
    };

    // blocks at 10 blocks/s from here to the end
    producing = true;
    producer = (async () => {
      const t0 = Date.now();
      for (let i = 0; producing; i++) {
        await lo.cutBlock(new Uint8Array(TX_BYTES).fill(i & 0xff), `failover${i}`);
        const next = t0 + (i + 1) * BLOCK_MS;
        if (next > Date.now()) await sleep(next - Date.now());
      }
    })().catch((e: unknown) => {
      producerError = e;
    });
    const checkProducer = () => {
      if (producerError) throw new Error(`cutting blocks failed: ${String(producerError)}`);
    };

    const results: KillResult[] = [];
    let puller = await settle('the network up and its trees settled');
    log(`failover: ${peers.length} peer daemons up; org 1 pulls through ${puller.spec.name}`);
    for (let k = 0; k < kills; k++) {
      checkProducer();
      const victim = puller;
      const block = Number(chain.height()); // the first block cut after the kill
      const killedAt = Date.now();
      victim.child!.proc.kill('SIGKILL');
      victim.alive = false;
      await victim.child!.exited;
      const survivors = live();
      await until(
        () => {
          checkProducer();
          for (const p of survivors) commitsOf(p).poll();
          return survivors.every((p) => commitsOf(p).at.has(block));
        },
        `every survivor's commit of block ${block} after kill ${k + 1}`,
        {
          timeoutMs: 60_000,
          intervalMs: 20,
          detail: () => survivors.map((p) => `${p.spec.name}: ${commitsOf(p).at.has(block)}`).join(', '),
        },
      );
      const r: KillResult = {
        victim: victim.spec.name,
        block,
        org1: new Map(),
        org2: new Map(),
        via: new Map(),
      };
      for (const p of survivors) {
        (p.spec.org === 1 ? r.org1 : r.org2).set(p.spec.name, commitsOf(p).at.get(block)! - killedAt);
        if (p.spec.org === 1) r.via.set(p.spec.name, commitsOf(p).source.get(block)!);
      }
      results.push(r);
      // a real restart: same core.yaml, same ledger folder
      const restartedAt = Date.now();
      await start(victim);
      puller = await settle(`the restarted ${victim.spec.name} caught up and the trees settled`);
      r.next = puller.spec.name;
      r.settleMs = Date.now() - restartedAt;
      log(
        `  kill ${k + 1}: ${victim.spec.name} (block ${block}); org 1 survivors ${[...r.org1]
          .map(([n, ms]) => `${n.split('.')[0]} ${ms} ms (${r.via.get(n)})`)
          .join(
            ', ',
          )}; org 2 worst ${Math.max(...r.org2.values())} ms; restart -> settled ${r.settleMs} ms, then ${puller.spec.name} pulls`,
      );
    }
    producing = false;
    await producer;
    checkProducer();
    const height = Number(chain.height());
    await until(
      async () => (await views()).every((v) => v.height === height),
      `every peer at the orderer height ${height}`,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // nothing lost, reordered or forked: every ledger against the orderer's, daemons stopped
    await children.stopAll();
    for (const p of peers) p.alive = false;
    await checkLedgers(
      chain,
      channel,
      peers.map((p) => ({ name: p.spec.name, config: p.config })),
      height,
    );
    log(
      `failover: every peer's ledger holds blocks 0..${height - 1} in order, header hashes equal to the orderer's`,
    );
    return { kills: results, height };
  } finally {
    producing = false;
    await producer;
    await net?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The fail-over figure, with its table. */
export async function failoverFigures(log: (line: string) => void = console.log): Promise<Figure[]> {
  const { kills } = await runFailover(KILLS, log);
  const org1 = kills.flatMap((k) => [...k.org1.values()]);
  const org2 = kills.flatMap((k) => [...k.org2.values()]);
  log(
    `\nfailover: ${kills.length} SIGKILLs of org 1's orderer puller (peer daemons, 10 blocks/s, ~16 KB blocks); kill -> commit of the first block cut after it (ms)`,
  );
  log('peers                     n     p50     p99     max');
  for (const [name, xs] of [
    ['org 1 survivors', org1],
    ['org 2 (untouched)', org2],
  ] as const)
    log(
      `${name.padEnd(22)}${String(xs.length).padStart(4)}  ${String(r1(percentile(xs, 50))).padStart(6)}  ${String(r1(percentile(xs, 99))).padStart(6)}  ${String(r1(Math.max(...xs))).padStart(6)}`,
    );
  log(
    'kill  victim                 block  org 1 worst  org 2 worst  org 1 got it by   restart->settled  next puller',
  );
  for (const [i, k] of kills.entries())
    log(
      `${String(i + 1).padStart(4)}  ${k.victim.padEnd(22)} ${String(k.block).padStart(5)}  ${String(Math.max(...k.org1.values())).padStart(11)}  ${String(Math.max(...k.org2.values())).padStart(11)}  ${[...k.via.values()].join(',').padEnd(16)}  ${String(k.settleMs ?? '').padStart(16)}  ${k.next ?? ''}`,
    );
  const value = r1(percentile(org1, 99));
  const baseline = r1(percentile(org2, 99));
  return [
    {
      bench: 'stream-failover-p99-ms',
      value,
      unit: 'ms',
      baseline,
      ratio: baseline === 0 ? 0 : Math.round((value / baseline) * 100) / 100,
    },
  ];
}
