/**
 * Block streams on the simulation (issue 13): every peer runs the full GossipService with streams
 * on (e2e-world.ts `streams`: Deliver served over the sim rpc, SimUpstreamConnector), the
 * MemoryOrderer behind the deliver client.
 *   - the planned tree forms: every follower has an upstream, no peer serves more than `fanout`
 *     followers, exactly one peer per org pulls from the orderer, every copy of a block a peer
 *     receives is one stream (or orderer) copy;
 *   - killing the root: every survivor commits the next block within 2 s of virtual time;
 *   - seeded faults (crash and restart, partition and heal, 1 % loss, upstream churn: the peer
 *     others stream from is killed again and again): every live peer commits every block exactly
 *     once, in order, byte for byte (SimDisk refuses and counts a double or out-of-order commit).
 *     A sample of seeds in `npm test`, 1,000 under `npm run test:full` (GRAPEVINE_TEST_FULL=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/sim/rng.js';
import type { SimNode } from '../../src/sim/index.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { CHANNEL, copiesTotal, e2eWorld, type E2eWorld } from './e2e-world.js';
import { seeds } from './helpers.js';

function assertLedgers(w: E2eWorld, height: bigint, what: string): void {
  for (const n of w.nodes) {
    const disk = w.disks.get(n.endpoint)!;
    assert.equal(disk.refused, 0, `${what}: ${n.endpoint}: a block was committed twice or out of order`);
    if (!n.isUp) continue;
    assert.equal(disk.height, height, `${what}: ${n.endpoint} height`);
    for (let i = 0; i < Number(height); i++)
      assert.ok(
        Buffer.from(disk.blocks[i]!).equals(Buffer.from(w.chain[i]!)),
        `${what}: ${n.endpoint} block ${i}`,
      );
  }
}

const follower = (w: E2eWorld, n: SimNode) => w.services.get(n.endpoint)!.channel(CHANNEL)!.follower!;
const delivering = (w: E2eWorld, n: SimNode) => w.services.get(n.endpoint)!.deliverer(CHANNEL) !== undefined;

/** The peers of `org` that pull from the orderer (leader or acting source), live ones only. */
const pullers = (w: E2eWorld, org: number) =>
  w.nodes.filter((n) => n.isUp && w.orgOf(n) === org && delivering(w, n));

/** The live peer most others of its org stream from (the root of the tree), if any. */
function busiestUpstream(w: E2eWorld, org: number): SimNode | undefined {
  const kids = new Map<string, number>();
  for (const n of w.nodes) {
    if (!n.isUp || w.orgOf(n) !== org) continue;
    const u = follower(w, n).upstream;
    if (u) kids.set(pkiIdKey(u.pkiId), (kids.get(pkiIdKey(u.pkiId)) ?? 0) + 1);
  }
  let best: SimNode | undefined;
  let most = 0;
  for (const n of w.nodes) {
    const k = kids.get(pkiIdKey(n.identity.pkiId)) ?? 0;
    if (n.isUp && k > most) [best, most] = [n, k];
  }
  return best;
}

async function cutEvery(w: E2eWorld, blocks: number, ms: number): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    w.cut();
    await w.net.clock.runFor(ms);
  }
}

test('streams: the planned tree forms (fan-out bound, every follower has an upstream, one orderer stream per org, one copy per block)', async () => {
  const fanout = 3;
  const w = await e2eWorld(21, { orgs: 2, peersPerOrg: 12, blocks: 60, streams: { fanout } });
  await w.net.clock.runFor(20_000);
  await cutEvery(w, 20, 500);
  // steady state: rebalancing settles (rebalanceAfter 10 s), then count copies over 30 blocks
  await w.net.clock.runFor(12_000);
  const before = new Map([...w.copies].map(([k, c]) => [k, copiesTotal(c)]));
  await cutEvery(w, 30, 500);
  assert.ok(await w.net.clock.runUntil(() => w.behind(51n).length === 0, 10_000), `behind: ${w.behind(51n)}`);
  assertLedgers(w, 51n, 'tree');
  for (const org of [1, 2]) {
    assert.equal(pullers(w, org).length, 1, `org ${org}: one peer pulls from the orderer`);
    const [root] = pullers(w, org);
    const kids = new Map<string, number>();
    for (const n of w.nodes.filter((x) => w.orgOf(x) === org)) {
      const f = follower(w, n);
      if (n === root) {
        assert.equal(f.upstream, undefined, `${n.endpoint}: the root streams from nobody`);
        continue;
      }
      assert.ok(f.upstream, `${n.endpoint} has an upstream`);
      assert.equal(f.lastPlan.kind, 'upstream');
      const k = pkiIdKey(f.upstream.pkiId);
      kids.set(k, (kids.get(k) ?? 0) + 1);
    }
    for (const [k, c] of kids) assert.ok(c <= fanout, `org ${org}: ${k.slice(0, 8)} serves ${c} > ${fanout}`);
    // depth grows with log N: 12 peers, fan-out 3 -> no peer deeper than 3
    for (const n of w.nodes.filter((x) => w.orgOf(x) === org && x !== root)) {
      const plan = follower(w, n).lastPlan;
      assert.ok(plan.kind === 'upstream' && plan.depth <= 3, `${n.endpoint} depth`);
    }
  }
  for (const n of w.nodes) {
    const got = copiesTotal(w.copies.get(n.endpoint)!) - before.get(n.endpoint)!;
    assert.equal(got, 30, `${n.endpoint}: ${got} copies of 30 blocks`);
    const arrived = await w.arrivals(n);
    assert.equal(
      (arrived.stream ?? 0) + (arrived.orderer ?? 0),
      50,
      `${n.endpoint}: ${JSON.stringify(arrived)}`,
    );
  }
});

