/**
 * End-to-end on the simulation (issue 6): the GossipService on every SimNode (2 orgs x 4 peers,
 * Fabric timers, dynamic election, state transfer on) with an in-memory orderer on two endpoints
 * behind the deliver client's connector. Leader churn over many seeds (a fixed sample in
 * `npm test`, 1,000 under GRAPEVINE_TEST_FULL=1): every live peer ends with every block, in
 * order, byte for byte; no block is ever committed twice or out of order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/sim/rng.js';
import type { SimNode } from '../../src/sim/index.js';
import { FULL } from './helpers.js';
import { CHANNEL, ORDERERS, e2eWorld, type E2eWorld } from './e2e-world.js';

const oneLeaderPerOrg = (w: E2eWorld) => w.leaders(1).length === 1 && w.leaders(2).length === 1;

function assertLedgers(w: E2eWorld, height: bigint): void {
  for (const n of w.nodes) {
    const disk = w.disks.get(n.endpoint)!;
    assert.equal(disk.refused, 0, `${n.endpoint}: a block was committed twice or out of order`);
    if (!n.isUp) continue;
    assert.equal(disk.height, height, `${n.endpoint} height`);
    for (let i = 0; i < Number(height); i++)
      assert.ok(Buffer.from(disk.blocks[i]!).equals(Buffer.from(w.chain[i]!)), `${n.endpoint} block ${i}`);
  }
}

test('sim e2e: exactly one leader per org; every peer commits every block in order; the leaders alone pull from the orderer', async () => {
  const w = await e2eWorld(11, { blocks: 20 });
  assert.ok(await w.net.clock.runUntil(() => oneLeaderPerOrg(w), 60_000), 'one leader per org');
  // at start-up no peer has StateInfo from the others yet, so every peer may win its first round
  // (Fabric's transient several leaders, §7.3); declarations settle it within one message delay
  await w.net.clock.runFor(1000);
  assert.ok(oneLeaderPerOrg(w), 'still one leader per org');
  const leaders = [w.leaders(1)[0]!, w.leaders(2)[0]!];
  const connectsBefore = [...w.orderer.connects.values()].reduce((a, b) => a + b, 0);
  for (let i = 0; i < 20; i++) {
    w.cut();
    await w.net.clock.runFor(250);
  }
  assert.ok(
    await w.net.clock.runUntil(() => w.behind(21n).length === 0, 30_000),
    `behind: ${w.behind(21n).join(', ')}`,
  );
  assertLedgers(w, 21n);
  assert.deepEqual([w.leaders(1)[0], w.leaders(2)[0]], leaders, 'leadership stayed put');
  for (const n of w.nodes) {
    const svc = w.services.get(n.endpoint)!;
    assert.equal(
      svc.deliverer(CHANNEL) !== undefined,
      leaders.includes(n),
      `${n.endpoint}: delivering iff leader`,
    );
  }
  const opened = [...w.orderer.connects.values()].reduce((a, b) => a + b, 0);
  assert.equal(opened, connectsBefore, 'no new Deliver stream once the leaders settled');
  for (const n of w.nodes) {
    const log = w.services
      .get(n.endpoint)!
      .channel(CHANNEL)!
      .leadershipLog.map((e) => e.leader);
    assert.deepEqual(
      log,
      leaders.includes(n) ? [true] : log.length ? [true, false] : [],
      `${n.endpoint} leadership changes`,
    );
  }
});

/** One churn run: leaders crash (and come back), an orderer endpoint goes down for a while. */
async function churn(seed: number): Promise<void> {
  const blocks = 24;
  const w = await e2eWorld(seed, { blocks });
  const rng = new SeededRng(seed ^ 0x5eed);
  assert.ok(await w.net.clock.runUntil(() => oneLeaderPerOrg(w), 60_000), `seed ${seed}: one leader per org`);
  const crashAt = new Set([1 + rng.int(8), 9 + rng.int(10)]);
  const ordererDownAt = rng.float() < 0.5 ? 3 + rng.int(15) : -1;
  const down: { node: SimNode; until: number }[] = [];
  for (let b = 1; b <= blocks; b++) {
    w.cut();
    if (crashAt.has(b)) {
      const org = 1 + rng.int(2);
      const [leader] = w.leaders(org);
      if (leader) {
        w.crash(leader);
        down.push({ node: leader, until: b + 2 + rng.int(10) });
      }
    }
    if (b === ordererDownAt) w.orderer.down(ORDERERS[rng.int(2)]!);
    if (b === ordererDownAt + 6) for (const a of ORDERERS) w.orderer.up(a);
    for (const d of down.filter((x) => x.until === b)) w.restart(d.node);
    await w.net.clock.runFor(200 + rng.int(400));
  }
  for (const a of ORDERERS) w.orderer.up(a);
  for (const d of down) if (!d.node.isUp) w.restart(d.node);
  const h = BigInt(blocks + 1);
  const done = await w.net.clock.runUntil(() => w.behind(h).length === 0, 120_000);
  assert.ok(done, `seed ${seed}: behind after churn: ${w.behind(h).join(', ')}`);
  assertLedgers(w, h);
}

