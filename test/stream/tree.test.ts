/**
 * planUpstream (core/stream/tree.ts): the org's stream tree as one peer plans it.
 * Every peer plans from the same view here, so the union of their plans is the tree itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { planUpstream, type Plan, type StreamMember } from '../../src/core/stream/tree.js';
import type { SourceRole } from '../../src/core/stream/marker.js';

const id = (n: number): Uint8Array => Uint8Array.of(0, n);
function member(n: number, height: bigint | undefined, role?: SourceRole): StreamMember {
  return { pkiId: id(n), endpoint: `p${n}:7051`, height, role };
}

/** Every member's plan with the same view of all of them. */
function plans(all: StreamMember[], fanout: number, lagBlocks = 50): Map<number, Plan> {
  const out = new Map<number, Plan>();
  for (const self of all) {
    out.set(
      self.pkiId[1]!,
      planUpstream({
        self: { ...self, height: self.height ?? 0n },
        members: all.filter((m) => m !== self),
        fanout,
        lagBlocks,
      }),
    );
  }
  return out;
}

function upstreamOf(p: Plan): number | 'source' {
  return p.kind === 'source' ? 'source' : p.upstream.pkiId[1]!;
}

test('one source, every other peer one upstream, fan-out bound, depth ~ log N', () => {
  const all = Array.from({ length: 40 }, (_, i) => member(i + 1, 100n));
  const ps = plans(all, 3);
  const sources = [...ps.values()].filter((p) => p.kind === 'source');
  assert.equal(sources.length, 1, 'exactly one peer pulls from the orderer');
  const children = new Map<number, number>();
  let maxDepth = 0;
  for (const p of ps.values()) {
    if (p.kind !== 'upstream') continue;
    const u = p.upstream.pkiId[1]!;
    children.set(u, (children.get(u) ?? 0) + 1);
    maxDepth = Math.max(maxDepth, p.depth);
  }
  assert.ok(Math.max(...children.values()) <= 3, 'no peer serves more than fanout peers');
  // 40 peers, fan-out 3: 1 + 3 + 9 + 27 -> depth 3
  assert.equal(maxDepth, 3);
  // following upstreams from any peer reaches the source without a cycle
  for (const [n] of ps) {
    const seen = new Set<number>();
    let cur = n;
    for (;;) {
      assert.ok(!seen.has(cur), `cycle through ${cur}`);
      seen.add(cur);
      const next = upstreamOf(ps.get(cur)!);
      if (next === 'source') break;
      cur = next;
    }
  }
});

test('the root is the leader when it is up to date, else an acting source, else the first by rank', () => {
  const base = [member(1, 10n), member(2, 10n), member(3, 10n), member(4, 10n)];
  const rootOf = (ms: StreamMember[]) => {
    const p = planUpstream({
      self: { ...ms[3]!, height: 10n },
      members: ms.slice(0, 3),
      fanout: 4,
      lagBlocks: 5,
    });
    assert.equal(p.kind, 'upstream');
    return p.kind === 'upstream' ? p.root.pkiId[1] : undefined;
  };
  assert.equal(rootOf(base), 1, 'no source known: the first up-to-date member by rank');
  assert.equal(rootOf([base[0]!, member(2, 10n, 'source'), member(3, 10n, 'leader'), base[3]!]), 3);
  assert.equal(rootOf([base[0]!, member(2, 10n, 'source'), base[2]!, base[3]!]), 2);
  // a lagging leader (a new peer elected at height 0) is no source for peers far ahead
  assert.equal(rootOf([base[0]!, member(2, 10n, 'source'), member(3, 0n, 'leader'), base[3]!]), 2);
});

test('a new peer at height 0 hangs below up-to-date peers, never above them', () => {
  const all = [member(1, 1_000_000n), member(2, 1_000_000n), member(3, 999_990n), member(0, 0n)];
  const ps = plans(all, 1);
  // fan-out 1 is a chain; the lagging peer (lowest rank!) goes last
  assert.equal(upstreamOf(ps.get(1)!), 'source');
  assert.equal(upstreamOf(ps.get(2)!), 1);
  assert.equal(upstreamOf(ps.get(3)!), 2);
  assert.equal(upstreamOf(ps.get(0)!), 3);
  const p0 = ps.get(0)!;
  assert.equal(p0.kind === 'upstream' && p0.depth, 3);
});

