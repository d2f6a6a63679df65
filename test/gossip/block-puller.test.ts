import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, VirtualClock } from '../../src/sim/index.js';
import { Metrics } from '../../src/base/metrics.js';
import { blockItemId, parseBlockDigest, type PulledBlock } from '../../src/core/pull/index.js';
import { standalonePuller, type StandalonePuller } from './blockpull-fixture.js';
import { digestEnvelope, helloEnvelope, updateEnvelope } from '../../src/core/pull/messages.js';
import { PullMsgType, Tag, channelBytes, unsignedGossip } from '../../src/wire/gossip.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { FakeNet, testPkiId } from './fakenet.js';
import type { FakeTransport } from '../helpers/fake-transport.js';

const CH = 'mychannel';
const KIND = { msgType: PullMsgType.BLOCK_MSG, tag: Tag.CHAN_AND_ORG, channel: CH };

function block(n: number | bigint, channel = CH): { envelope: Envelope; message: GossipMessage } {
  return unsignedGossip({
    tag: Tag.CHAN_AND_ORG,
    channel: channelBytes(channel),
    content: { case: 'dataMsg', value: { payload: { seqNum: BigInt(n), data: Buffer.from(`block ${n}`) } } },
  });
}

test('block digests: decimal ASCII of seq_num', () => {
  assert.deepEqual(Buffer.from(blockItemId(42n)).toString(), '42');
  assert.equal(parseBlockDigest(Buffer.from('18446744073709551615')), 18446744073709551615n);
  for (const bad of ['18446744073709551616', '-1', '+1', '1a', '', ' 1', '0x10'])
    assert.equal(parseBlockDigest(Buffer.from(bad)), undefined, bad);
});

interface Peer {
  readonly t: FakeTransport;
  readonly puller: StandalonePuller;
  readonly delivered: PulledBlock[];
  readonly metrics: Metrics;
  height: bigint;
  bad: Set<bigint>;
}

function peers(n: number): { clock: VirtualClock; net: FakeNet; ps: Peer[] } {
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  const ts = Array.from({ length: n }, (_, i) => net.node(`p${i}:7051`, testPkiId(i + 1)));
  const ps = ts.map((t, i) => {
    const delivered: PulledBlock[] = [];
    const metrics = new Metrics();
    const p: Peer = {
      t,
      delivered,
      metrics,
      height: 0n,
      bad: new Set(),
      puller: standalonePuller({
        channel: CH,
        transport: t,
        clock,
        rng: new SeededRng(i + 1),
        metrics,
        membership: () =>
          ts.filter((o) => o !== t).map((o) => ({ pkiId: o.selfPkiId, endpoint: o.endpoint })),
        ledgerHeight: () => p.height,
        verifyBlock: (seq, data) => {
          if (p.bad.has(seq) || Buffer.from(data).toString() !== `block ${seq}`)
            throw new Error(`bad block ${seq}`);
        },
        onBlock: (b) => delivered.push(b),
      }),
    };
    t.subscribe(
      (m) => p.puller.engine.isMine(m.message),
      (m) => p.puller.handleMessage(m),
    );
    return p;
  });
  return { clock, net, ps };
}

