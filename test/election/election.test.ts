/**
 * One LeaderElection driven message by message through a hand-held adapter on a VirtualClock:
 * each rule of PROTOCOL.md §7.3 with Fabric's default timers, timed to the millisecond.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PkiId } from '../../src/base/pkiid.js';
import { electionConfig } from '../../src/core/election/config.js';
import { LeaderElection, comparePkiIds } from '../../src/core/election/election.js';
import type { ElectionAdapter, ElectionMessage } from '../../src/core/election/types.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { Metrics } from '../../src/base/metrics.js';
import { METRICS } from '../../src/base/metric-table.js';

const SELF = Uint8Array.of(0x50);
const LOWER = Uint8Array.of(0x20);
const HIGHER = Uint8Array.of(0x90);

class Manual implements ElectionAdapter {
  view: PkiId[] = [LOWER, HIGHER];
  readonly sent: { at: number; decl: boolean; seq: bigint }[] = [];
  handler?: (m: ElectionMessage) => void;
  viewCalls = 0;
  private seq = 0n;
  constructor(private readonly clock: VirtualClock) {}
  gossip(m: ElectionMessage): void {
    this.sent.push({ at: this.clock.elapsed(), decl: m.isDeclaration, seq: m.timestamp.seqNum });
  }
  accept(h: (m: ElectionMessage) => void) {
    this.handler = h;
    return () => {
      this.handler = undefined;
    };
  }
  createMessage(isDeclaration: boolean): ElectionMessage {
    return { pkiId: SELF, isDeclaration, timestamp: { incNum: 7n, seqNum: ++this.seq } };
  }
  peers() {
    this.viewCalls++;
    return this.view.map((pkiId) => ({ pkiId }));
  }
  deliver(from: PkiId, isDeclaration: boolean): void {
    this.handler?.({ pkiId: from, isDeclaration, timestamp: { incNum: 1n, seqNum: 1n } });
  }
}

function setup() {
  const clock = new VirtualClock();
  const adapter = new Manual(clock);
  const changes: { at: number; isLeader: boolean }[] = [];
  const metrics = new Metrics();
  const election = new LeaderElection({
    adapter,
    selfPkiId: SELF,
    channel: 'ch',
    config: electionConfig({ useLeaderElection: true }),
    clock,
    metrics,
    onLeadershipChange: (isLeader) => changes.push({ at: clock.elapsed(), isLeader }),
  });
  /** Run to `ms` after the clock's creation. */
  const at = (ms: number) => clock.runFor(ms - clock.elapsed());
  return { clock, adapter, changes, election, metrics, at };
}

test('PKI-IDs compare as raw bytes, shorter prefix first (Go bytes.Compare)', () => {
  assert.ok(comparePkiIds(Uint8Array.of(0x20), Uint8Array.of(0x30)) < 0);
  assert.ok(comparePkiIds(Uint8Array.of(0xff), Uint8Array.of(0x10, 0)) > 0);
  assert.ok(comparePkiIds(Uint8Array.of(0x10), Uint8Array.of(0x10, 0)) < 0);
  assert.equal(comparePkiIds(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), 0);
  const big = new Uint8Array(40).fill(9).subarray(4, 36);
  assert.equal(comparePkiIds(big, new Uint8Array(32).fill(9)), 0);
});

test('alone with a stable view: proposal at 1 s, leader at 6 s, declarations every 5 s with seq 2, 3, ...', async () => {
  const s = setup();
  s.adapter.view = [HIGHER];
  s.election.start();
  await s.at(999);
  assert.equal(s.adapter.sent.length, 0);
  await s.at(1000);
  assert.deepEqual(s.adapter.sent, [{ at: 1000, decl: false, seq: 1n }]);
  await s.at(5999);
  assert.equal(s.election.isLeader(), false);
  await s.at(6000);
  assert.equal(s.election.isLeader(), true);
  assert.deepEqual(s.changes, [{ at: 6000, isLeader: true }]);
  await s.at(21_000);
  assert.deepEqual(
    s.adapter.sent.slice(1).map((x) => [x.at, x.decl, x.seq]),
    [
      [6000, true, 2n],
      [11_000, true, 3n],
      [16_000, true, 4n],
      [21_000, true, 5n],
    ],
  );
  assert.equal(await s.metrics.value(METRICS.gossipLeaderElectionLeader, { channel: 'ch' }), 1);
  assert.equal(s.election.phase, 'leading');
  s.election.stop();
});

