/**
 * The deliverer on a virtual clock with a scripted connector: block hand-off order, statuses as
 * failures, Fabric's backoff sequence, yield after reconnectTotalTimeThreshold (elected leader
 * only), endpoint refresh without a failure, stop interrupting sleeps and a blocking state layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import {
  Deliverer,
  type DeliverConnector,
  type DeliverStream,
  type DelivererOptions,
} from '../../src/core/deliver/deliverer.js';
import { ConnectionSource, type Endpoint } from '../../src/core/deliver/endpoints.js';
import { DeliverMetrics } from '../../src/core/deliver/metrics.js';
import { Metrics } from '../../src/base/metrics.js';
import { deliverBlockFrame, deliverStatusFrame } from '../../src/wire/deliver-frames.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { SeededRng } from '../../src/sim/rng.js';
import { decodeTx, encodeBlock } from '../../src/wire/block.js';
import { decode } from '../../src/wire/codec.js';
import { BlockSchema, Status, type Block } from '../../src/wire/gen/common/common_pb.js';
import { SeekInfoSchema } from '../../src/wire/gen/orderer/ab_pb.js';
import { deliverSeekEnvelope } from '../../src/wire/index.js';
import { encode } from '../../src/wire/codec.js';
import { EnvelopeSchema } from '../../src/wire/gen/common/common_pb.js';

class FakeStream implements DeliverStream {
  private queue: (Uint8Array | undefined)[] = [];
  private waiting: ((f: Uint8Array | undefined) => void) | undefined;
  closed = false;
  push(f: Uint8Array | undefined): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(f);
    } else this.queue.push(f);
  }
  recv(): Promise<Uint8Array | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((r) => (this.waiting = r));
  }
  close(): void {
    this.closed = true;
    this.push(undefined);
  }
}

interface Dial {
  at: number;
  address: string;
  start: bigint;
  stream?: FakeStream;
}

class FakeConnector implements DeliverConnector {
  readonly dials: Dial[] = [];
  /** Per dial: 'fail' or a stream; default fail. */
  plan: ((d: Dial) => FakeStream | 'fail') | undefined;
  constructor(private readonly clock: VirtualClock) {}
  async connect(endpoint: Endpoint, env: Uint8Array): Promise<DeliverStream> {
    const seek = decode(SeekInfoSchema, decodeTx(env).payload.data);
    const d: Dial = {
      at: this.clock.now(),
      address: endpoint.address,
      start: (seek.start!.Type.value as { number: bigint }).number,
    };
    this.dials.push(d);
    const r = this.plan?.(d) ?? 'fail';
    if (r === 'fail') throw new Error(`connection refused: ${endpoint.address}`);
    d.stream = r;
    return r;
  }
}

function block(n: bigint): Uint8Array {
  return encodeBlock(create(BlockSchema, { header: { number: n }, data: { data: [new Uint8Array([1])] } }));
}

const signer = { serializedIdentity: new Uint8Array([1]), sign: () => new Uint8Array([2]) };
function seekBytes(h: bigint): Uint8Array {
  return encode(EnvelopeSchema, deliverSeekEnvelope('ch', h, signer, 0));
}

