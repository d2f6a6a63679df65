/**
 * Leader churn on the simulated network: 2 orgs x 3 peers running the whole gossip node and the
 * dynamic election with Fabric's timers (real signed LeadershipMessages). Per seed: convergence,
 * then three random events (crash the leader, crash a follower, partition an org), each with a
 * restart or heal. Checked on samples every 100 ms of virtual time:
 *   - after convergence and after every event has settled: exactly one leader per org;
 *   - two or more leaders in an org only transiently: while a partition splits it (until it has
 *     healed and views have re-formed), or briefly while a (re)started peer has no view yet;
 *   - an org without a leader only for the election bound 2 x LAT + LED (+ delivery slack).
 * ELECTION_STATS=1 prints the longest episodes per seed (40 seeds: 24.3 s without, 5 s with two).
 * A fixed sample of seeds runs in `npm test`; all 1,000 with GRAPEVINE_TEST_FULL=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/sim/rng.js';
import type { SimNode } from '../../src/sim/node.js';
import { electionWorld, type ElectionWorld } from './election-world.js';
import { seeds } from './helpers.js';

const LAT = 10_000;
const LED = 5000;
/** Longest time an org may be without a leader: the Fabric election bound plus delivery slack. */
const NO_LEADER_MAX = 2 * LAT + LED + 2000;
/**
 * Longest time an org may have two leaders outside partitions: a restarted peer with an empty view
 * leads after its startup round (1 s + LED); it and the others hear each other once StateInfos
 * are exchanged and the next declaration is sent (LAT / 2). 40 seeds showed at most 5 s.
 */
const MULTI_LEADER_MAX = LAT + LED;
/** After a heal: connections re-dialled, members alive again, StateInfos pulled, a declaration. */
const HEAL_MAX = 60_000;
const SETTLE = 70_000;

interface Window {
  readonly org: string;
  readonly from: number;
  until: number;
}

async function churn(seed: number): Promise<string[]> {
  const w = await electionWorld(seed);
  const rng = new SeededRng(seed * 7 + 1).fork('churn');
  const clock = w.net.clock;
  const problems: string[] = [];
  const partitions: Window[] = [];
  const settled: number[] = [];
  const check = (what: string) => {
    for (const org of w.orgs) {
      const l = w.leaders(org.mspId);
      if (l.length !== 1)
        problems.push(`${what}: ${org.mspId} has ${l.length} leaders (${l.join(',')}) at ${clock.elapsed()}`);
    }
    settled.push(clock.now());
  };
  await clock.runFor(30_000);
  check('converged');
  const start = clock.now();

  for (let e = 0; e < 3; e++) {
    const org = w.orgs[rng.int(w.orgs.length)]!.mspId;
    const up = w.orgNodes(org).filter((n) => n.isUp);
    const kind = ['crash-leader', 'crash-follower', 'partition'][rng.int(3)]!;
    if (kind === 'partition') {
      const side = rng.sample(up, 1 + rng.int(up.length - 1));
      w.net.partition(side.map((n) => n.endpoint));
      const win: Window = { org, from: clock.now(), until: Infinity };
      partitions.push(win);
      await clock.runFor(30_000 + rng.int(30_000));
      w.net.heal();
      win.until = clock.now() + HEAL_MAX;
      await clock.runFor(HEAL_MAX);
    } else {
      const leaders = w.leaders(org);
      const pool =
        kind === 'crash-leader'
          ? up.filter((n) => leaders.includes(n.endpoint))
          : up.filter((n) => !leaders.includes(n.endpoint));
      const victim: SimNode | undefined = pool[rng.int(pool.length)];
      if (!victim) continue;
      victim.crash();
      const t0 = clock.now();
      const ok = await clock.runUntil(() => w.leaders(org).length > 0, NO_LEADER_MAX);
      if (!ok) problems.push(`${kind} ${victim.endpoint}: no leader in ${org} within ${NO_LEADER_MAX} ms`);
      await clock.runFor(Math.max(0, 5000 + rng.int(20_000) - (clock.now() - t0)));
      victim.restart();
    }
    await clock.runFor(SETTLE);
    check(`after ${kind} in ${org}`);
  }
  w.stopMonitor();

  // invariants over the samples taken after convergence
  for (const org of w.orgs.map((o) => o.mspId)) {
    let none: number | undefined;
    let multi: number | undefined;
    for (const s of w.samples) {
      if (s.at < start) continue;
      const n = s.leaders.get(org)!.length;
      none = n === 0 ? (none ?? s.at) : undefined;
      multi = n > 1 ? (multi ?? s.at) : undefined;
      if (none !== undefined && s.at - none > NO_LEADER_MAX) {
        problems.push(`${org} without a leader for ${s.at - none} ms at ${s.at - start}`);
        none = s.at;
      }
      const split = partitions.some((p) => p.org === org && s.at >= p.from && s.at <= p.until);
      if (multi !== undefined && !split && s.at - multi > MULTI_LEADER_MAX) {
        problems.push(
          `${org} with ${n} leaders for ${s.at - multi} ms at ${s.at - start} (${s.leaders.get(org)!.join(',')})`,
        );
        multi = s.at;
      }
    }
  }
  for (const n of w.nodes) if (n.isUp) n.crash();
  if (process.env.ELECTION_STATS)
    console.log(JSON.stringify({ seed, stats: episodeStats(w, start, partitions) }));
  return problems;
}

/** Longest no-leader and multi-leader (outside partitions) episodes per org, for tuning. */
function episodeStats(
  w: ElectionWorld,
  start: number,
  partitions: Window[],
): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const org of w.orgs.map((o) => o.mspId)) {
    let none: number | undefined;
    let multi: number | undefined;
    let maxNone = 0;
    let maxMulti = 0;
    for (const s of w.samples) {
      if (s.at < start) continue;
      const n = s.leaders.get(org)!.length;
      const split = partitions.some((p) => p.org === org && s.at >= p.from && s.at <= p.until);
      none = n === 0 ? (none ?? s.at) : undefined;
      multi = n > 1 && !split ? (multi ?? s.at) : undefined;
      if (none !== undefined) maxNone = Math.max(maxNone, s.at - none);
      if (multi !== undefined) maxMulti = Math.max(maxMulti, s.at - multi);
    }
    out[org] = [maxNone, maxMulti];
  }
  return out;
}

test('sim: leader churn (crash leader / follower, partitions) keeps one leader per org except transiently', async () => {
  const runs = seeds(6, 1000);
  const failures: string[] = [];
  for (const seed of runs) {
    const p = await churn(seed);
    if (p.length > 0) failures.push(`seed ${seed}: ${p.join('; ')}`);
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});
