/**
 * Block streams benchmark (`npm run bench streams`), issue 13. Parts (GRAPEVINE_BENCH_PART=sim,
 * =net, =relay or =failover runs one; comma-separated for several): `sim` here; `net` (real
 * sockets, 2 orgs x 5 peers + orderer, TLS: bench/streams-net.ts, its figures and baselines in its
 * header); `relay` (4 real Fabric peers behind one Grapevine relay: bench/streams-relay.ts);
 * `failover` (SIGKILL of the orderer puller among 6 peer daemons, stream-failover-p99-ms:
 * bench/streams-failover.ts, GRAPEVINE_BENCH_FAILOVER_KILLS kills, default 20).
 *
 * Part sim: the simulation, one latency model for every mode (SimNetwork default link: 5 ms
 * + [0, 2) ms jitter per hop, 125 MB/s per link, no loss), ~16 KB blocks (8 transactions of 1 KB)
 * cut by a MemoryOrderer (5 ms to each peer) every 500 ms (2 blocks/s), Fabric timers (profile
 * fabric, state transfer at Fabric's 10 s), dynamic election.
 *   stream-sim-100-p99-ms: 2 orgs x 50 peers, every peer the full GossipService
 *     (test/sim/e2e-world.ts): per block, the time from the orderer cutting it until every peer
 *     has committed it; p99 over the blocks. Baseline: the same world with streams off (Fabric
 *     mode: leaders pull from the orderer, push and pull to the rest), same blocks, same run.
 *   stream-sim-1000-*: 2 orgs x 500 peers. The full GossipService world does not run at this size
 *     on one core: profiled (--cpu-prof) at 400 peers, membership start-up opens a gossip
 *     connection between every pair of peers (N^2/2 handshakes), every StateInfo is matched
 *     against the channel MAC and checked, and garbage collection takes 25 %: 62 CPU s for
 *     0.5 virtual s at 400 peers and 2.2 GB; at 1,000 peers one 250 ms virtual step ran for
 *     minutes past 8 GB. So the 1,000-peer figures run the stream layer alone
 *     (test/sim/stream-world.ts: the real StreamFollower, the Deliver serving logic over the sim
 *     rpc, verification, flow-controlled commits; membership and StateInfo heights from an oracle
 *     that follows the streaming StateInfo throttle). Fabric mode cannot run at 1,000 peers at
 *     all (it is the same gossip stack), so the baseline of stream-sim-1000-p99-ms is the
 *     Fabric-mode p99 measured at 100 peers in this run; stream-sim-1000-control-share counts
 *     the stream overhead only (no StateInfo in that world: the 100-peer figure has it).
 *   copies: full block copies a peer received per block, averaged over peers: Deliver block
 *     frames (from upstream peers, and from the orderer for the peers that pull from it), gossip
 *     DataMsg blocks, blocks in pull updates and in state-transfer responses.
 *   control share (in % of block bytes): dissemination control bytes received by all peers / (peers x blocks x block
 *     size), over the measured blocks. Control = the channel messages that steer block
 *     dissemination but carry no block: StateInfo, StateInfo pull requests and snapshots, block
 *     pull hello/digest/request, state-transfer requests, leadership messages, plus the block
 *     streams' own overhead (seek envelopes, Deliver framing and statuses, the rpc's per-message
 *     and flow-control bytes; e2e-world.ts streamOverhead). Gossip bytes are envelope payload +
 *     signature, as bench/dissem.bench.ts counts them. Membership (alive, membership
 *     request/response, identity pull) is not dissemination control; it is shown in the table.
 */
import { e2eWorld, copiesTotal, type E2eWorld } from '../test/sim/e2e-world.js';
import { PullMsgType } from '../src/wire/gossip.js';
import type { ReceivedMessage } from '../src/core/link/types.js';
import { streamWorld } from '../test/sim/stream-world.js';
import { percentile } from './lib/figures.js';
import { Report, runParts } from './lib/report.js';
import { runNet } from './streams-net.js';
import { relayFigures } from './streams-relay.js';
import { failoverFigures } from './streams-failover.js';

const report = new Report();

// ---- part sim ---------------------------------------------------------------------------------

const TX_COUNT = 8;
const TX_BYTES = 1000;
const BLOCK_MS = 500;
const FABRIC_STATE = { checkIntervalMs: 10_000, responseTimeoutMs: 3000 };

const CONTROL = new Set(['stateInfo', 'stateSnapshot', 'stateInfoPullReq', 'stateRequest', 'leadershipMsg']);
const MEMBERSHIP = new Set(['aliveMsg', 'memReq', 'memRes']);

