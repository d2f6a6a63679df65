/**
 * End-to-end benchmark (`npm run bench e2e`): real sockets on 127.0.0.1, one embedded orderer
 * (TLS), 2 orgs x 4 peers each running the GossipService (mutual-TLS gossip, MessageCryptoService
 * with the channel's real MSPs, BlockStore ledgers, gRPC deliver client), 'fast' gossip timers.
 * One transaction per block (MaxMessageCount 1), so a block is about the transaction's size.
 *
 *   e2e-throughput-10k / -1m: static leaders (peer0 of each org) pull from the orderer and gossip
 *     to their org; K blocks broadcast back to back; blocks/s (and MB/s in the table) from the
 *     first broadcast to the last commit on every peer. Baseline: the orderer alone, same run:
 *     blocks/s from the first broadcast until the orderer's ledger held all K.
 *   e2e-gossip-p99-ms / e2e-direct-p99-ms: one 10 KB block every 50 ms; per block, time from the
 *     orderer's durable append ("cut") to committed on every peer; p50 and p99. Gossip = static
 *     leaders + push; direct = every peer a static leader with blockGossipEnabled false. Baseline
 *     of each: the p99 of cut -> committed on the first peer of that same run (one hop).
 *   e2e-gossip-egress / e2e-direct-egress: DeliverResponse bytes the orderer sent during the
 *     latency run (summed at the peers' deliver connectors: before gRPC/TLS framing). Baseline:
 *     the bytes of one copy of those blocks.
 *   failover-gap-ms: dynamic election (fast timers: leaderAliveThreshold 1 s, election 0.5 s),
 *     a block every 50 ms; org 1's leader is stopped; the longest time without a new commit on
 *     org 1's surviving peers. Baseline: the longest gap on org 2's peers in the same window.
 * Prints a table, then one JSON line per figure.
 */
import {
  CHANNEL,
  Writer,
  netChannel,
  startOrderer,
  startPeer,
  type NetChannel,
  type NetPeer,
  type PeerOptions,
} from '../test/net/e2e-world.js';
import type { Orderer } from '../src/orderer/server.js';
import type { StateLedger } from '../src/core/state/types.js';
import { silentLogger } from '../src/base/log.js';
import { figureJson, percentile, type Figure } from './lib/figures.js';

const ORGS = 2;
const PER_ORG = 4;

const figures: (Figure & { note: string })[] = [];
function figure(bench: string, value: number, unit: string, baseline: number, note: string): void {
  figures.push({
    bench,
    value: round(value),
    unit,
    baseline: round(baseline),
    ratio: round(baseline === 0 ? 0 : value / baseline),
    note,
  });
}
const round = (x: number) => Math.round(x * 1000) / 1000;

