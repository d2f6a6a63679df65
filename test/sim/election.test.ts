/**
 * Leader election over the whole gossip node on the simulated network (2 orgs x 3 peers, Fabric
 * timers): the lowest PKI-ID of each org leads after convergence; after its crash the lowest
 * survivor leads within the election bound; a yield hands leadership over for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { electionWorld, lowest } from './election-world.js';
import { METRICS } from '../../src/base/metric-table.js';

const LAT = 10_000;
const LED = 5000;

test('sim: one leader per org (the lowest PKI-ID), crash -> the lowest survivor, yield -> handed over for 60 s', async () => {
  const w = await electionWorld(42);
  const clock = w.net.clock;
  await clock.runFor(30_000);
  const [org1, org2] = w.orgs.map((o) => o.mspId) as [string, string];
  for (const org of [org1, org2]) assert.deepEqual(w.leaders(org), [lowest(w.orgNodes(org))], org);
  const from = w.samples.length;
  await clock.runFor(60_000);
  for (const s of w.samples.slice(from))
    for (const org of [org1, org2]) assert.equal(s.leaders.get(org)!.length, 1);
  for (const n of w.nodes) {
    const expect = w.leaders(n.identity.org.mspId).includes(n.endpoint) ? 1 : 0;
    assert.equal(
      await n.metrics.value(METRICS.gossipLeaderElectionLeader, { channel: 'simchannel' }),
      expect,
      n.endpoint,
    );
    assert.equal(await n.metrics.value('grapevine_gossip_dropped_total', { reason: 'bad_signature' }), 0);
    assert.equal(
      await n.metrics.value('grapevine_gossip_dropped_total', { reason: 'not_same_org' }),
      0,
      'leadership messages stay in their org',
    );
  }

  // crash Org1's leader: the lowest survivor takes over within 2 x LAT + LED
  const first = w.leaders(org1)[0]!;
  w.nodes.find((n) => n.endpoint === first)!.crash();
  const t0 = clock.now();
  assert.ok(await clock.runUntil(() => w.leaders(org1).length > 0, 2 * LAT + LED + 1000));
  const survivors = w.orgNodes(org1).filter((n) => n.isUp);
  assert.deepEqual(w.leaders(org1), [lowest(survivors)]);
  assert.ok(clock.now() - t0 >= LED);
  assert.deepEqual(w.leaders(org2), [lowest(w.orgNodes(org2))], 'the other org is unaffected');

  // the new leader yields (its deliver client gave up): the other survivor leads; no retake for 60 s
  await clock.runFor(10_000);
  const second = w.leaders(org1)[0]!;
  w.leadership.get(second)!.yield();
  assert.deepEqual(w.leaders(org1), []);
  assert.ok(await clock.runUntil(() => w.leaders(org1).length > 0, 2 * LAT + 2 * LED + 1000));
  const third = w.leaders(org1)[0]!;
  assert.notEqual(third, second);
  const yieldFrom = w.samples.length;
  await clock.runFor(6 * LAT);
  assert.ok(w.samples.slice(yieldFrom).every((s) => s.leaders.get(org1)!.join() === third));
  w.stopMonitor();
  for (const n of w.nodes) if (n.isUp) n.crash();
});