const CHURN_SEEDS = Array.from({ length: FULL ? 1000 : 30 }, (_, i) => 1 + i * 7919);

test(`sim e2e: leader churn over ${CHURN_SEEDS.length} seeds: no block lost, none committed twice`, async () => {
  for (const seed of CHURN_SEEDS) await churn(seed);
});

test('sim e2e: the deliver client gives up -> the elected leader yields; delivery resumes once an orderer is back', async () => {
  const w = await e2eWorld(5, { blocks: 10, deliver: { reconnectTotalTimeThresholdMs: 3000 } });
  assert.ok(await w.net.clock.runUntil(() => oneLeaderPerOrg(w), 60_000));
  const first = w.leaders(1)[0]!;
  for (let i = 0; i < 3; i++) {
    w.cut();
    await w.net.clock.runFor(250);
  }
  assert.ok(await w.net.clock.runUntil(() => w.behind(4n).length === 0, 20_000));
  for (const a of ORDERERS) w.orderer.down(a);
  for (let i = 0; i < 3; i++) w.cut();
  // backoff sums past 3 s after ~14 failures; the leader yields and, for a while, is no leader
  const yielded = await w.net.clock.runUntil(
    () => !w.services.get(first.endpoint)!.isLeader(CHANNEL),
    60_000,
  );
  assert.ok(yielded, 'the leader yielded');
  const log = w.services.get(first.endpoint)!.channel(CHANNEL)!.leadershipLog;
  assert.deepEqual(
    log.map((e) => e.leader),
    [true, false],
  );
  for (const a of ORDERERS) w.orderer.up(a);
  assert.ok(
    await w.net.clock.runUntil(() => w.behind(7n).length === 0, 120_000),
    `behind: ${w.behind(7n).join(', ')}`,
  );
  assertLedgers(w, 7n);
});

test('sim e2e: new orderer endpoints from a config update while running: the deliverer moves without a gap', async () => {
  const w = await e2eWorld(7, { blocks: 12 });
  assert.ok(await w.net.clock.runUntil(() => oneLeaderPerOrg(w), 60_000));
  for (let i = 0; i < 4; i++) {
    w.cut();
    await w.net.clock.runFor(250);
  }
  const only = ORDERERS[1]!;
  for (const n of w.nodes) {
    w.services.get(n.endpoint)!.updateChannelConfig({
      channelId: CHANNEL,
      join: {
        channelId: CHANNEL,
        sequence: 1n,
        orgs: [1, 2].map((o) => ({
          mspId: `Org${o}MSP`,
          anchorPeers: [{ host: `peer0.org${o}.example.com`, port: 7051 }],
        })),
      },
      orderer: { globalAddresses: [], orgs: new Map([['OrdererOrg', { addresses: [only], rootCerts: [] }]]) },
    });
  }
  const before = w.orderer.connects.get(only) ?? 0;
  w.orderer.down(ORDERERS[0]!);
  for (let i = 0; i < 8; i++) {
    w.cut();
    await w.net.clock.runFor(250);
  }
  assert.ok(
    await w.net.clock.runUntil(() => w.behind(13n).length === 0, 30_000),
    `behind: ${w.behind(13n).join(', ')}`,
  );
  assertLedgers(w, 13n);
  assert.ok((w.orderer.connects.get(only) ?? 0) > before, 'the leaders reconnected to the new endpoint');
  for (const n of w.nodes) {
    const d = w.services.get(n.endpoint)!.deliverer(CHANNEL);
    if (d) assert.equal(d.stats.failures, 0, 'a refreshed endpoint is left without counting a failure');
  }
});

test('sim e2e: stop() in Fabric order leaves no timer running and is idempotent', async () => {
  const w = await e2eWorld(3, { blocks: 4 });
  assert.ok(await w.net.clock.runUntil(() => oneLeaderPerOrg(w), 60_000));
  w.cut();
  await w.net.clock.runFor(1000);
  for (const n of w.nodes) {
    const svc = w.services.get(n.endpoint)!;
    const p = svc.stop();
    assert.equal(svc.stop(), p, 'idempotent');
  }
  await w.net.clock.runFor(1);
  await Promise.all([...w.services.values()].map((s) => s.stop()));
  for (const n of w.nodes) {
    await n.transport.stop();
    n.identities.stop?.();
    assert.equal(n.clock.activeTimers(), 0, `${n.endpoint}: timers left: ${n.clock.activeTimers()}`);
  }
  for (const n of w.nodes) assert.equal(w.services.get(n.endpoint)!.deliverer(CHANNEL), undefined);
});