function setup(over: Partial<DelivererOptions> & { clock?: VirtualClock } = {}) {
  const clock = over.clock ?? new VirtualClock();
  const conn = new FakeConnector(clock);
  const source = new ConnectionSource();
  source.update([], new Map([['O', { addresses: ['o1:7050', 'o2:7050'], rootCerts: [] }]]));
  let height = 1n;
  const added: bigint[] = [];
  const gossiped: bigint[] = [];
  const verified: bigint[] = [];
  const yields: number[] = [];
  const d = new Deliverer({
    channelId: 'ch',
    clock,
    rng: new SeededRng(7),
    source,
    connector: conn,
    ledgerHeight: () => height,
    seekEnvelope: seekBytes,
    verifyBlock: (seq: bigint, b: Block) => {
      assert.equal(b.header!.number, seq);
      verified.push(seq);
    },
    addPayload: async (seq: bigint) => {
      added.push(seq);
      height = seq + 1n;
    },
    gossip: (seq: bigint) => gossiped.push(seq),
    blockGossipEnabled: true,
    yieldLeadership: false,
    onYield: () => yields.push(clock.now()),
    maxRetryDelayMs: 3_600_000,
    maxRetryDurationMs: 3_600_000,
    ...over,
  });
  return {
    clock,
    conn,
    source,
    d,
    added,
    gossiped,
    verified,
    yields,
    setHeight: (h: bigint) => (height = h),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

test('blocks are verified, added, then gossiped in order; the seek starts at the ledger height', async () => {
  const s = setup();
  const stream = new FakeStream();
  s.conn.plan = () => stream;
  s.setHeight(5n);
  s.d.start();
  await tick();
  assert.equal(s.conn.dials.length, 1);
  assert.equal(s.conn.dials[0].start, 5n);
  for (const n of [5n, 6n, 7n]) stream.push(deliverBlockFrame(block(n)));
  await s.clock.runFor(10);
  assert.deepEqual(s.verified, [5n, 6n, 7n]);
  assert.deepEqual(s.added, [5n, 6n, 7n]);
  assert.deepEqual(s.gossiped, [5n, 6n, 7n]);
  await s.d.stop();
  assert.ok(stream.closed);
});

test('blockGossipEnabled false: blocks go to the state layer only (orderer-direct mode)', async () => {
  const s = setup({ blockGossipEnabled: false });
  const stream = new FakeStream();
  s.conn.plan = () => stream;
  s.d.start();
  stream.push(deliverBlockFrame(block(1n)));
  await s.clock.runFor(10);
  assert.deepEqual(s.added, [1n]);
  assert.deepEqual(s.gossiped, []);
  await s.d.stop();
});

test('any status, SUCCESS included, is a failure; backoff 100, 120, 144 ms; a block resets it', async () => {
  const s = setup();
  const streams: FakeStream[] = [];
  s.conn.plan = () => {
    const st = new FakeStream();
    streams.push(st);
    return st;
  };
  s.d.start();
  await tick();
  const t0 = s.clock.now();
  streams[0].push(deliverStatusFrame(Status.SUCCESS));
  await s.clock.runFor(99);
  assert.equal(s.conn.dials.length, 1);
  await s.clock.runFor(1);
  assert.equal(s.conn.dials.length, 2);
  streams[1].push(deliverStatusFrame(Status.FORBIDDEN));
  await s.clock.runFor(120);
  assert.equal(s.conn.dials.length, 3);
  streams[2].push(undefined); // hung up without status
  await s.clock.runFor(144);
  assert.equal(s.conn.dials.length, 4);
  assert.deepEqual(
    s.conn.dials.map((d) => d.at - t0),
    [0, 100, 220, 364],
  );
  streams[3].push(deliverBlockFrame(block(1n)));
  streams[3].push(deliverStatusFrame(Status.SERVICE_UNAVAILABLE));
  await s.clock.runFor(100);
  assert.equal(s.conn.dials.length, 5, 'the processed block reset the counter: 100 ms again');
  assert.equal(s.conn.dials[4].start, 2n);
  assert.equal(s.d.backoff.totalMs, 464);
  await s.d.stop();
});

test('a block failing verification or the state layer is a failure', async () => {
  let reject = false;
  const s = setup({
    verifyBlock: (seq) => {
      if (seq === 2n) throw new Error('bad signature');
    },
    addPayload: async () => {
      if (reject) throw new Error('buffer closed');
    },
  });
  const streams: FakeStream[] = [];
  s.conn.plan = () => {
    const st = new FakeStream();
    streams.push(st);
    return st;
  };
  s.d.start();
  await tick();
  streams[0].push(deliverBlockFrame(block(2n)));
  await s.clock.runFor(100);
  assert.equal(s.d.stats.failures, 1);
  assert.equal(streams.length, 2);
  reject = true;
  streams[1].push(deliverBlockFrame(block(3n)));
  await s.clock.runFor(120);
  assert.equal(s.d.stats.failures, 2);
  streams[2].push(new Uint8Array([0xff]));
  await s.clock.runFor(144);
  assert.equal(s.d.stats.failures, 3, 'undecodable response');
  await s.d.stop();
});

test('elected leader yields once the summed backoff passes reconnectTotalTimeThreshold; static leader keeps trying', async () => {
  const elected = setup({ yieldLeadership: true, maxRetryDurationMs: 500 });
  elected.d.start();
  await elected.clock.runFor(10_000);
  // dials at 0, 100, 220, 364; the 4th failure's sleep (172) would make 536 > 500: yield
  assert.deepEqual(
    elected.conn.dials.map((d) => d.at - elected.conn.dials[0].at),
    [0, 100, 220, 364],
  );
  assert.equal(elected.yields.length, 1);
  assert.ok(elected.d.yielded);
  assert.equal(elected.clock.nextDue(), undefined, 'no timer left');

  const fixed = setup({ yieldLeadership: false, maxRetryDurationMs: 500 });
  fixed.d.start();
  await fixed.clock.runFor(10_000);
  assert.equal(fixed.yields.length, 0);
  assert.ok(fixed.conn.dials.length > 10);
  await fixed.d.stop();
  assert.equal(fixed.clock.nextDue(), undefined, 'stop cleared the backoff timer');
});

test('endpoint refresh disconnects without counting a failure and reconnects to the new set', async () => {
  const s = setup();
  const streams: FakeStream[] = [];
  s.conn.plan = () => {
    const st = new FakeStream();
    streams.push(st);
    return st;
  };
  s.d.start();
  await tick();
  assert.equal(s.conn.dials.length, 1);
  s.source.update([], new Map([['O', { addresses: ['o3:7050'], rootCerts: [] }]]));
  await tick();
  await tick();
  assert.ok(streams[0].closed);
  assert.equal(s.conn.dials.length, 2, 'reconnected at once, no backoff');
  assert.equal(s.conn.dials[1].address, 'o3:7050');
  assert.equal(s.d.stats.failures, 0);
  assert.equal(s.d.stats.refreshes, 1);
  await s.d.stop();
});

test('random endpoint per connection attempt covers every endpoint', async () => {
  const s = setup();
  s.d.start();
  await s.clock.runFor(5_000);
  const seen = new Set(s.conn.dials.map((d) => d.address));
  assert.deepEqual([...seen].sort(), ['o1:7050', 'o2:7050']);
  await s.d.stop();
});

test('stop interrupts a state layer that blocks', async () => {
  let release: (() => void) | undefined;
  const s = setup({ addPayload: () => new Promise<void>((r) => (release = r)) });
  const stream = new FakeStream();
  s.conn.plan = () => stream;
  s.d.start();
  stream.push(deliverBlockFrame(block(1n)));
  await s.clock.runFor(10);
  assert.ok(release, 'addPayload was called');
  await s.d.stop();
  assert.ok(stream.closed);
  assert.equal(s.d.stats.blocksReceived, 0);
  release!();
});

test('metrics: blocks received, endpoint in use, every session end counted by reason (stop is not)', async () => {
  const metrics = new Metrics();
  const clock = new VirtualClock(1_000_000);
  const dm = new DeliverMetrics(metrics, clock);
  let failVerify = false;
  let failAdd = false;
  const s = setup({
    clock,
    metrics: dm.forChannel('ch'),
    verifyBlock: () => {
      if (failVerify) throw new Error('bad signature');
    },
    addPayload: async () => {
      if (failAdd) throw new Error('buffer closed');
    },
  });
  const streams: FakeStream[] = [];
  let refuse = 1;
  s.conn.plan = () => {
    if (refuse-- > 0) return 'fail';
    const st = new FakeStream();
    streams.push(st);
    return st;
  };
  const reasons = async () => {
    const out: Record<string, number> = {};
    for (const v of (await metrics.registry.getSingleMetric('grapevine_deliver_reconnects_total')!.get())
      .values)
      out[String(v.labels.reason)] = v.value;
    return out;
  };
  s.d.start();
  await s.clock.runFor(100); // connect_failed, then a 100 ms backoff and a stream
  assert.equal(streams.length, 1);
  const first = s.conn.dials[1].address;
  assert.equal(await metrics.value('grapevine_deliver_connected', { channel: 'ch', endpoint: first }), 1);
  streams[0].push(deliverBlockFrame(block(1n)));
  streams[0].push(deliverBlockFrame(block(2n)));
  await s.clock.runFor(5_000);
  assert.equal(await metrics.value('grapevine_deliver_blocks_received_total', { channel: 'ch' }), 2);
  const since = /grapevine_deliver_seconds_since_last_block\{channel="ch"\} (\S+)/.exec(await metrics.text());
  assert.equal(Number(since![1]), 5, 'computed at scrape time from the injected clock');

  streams[0].push(deliverStatusFrame(Status.SERVICE_UNAVAILABLE)); // bad_status
  await s.clock.runFor(1);
  assert.equal(await metrics.value('grapevine_deliver_connected', { channel: 'ch', endpoint: first }), 0);
  await s.clock.runFor(99);
  streams[1].push(undefined); // stream_ended
  await s.clock.runFor(120);
  streams[2].push(new Uint8Array([0xff, 0xff])); // bad_block
  await s.clock.runFor(144);
  failVerify = true;
  streams[3].push(deliverBlockFrame(block(3n))); // verify_failed
  await s.clock.runFor(173);
  failVerify = false;
  failAdd = true;
  streams[4].push(deliverBlockFrame(block(3n))); // add_payload_failed
  await s.clock.runFor(208);
  failAdd = false;
  assert.equal(streams.length, 6);
  s.source.update([], new Map([['O', { addresses: ['o3:7050'], rootCerts: [] }]])); // endpoints_refreshed
  await s.clock.runFor(300); // not a failure, but the counter stands until a block arrives
  assert.equal(streams.length, 7);
  await s.d.stop();
  assert.deepEqual(await reasons(), {
    connect_failed: 1,
    bad_status: 1,
    stream_ended: 1,
    bad_block: 1,
    verify_failed: 1,
    add_payload_failed: 1,
    endpoints_refreshed: 1,
  });
  assert.equal(
    await metrics.value('grapevine_deliver_connected', { channel: 'ch', endpoint: 'o3:7050' }),
    0,
    'stopped',
  );
});
