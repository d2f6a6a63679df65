/**
 * StreamFollower (core/stream/follower.ts) against in-memory upstreams on a virtual clock: which
 * upstream it streams from, what it does with what they send, and its fail-over rules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../../src/sim/clock.js';
import { makeChain } from '../../src/sim/blockmaker.js';
import { deliverBlockFrame, deliverStatusFrame } from '../../src/wire/deliver-frames.js';
import { Status } from '../../src/wire/gen/common/common_pb.js';
import { StreamFollower } from '../../src/core/stream/follower.js';
import { decodeBlock } from '../../src/wire/block.js';
import { streamConfig } from '../../src/core/stream/config.js';
import type { StreamMember } from '../../src/core/stream/tree.js';
import type { SourceRole } from '../../src/core/stream/marker.js';
import type { DeliverStream } from '../../src/core/deliver/deliverer.js';

// verifyBlock is injected below, so the blocks need no real signature
const orderer = { serializedIdentity: Uint8Array.of(1), sign: () => Uint8Array.of(2) };
const CHAIN = makeChain({ channel: 'ch', orderer, n: 40, txCount: 1, txBytes: 10, from: 0n });

/** An upstream stream we feed by hand. */
class FakeStream implements DeliverStream {
  private queue: (Uint8Array | undefined)[] = [];
  private waiter?: (f: Uint8Array | undefined) => void;
  closed = false;
  constructor(
    readonly endpoint: string,
    readonly from: bigint,
  ) {}
  push(f: Uint8Array | undefined): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(f);
    } else this.queue.push(f);
  }
  block(n: bigint): void {
    this.push(deliverBlockFrame(CHAIN[Number(n)]!));
  }
  end(): void {
    this.push(undefined);
  }
  recv(): Promise<Uint8Array | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((r) => (this.waiter = r));
  }
  close(): void {
    this.closed = true;
    this.push(undefined);
  }
}

function harness(o: { members: StreamMember[]; leader?: boolean; selfId?: number; refuse?: Set<string> }) {
  const clock = new VirtualClock();
  const streams: FakeStream[] = [];
  const committed: bigint[] = [];
  const acting: boolean[] = [];
  let height = 1n;
  let members = o.members;
  const badBlocks = new Set<bigint>();
  const f = new StreamFollower({
    channelId: 'ch',
    selfPkiId: Uint8Array.of(0, o.selfId ?? 9),
    clock,
    config: streamConfig({
      stallTimeoutMs: 3000,
      suspectTimeoutMs: 10_000,
      checkIntervalMs: 500,
      rebalanceAfterMs: 10_000,
    }),
    connector: {
      open: async (endpoint, seek) => {
        assert.ok(seek.length > 0);
        if (o.refuse?.has(endpoint)) throw new Error(`connection refused: ${endpoint}`);
        const s = new FakeStream(endpoint, height);
        streams.push(s);
        return s;
      },
    },
    members: () => members,
    ledgerHeight: () => height,
    isLeader: () => o.leader ?? false,
    seekEnvelope: (h) => new TextEncoder().encode(`seek ${h}`),
    verify: (seq, bytes) => {
      // as VerifyBlock: the header number must be the one expected
      if (decodeBlock(bytes).header?.number !== seq) throw new Error(`header number is not ${seq}`);
      if (badBlocks.has(seq)) throw new Error(`bad signature on ${seq}`);
      return seq;
    },
    add: async (seq) => {
      if (seq === height) {
        committed.push(seq);
        height++;
      }
    },
    setActingSource: (on) => acting.push(on),
  });
  return {
    clock,
    f,
    streams,
    committed,
    acting,
    badBlocks,
    setMembers: (m: StreamMember[]) => (members = m),
    latest: () => streams[streams.length - 1]!,
  };
}

const m = (n: number, height: bigint, role?: SourceRole): StreamMember => ({
  pkiId: Uint8Array.of(0, n),
  endpoint: `p${n}`,
  height,
  role,
});

test('streams from the planned upstream, in order, and stays on it', async () => {
  const h = harness({ members: [m(1, 1n, 'leader'), m(2, 1n)] });
  h.f.start();
  await h.clock.runFor(1);
  assert.equal(h.streams.length, 1);
  assert.equal(h.latest().endpoint, 'p1');
  for (let n = 1n; n <= 5n; n++) h.latest().block(n);
  await h.clock.runFor(2000);
  assert.deepEqual(h.committed, [1n, 2n, 3n, 4n, 5n]);
  assert.equal(h.streams.length, 1, 'no reconnect while the stream works');
  assert.deepEqual(h.acting, []);
  h.f.stop();
});

test('a block failing verification drops the stream; another upstream is used; nothing is added', async () => {
  // six members, fan-out 4: we sit at depth 2, below an interior peer
  const six = [m(1, 1n, 'leader'), m(2, 1n), m(3, 1n), m(4, 1n), m(5, 1n), m(6, 1n)];
  const h = harness({ members: six, selfId: 9 });
  h.badBlocks.add(2n);
  h.f.start();
  await h.clock.runFor(1);
  const first = h.latest();
  first.block(1n);
  first.block(2n);
  await h.clock.runFor(10);
  assert.ok(first.closed, 'the stream that sent a bad block is closed');
  assert.deepEqual(h.committed, [1n]);
  assert.equal(h.streams.length, 2);
  assert.notEqual(h.latest().endpoint, first.endpoint, 'the suspected upstream is not chosen again');
  assert.deepEqual(h.acting, [], 'an interior upstream is replaced, not the orderer');
  h.f.stop();
});

