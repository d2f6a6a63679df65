/**
 * State transfer on the simulated network (virtual time, seeded): out-of-order and duplicate
 * gossip arrivals, gaps filled by anti-entropy, a peer 2,000 blocks behind, and bad input
 * (blocks not asked for, tampered blocks, outsiders) dropped whole and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import type { ReceivedMessage } from '../../src/core/link/types.js';
import { stateRequestMessage, stateResponseMessage } from '../../src/core/state/index.js';
import { decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { BlockSchema } from '../../src/wire/gen/common/common_pb.js';
import { CHANNEL, stateWorld } from './state-world.js';

const dropped = (
  w: { nodes: { metrics: { value(n: string, l: Record<string, string>): Promise<number> } }[] },
  i: number,
  reason: string,
) => w.nodes[i].metrics.value('grapevine_gossip_state_dropped_total', { reason });

test('out-of-order and duplicate gossip arrivals and gaps: anti-entropy fills them, commit is in order', async () => {
  const w = await stateWorld(11, {
    heights: [60, 1, 60],
    chainLength: 60,
    config: { checkIntervalMs: 10_000 },
  });
  const [a, b] = w.nodes;
  const seen: [bigint, bigint][] = [];
  for (const n of [a, w.nodes[2]]) {
    n.transport.subscribe(
      (m) => m.message.content.case === 'stateRequest',
      (m) => {
        const r = (m.message.content as { value: { startSeqNum: bigint; endSeqNum: bigint } }).value;
        seen.push([r.startSeqNum, r.endSeqNum]);
      },
    );
  }
  const pb = w.providers.get(b)!;
  const committed: bigint[] = [];
  const ledger = w.ledgers.get(b)!;
  const origAppend = ledger.append.bind(ledger);
  ledger.append = async (bytes) => {
    committed.push(decodeBlock(bytes).header!.number);
    return origAppend(bytes);
  };
  for (const n of [5, 3, 3, 25, 2, 0]) pb.acceptGossipBlock(BigInt(n), w.blocks[n]);
  await w.net.clock.runFor(1);
  assert.equal(ledger.height(), 1n, 'block 1 is missing: nothing commits');
  assert.equal(await dropped(w, 1, 'duplicate'), 1);
  assert.equal(await dropped(w, 1, 'too_far_ahead'), 1);
  assert.equal(await dropped(w, 1, 'below_height'), 1);
  assert.ok(await w.net.clock.runUntil(() => ledger.height() === 60n, 30_000), `height ${ledger.height()}`);
  assert.deepEqual(
    committed,
    Array.from({ length: 59 }, (_, i) => BigInt(i + 1)),
    'each block committed once, in order',
  );
  assert.ok(seen.length >= 6);
  for (const [s, e] of seen) assert.ok(s <= e && e - s <= 10n, `request [${s}, ${e}]`);
  assert.equal(seen[0][0], 1n);
  assert.equal(await b.metrics.value('gossip_state_height', { channel: CHANNEL }), 60);
  await w.stop();
});

test('a peer 2,000 blocks behind catches up with RemoteStateRequest batches', async () => {
  const w = await stateWorld(12, { heights: [2001, 1], chainLength: 2001 });
  const ledger = w.ledgers.get(w.nodes[1])!;
  const t0 = w.net.clock.now();
  assert.ok(
    await w.net.clock.runUntil(() => ledger.height() === 2001n, 120_000),
    `height ${ledger.height()}`,
  );
  const took = w.net.clock.now() - t0;
  assert.ok(took <= 10_000 + 20_000, `caught up ${took} virtual ms after start`);
  // [start, start + batchSize] inclusive: 11 blocks per request, as Fabric asks
  assert.equal(
    await w.nodes[1].metrics.value('grapevine_gossip_state_requests_sent_total'),
    Math.ceil(2000 / 11),
  );
  assert.equal(await w.nodes[0].metrics.value('grapevine_gossip_state_blocks_served_total'), 2000);
  await w.stop();
});

test('bad responses are dropped whole and counted, outsiders refused; the ledger stays untouched', async () => {
  const w = await stateWorld(13, {
    heights: [30, 1, 30],
    chainLength: 30,
    config: { checkIntervalMs: 60_000 },
  });
  const [a, b, m] = w.nodes;
  const ledger = w.ledgers.get(b)!;
  // m misbehaves: stop its provider, answer requests itself.
  await w.providers.get(m)!.stop();
  let mode: 'extra' | 'tampered' = 'extra';
  m.transport.subscribe(
    (x) => x.message.content.case === 'stateRequest',
    (x: ReceivedMessage) => {
      const r = (x.message.content as { value: { startSeqNum: bigint; endSeqNum: bigint } }).value;
      const seqs = [];
      for (let s = r.startSeqNum; s <= r.endSeqNum; s++) seqs.push(s);
      if (mode === 'extra') seqs.push(r.endSeqNum + 1n);
      const payloads = seqs.map((s) => {
        let data = w.blocks[Number(s)];
        if (mode === 'tampered' && s === r.endSeqNum) {
          const blk = decodeBlock(data);
          blk.data!.data[0] = new Uint8Array([...blk.data!.data[0], 0]);
          data = encodeBlock(create(BlockSchema, blk));
        }
        return { seqNum: s, data };
      });
      x.respond(stateResponseMessage(CHANNEL, x.message.nonce, payloads).envelope);
    },
  );
  w.views.set(b, () => [w.peerOf(m)].map((p) => ({ ...p, ledgerHeight: 30n })));
  const pb = w.providers.get(b)!;
  const round = pb.syncNow();
  await w.net.clock.runUntil(() => false, 15_000);
  await round;
  assert.equal(ledger.height(), 1n);
  assert.equal(
    await dropped(w, 1, 'not_requested'),
    4,
    'maxRetries + 1 = 4 sends, each response dropped whole',
  );
  mode = 'tampered';
  const round2 = pb.syncNow();
  await w.net.clock.runUntil(() => false, 15_000);
  await round2;
  assert.equal(ledger.height(), 1n);
  assert.equal(await dropped(w, 1, 'bad_block'), 4);
  assert.equal(pb.bufferSize, 0, 'no payload of a bad response reached the buffer');

  // an outsider (Org3, not in the channel): its request gets no answer, its response is refused
  const o = w.outsider;
  let answered = 0;
  o.transport.subscribe(
    (x) => x.message.content.case === 'stateResponse',
    () => answered++,
  );
  o.transport.send(stateRequestMessage(CHANNEL, 1n, 5n, 77n).envelope, w.peerOf(a));
  await w.net.clock.runFor(2_000);
  assert.equal(answered, 0);
  assert.equal(await dropped(w, 0, 'unauthorized'), 1);
  w.views.set(b, undefined);
  const round3 = pb.syncNow();
  o.transport.send(
    stateResponseMessage(CHANNEL, 1n, [{ seqNum: 1n, data: w.blocks[1] }]).envelope,
    w.peerOf(b),
  );
  assert.ok(await w.net.clock.runUntil(() => ledger.height() === 30n, 30_000));
  await round3;
  assert.equal(await dropped(w, 1, 'unauthorized'), 1);
  // a request with a span above batchSize is refused without a reply
  let replies = 0;
  b.transport.subscribe(
    (x) => x.message.content.case === 'stateResponse' && x.message.nonce === 99n,
    () => replies++,
  );
  b.transport.send(stateRequestMessage(CHANNEL, 1n, 12n, 99n).envelope, w.peerOf(a));
  b.transport.send(stateRequestMessage(CHANNEL, 5n, 4n, 99n).envelope, w.peerOf(a));
  await w.net.clock.runFor(2_000);
  assert.equal(replies, 0);
  assert.equal(await dropped(w, 0, 'bad_request'), 2);
  await w.stop();
});