test('block pull: missing blocks at or above the ledger height are pulled, verified, stored, delivered, not forwarded', async () => {
  const { clock, net, ps } = peers(2);
  const [a, b] = ps as [Peer, Peer];
  for (let n = 1; n <= 6; n++) assert.equal(b.puller.addBlock(block(n).envelope, block(n).message), true);
  assert.equal(b.puller.addBlock(block(3).envelope, block(3).message), false, 'not new');
  a.height = 3n;
  a.puller.addBlock(block(4).envelope, block(4).message);
  a.puller.start();
  await clock.runFor(7000);
  const dig = net.sent('dataDig', 'p1:7051')[0]!;
  assert.deepEqual(
    (dig.message.content.value as { digests: Uint8Array[] }).digests.map((d) => Buffer.from(d).toString()),
    ['1', '2', '3', '4', '5', '6'],
  );
  const req = net.sent('dataReq', 'p0:7051')[0]!;
  assert.deepEqual(
    (req.message.content.value as { digests: Uint8Array[] }).digests.map((d) => Buffer.from(d).toString()),
    ['3', '5', '6'],
  );
  assert.deepEqual(
    a.delivered.map((d) => d.seqNum),
    [3n, 5n, 6n],
  );
  assert.deepEqual(
    a.puller.store
      .blocks()
      .map((x) => x.seqNum)
      .sort(),
    [3n, 4n, 5n, 6n],
  );
  assert.ok(a.puller.engine.has(blockItemId(5n)));
  assert.equal(net.sent('dataMsg').length, 0, 'pulled blocks are not forwarded');
  for (const s of net.log) {
    assert.equal(s.message.tag, Tag.CHAN_AND_ORG);
    assert.equal(Buffer.from(s.message.channel).toString(), CH);
  }
  a.puller.stop();
});

test('block pull: one block failing verification drops the whole update; duplicates are skipped silently', async () => {
  const { clock, net, ps } = peers(2);
  const [a, b] = ps as [Peer, Peer];
  const round = async (data: Envelope[]) => {
    a.puller.engine.initiatePull();
    await clock.runFor(1);
    const nonce = (net.sent('hello', 'p0:7051').at(-1)!.message.content.value as { nonce: bigint }).nonce;
    a.puller.handleMessage(a.t.received(digestEnvelope(KIND, nonce, [Buffer.from('1')]), b.t));
    await clock.runFor(1000);
    a.puller.handleMessage(a.t.received(updateEnvelope(KIND, nonce, data), b.t));
    await clock.runFor(2500);
  };
  a.bad.add(2n);
  await round([block(1).envelope, block(2).envelope]);
  assert.equal(a.delivered.length, 0);
  assert.equal(a.puller.store.size, 0);
  assert.equal(await a.metrics.value('grapevine_gossip_pull_dropped_total', { reason: 'invalid_update' }), 1);
  assert.equal(await a.metrics.value('grapevine_gossip_block_pull_rejected_total'), 1);
  await round([block(1).envelope, block(3, 'otherchannel').envelope]);
  assert.equal(a.delivered.length, 0, 'a block of another channel drops the update');
  a.puller.addBlock(block(1).envelope, block(1).message);
  a.bad.clear();
  a.bad.add(1n); // the duplicate is skipped before verification
  await round([block(1).envelope, block(3).envelope]);
  assert.deepEqual(
    a.delivered.map((d) => d.seqNum),
    [3n],
  );
});

test('block pull: evicted and expired blocks are no longer offered in digests', async () => {
  const { clock, net, ps } = peers(2);
  const [a, b] = ps as [Peer, Peer];
  b.puller.start();
  for (const n of [1, 2, 15]) b.puller.addBlock(block(n).envelope, block(n).message);
  assert.equal(b.puller.engine.has(blockItemId(1n)), false);
  assert.equal(b.puller.engine.has(blockItemId(15n)), true);
  b.puller.handleMessage(b.t.received(helloEnvelope(KIND, 11n), a.t));
  await clock.runFor(1);
  const dig = net.sent('dataDig', 'p1:7051').at(-1)!;
  assert.deepEqual(
    (dig.message.content.value as { digests: Uint8Array[] }).digests.map((d) => Buffer.from(d).toString()),
    ['15'],
  );
  await clock.runFor(400_000 + 4000);
  assert.equal(b.puller.engine.has(blockItemId(15n)), false, 'expired');
  assert.equal(b.puller.store.size, 0);
  const before = net.sent('dataDig', 'p1:7051').length;
  b.puller.handleMessage(b.t.received(helloEnvelope(KIND, 12n), a.t));
  await clock.runFor(1);
  assert.equal(net.sent('dataDig', 'p1:7051').length, before, 'nothing to offer: no digest');
  b.puller.stop();
});
