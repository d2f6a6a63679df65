/**
 * Seeded whole-network dissemination scenarios (PROTOCOL.md §5, §6): one channel, static leaders
 * fed by an "orderer", push within each org, pull for repair. Loss, a partition that heals, and
 * crashed peers that restart: every block must reach every live peer, and no block may be
 * handed to the state layer twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seeds } from './helpers.js';
import { world, missing, CHANNEL, type World } from './dissemination-world.js';
import { faultScenario, issueEvery, type FaultOutcome } from './dissemination-faults.js';

function assertNoDuplicates(w: World): void {
  for (const n of w.members)
    assert.equal(w.ledgers.get(n.endpoint)!.duplicates, 0, `${n.endpoint} was handed a block twice`);
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
    assert.equal(await metrics.value('grapevine_gossip_dropped_total', { reason: 'bad_block' }), 0);
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
    assert.equal(await n.metrics.value('grapevine_gossip_blocks_received_total'), 0);
    assert.deepEqual(w.gossip.get(n.endpoint)!.channelNames(), []);
  }
});

/**
 * Every block reached every live peer, none was handed over twice, and the peers the scenario
 * hurt caught up: the cut-off peers got the blocks issued during the partition, the crashed ones
 * (up again, second incarnation) were handed, after their restart, every block issued while down.
 */
function assertFaultOutcome({ w, crashed, cut, blocks }: FaultOutcome): void {
  assert.deepEqual(missing(w, blocks), []);
  assertNoDuplicates(w);
  assert.ok(cut.length >= 2, 'the scenario cut off no peers');
  for (const e of cut) {
    const l = w.ledgers.get(e)!;
    for (let s = 5n; s <= 8n; s++) assert.ok(l.committedAt.has(s), `cut-off ${e} never committed block ${s}`);
  }
  assert.ok(crashed.length >= 2, 'the scenario crashed no peers');
  for (const n of crashed) {
    assert.ok(n.isUp && n.incarnation === 2, `${n.endpoint} did not restart`);
    const l = w.ledgers.get(n.endpoint)!;
    assert.equal(l.height, blocks + 1n, `restarted ${n.endpoint} stopped at height ${l.height}`);
    for (let s = 9n; s <= 12n; s++)
      assert.equal(
        l.handed.get(s),
        1,
        `restarted ${n.endpoint}: block ${s} handed ${l.handed.get(s) ?? 0} times after restart`,
      );
  }
}

for (const seed of seeds(2, 12)) {
  test(`sim: 2 orgs x 15 peers, 2% loss, partition+heal, crash+restart (seed ${seed})`, async () => {
    assertFaultOutcome(await faultScenario(seed, { orgs: 2, peersPerOrg: 15, loss: 0.02 }));
  });
}

for (const seed of seeds(1, 3, 201)) {
  test(`sim: 40 peers (2 orgs x 20), 1% loss, partition+heal, crash+restart (seed ${seed})`, async () => {
    assertFaultOutcome(await faultScenario(seed, { orgs: 2, peersPerOrg: 20, loss: 0.01 }));
  });
}

// Issue 4's network size: 100 peers, one seed in the quick suite (about 30 s of CPU), several
// under GRAPEVINE_TEST_FULL=1.
for (const seed of seeds(1, 5, 101)) {
  test(`sim: 100 peers (2 orgs x 50), 1% loss, partition+heal, crash+restart (seed ${seed})`, async () => {
    assertFaultOutcome(await faultScenario(seed, { orgs: 2, peersPerOrg: 50, loss: 0.01 }));
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