async function waitFor(cond: () => boolean, what: string, limitMs = 300_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Commit times per peer (block number -> ms). */
type Commits = Map<bigint, number>;

function timed(commits: Commits): (l: StateLedger) => StateLedger {
  return (l) => ({
    height: () => l.height(),
    getBlockBytes: (n) => l.getBlockBytes(n),
    append: async (b) => {
      const h = await l.append(b);
      commits.set(h - 1n, performance.now());
      return h;
    },
  });
}

interface Net {
  readonly net: NetChannel;
  readonly orderer: Orderer;
  readonly peers: NetPeer[];
  readonly commits: Map<NetPeer, Commits>;
  readonly cuts: Map<bigint, number>;
  readonly writer: Writer;
  stop(): Promise<void>;
}

async function network(mode: 'static' | 'direct' | 'dynamic'): Promise<Net> {
  const net = await netChannel({
    orgs: ORGS,
    peersPerOrg: PER_ORG,
    maxMessageCount: 1,
    absoluteMaxBytes: '10 MB',
    preferredMaxBytes: '2 MB',
    batchTimeout: '50ms',
  });
  const orderer = await startOrderer(net, 0);
  const peers: NetPeer[] = [];
  const commits = new Map<NetPeer, Commits>();
  for (let org = 1; org <= ORGS; org++) {
    for (let i = 0; i < PER_ORG; i++) {
      const c: Commits = new Map();
      const o: PeerOptions = {
        election:
          mode === 'dynamic'
            ? { useLeaderElection: true }
            : mode === 'direct' || i === 0
              ? { orgLeader: true }
              : {},
        blockGossipEnabled: mode !== 'direct',
        state: { enabled: mode === 'dynamic', checkIntervalMs: 1000, responseTimeoutMs: 1000 },
        wrapLedger: timed(c),
        logger: silentLogger,
      };
      const p = await startPeer(net, org, i, o);
      commits.set(p, c);
      peers.push(p);
    }
  }
  // the cut time of every block: the orderer's durable append
  const cuts = new Map<bigint, number>();
  const chain = orderer.chain(CHANNEL)!;
  const ac = new AbortController();
  void (async () => {
    for (let h = chain.height(); !ac.signal.aborted; h++) {
      await chain.waitForHeight(h + 1n, ac.signal);
      if (ac.signal.aborted || chain.height() < h + 1n) return;
      const now = performance.now();
      for (let n = h; n < chain.height(); n++) if (!cuts.has(n)) cuts.set(n, now);
      h = chain.height() - 1n;
    }
  })();
  // channel membership complete everywhere before measuring
  const known = () => peers.map((p) => p.service.node.peersOfChannel(CHANNEL).length);
  await waitFor(
    () => known().every((k) => k === ORGS * PER_ORG - 1),
    `channel membership (${known().join(' ')})`,
    60_000,
  );
  console.log(`${mode} network up: ${ORGS} orgs x ${PER_ORG} peers, 1 orderer`);
  return {
    net,
    orderer,
    peers,
    commits,
    cuts,
    writer: new Writer(net),
    async stop() {
      ac.abort();
      await Promise.all(peers.map((p) => p.stop()));
      await orderer.stop();
    },
  };
}

const minHeight = (n: Net, peers = n.peers) =>
  peers.reduce((m, p) => (p.ledger.height() < m ? p.ledger.height() : m), 1n << 62n);

async function throughput(n: Net, label: string, k: number, txBytes: number): Promise<void> {
  const chain = n.orderer.chain(CHANNEL)!;
  const start = chain.height();
  const envs = n.writer.envelopes(k, txBytes);
  const t0 = performance.now();
  const stream = n.writer.open(n.orderer.address);
  for (const e of envs) stream.send(e);
  await waitFor(() => chain.height() >= start + BigInt(k), 'the orderer');
  const tOrderer = performance.now() - t0;
  await waitFor(() => minHeight(n) >= start + BigInt(k), 'every peer');
  const tAll = performance.now() - t0;
  stream.close();
  let bytes = 0;
  for (let i = start; i < start + BigInt(k); i++) bytes += (await chain.getBlockBytes(i))!.length;
  const rate = (k * 1000) / tAll;
  const mbps = bytes / 1e6 / (tAll / 1000);
  console.log(
    `${label}: ${k} blocks of ~${Math.round(bytes / k / 1000)} KB: every peer in ${tAll.toFixed(0)} ms = ${rate.toFixed(1)} blocks/s, ${mbps.toFixed(2)} MB/s; orderer alone ${tOrderer.toFixed(0)} ms = ${((k * 1000) / tOrderer).toFixed(1)} blocks/s`,
  );
  figure(
    label,
    rate,
    'blocks/s',
    (k * 1000) / tOrderer,
    `${mbps.toFixed(2)} MB/s to all ${ORGS * PER_ORG} peers; baseline: orderer alone (broadcast -> cut) in the same run`,
  );
}

async function latency(n: Net, label: string, count: number, everyMs: number): Promise<void> {
  const chain = n.orderer.chain(CHANNEL)!;
  const start = chain.height();
  const egress0 = n.peers.reduce((s, p) => s + p.connector.bytes, 0);
  const stream = n.writer.open(n.orderer.address);
  const envs = n.writer.envelopes(count, 10_000);
  for (const e of envs) {
    stream.send(e);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const end = start + BigInt(count);
  await waitFor(() => minHeight(n) >= end, 'every peer');
  stream.close();
  const egress = n.peers.reduce((s, p) => s + p.connector.bytes, 0) - egress0;
  const all: number[] = [];
  const first: number[] = [];
  let copy = 0;
  for (let b = start; b < end; b++) {
    const cut = n.cuts.get(b)!;
    const times = n.peers.map((p) => n.commits.get(p)!.get(b)!);
    all.push(Math.max(...times) - cut);
    first.push(Math.min(...times) - cut);
    copy += (await chain.getBlockBytes(b))!.length;
  }
  const p50 = percentile(all, 50);
  const p99 = percentile(all, 99);
  console.log(
    `${label}: ${count} blocks of ~10 KB every ${everyMs} ms: cut -> all committed p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; first peer p50 ${percentile(first, 50).toFixed(1)}, p99 ${percentile(first, 99).toFixed(1)} ms; orderer egress ${(egress / 1e6).toFixed(2)} MB (${(egress / copy).toFixed(2)} copies)`,
  );
  const kind = label.includes('gossip') ? 'gossip' : 'direct';
  figure(
    `e2e-${kind}-p99-ms`,
    p99,
    'ms',
    percentile(first, 99),
    `p50 ${p50.toFixed(1)} ms; baseline: p99 cut -> committed on the first peer (one hop) in the same run`,
  );
  figure(
    `e2e-${kind}-egress`,
    egress,
    'bytes',
    copy,
    'orderer DeliverResponse bytes for the run; baseline: one copy of the blocks',
  );
}

async function failover(n: Net): Promise<void> {
  await waitFor(
    () =>
      [1, 2].every((org) => n.peers.filter((p) => p.org === org && p.service.isLeader(CHANNEL)).length === 1),
    'one leader per org',
  );
  await new Promise((r) => setTimeout(r, 1500));
  const chain = n.orderer.chain(CHANNEL)!;
  const start = chain.height();
  const stream = n.writer.open(n.orderer.address);
  const count = 120;
  const envs = n.writer.envelopes(count, 1000);
  const leader = n.peers.find((p) => p.org === 1 && p.service.isLeader(CHANNEL))!;
  let killedAt = 0;
  for (let i = 0; i < count; i++) {
    stream.send(envs[i]!);
    if (i === 30) {
      killedAt = performance.now();
      void leader.stop();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const end = start + BigInt(count);
  const rest = n.peers.filter((p) => p !== leader);
  await waitFor(() => minHeight(n, rest) >= end, 'every surviving peer');
  stream.close();
  const gap = (peers: NetPeer[]) => {
    let worst = 0;
    for (const p of peers) {
      const c = n.commits.get(p)!;
      for (let b = start + 1n; b < end; b++) worst = Math.max(worst, c.get(b)! - c.get(b - 1n)!);
    }
    return worst;
  };
  const g1 = gap(rest.filter((p) => p.org === 1));
  const g2 = gap(rest.filter((p) => p.org === 2));
  const newLeader = rest.find((p) => p.org === 1 && p.service.isLeader(CHANNEL));
  console.log(
    `failover: org 1 leader stopped at +${(killedAt - (n.cuts.get(start) ?? killedAt)).toFixed(0)} ms; new leader ${newLeader?.endpoint ?? 'none'}; longest gap org 1 ${g1.toFixed(0)} ms, org 2 ${g2.toFixed(0)} ms`,
  );
  figure(
    'failover-gap-ms',
    g1,
    'ms',
    g2,
    'longest time without a commit on org 1 survivors (leaderAliveThreshold 1 s, election 0.5 s); baseline: longest gap on org 2 in the same window',
  );
}

const t0 = Date.now();
{
  const n = await network('static');
  try {
    await throughput(n, 'e2e-throughput-10k', 300, 10_000);
    await throughput(n, 'e2e-throughput-1m', 10, 1_000_000);
    await latency(n, 'gossip latency', 200, 50);
  } finally {
    await n.stop();
  }
}
{
  const n = await network('direct');
  try {
    await latency(n, 'direct latency', 200, 50);
  } finally {
    await n.stop();
  }
}
{
  const n = await network('dynamic');
  try {
    await failover(n);
  } finally {
    await n.stop();
  }
}

console.log(
  `\n${'figure'.padEnd(22)} ${'value'.padStart(14)} ${'unit'.padEnd(9)} ${'baseline'.padStart(14)} ${'ratio'.padStart(8)}  note`,
);
for (const f of figures) {
  console.log(
    `${f.bench.padEnd(22)} ${String(f.value).padStart(14)} ${f.unit.padEnd(9)} ${String(f.baseline).padStart(14)} ${String(f.ratio).padStart(8)}  ${f.note}`,
  );
}
console.log(`(total ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
for (const f of figures) console.log(figureJson(f));
process.exit(0);
