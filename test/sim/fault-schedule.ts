/**
 * Seeded fault schedules over the end-to-end simulation (issue 15), in every dissemination mode:
 *   fabric:  streams off on every peer (Fabric's push, pull, state transfer and election);
 *   streams: block streams on every peer;
 *   mixed:   in each org, peers 0 and 2 stream, peers 1 and 3 keep streams off (Fabric's push
 *            and pull beside a stream tree).
 * 2 orgs x 4 peers, the full GossipService on each (test/sim/e2e-world.ts), the MemoryOrderer on
 * two endpoints. Two lengths of schedule (SCALES):
 *   blips:    blocks cut 200-600 ms apart for 15 virtual s, faults starting in the first 10 s and
 *             lasting 0.3-4 s (a cut connection holds its frames: a partition is a stall);
 *   outages:  blocks cut 300-1,500 ms apart for 40 virtual s, faults starting in the first 25 s
 *             and lasting 0.5-40 s: some outlast the 20 s after which a cut connection breaks,
 *             and Fabric's leader alive threshold (10 s).
 * Durations are log-uniform. The seed draws a schedule in which every fault kind happens at
 * least once, at a random time:
 *   crash:      a random live peer crashes (its ledger survives) ...
 *   restart:    ... and restarts when the fault ends;
 *   leader:     the leader of a random org is killed, restarted when the fault ends;
 *   partition:  one org split in two (the other org on one side), healed when it ends;
 *   delay:      1-3 peers get 200-1,500 ms (+ up to 200 ms jitter) on every link;
 *   loss:       1-5 % frame loss on every link of 1-4 peers, or on every link;
 *   orderer:    one orderer endpoint is killed (its streams end; the deliverers fail over to
 *               the other), revived when the fault ends, and half the time the other one is then
 *               killed for 3 s (a fail-over back).
 * plus 0-3 extra events of random kinds. Then every fault ends (partition healed, links restored,
 * orderers up, crashed peers restarted), and within 180 virtual s every peer must hold every
 * block, in order, byte for byte, with no block committed twice or out of order (SimDisk refuses
 * and counts those).
 */
import { SeededRng } from '../../src/sim/rng.js';
import type { SimNode } from '../../src/sim/index.js';
import { DEFAULT_LINK } from '../../src/sim/network.js';
import { ORDERERS, e2eWorld, type E2eWorld } from './e2e-world.js';

export type Mode = 'fabric' | 'streams' | 'mixed';
export const MODES: readonly Mode[] = ['fabric', 'streams', 'mixed'];
export const KINDS = ['crash', 'leader', 'partition', 'delay', 'loss', 'orderer'] as const;
export type Kind = (typeof KINDS)[number];

export interface Scale {
  /** Virtual ms over which blocks are cut (longer while a fault lasts). */
  readonly spanMs: number;
  /** Faults start in the first faultsBeforeMs. */
  readonly faultsBeforeMs: number;
  /** Fault durations, log-uniform in [minMs, maxMs]. */
  readonly minMs: number;
  readonly maxMs: number;
  /** Gap between two blocks, uniform in [gapMinMs, gapMaxMs]. */
  readonly gapMinMs: number;
  readonly gapMaxMs: number;
}

export const SCALES = {
  blips: { spanMs: 15_000, faultsBeforeMs: 10_000, minMs: 300, maxMs: 4000, gapMinMs: 200, gapMaxMs: 600 },
  outages: {
    spanMs: 40_000,
    faultsBeforeMs: 25_000,
    minMs: 500,
    maxMs: 40_000,
    gapMinMs: 300,
    gapMaxMs: 1500,
  },
} as const satisfies Record<string, Scale>;
export type ScaleName = keyof typeof SCALES;

/** Blocks in the chain: enough for the longest run at the shortest gap. */
const MAX_BLOCKS = 400;

export interface ScheduleOutcome {
  readonly w: E2eWorld;
  /** What happened, one line per event (for failure messages). */
  readonly events: string[];
  /** Whether every live peer reached the chain's height in time. */
  readonly converged: boolean;
  readonly height: bigint;
}

interface Event {
  /** Virtual ms after the first block. */
  readonly at: number;
  readonly kind: Kind;
  readonly ms: number;
}

/** The schedule of a seed: every kind once, then 0-3 more of random kinds. */
export function drawSchedule(rng: SeededRng, sc: Scale): Event[] {
  const kinds: Kind[] = [...KINDS];
  for (let extra = rng.int(4); extra > 0; extra--) kinds.push(KINDS[rng.int(KINDS.length)]!);
  return kinds
    .map((kind) => ({
      at: rng.int(sc.faultsBeforeMs),
      kind,
      ms: Math.round(sc.minMs * Math.pow(sc.maxMs / sc.minMs, rng.float())),
    }))
    .sort((a, b) => a.at - b.at);
}

