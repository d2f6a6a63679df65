/**
 * Seeded whole-network dissemination scenarios (PROTOCOL.md §5, §6): one channel, static leaders
 * fed by an "orderer", push within each org, pull for repair. Loss, a partition that heals, and
 * crashed peers that restart: every block must reach every live peer, and no block may be
 * handed to the state layer twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seeds, FULL } from './helpers.js';
import { world, missing, CHANNEL, type World } from './dissemination-world.js';

async function issueEvery(w: World, from: number, to: number, everyMs: number): Promise<void> {
  for (let s = from; s <= to; s++) {
    w.issue(BigInt(s));
    await w.net.clock.runFor(everyMs);
  }
}

function assertNoDuplicates(w: World): void {
  for (const n of w.members) assert.equal(w.ledgers.get(n.endpoint)!.duplicates, 0, `${n.endpoint} was handed a block twice`);
}

test('sim: 2 orgs x 5 peers, Fabric defaults: membership converges, every block reaches every peer once', async () => {
  const w = await world(1, { orgs: 2, peersPerOrg: 5, blocks: 10 });
  await w.net.clock.runFor(20_000);
  for (const n of w.members) {
    const peers = w.gossip.get(n.endpoint)!.peersOfChannel(CHANNEL);
    assert.equal(peers.length, 9, `${n.endpoint} sees ${peers.length}`);
    assert.ok(peers.every((p) => p.properties !== undefined));
  }
  await issueEvery(w, 1, 10, 500);
  await w.net.clock.runUntil(() => missing(w, 10n).length === 0, 20_000);
  assert.deepEqual(missing(w, 10n), []);
  assertNoDuplicates(w);
  // blocks stay inside each org: peers got them from a same-org leader or peer
  for (const n of w.members) {
    const metrics = n.metrics;
    assert.equal(await metrics.value('gossip_dropped', { reason: 'bad_block' }), 0);
  }
});

test('sim: a peer of an org outside the channel gets no block and refuses channel traffic', async () => {
  const w = await world(3, { orgs: 3, peersPerOrg: 3, channelOrgs: [1, 2], blocks: 5 });
  await w.net.clock.runFor(20_000);
  await issueEvery(w, 1, 5, 500);
  await w.net.clock.runUntil(() => missing(w, 5n).length === 0, 20_000);
  assert.deepEqual(missing(w, 5n), []);
  for (const n of w.nodes.filter((x) => w.orgOf(x) === 3)) {
    const ledger = w.ledgers.get(n.endpoint)!;
    assert.equal(ledger.handed.size, 0);
    assert.equal(await n.metrics.value('gossip_blocks_received'), 0);
    assert.deepEqual(w.gossip.get(n.endpoint)!.channelNames(), []);
  }
});

interface FaultRun {
  readonly orgs: number;
  readonly peersPerOrg: number;
  readonly loss: number;
}

/** Loss all along; a partition of a few non-leaders that heals; crashed peers that restart. */
async function faultScenario(seed: number, o: FaultRun): Promise<World> {
  // The block window is raised above the blocks a crashed or cut-off peer misses: without state
  // transfer (off by default in Fabric too) only the newest maxBlockCountToStore blocks can be pulled.
  const w = await world(seed, { orgs: o.orgs, peersPerOrg: o.peersPerOrg, blocks: 16, gossip: { channel: { maxBlockCountToStore: 30 } } });
  // loss-free warm-up: a lost bootstrap MembershipRequest is retried only after reconnectInterval (25 s)
  await w.net.clock.runFor(15_000);
  w.setLinks({ loss: o.loss });
  await issueEvery(w, 1, 4, 1000);
  // partition: a few non-leader peers of org 1 cut off from everyone else
  const org1 = w.members.filter((n) => w.orgOf(n) === 1);
  const cut = org1.slice(1, 1 + Math.max(2, Math.floor(org1.length / 5))).map((n) => n.endpoint);
  const rest = w.nodes.map((n) => n.endpoint).filter((e) => !cut.includes(e));
  w.net.partition(cut, rest);
  await issueEvery(w, 5, 8, 1000);
  w.net.heal();
  // crash a few non-leaders of every org, issue more, restart them
  const crashed = w.members.filter((n) => n !== w.members.find((m) => w.orgOf(m) === w.orgOf(n))).filter((_, i) => i % 7 === 3);
  for (const n of crashed) n.crash();
  await issueEvery(w, 9, 12, 1000);
  for (const n of crashed) n.restart();
  await issueEvery(w, 13, 16, 1000);
  await w.net.clock.runUntil(() => missing(w, 16n).length === 0, 40_000);
  return w;
}

for (const seed of seeds(2, 12)) {
  test(`sim: 2 orgs x 15 peers, 2% loss, partition+heal, crash+restart (seed ${seed})`, async () => {
    const w = await faultScenario(seed, { orgs: 2, peersPerOrg: 15, loss: 0.02 });
    assert.deepEqual(missing(w, 16n), []);
    assertNoDuplicates(w);
  });
}

// 100 simulated peers cost about a minute of CPU (discovery's alive flooding dominates), so the
// quick suite runs 40 and the full suite (GRAPEVINE_TEST_FULL=1) runs 100 over several seeds.
for (const seed of seeds(1, 3, 201)) {
  test(`sim: 40 peers (2 orgs x 20), 1% loss, partition+heal, crash+restart (seed ${seed})`, async () => {
    const w = await faultScenario(seed, { orgs: 2, peersPerOrg: 20, loss: 0.01 });
    assert.deepEqual(missing(w, 16n), []);
    assertNoDuplicates(w);
  });
}

for (const seed of FULL ? seeds(3, 3, 101) : []) {
  test(`sim: 100 peers (2 orgs x 50), 1% loss, partition+heal, crash+restart (seed ${seed})`, async () => {
    const w = await faultScenario(seed, { orgs: 2, peersPerOrg: 50, loss: 0.01 });
    assert.deepEqual(missing(w, 16n), []);
    assertNoDuplicates(w);
  });
}

test('sim: same seed, same trace', async () => {
  const run = async () => {
    const w = await world(77, { orgs: 2, peersPerOrg: 4, blocks: 4, link: { loss: 0.05 } });
    await w.net.clock.runFor(12_000);
    await issueEvery(w, 1, 4, 700);
    await w.net.clock.runFor(10_000);
    return { trace: w.net.traceHash(), heights: [...w.ledgers.values()].map((l) => l.height) };
  };
  const a = await run();
  const b = await run();
  assert.deepEqual(a, b);
});