/** What a received gossip message counts as: control, membership, or neither (blocks, rest). */
function kindOf(m: ReceivedMessage): 'control' | 'membership' | undefined {
  const c = m.message.content;
  if (!c.case) return undefined;
  if (CONTROL.has(c.case)) return 'control';
  if (MEMBERSHIP.has(c.case)) return 'membership';
  if (c.case === 'hello' || c.case === 'dataDig' || c.case === 'dataReq' || c.case === 'dataUpdate')
    return c.value.msgType === PullMsgType.BLOCK_MSG
      ? c.case === 'dataUpdate'
        ? undefined
        : 'control'
      : 'membership';
  return undefined;
}

interface SimRun {
  /** Per block: cut -> last peer committed, ms. */
  readonly latencies: number[];
  readonly copies: number;
  readonly controlShare: number;
  readonly membershipShare: number;
  readonly blockBytes: number;
  readonly cpuS: number;
  readonly virtualS: number;
  readonly ordererStreams: number;
  /** Control bytes by message, as shares of block bytes. */
  readonly controlBy: Record<string, number>;
}

async function fullWorld(peersPerOrg: number, streams: boolean, blocks: number): Promise<SimRun> {
  const cpu0 = process.cpuUsage();
  const w: E2eWorld = await e2eWorld(1, {
    orgs: 2,
    peersPerOrg,
    blocks: blocks + 1,
    txCount: TX_COUNT,
    txBytes: TX_BYTES,
    streams,
    state: FABRIC_STATE,
  });
  let measuring = false;
  let control = 0;
  let membership = 0;
  const by = new Map<string, number>();
  for (const n of w.nodes)
    n.onBoot((node) =>
      node.transport.subscribe(
        () => true,
        (m) => {
          if (!measuring) return;
          const k = kindOf(m);
          if (!k) return;
          const bytes = m.envelope.payload.length + m.envelope.signature.length;
          if (k === 'control') {
            control += bytes;
            by.set(m.message.content.case!, (by.get(m.message.content.case!) ?? 0) + bytes);
          } else membership += bytes;
        },
      ),
    );
  // membership, election and (streams) the tree settle
  await w.net.clock.runFor(30_000);
  const copies0 = new Map([...w.copies].map(([k, c]) => [k, copiesTotal(c)]));
  const overhead0 = [...w.streamOverhead.values()].reduce((a, b) => a + b, 0);
  const first = Number(w.orderer.height);
  measuring = true;
  for (let i = 0; i < blocks; i++) {
    w.cut();
    await w.net.clock.runFor(BLOCK_MS);
  }
  const h = BigInt(first + blocks);
  const done = await w.net.clock.runUntil(() => w.behind(h).length === 0, 120_000);
  measuring = false;
  if (!done)
    throw new Error(`${streams ? 'streams' : 'fabric'}: behind ${w.behind(h).slice(0, 5).join(', ')}`);
  const latencies: number[] = [];
  for (let s = first; s < first + blocks; s++) {
    const cut = w.orderer.cutTime(BigInt(s))!;
    latencies.push(Math.max(...w.nodes.map((n) => w.disks.get(n.endpoint)!.at[s]! - cut)));
  }
  const n = w.nodes.length;
  let copies = 0;
  for (const [k, c] of w.copies) copies += copiesTotal(c) - (copies0.get(k) ?? 0);
  const overhead = [...w.streamOverhead.values()].reduce((a, b) => a + b, 0) - overhead0;
  const blockBytes = w.chain[1]!.length;
  const denom = n * blocks * blockBytes;
  const ordererStreams = w.nodes.filter((x) => w.services.get(x.endpoint)!.deliverer('e2echannel')).length;
  const cpu = process.cpuUsage(cpu0);
  return {
    latencies,
    copies: copies / (n * blocks),
    controlShare: (control + overhead) / denom,
    membershipShare: membership / denom,
    blockBytes,
    cpuS: (cpu.user + cpu.system) / 1e6,
    virtualS: w.net.clock.elapsed() / 1000,
    ordererStreams,
    controlBy: Object.fromEntries(
      [...by, ['streamOverhead', overhead] as const].map(([k, v]) => [
        k,
        Math.round((1e4 * v) / denom) / 100,
      ]),
    ),
  };
}

function show(label: string, r: SimRun): void {
  report.note(
    `${label}: p50 ${percentile(r.latencies, 50).toFixed(0)} ms, p99 ${percentile(r.latencies, 99).toFixed(0)} ms, ` +
      `max ${Math.max(...r.latencies).toFixed(0)} ms over ${r.latencies.length} blocks of ${r.blockBytes} B; ` +
      `${r.copies.toFixed(3)} copies/peer/block; control ${(100 * r.controlShare).toFixed(2)} % ` +
      `(membership ${(100 * r.membershipShare).toFixed(1)} %) of block bytes; ${r.ordererStreams} orderer streams; ` +
      `${r.virtualS.toFixed(0)} virtual s in ${r.cpuS.toFixed(0)} CPU s; control by message (% of block bytes): ` +
      JSON.stringify(r.controlBy),
  );
}