test('startup: a growing view delays the first proposal until the grace period has passed (16 s)', async () => {
  const s = setup();
  let n = 0;
  s.adapter.peers = () => Array.from({ length: ++n }, () => ({ pkiId: HIGHER }));
  s.election.start();
  await s.at(15_999);
  assert.equal(s.adapter.sent.length, 0);
  await s.at(16_000);
  assert.equal(s.adapter.sent.length, 1);
  assert.equal(s.adapter.sent[0]!.decl, false);
  s.election.stop();
});

test('startup: a view that stops growing ends the wait at the first equal sample', async () => {
  const s = setup();
  const sizes = [0, 1, 2, 3, 3];
  let i = 0;
  s.adapter.peers = () =>
    Array.from({ length: sizes[Math.min(i++, sizes.length - 1)]! }, () => ({ pkiId: HIGHER }));
  s.election.start();
  await s.at(4000);
  assert.deepEqual(
    s.adapter.sent.map((x) => x.at),
    [4000],
  );
  s.election.stop();
});

test('startup: a declaration seen during the wait ends it at the next sample; no proposal, follower', async () => {
  const s = setup();
  // the view grows by one peer every second
  s.adapter.peers = () =>
    [
      HIGHER,
      ...Array.from({ length: Math.floor(s.clock.elapsed() / 1000) }, (_, i) => Uint8Array.of(0xa0 + i)),
    ].map((pkiId) => ({ pkiId }));
  s.election.start();
  await s.at(2500);
  s.adapter.deliver(HIGHER, true);
  await s.at(3000);
  assert.equal(s.election.phase, 'following');
  assert.equal(s.adapter.sent.length, 0);
  assert.equal(s.election.isLeader(), false);
  s.election.stop();
});

test('election round: a proposal from a lower ID keeps us follower; from a higher ID it does not', async () => {
  for (const [from, leads] of [
    [LOWER, false],
    [HIGHER, true],
  ] as const) {
    const s = setup();
    s.election.start();
    await s.at(3000);
    s.adapter.deliver(from, false);
    await s.at(6000);
    assert.equal(s.election.isLeader(), leads);
    assert.equal(s.election.phase, leads ? 'leading' : 'following');
    s.election.stop();
  }
});

test('election round: a declaration cuts the wait short; the follower wait starts at once', async () => {
  const s = setup();
  s.election.start();
  await s.at(3000);
  s.adapter.deliver(HIGHER, true);
  await s.at(3000);
  assert.equal(s.election.phase, 'following');
  // the follower wait (10 s) began at 3 s; without declarations the next proposal is at 13 s
  await s.at(12_999);
  assert.equal(s.adapter.sent.length, 1);
  await s.at(13_000);
  assert.deepEqual(
    s.adapter.sent.map((x) => [x.at, x.decl]),
    [
      [1000, false],
      [13_000, false],
    ],
  );
  await s.at(18_000);
  assert.equal(s.election.isLeader(), true, 'no other proposal: we lead after the round');
  s.election.stop();
});

test('follower: declarations in each window keep it following; the first empty window leads to an election', async () => {
  const s = setup();
  s.election.start();
  await s.at(2000);
  s.adapter.deliver(LOWER, true); // during the round -> follower from 2 s
  for (let t = 4000; t <= 30_000; t += 5000) {
    await s.at(t);
    s.adapter.deliver(LOWER, true);
  }
  // windows: [2, 12], [12, 22], [22, 32] saw declarations; [32, 42] none -> proposal at 42 s
  await s.at(41_999);
  assert.equal(s.adapter.sent.length, 1);
  await s.at(42_000);
  assert.deepEqual(s.adapter.sent.at(-1), { at: 42_000, decl: false, seq: 2n });
  assert.equal(s.changes.length, 0);
  s.election.stop();
});

test('leader: a higher declaration interrupts the wait (immediate re-declaration); a lower one makes us step down', async () => {
  const s = setup();
  s.election.start();
  await s.at(6000);
  assert.equal(s.election.isLeader(), true);
  await s.at(8000);
  s.adapter.deliver(HIGHER, true);
  await s.at(8000);
  assert.deepEqual(s.adapter.sent.at(-1), { at: 8000, decl: true, seq: 3n });
  assert.equal(s.election.isLeader(), true);
  await s.at(9000);
  s.adapter.deliver(LOWER, true);
  assert.equal(s.election.isLeader(), false);
  assert.deepEqual(s.changes, [
    { at: 6000, isLeader: true },
    { at: 9000, isLeader: false },
  ]);
  assert.equal(await s.metrics.value(METRICS.gossipLeaderElectionLeader, { channel: 'ch' }), 0);
  await s.at(9000);
  assert.equal(s.election.phase, 'following');
  s.election.stop();
});