test('the root dies: we pull from the orderer at once, then follow the new source when one appears', async () => {
  // fan-out 4: we stream straight from the leader (the root)
  const h = harness({ members: [m(1, 1n, 'leader'), m(5, 1n)], selfId: 3 });
  h.f.start();
  await h.clock.runFor(1);
  assert.equal(h.latest().endpoint, 'p1');
  const t0 = h.clock.now();
  h.latest().end(); // SIGKILL: the connection drops
  await h.clock.runFor(1);
  assert.deepEqual(h.acting, [true], 'acting source within the same instant');
  assert.ok(h.clock.now() - t0 < 10);
  assert.equal(h.f.role(), 'source');
  // the dead leader is still in the view (its alive has not expired) but suspected: we stay source
  await h.clock.runFor(2000);
  assert.deepEqual(h.acting, [true]);
  // a better-ranked peer announces itself as source: we stream from it and stop pulling
  h.setMembers([m(1, 1n, 'leader'), m(2, 1n, 'source'), m(5, 1n)]);
  await h.clock.runFor(600);
  assert.equal(h.latest().endpoint, 'p2');
  assert.deepEqual(h.acting, [true, false]);
  h.f.stop();
});

test('an interior upstream dies: another upstream, no orderer', async () => {
  const h = harness({
    members: [m(1, 1n, 'leader'), m(2, 1n), m(3, 1n), m(4, 1n), m(5, 1n), m(6, 1n)],
    selfId: 9,
  });
  h.f.start();
  await h.clock.runFor(1);
  const up = h.latest().endpoint;
  assert.notEqual(up, 'p1', 'with 6 members and fan-out 4 we are at depth 2');
  h.latest().end();
  await h.clock.runFor(1);
  assert.deepEqual(h.acting, [], 'an interior upstream is replaced by another upstream');
  assert.equal(h.streams.length, 2);
  assert.notEqual(h.latest().endpoint, up);
  h.f.stop();
});

test('a stalled upstream (silent for stallTimeout while a member is ahead) is replaced; a lead after a quiet spell is no stall', async () => {
  const six = [m(1, 1n, 'leader'), m(2, 1n), m(3, 1n), m(4, 1n), m(5, 1n), m(6, 1n)];
  const h = harness({ members: six, selfId: 9 });
  h.f.start();
  await h.clock.runFor(1);
  assert.equal(h.latest().endpoint, 'p2');
  await h.clock.runFor(5000);
  assert.equal(h.streams.length, 1, 'silence alone is no stall: nobody is ahead');
  h.setMembers([...six.slice(0, 5), m(6, 30n)]);
  // a member just got ahead (a block after a quiet spell): no stall yet, though silent for 5 s
  await h.clock.runFor(600);
  assert.equal(h.streams.length, 1, 'a lead seen for 600 ms is no stall');
  // still ahead and still nothing for stallTimeout: dropped
  await h.clock.runFor(3000);
  assert.equal(h.streams.length, 2);
  assert.notEqual(h.latest().endpoint, 'p2');
  assert.deepEqual(h.acting, []);
  h.f.stop();
});

test('a stalled root: we pull from the orderer ourselves', async () => {
  const h = harness({ members: [m(1, 1n, 'leader'), m(2, 30n)], selfId: 9 });
  h.f.start();
  await h.clock.runFor(1);
  assert.equal(h.latest().endpoint, 'p1');
  await h.clock.runFor(3600);
  assert.deepEqual(h.acting, [true]);
  h.f.stop();
});

test('a status from the upstream ends the session; refused connections are suspected', async () => {
  const h = harness({
    members: [m(1, 1n, 'leader'), m(2, 1n), m(3, 1n)],
    selfId: 9,
    refuse: new Set(['p1']),
  });
  h.f.start();
  await h.clock.runFor(1);
  // p1 refused: it was the root, so we act as source until the plans agree
  assert.deepEqual(h.acting, [true]);
  h.f.stop();
  const g = harness({ members: [m(1, 1n, 'leader'), m(2, 1n), m(3, 1n)], selfId: 9 });
  g.f.start();
  await g.clock.runFor(1);
  g.latest().push(deliverStatusFrame(Status.FORBIDDEN));
  await g.clock.runFor(1);
  assert.ok(g.streams[0]!.closed);
  g.f.stop();
});

test('as leader, or alone, no stream and no acting source', async () => {
  const h = harness({ members: [m(1, 1n), m(2, 1n)], leader: true, selfId: 0 });
  h.f.start();
  await h.clock.runFor(1000);
  assert.equal(h.streams.length, 0);
  assert.equal(h.f.role(), 'leader');
  h.f.stop();
  const a = harness({ members: [] });
  a.f.start();
  await a.clock.runFor(1000);
  assert.equal(a.streams.length, 0);
  assert.deepEqual(a.acting, []);
  assert.equal(a.f.lastPlan.kind, 'none');
  a.f.stop();
});