async function sim100(): Promise<void> {
  // 60 blocks: a streaming peer publishes its height every lagBlocks / 2 = 25 blocks, so the
  // window holds two rounds of it
  const BLOCKS = 60;
  const on = await fullWorld(50, true, BLOCKS);
  show('sim 100 streams', on);
  const off = await fullWorld(50, false, BLOCKS);
  fabric100 = { p99: percentile(off.latencies, 99), control: 100 * off.controlShare, copies: off.copies };
  show('sim 100 fabric mode', off);
  report.fig('stream-sim-100-p99-ms', percentile(on.latencies, 99), 'ms', percentile(off.latencies, 99));
  report.fig('stream-sim-100-copies', on.copies, 'copies/peer/block', off.copies);
  report.fig(
    'stream-sim-100-control-share',
    100 * on.controlShare,
    '% of block bytes',
    100 * off.controlShare,
  );
}

let fabric100 = { p99: 0, control: 0, copies: 0 };

async function sim1000(): Promise<void> {
  const BLOCKS = 40;
  const cpu0 = process.cpuUsage();
  const w = await streamWorld(1, {
    orgs: 2,
    peersPerOrg: 500,
    blocks: BLOCKS + 1,
    txCount: TX_COUNT,
    txBytes: TX_BYTES,
  });
  await w.net.clock.runFor(10_000);
  const first = Number(w.orderer.height);
  const copies0 = w.peers.reduce((a, p) => a + p.copies, 0);
  const overhead0 = w.peers.reduce((a, p) => a + p.overhead, 0);
  for (let i = 0; i < BLOCKS; i++) {
    w.cut();
    await w.net.clock.runFor(BLOCK_MS);
  }
  const h = BigInt(first + BLOCKS);
  if (!(await w.net.clock.runUntil(() => w.behind(h) === 0, 60_000)))
    throw new Error(`sim 1000: ${w.behind(h)} behind`);
  const latencies: number[] = [];
  for (let s = first; s < first + BLOCKS; s++) {
    const cut = w.orderer.cutTime(BigInt(s))!;
    latencies.push(Math.max(...w.peers.map((p) => p.disk.at[s]! - cut)));
  }
  const n = w.peers.length;
  const copies = (w.peers.reduce((a, p) => a + p.copies, 0) - copies0) / (n * BLOCKS);
  const overhead = w.peers.reduce((a, p) => a + p.overhead, 0) - overhead0;
  const share = overhead / (n * BLOCKS * w.chain[1]!.length);
  const kids = new Map<string, number>();
  for (const p of w.peers) {
    const u = p.follower?.upstream?.endpoint;
    if (u) kids.set(u, (kids.get(u) ?? 0) + 1);
  }
  const depth = Math.max(
    ...w.peers.map((p) => (p.follower?.lastPlan.kind === 'upstream' ? p.follower.lastPlan.depth : 0)),
  );
  const cpu = process.cpuUsage(cpu0);
  report.note(
    `sim 1000 streams (stream layer): p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms ` +
      `over ${BLOCKS} blocks; ${copies.toFixed(3)} copies/peer/block; stream overhead ${(100 * share).toFixed(3)} % of block bytes; ` +
      `tree depth ${depth}, max fan-out ${Math.max(...kids.values())}; ${(w.net.clock.elapsed() / 1000).toFixed(0)} virtual s in ` +
      `${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU s`,
  );
  report.note(
    'sim 1000: Fabric mode not simulable at 1,000 peers (see the header); baseline = Fabric mode at 100 peers, this run',
  );
  report.fig('stream-sim-1000-p99-ms', percentile(latencies, 99), 'ms', fabric100.p99);
  report.fig('stream-sim-1000-copies', copies, 'copies/peer/block', fabric100.copies);
  report.fig('stream-sim-1000-control-share', 100 * share, '% of block bytes', fabric100.control);
}

async function sim(): Promise<void> {
  await sim100();
  await sim1000();
}

// ---- parts net, relay, failover (bench/streams-net.ts, streams-relay.ts, streams-failover.ts) ---

async function net(): Promise<void> {
  await runNet(
    (f) => {
      report.figures.push({
        bench: f.bench,
        value: f.value,
        unit: f.unit,
        baseline: f.baseline,
        ratio: f.ratio,
      });
      report.note(`${f.bench}: ${f.note}`);
    },
    (line) => report.note(line),
  );
}

async function relay(): Promise<void> {
  for (const f of await relayFigures()) report.figures.push(f);
}

async function failover(): Promise<void> {
  for (const f of await failoverFigures()) report.figures.push(f);
}

await runParts({ sim, net, relay, failover });
report.print('baselines: measured in the same run (see the header of bench/streams.bench.ts)');
process.exit(0);
