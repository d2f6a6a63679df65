/**
 * Block streams benchmark (`npm run bench streams`), issue 13. Parts (GRAPEVINE_BENCH_PART=sim or
 * =net runs one; comma-separated for several): `sim` here; `net` (real sockets) is added by its
 * own section below.
 *
 * Part sim: the simulation, one latency model for every mode (SimNetwork default link: 5 ms
 * + [0, 2) ms jitter per hop, 125 MB/s per link, no loss), ~16 KB blocks (8 transactions of 1 KB)
 * cut by a MemoryOrderer (5 ms to each peer) every 500 ms (2 blocks/s), Fabric timers (profile
 * fabric, state transfer at Fabric's 10 s), dynamic election.
 *   stream-sim-100-p99-ms: 2 orgs x 50 peers, every peer the full GossipService
 *     (test/sim/e2e-world.ts): per block, the time from the orderer cutting it until every peer
 *     has committed it; p99 over the blocks. Baseline: the same world with streams off (Fabric
 *     mode: leaders pull from the orderer, push and pull to the rest), same blocks, same run.
 *   stream-sim-1000-*: see sim1000() below for what runs at 1,000 peers and why.
 *   copies: full block copies a peer received per block, averaged over peers: Deliver block
 *     frames (from upstream peers, and from the orderer for the peers that pull from it), gossip
 *     DataMsg blocks, blocks in pull updates and in state-transfer responses.
 *   control share: dissemination control bytes received by all peers / (peers x blocks x block
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
import { percentile } from './lib/figures.js';
import { Report, runParts } from './lib/report.js';

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
  if (!done) throw new Error(`${streams ? 'streams' : 'fabric'}: behind ${w.behind(h).slice(0, 5).join(', ')}`);
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
      [...by, ['streamOverhead', overhead] as const].map(([k, v]) => [k, Math.round((1e4 * v) / denom) / 100]),
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
  if (process.env.STREAMS_ONLY) return;
  const off = await fullWorld(50, false, BLOCKS);
  show('sim 100 fabric mode', off);
  report.fig('stream-sim-100-p99-ms', percentile(on.latencies, 99), 'ms', percentile(off.latencies, 99));
  report.fig('stream-sim-100-copies', on.copies, 'copies/peer/block', off.copies);
  report.fig('stream-sim-100-control-share', on.controlShare, 'share', off.controlShare);
}

async function sim(): Promise<void> {
  await sim100();
}

await runParts({ sim });
report.print('baselines: measured in the same run (see the header of bench/streams.bench.ts)');
process.exit(0);
