/**
 * The fault scenario of the dissemination simulation tests: loss all along, a partition of a few
 * non-leaders that heals, crashed peers that restart, 16 blocks issued one per virtual second.
 * Shared by test/sim/dissemination.test.ts and profiling scripts.
 */
import { world, missing, type World } from './dissemination-world.js';
import type { SimNode } from '../../src/sim/index.js';

export interface FaultRun {
  readonly orgs: number;
  readonly peersPerOrg: number;
  readonly loss: number;
}

export interface FaultOutcome {
  readonly w: World;
  /** Peers that were crashed and restarted. */
  readonly crashed: SimNode[];
  /** Peers that were cut off by the partition. */
  readonly cut: string[];
  /** Blocks issued (1..blocks). */
  readonly blocks: bigint;
}

export async function issueEvery(w: World, from: number, to: number, everyMs: number): Promise<void> {
  for (let s = from; s <= to; s++) {
    w.issue(BigInt(s));
    await w.net.clock.runFor(everyMs);
  }
}

export async function faultScenario(seed: number, o: FaultRun): Promise<FaultOutcome> {
  // The block window is raised above the blocks a crashed or cut-off peer misses: without state
  // transfer (off by default in Fabric too) only the newest maxBlockCountToStore blocks can be pulled.
  const w = await world(seed, {
    orgs: o.orgs,
    peersPerOrg: o.peersPerOrg,
    blocks: 16,
    gossip: { channel: { maxBlockCountToStore: 30 } },
  });
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
  const crashed = w.members
    .filter((n) => n !== w.members.find((m) => w.orgOf(m) === w.orgOf(n)))
    .filter((_, i) => i % 7 === 3);
  for (const n of crashed) n.crash();
  await issueEvery(w, 9, 12, 1000);
  for (const n of crashed) n.restart();
  await issueEvery(w, 13, 16, 1000);
  await w.net.clock.runUntil(() => missing(w, 16n).length === 0, 40_000);
  return { w, crashed, cut, blocks: 16n };
}
