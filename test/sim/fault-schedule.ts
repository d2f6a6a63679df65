/**
 * Seeded fault schedules over the end-to-end simulation (issue 15), in every dissemination mode:
 *   fabric:  streams off on every peer (Fabric's push, pull, state transfer and election);
 *   streams: block streams on every peer;
 *   mixed:   in each org, peers 0 and 2 stream, peers 1 and 3 keep streams off (Fabric's push
 *            and pull beside a stream tree).
 * 2 orgs x 4 peers, the full GossipService on each (test/sim/e2e-world.ts), the MemoryOrderer on
 * two endpoints, 30 blocks cut 200-600 ms apart. The seed draws a schedule in which every fault
 * kind happens at least once, at a random block and for a random number of blocks:
 *   crash:      a random live peer crashes (its ledger survives) ...
 *   restart:    ... and restarts 1-6 blocks later;
 *   leader:     the leader of a random org is killed, restarted 2-8 blocks later;
 *   partition:  one org split in two (the other org on one side), healed 2-7 blocks later;
 *   delay:      1-3 peers get 200-1,500 ms (+ up to 200 ms jitter) on every link, for 2-8 blocks;
 *   loss:       1-5 % frame loss on every link of 1-4 peers, or on every link, for 2-8 blocks;
 *   orderer:    one orderer endpoint is killed (its streams end; the deliverers fail over to
 *               the other), revived 3-10 blocks later; sometimes the other one is killed then.
 * plus 0-3 extra events of random kinds. After the last block every fault ends (partition healed,
 * links restored, orderers up, crashed peers restarted), and within 180 virtual s every peer must
 * hold every block, in order, byte for byte, with no block committed twice or out of order
 * (SimDisk refuses and counts those).
 */
import { SeededRng } from '../../src/sim/rng.js';
import type { SimNode } from '../../src/sim/index.js';
import { DEFAULT_LINK } from '../../src/sim/network.js';
import { ORDERERS, e2eWorld, type E2eWorld } from './e2e-world.js';

export type Mode = 'fabric' | 'streams' | 'mixed';
export const MODES: readonly Mode[] = ['fabric', 'streams', 'mixed'];
export const KINDS = ['crash', 'leader', 'partition', 'delay', 'loss', 'orderer'] as const;
export type Kind = (typeof KINDS)[number];

export const BLOCKS = 30;

export interface ScheduleOutcome {
  readonly w: E2eWorld;
  /** What happened, one line per event (for failure messages). */
  readonly events: string[];
  /** Whether every live peer reached the chain's height in time. */
  readonly converged: boolean;
  readonly height: bigint;
}

interface Event {
  readonly at: number;
  readonly kind: Kind;
  readonly length: number;
}

/** The schedule of a seed: every kind once, then 0-3 more of random kinds. */
export function drawSchedule(rng: SeededRng): Event[] {
  const span: Record<Kind, [number, number]> = {
    crash: [1, 6],
    leader: [2, 8],
    partition: [2, 7],
    delay: [2, 8],
    loss: [2, 8],
    orderer: [3, 10],
  };
  const kinds: Kind[] = [...KINDS];
  for (let extra = rng.int(4); extra > 0; extra--) kinds.push(KINDS[rng.int(KINDS.length)]!);
  return kinds
    .map((kind) => {
      const [lo, hi] = span[kind];
      return { at: 1 + rng.int(BLOCKS - 6), kind, length: lo + rng.int(hi - lo + 1) };
    })
    .sort((a, b) => a.at - b.at);
}

