/**
 * Dissemination benchmark (`npm run bench dissem`).
 *   Simulation, 100 peers (2 orgs x 50), Fabric defaults, one channel, static leaders fed one
 *   block every 2 s: share of (peer, block) pairs reached by push alone, time until every peer
 *   has a block (p50/p99 over blocks), full-block copies received per peer per block, channel
 *   control bytes (StateInfo, state pull, block pull hello/digest/request) received per block.
 *   Real sockets, 10 peers (2 orgs x 5, TLS) in one process: the same figures plus CPU ms per
 *   block per peer and RSS.
 * GRAPEVINE_BENCH_PART=sim or =net runs one part only.
 * Baseline, measured in the same run: an ideal flood (the leader sends the block straight to
 *   every peer of its org): coverage 1, one copy per peer, its own time to reach everyone.
 */
import { world, CHANNEL, type World } from '../test/sim/dissemination-world.js';
import { netWorld } from '../test/net/dissemination-net.js';
import { until } from '../test/helpers/until.js';
import { makeChain } from '../src/sim/blockmaker.js';
import { unsignedGossip, Tag, PullMsgType } from '../src/wire/gossip.js';
import type { ReceivedMessage } from '../src/core/link/types.js';
import { figureJson, percentile, type Figure } from './lib/figures.js';

const figures: Figure[] = [];
const r2 = (x: number) => Math.round(x * 100) / 100;
function fig(bench: string, value: number, unit: string, baseline: number): void {
  figures.push({
    bench,
    value: r2(value),
    unit,
    baseline: r2(baseline),
    ratio: baseline === 0 ? 0 : r2(value / baseline),
  });
}
const CONTROL = new Set(['stateInfo', 'stateSnapshot', 'stateInfoPullReq']);
function isControl(m: ReceivedMessage): boolean {
  const c = m.message.content;
  if (c.case && CONTROL.has(c.case)) return true;
  return (
    (c.case === 'hello' || c.case === 'dataDig' || c.case === 'dataReq') &&
    c.value.msgType === PullMsgType.BLOCK_MSG
  );
}
function dataMsg(channel: string, seqNum: bigint, data: Uint8Array) {
  return unsignedGossip({
    tag: Tag.CHAN_AND_ORG,
    nonce: 0n,
    channel: new TextEncoder().encode(channel),
    content: { case: 'dataMsg', value: { payload: { seqNum, data } } },
  }).envelope;
}

async function sim(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const BLOCKS = 10;
  const w: World = await world(11, {
    orgs: 2,
    peersPerOrg: 50,
    blocks: BLOCKS + 1,
    txCount: 10,
    txBytes: 1000,
  });
  let control = 0;
  let copies = 0;
  let measuring = false;
  for (const n of w.nodes)
    n.onBoot((node) =>
      node.transport.subscribe(
        () => true,
        (m) => {
          if (!measuring) return;
          if (isControl(m)) control += m.envelope.payload.length + m.envelope.signature.length;
          else if (m.message.content.case === 'dataMsg') copies++;
          else if (
            m.message.content.case === 'dataUpdate' &&
            m.message.content.value.msgType === PullMsgType.BLOCK_MSG
          )
            copies += m.message.content.value.data.length;
        },
      ),
    );
  await w.net.clock.runFor(20_000);
  measuring = true;
  for (let s = 1; s <= BLOCKS; s++) {
    w.issue(BigInt(s));
    await w.net.clock.runFor(2000);
  }
  await w.net.clock.runFor(15_000);
  measuring = false;
  const leaders = new Set([1, 2].map((o) => w.members.find((n) => w.orgOf(n) === o)!.endpoint));
  const receivers = w.members.filter((n) => !leaders.has(n.endpoint));
  let byPush = 0;
  const full: number[] = [];
  for (let s = 1n; s <= BigInt(BLOCKS); s++) {
    let last = 0;
    for (const n of receivers) {
      const l = w.ledgers.get(n.endpoint)!;
      if (l.source.get(s) === 'push') byPush++;
      last = Math.max(last, (l.handedAt.get(s) ?? Infinity) - w.issuedAt.get(s)!);
    }
    full.push(last);
  }
  // ideal flood: each leader sends block BLOCKS+1 straight to every peer of its org
  const seq = BigInt(BLOCKS + 1);
  const t0 = w.net.clock.now();
  for (const le of leaders) {
    const ln = w.nodes.find((n) => n.endpoint === le)!;
    const peers = receivers
      .filter((n) => n.identity.org === ln.identity.org)
      .map((n) => ({ endpoint: n.endpoint, pkiId: n.identity.pkiId }));
    ln.transport.send(dataMsg(CHANNEL, seq, w.blocks[BLOCKS]!), ...peers);
  }
  await w.net.clock.runFor(5000);
  const flood = Math.max(
    ...receivers.map((n) => (w.ledgers.get(n.endpoint)!.handedAt.get(seq) ?? Infinity) - t0),
  );
  const pairs = receivers.length * BLOCKS;
  fig('dissem-sim-100-push-coverage', byPush / pairs, 'share', 1);
  fig('dissem-sim-100-p50-ms', percentile(full, 50), 'ms', flood);
  fig('dissem-sim-100-p99-ms', percentile(full, 99), 'ms', flood);
  fig('dissem-sim-100-copies', copies / pairs, 'copies/peer/block', 1);
  fig('dissem-sim-100-control-bytes', control / BLOCKS, 'bytes/block', 0);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `sim: ${Math.round(w.net.clock.elapsed() / 1000)} virtual s in ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s`,
  );
}