test('a lagging parent below our height is skipped for one further up', () => {
  // lagBlocks 10: 3 (20) and 4 (30) lag behind 50; order 1 (root), 2, 3, 4; with fan-out 1 peer
  // 4's parent is 3, which is lagging and behind 4
  const all = [member(1, 50n, 'leader'), member(2, 50n), member(3, 20n), member(4, 30n)];
  const p = planUpstream({
    self: { ...all[3]!, height: 30n },
    members: all.slice(0, 3),
    fanout: 1,
    lagBlocks: 10,
  });
  assert.equal(p.kind === 'upstream' && p.upstream.pkiId[1], 2);
});

test('an up-to-date parent is kept even when its known height is below ours (StateInfo is seconds old)', () => {
  // 3 (45) is within lagBlocks of 50: it streams live blocks whatever its last StateInfo said
  const all = [member(1, 50n, 'leader'), member(2, 50n), member(3, 45n), member(4, 49n)];
  const p = planUpstream({
    self: { ...all[3]!, height: 49n },
    members: all.slice(0, 3),
    fanout: 1,
    lagBlocks: 10,
  });
  assert.equal(p.kind === 'upstream' && p.upstream.pkiId[1], 3);
});

test('alone or with unknown heights: we are the source', () => {
  assert.equal(
    planUpstream({ self: { ...member(5, 3n), height: 3n }, members: [], fanout: 4, lagBlocks: 5 }).kind,
    'source',
  );
  const p = planUpstream({
    self: { ...member(9, 3n), height: 3n },
    members: [member(1, undefined), member(2, undefined)],
    fanout: 4,
    lagBlocks: 5,
  });
  assert.equal(p.kind, 'source', 'members without a known height are not up to date');
});

test('rank is the PKI-ID hex order', () => {
  const a = member(0x20, 1n);
  const b = member(0x10, 1n);
  assert.ok(pkiIdKey(b.pkiId) < pkiIdKey(a.pkiId));
  const p = planUpstream({ self: { ...a, height: 1n }, members: [b], fanout: 4, lagBlocks: 5 });
  assert.equal(p.kind === 'upstream' && p.upstream.pkiId[1], 0x10);
});

test('peers that suspect different members agree on every position: no cycle, every chain ends at the root', () => {
  // a seeded generator, so a failure replays
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 200; round++) {
    const n = 5 + Math.floor(rnd() * 40);
    const leaderAt = Math.floor(rnd() * n);
    const all = Array.from({ length: n }, (_, i) =>
      member(i + 1, 100n - BigInt(Math.floor(rnd() * 3)), i === leaderAt ? 'leader' : undefined),
    );
    const leader = all[leaderAt]!;
    const upstream = new Map<number, number | 'source'>();
    for (const self of all) {
      // each peer suspects its own random few (never the leader: it is alive here)
      const members = all
        .filter((m) => m !== self)
        .map((m) => (m !== leader && rnd() < 0.15 ? { ...m, suspect: true } : m));
      const p = planUpstream({ self: { ...self, height: self.height! }, members, fanout: 3, lagBlocks: 10 });
      upstream.set(self.pkiId[1]!, upstreamOf(p));
    }
    assert.equal(upstream.get(leader.pkiId[1]!), 'source', 'the leader is the source');
    for (const [start] of upstream) {
      const seen = new Set<number>();
      let cur = start;
      for (;;) {
        assert.ok(!seen.has(cur), `round ${round}: cycle through ${cur}`);
        seen.add(cur);
        const next = upstream.get(cur)!;
        if (next === 'source') break;
        cur = next;
      }
      assert.equal(cur, leader.pkiId[1], 'every chain ends at the leader');
    }
  }
});

test('a leader that is not first by rank still heads the tree: a small org is one hop deep', () => {
  const all = [member(1, 50n), member(2, 50n), member(3, 50n), member(4, 50n), member(5, 50n, 'leader')];
  const ps = plans(all, 4);
  assert.equal(upstreamOf(ps.get(5)!), 'source');
  for (const n of [1, 2, 3, 4]) {
    const p = ps.get(n)!;
    assert.equal(upstreamOf(p), 5, `peer ${n} streams straight from the leader`);
    assert.equal(p.kind === 'upstream' && p.depth, 1);
  }
});