export async function faultSchedule(
  mode: Mode,
  seed: number,
  scale: ScaleName = 'blips',
): Promise<ScheduleOutcome> {
  const sc: Scale = SCALES[scale];
  const rng = new SeededRng(seed ^ 0xfa175);
  const w = await e2eWorld(seed, {
    orgs: 2,
    peersPerOrg: 4,
    blocks: MAX_BLOCKS,
    ...(mode === 'fabric' ? {} : { streams: true }),
    ...(mode === 'mixed' ? { plain: (_org: number, i: number) => i % 2 === 1 } : {}),
  });
  const clock = w.net.clock;
  const events: string[] = [];
  let t0 = 0;
  const sec = (t: number) => `${((t - t0) / 1000).toFixed(1)} s`;
  const log = (line: string) => events.push(`${sec(clock.now())}: ${line}`);
  const name = (n: SimNode) => n.endpoint.split('.').slice(0, 2).join('.');
  const leaders = (org: number) => w.leaders(org);
  await clock.runUntil(() => leaders(1).length === 1 && leaders(2).length === 1, 60_000);
  await clock.runFor(rng.int(5000));
  t0 = clock.now();

  const schedule = drawSchedule(rng, sc);
  const endpoints = w.nodes.map((n) => n.endpoint);
  /** Undo actions, by virtual time. */
  const undo: { at: number; f: () => void }[] = [];
  const later = (at: number, f: () => void) => undo.push({ at, f });
  const down = new Set<SimNode>();
  let partitioned = false;
  const setLinks = (peers: string[], spec: { latencyMs?: number; jitterMs?: number; loss?: number }) => {
    for (const p of peers) for (const q of endpoints) if (p !== q) w.net.setLink(p, q, spec);
  };
  const pick = <T>(xs: readonly T[]): T | undefined => xs[rng.int(xs.length)];
  const someNodes = (k: number) => {
    const xs = [...w.nodes];
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs.slice(0, k);
  };

  const crash = (n: SimNode, until: number, why: string) => {
    w.crash(n);
    down.add(n);
    log(`${why} ${name(n)} crashed until ${sec(until)}`);
    later(until, () => {
      if (!down.has(n)) return;
      w.restart(n);
      down.delete(n);
      log(`${name(n)} restarted`);
    });
  };

  const apply = (e: Event) => {
    const until = clock.now() + e.ms;
    switch (e.kind) {
      case 'crash': {
        const n = pick(w.nodes.filter((x) => x.isUp));
        if (n) crash(n, until, 'peer');
        break;
      }
      case 'leader': {
        const org = 1 + rng.int(2);
        const n = leaders(org)[0];
        if (n) crash(n, until, `org ${org} leader`);
        else log(`org ${org} has no leader to kill`);
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
        log(`org ${org} split ${cut}/${members.length - cut} until ${sec(until)}`);
        later(until, () => {
          w.net.heal();
          partitioned = false;
          log('healed');
        });
        break;
      }
      case 'delay': {
        const peers = someNodes(1 + rng.int(3)).map((n) => n.endpoint);
        const latencyMs = 200 + rng.int(1301);
        const jitterMs = rng.int(201);
        setLinks(peers, { latencyMs, jitterMs });
        log(`${latencyMs}+${jitterMs} ms on the links of ${peers.length} peers until ${sec(until)}`);
        later(until, () =>
          setLinks(peers, { latencyMs: DEFAULT_LINK.latencyMs, jitterMs: DEFAULT_LINK.jitterMs }),
        );
        break;
      }
      case 'loss': {
        const all = rng.int(3) === 0;
        const peers = all ? endpoints : someNodes(1 + rng.int(4)).map((n) => n.endpoint);
        const loss = (1 + rng.int(5)) / 100;
        setLinks(peers, { loss });
        log(`${loss * 100} % loss on the links of ${peers.length} peers until ${sec(until)}`);
        later(until, () => setLinks(peers, { loss: 0 }));
        break;
      }
      case 'orderer': {
        const i = rng.int(ORDERERS.length);
        const other = ORDERERS[1 - i]!;
        if (!w.orderer.isUp(other)) break; // never both down: the deliverers would give up
        w.orderer.down(ORDERERS[i]!);
        log(`orderer ${i} down until ${sec(until)}`);
        const swap = rng.int(2) === 0;
        later(until, () => {
          w.orderer.up(ORDERERS[i]!);
          log(`orderer ${i} up`);
          if (swap && w.orderer.isUp(other)) {
            w.orderer.down(other);
            log(`orderer ${1 - i} down for 3 s`);
            later(clock.now() + 3000, () => w.orderer.up(other));
          }
        });
        break;
      }
    }
  };

  /** Run the clock to `t`, applying the schedule and the undo actions due on the way. */
  const runTo = async (t: number) => {
    for (;;) {
      const due = [
        ...schedule.filter((e) => t0 + e.at <= t).map((e) => t0 + e.at),
        ...undo.filter((u) => u.at <= t).map((u) => u.at),
      ];
      if (due.length === 0) break;
      const next = Math.min(...due);
      if (next > clock.now()) await clock.runFor(next - clock.now());
      for (const u of undo.filter((x) => x.at <= next)) {
        undo.splice(undo.indexOf(u), 1);
        u.f();
      }
      for (const e of schedule.filter((x) => t0 + x.at <= next)) {
        schedule.splice(schedule.indexOf(e), 1);
        apply(e);
      }
    }
    if (t > clock.now()) await clock.runFor(t - clock.now());
  };

  let cut = 0;
  while (clock.now() - t0 < sc.spanMs || undo.length > 0) {
    if (cut < MAX_BLOCKS) {
      w.cut();
      cut++;
    }
    await runTo(clock.now() + sc.gapMinMs + rng.int(sc.gapMaxMs - sc.gapMinMs + 1));
  }
  // every fault has ended (undo ran dry); make sure of it
  w.net.heal();
  setLinks(endpoints, { latencyMs: DEFAULT_LINK.latencyMs, jitterMs: DEFAULT_LINK.jitterMs, loss: 0 });
  for (const a of ORDERERS) w.orderer.up(a);
  for (const n of down) w.restart(n);
  down.clear();
  const height = BigInt(cut + 1);
  const converged = await clock.runUntil(() => w.behind(height).length === 0, 180_000);
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