test('streams: after the root is killed every survivor commits the next block within 2 s', async () => {
  const w = await e2eWorld(5, { orgs: 2, peersPerOrg: 10, blocks: 40, streams: true });
  await w.net.clock.runFor(20_000);
  await cutEvery(w, 10, 500);
  await w.net.clock.runFor(12_000);
  for (let round = 0; round < 3; round++) {
    const [root] = pullers(w, 1);
    assert.ok(root, 'org 1 has a root');
    w.crash(root);
    const killedAt = w.net.clock.now();
    const seq = w.cut();
    assert.ok(
      await w.net.clock.runUntil(() => w.behind(seq + 1n).length === 0, 2000),
      `round ${round}: not committed 2 s after the kill: ${w.behind(seq + 1n)}`,
    );
    const worst = Math.max(
      ...w.nodes.filter((n) => n.isUp).map((n) => w.disks.get(n.endpoint)!.at[Number(seq)]! - killedAt),
    );
    assert.ok(worst <= 2000, `round ${round}: ${worst} ms`);
    await cutEvery(w, 4, 500);
    w.restart(root);
    await w.net.clock.runFor(15_000);
  }
  const h = w.orderer.height;
  assert.ok(await w.net.clock.runUntil(() => w.behind(h).length === 0, 30_000), `behind: ${w.behind(h)}`);
  assertLedgers(w, h, 'root kills');
});

/**
 * One seeded run: 2 orgs x 5 peers, 30 blocks cut 200-600 ms apart, faults drawn from the seed:
 * crashes of random peers (restarted a few blocks later), kills of the busiest upstream (upstream
 * churn), a partition of one org in two (healed a few blocks later), and 1 % loss on every link
 * for a third of the seeds.
 */
async function faults(seed: number): Promise<void> {
  const rng = new SeededRng(seed ^ 0x57e4);
  const lossy = rng.int(3) === 0;
  const blocks = 30;
  const w = await e2eWorld(seed, {
    orgs: 2,
    peersPerOrg: 5,
    blocks,
    streams: true,
    ...(lossy ? { link: { loss: 0.01 } } : {}),
  });
  await w.net.clock.runFor(15_000 + rng.int(10_000));
  const down: { node: SimNode; until: number }[] = [];
  let healAt = -1;
  const isDown = (n: SimNode) => down.some((d) => d.node === n);
  for (let b = 1; b <= blocks; b++) {
    w.cut();
    const roll = rng.int(10);
    if (roll === 0) {
      const n = w.nodes[rng.int(w.nodes.length)]!;
      if (n.isUp && !isDown(n)) {
        w.crash(n);
        down.push({ node: n, until: b + 1 + rng.int(6) });
      }
    } else if (roll === 1 || roll === 2) {
      const root = busiestUpstream(w, 1 + rng.int(2));
      if (root && !isDown(root)) {
        w.crash(root);
        down.push({ node: root, until: b + 1 + rng.int(6) });
      }
    } else if (roll === 3 && healAt < 0) {
      const org = 1 + rng.int(2);
      const members = w.nodes.filter((n) => w.orgOf(n) === org).map((n) => n.endpoint);
      const cut = 1 + rng.int(members.length - 1);
      const others = w.nodes.filter((n) => w.orgOf(n) !== org).map((n) => n.endpoint);
      w.net.partition([...members.slice(0, cut), ...others], members.slice(cut));
      healAt = b + 2 + rng.int(6);
    }
    if (b === healAt) {
      w.net.heal();
      healAt = -1;
    }
    for (const d of down.filter((x) => x.until === b)) {
      w.restart(d.node);
      down.splice(down.indexOf(d), 1);
    }
    await w.net.clock.runFor(200 + rng.int(400));
  }
  w.net.heal();
  for (const d of down) w.restart(d.node);
  const h = BigInt(blocks + 1);
  const done = await w.net.clock.runUntil(() => w.behind(h).length === 0, 120_000);
  assert.ok(done, `seed ${seed}${lossy ? ' (lossy)' : ''}: behind: ${w.behind(h).join(', ')}`);
  assertLedgers(w, h, `seed ${seed}`);
}

const FAULT_SEEDS = seeds(6, 1000, 3);

test(`streams: crash, restart, partition and heal, 1 % loss, upstream churn over ${FAULT_SEEDS.length} seeds: every live peer commits every block once, in order`, async () => {
  for (const seed of FAULT_SEEDS) await faults(seed);
});