test('messages from peers outside the view are dropped (counted), whatever they say', async () => {
  const s = setup();
  s.adapter.view = [HIGHER];
  s.election.start();
  await s.at(3000);
  s.adapter.deliver(LOWER, false);
  await s.at(6000);
  assert.equal(s.election.isLeader(), true, 'the lower proposal did not count');
  s.adapter.deliver(LOWER, true);
  assert.equal(s.election.isLeader(), true, 'the lower declaration did not count');
  assert.equal(await s.metrics.value('grapevine_gossip_leader_election_dropped_total', { channel: 'ch' }), 2);
  s.election.stop();
});

test('yield: only a leader yields, once; no election for 60 s; the yield ends after 60 s and we lead again', async () => {
  const s = setup();
  s.election.start();
  s.election.yield(); // not leader: no-op
  await s.at(6000);
  assert.equal(s.election.isLeader(), true);
  await s.at(7000);
  s.election.yield();
  s.election.yield();
  assert.equal(s.election.isLeader(), false);
  assert.equal(s.election.isYielding, true);
  assert.deepEqual(
    s.changes.map((c) => c.isLeader),
    [true, false],
  );
  await s.at(67_000);
  assert.equal(
    s.adapter.sent.filter((x) => x.at > 7000).length,
    0,
    'no proposal and no declaration while yielding',
  );
  assert.equal(s.election.isYielding, false);
  // leader wait ended 11 s; follower waits end 21, 31, ..., 71 s -> proposal at 71 s, leader at 76 s
  await s.at(76_000);
  assert.deepEqual(s.adapter.sent.at(-2), { at: 71_000, decl: false, seq: 3n });
  assert.equal(s.election.isLeader(), true);
  s.election.stop();
});

test('yield: a declaration from another peer ends the yield early', async () => {
  const s = setup();
  s.election.start();
  await s.at(7000);
  s.election.yield();
  await s.at(12_000);
  s.adapter.deliver(HIGHER, true);
  await s.at(21_000); // the follower wait that began at 11 s ends; the leader is known
  assert.equal(s.election.isYielding, false);
  assert.equal(s.election.isLeader(), false);
  s.election.stop();
});

test('stop: idempotent, no callback, releases every timer and the subscription; messages after it are ignored', async () => {
  const s = setup();
  s.election.stop(); // before start
  const t = setup();
  t.election.start();
  await t.at(7000);
  t.election.yield();
  await t.at(8000);
  t.adapter.deliver(HIGHER, true); // arms the 0 ms wake
  t.election.stop();
  t.election.stop();
  assert.equal(t.clock.nextDue(), undefined, 'no timer left');
  assert.equal(t.adapter.handler, undefined, 'unsubscribed');
  assert.equal(t.election.phase, 'stopped');
  t.election.start();
  assert.equal(t.election.phase, 'stopped', 'a stopped election does not restart');
  assert.deepEqual(
    t.changes.map((c) => c.isLeader),
    [true, false],
  );
  const u = setup();
  u.election.start();
  await u.at(6000);
  u.election.stop();
  assert.equal(
    u.election.isLeader(),
    true,
    'stop does not call the callback: the owner stops delivery itself',
  );
  assert.deepEqual(
    u.changes.map((c) => c.isLeader),
    [true],
  );
  assert.equal(await u.metrics.value(METRICS.gossipLeaderElectionLeader, { channel: 'ch' }), 0);
});

test('a throwing callback or adapter does not stop the loop', async () => {
  const clock = new VirtualClock();
  const adapter = new Manual(clock);
  let fail = true;
  const realGossip = adapter.gossip.bind(adapter);
  adapter.gossip = (m) => {
    if (fail) throw new Error('send failed');
    realGossip(m);
  };
  const e = new LeaderElection({
    adapter,
    selfPkiId: SELF,
    channel: 'ch',
    config: electionConfig({ useLeaderElection: true }),
    clock,
    onLeadershipChange: () => {
      throw new Error('callback failed');
    },
  });
  e.start();
  await clock.runFor(5000);
  fail = false;
  await clock.runFor(30_000);
  assert.equal(e.isLeader(), true);
  assert.ok(adapter.sent.length > 0);
  assert.deepEqual(clock.errors, []);
  e.stop();
});
