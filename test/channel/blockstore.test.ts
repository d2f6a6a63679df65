/** The block message store (PROTOCOL.md §6.3): Fabric's replacement policy and TTL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/sim/index.js';
import { Metrics } from '../../src/base/metrics.js';
import { BlockMessageStore, type BlockRemoval } from '../../src/core/channel/blockstore.js';
import { Tag, channelBytes, unsignedGossip } from '../../src/wire/gossip.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';

const CH = 'mychannel';

function block(n: number | bigint, channel = CH): { envelope: Envelope; message: GossipMessage } {
  return unsignedGossip({
    tag: Tag.CHAN_AND_ORG,
    channel: channelBytes(channel),
    content: { case: 'dataMsg', value: { payload: { seqNum: BigInt(n), data: Buffer.from(`block ${n}`) } } },
  });
}

function store(
  clock: VirtualClock,
  removed: [bigint, BlockRemoval][] = [],
  metrics?: Metrics,
): BlockMessageStore {
  return new BlockMessageStore({
    clock,
    maxBlockCountToStore: 10,
    ttlMs: 400_000,
    onRemove: (s, r) => removed.push([s, r]),
    metrics,
    channel: CH,
  });
}

const add = (s: BlockMessageStore, n: number) => {
  const b = block(n);
  return s.add(BigInt(n), b.envelope, b.message);
};
const seqs = (s: BlockMessageStore) =>
  s
    .blocks()
    .map((b) => Number(b.seqNum))
    .sort((a, b) => a - b);

test('replacement policy: duplicates refused, blocks more than maxBlockCountToStore apart evict the older', async () => {
  const clock = new VirtualClock();
  const removed: [bigint, BlockRemoval][] = [];
  const metrics = new Metrics();
  const s = store(clock, removed, metrics);
  for (let n = 1; n <= 11; n++) assert.equal(add(s, n), true);
  assert.equal(add(s, 5), false, 'duplicate');
  assert.deepEqual(seqs(s), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(add(s, 12), true);
  assert.deepEqual(seqs(s), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(removed, [[1n, 'evicted']]);
  assert.equal(s.checkValid(1n), false, 'too far behind the newest');
  assert.equal(add(s, 1), false);
  assert.equal(s.checkValid(13n), true);
  assert.equal(add(s, 30), true, 'a far jump evicts everything');
  assert.deepEqual(seqs(s), [30]);
  assert.equal(removed.length, 12);
  assert.equal(await metrics.value('grapevine_gossip_block_store_refused_total'), 2);
  assert.equal(await metrics.value('grapevine_gossip_block_store_size'), 1);
  // a block refused by one stored block evicts nothing
  const t = store(clock);
  add(t, 10);
  add(t, 20);
  assert.equal(add(t, 5), false);
  assert.deepEqual(seqs(t), [10, 20]);
  // 64-bit sequence numbers are exact
  const u = store(clock);
  const big = (1n << 64n) - 1n;
  assert.equal(u.add(big, block(big).envelope, block(big).message), true);
  assert.equal(u.checkValid(big - 1n), true);
  assert.equal(u.checkValid(big), false);
});

test('TTL: expired blocks leave the store and the pull store but count as seen until 2 x TTL', async () => {
  const clock = new VirtualClock();
  const removed: [bigint, BlockRemoval][] = [];
  const s = store(clock, removed);
  s.start();
  add(s, 7);
  await clock.runFor(200_000);
  add(s, 8);
  await clock.runFor(204_000); // 7 is 404 s old: expired; 8 is 204 s old
  assert.deepEqual(removed, [[7n, 'expired']]);
  assert.equal(s.get(7n), undefined);
  assert.deepEqual(seqs(s), [8]);
  assert.equal(s.size, 1);
  assert.equal(add(s, 7), false, 'still seen');
  await clock.runFor(400_000); // 7 is 804 s old: gone; 8 expired
  assert.equal(add(s, 7), true, 'forgotten after 2 x TTL');
  assert.deepEqual(removed, [
    [7n, 'expired'],
    [8n, 'expired'],
  ]);
  s.stop();
  s.stop();
  await clock.runFor(10_000_000);
  assert.equal(clock.nextDue(), undefined);
});