export async function faultSchedule(mode: Mode, seed: number): Promise<ScheduleOutcome> {
  const rng = new SeededRng(seed ^ 0xfa175);
  const w = await e2eWorld(seed, {
    orgs: 2,
    peersPerOrg: 4,
    blocks: BLOCKS,
    ...(mode === 'fabric' ? {} : { streams: true }),
    ...(mode === 'mixed' ? { plain: (_org: number, i: number) => i % 2 === 1 } : {}),
  });
  const events: string[] = [];
  const log = (b: number, line: string) => events.push(`block ${b}: ${line}`);
  const name = (n: SimNode) => n.endpoint.split('.').slice(0, 2).join('.');
  const leaders = (org: number) => w.leaders(org);
  await w.net.clock.runUntil(() => leaders(1).length === 1 && leaders(2).length === 1, 60_000);
  await w.net.clock.runFor(rng.int(5000));

  const schedule = drawSchedule(rng);
  const endpoints = w.nodes.map((n) => n.endpoint);
  /** Undo actions by block. */
  const undo = new Map<number, (() => void)[]>();
  const later = (b: number, f: () => void) => undo.set(b, [...(undo.get(b) ?? []), f]);
  const down = new Set<SimNode>();
  let partitioned = false;
  const setLinks = (peers: string[], spec: { latencyMs?: number; jitterMs?: number; loss?: number }) => {
    for (const p of peers) for (const q of endpoints) if (p !== q) w.net.setLink(p, q, spec);
  };
  const restore = (peers: string[], what: 'delay' | 'loss') =>
    setLinks(
      peers,
      what === 'delay' ? { latencyMs: DEFAULT_LINK.latencyMs, jitterMs: DEFAULT_LINK.jitterMs } : { loss: 0 },
    );
  const pick = <T>(xs: readonly T[]): T | undefined => xs[rng.int(xs.length)];
  const someNodes = (k: number) => {
    const xs = [...w.nodes];
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs.slice(0, k);
  };

  const crash = (b: number, n: SimNode, length: number, why: string) => {
    w.crash(n);
    down.add(n);
    log(b, `${why} ${name(n)} crashed until block ${b + length}`);
    later(b + length, () => {
      if (!down.has(n)) return;
      w.restart(n);
      down.delete(n);
      log(b + length, `${name(n)} restarted`);
    });
  };

  const apply = (b: number, e: Event) => {
    switch (e.kind) {
      case 'crash': {
        const n = pick(w.nodes.filter((x) => x.isUp));
        if (n) crash(b, n, e.length, 'peer');
        break;
      }
      case 'leader': {
        const org = 1 + rng.int(2);
        const n = leaders(org)[0];
        if (n) crash(b, n, e.length, `org ${org} leader`);
        else log(b, `org ${org} has no leader to kill`);
        break;
      }
      case 'partition': {
        if (partitioned) break;
        const org = 1 + rng.int(2);
        const members = w.nodes.filter((n) => w.orgOf(n) === org).map((n) => n.endpoint);
        const cut = 1 + rng.int(members.length - 1);
        const others = w.nodes.filter((n) => w.orgOf(n) !== org).map((n) => n.endpoint);
        w.net.partition([...members.slice(0, cut), ...others], members.slice(cut));
        partitioned = true;
        log(b, `org ${org} split ${cut}/${members.length - cut} until block ${b + e.length}`);
        later(b + e.length, () => {
          w.net.heal();
          partitioned = false;
          log(b + e.length, 'healed');
        });
        break;
      }
      case 'delay': {
        const peers = someNodes(1 + rng.int(3)).map((n) => n.endpoint);
        const latencyMs = 200 + rng.int(1301);
        const jitterMs = rng.int(201);
        setLinks(peers, { latencyMs, jitterMs });
        log(
          b,
          `${latencyMs}+${jitterMs} ms on the links of ${peers.length} peers until block ${b + e.length}`,
        );
        later(b + e.length, () => restore(peers, 'delay'));
        break;
      }
      case 'loss': {
        const all = rng.int(3) === 0;
        const peers = all ? endpoints : someNodes(1 + rng.int(4)).map((n) => n.endpoint);
        const loss = (1 + rng.int(5)) / 100;
        setLinks(peers, { loss });
        log(b, `${loss * 100} % loss on the links of ${peers.length} peers until block ${b + e.length}`);
        later(b + e.length, () => restore(peers, 'loss'));
        break;
      }
      case 'orderer': {
        const i = rng.int(ORDERERS.length);
        const other = ORDERERS[1 - i]!;
        if (!w.orderer.isUp(other)) break; // never both down: the deliverers would give up
        w.orderer.down(ORDERERS[i]!);
        log(b, `orderer ${i} down until block ${b + e.length}`);
        const swap = rng.int(2) === 0;
        later(b + e.length, () => {
          w.orderer.up(ORDERERS[i]!);
          log(b + e.length, `orderer ${i} up`);
          if (swap && w.orderer.isUp(other)) {
            w.orderer.down(other);
            log(b + e.length, `orderer ${1 - i} down for 3 blocks`);
            later(b + e.length + 3, () => w.orderer.up(other));
          }
        });
        break;
      }
    }
  };

  for (let b = 1; b <= BLOCKS; b++) {
    w.cut();
    for (const f of undo.get(b) ?? []) f();
    undo.delete(b);
    for (const e of schedule.filter((x) => x.at === b)) apply(b, e);
    await w.net.clock.runFor(200 + rng.int(400));
  }
  // every fault ends
  while (undo.size > 0) {
    const b = Math.min(...undo.keys());
    const fs = undo.get(b)!;
    undo.delete(b);
    for (const f of fs) f(); // may schedule more (the second orderer's outage)
  }
  w.net.heal();
  setLinks(endpoints, { latencyMs: DEFAULT_LINK.latencyMs, jitterMs: DEFAULT_LINK.jitterMs, loss: 0 });
  for (const a of ORDERERS) w.orderer.up(a);
  for (const n of down) w.restart(n);
  down.clear();
  const height = BigInt(BLOCKS + 1);
  const converged = await w.net.clock.runUntil(() => w.behind(height).length === 0, 180_000);
  return { w, events, converged, height };
}

/** Every invariant of a schedule's outcome; returns the failures (empty: all hold). */
export function violations(o: ScheduleOutcome): string[] {
  const out: string[] = [];
  const { w, height } = o;
  if (!o.converged) out.push(`not converged: behind ${w.behind(height).join(', ')}`);
  for (const n of w.nodes) {
    const disk = w.disks.get(n.endpoint)!;
    if (disk.refused > 0)
      out.push(`${n.endpoint}: ${disk.refused} appends refused (duplicate or out of order)`);
    if (!n.isUp) {
      out.push(`${n.endpoint} is down at the end`);
      continue;
    }
    if (disk.height !== height) continue; // counted as not converged
    for (let i = 0; i < Number(height); i++)
      if (!Buffer.from(disk.blocks[i]!).equals(Buffer.from(w.chain[i]!))) {
        out.push(`${n.endpoint}: block ${i} differs from the orderer's`);
        break;
      }
  }
  return out;
}