async function net(): Promise<void> {
  const BLOCKS = 20;
  const w = await netWorld({ orgs: 2, peersPerOrg: 5, channels: { mychannel: [1, 2] } });
  try {
    await until(
      () => w.peers.every((p) => p.node.peersOfChannel('mychannel').length === 9),
      'membership',
      60_000,
    );
    let control = 0;
    let copies = 0;
    for (const p of w.peers)
      p.transport.subscribe(
        () => true,
        (m) => {
          if (isControl(m)) control += m.envelope.payload.length + m.envelope.signature.length;
          else if (m.message.content.case === 'dataMsg') copies++;
          else if (
            m.message.content.case === 'dataUpdate' &&
            m.message.content.value.msgType === PullMsgType.BLOCK_MSG
          )
            copies += m.message.content.value.data.length;
        },
      );
    const blocks = makeChain({
      channel: 'mychannel',
      orderer: w.orderer,
      n: BLOCKS + 1,
      txCount: 10,
      txBytes: 1000,
    });
    const leaders = [1, 2].map((o) => w.peers.find((p) => p.org === o)!);
    const receivers = w.peers.filter((p) => !leaders.includes(p));
    const issued = new Map<bigint, number>();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let s = 1; s <= BLOCKS; s++) {
      issued.set(BigInt(s), performance.now());
      for (const l of leaders) l.node.gossipBlock('mychannel', BigInt(s), blocks[s - 1]!);
      await new Promise((r) => setTimeout(r, 100));
    }
    const all = (s: bigint) => receivers.every((p) => p.got.get('mychannel')?.has(s));
    await until(() => all(BigInt(BLOCKS)) && [...issued.keys()].every(all), 'every block everywhere', 30_000);
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    const full = [...issued].map(([s, at]) =>
      Math.max(...receivers.map((p) => p.got.get('mychannel')!.get(s)! - at)),
    );
    const pushMetric = await Promise.all(
      receivers.map((p) => p.metrics.value('grapevine_gossip_blocks_received_total', { source: 'push' })),
    );
    const byPush = pushMetric.reduce((a, b) => a + b, 0);
    // ideal flood baseline
    const seq = BigInt(BLOCKS + 1);
    const tf = performance.now();
    for (const l of leaders) {
      const peers = receivers
        .filter((p) => p.org === l.org)
        .map((p) => ({ endpoint: p.transport.endpoint, pkiId: p.transport.selfPkiId }));
      l.transport.send(dataMsg('mychannel', seq, blocks[BLOCKS]!), ...peers);
    }
    await until(() => all(seq), 'flood block', 10_000);
    const flood = Math.max(...receivers.map((p) => p.got.get('mychannel')!.get(seq)! - tf));
    const pairs = receivers.length * BLOCKS;
    fig('dissem-net-10-push-coverage', byPush / pairs, 'share', 1);
    fig('dissem-net-10-p50-ms', percentile(full, 50), 'ms', flood);
    fig('dissem-net-10-p99-ms', percentile(full, 99), 'ms', flood);
    fig('dissem-net-10-copies', copies / pairs, 'copies/peer/block', 1);
    fig('dissem-net-10-control-bytes', control / BLOCKS, 'bytes/block', 0);
    fig(
      'dissem-net-10-cpu-ms',
      (cpu.user + cpu.system) / 1000 / BLOCKS / w.peers.length,
      'cpu-ms/block/peer',
      0,
    );
    fig('dissem-net-10-rss-mb', process.memoryUsage().rss / 2 ** 20, 'MB', 0);
    console.log(`net: ${BLOCKS} blocks in ${Math.round(wall)} ms wall`);
  } finally {
    await w.stop();
  }
}

const part = process.env.GRAPEVINE_BENCH_PART;
if (part !== 'net') await sim();
if (part !== 'sim') await net();
console.log('\nbaseline: ideal flood (leader sends straight to every org peer), same run; 0 = none');
console.log(
  [
    'bench'.padEnd(32),
    'value'.padStart(10),
    'unit'.padEnd(20),
    'baseline'.padStart(10),
    'ratio'.padStart(7),
  ].join(' '),
);
for (const f of figures)
  console.log(
    [
      f.bench.padEnd(32),
      String(f.value).padStart(10),
      f.unit.padEnd(20),
      String(f.baseline).padStart(10),
      String(f.ratio).padStart(7),
    ].join(' '),
  );
for (const f of figures) console.log(figureJson(f));
process.exit(0);
