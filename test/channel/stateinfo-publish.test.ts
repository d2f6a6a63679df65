/** Our StateInfo (PROTOCOL.md §5.2): content, change-driven publication every publishStateInfoInterval. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelMac } from '../../src/core/channel/mac.js';
import { Tag } from '../../src/wire/gossip.js';
import type { StateInfo } from '../../src/wire/gen/gossip/message_pb.js';
import { CH, Harness, ORG1, ORG2, fakeCrypto, fakePeer, key, names } from './harness.js';

const a1 = fakePeer('a1', ORG1);
const b1 = fakePeer('b1', ORG2);

/** StateInfos of ours pushed so far (and clear the queue). */
function published(h: Harness): StateInfo[] {
  const out = h.pushed.filter((i) => i.kind === 'stateInfo' && key(i.creator!) === key(h.self.pkiId));
  h.pushed.length = 0;
  return out.map((i) => {
    const sent = h.channel.cache.get(h.self.pkiId)!;
    assert.equal(sent.envelope, i.envelope, 'the pushed envelope is the cached one');
    return sent.info;
  });
}

test('StateInfo: first publication at the first publishStateInfoInterval tick; nothing more while unchanged', async () => {
  const h = new Harness({ peers: [a1, b1] });
  h.channel.start();
  await h.clock.runFor(3999);
  assert.equal(published(h).length, 0, 'not before the interval');
  await h.clock.runFor(1);
  const [first, ...more] = published(h);
  assert.ok(first);
  assert.equal(more.length, 0);
  assert.equal(first.properties?.ledgerHeight, 1n, 'initial height 1');
  assert.equal(first.properties?.leftChannel, false);
  await h.clock.runFor(60_000);
  assert.equal(
    published(h).length,
    0,
    'no periodic re-publication of an unchanged StateInfo (Fabric v2.4.9)',
  );
  h.channel.stop();
});

test('StateInfo: a height change is published once at the next tick; the same height again is no change', async () => {
  const h = new Harness({ peers: [a1] });
  h.channel.start();
  await h.clock.runFor(4000);
  const [first] = published(h);
  h.channel.updateLedgerHeight(5n);
  assert.equal(published(h).length, 0, 'change-driven, but only on the publish timer');
  await h.clock.runFor(4000);
  const [second, ...more] = published(h);
  assert.equal(more.length, 0);
  assert.equal(second?.properties?.ledgerHeight, 5n);
  assert.equal(
    second.timestamp?.incNum,
    first!.timestamp?.incNum,
    'inc_num: when the channel state was created',
  );
  assert.ok(second.timestamp!.seqNum > first!.timestamp!.seqNum, 'seq_num: when the properties last changed');
  h.channel.updateLedgerHeight(5n);
  await h.clock.runFor(8000);
  assert.equal(published(h).length, 0);
  // two changes within one interval: one publication, the latest
  h.channel.updateLedgerHeight(6n);
  h.channel.updateLedgerHeight(7n);
  await h.clock.runFor(4000);
  assert.deepEqual(
    published(h).map((s) => s.properties?.ledgerHeight),
    [7n],
  );
  h.channel.stop();
});

test('StateInfo: with no alive member nothing is published and the change is kept for later', async () => {
  const h = new Harness({ peers: [a1] });
  h.dead.add(key(a1.pkiId));
  h.channel.start();
  h.channel.updateLedgerHeight(3n);
  await h.clock.runFor(12_000);
  assert.equal(published(h).length, 0);
  h.dead.clear();
  await h.clock.runFor(4000);
  assert.deepEqual(
    published(h).map((s) => s.properties?.ledgerHeight),
    [3n],
  );
  h.channel.stop();
});

test('StateInfo: a chaincode change is published at once', () => {
  const h = new Harness({ peers: [a1] });
  h.channel.updateChaincodes([{ name: 'cc', version: '1' }]);
  const [si] = published(h);
  assert.deepEqual(
    si?.properties?.chaincodes.map((c) => [c.name, c.version]),
    [['cc', '1']],
  );
  h.channel.updateChaincodes([{ name: 'cc', version: '1' }]);
  assert.equal(published(h).length, 0, 'the same chaincodes are no change');
});

test('StateInfo: shape — CHAN_OR_ORG, no channel, nonce 0, our MAC, signed by us over the payload', () => {
  const h = new Harness({ peers: [a1] });
  h.channel.updateLedgerHeight(2n);
  const own = h.channel.cache.get(h.self.pkiId)!;
  assert.equal(own.message.tag, Tag.CHAN_OR_ORG);
  assert.equal(own.message.channel.length, 0);
  assert.equal(own.message.nonce, 0n);
  assert.deepEqual(Buffer.from(own.info.channelMAC), Buffer.from(channelMac(h.self.pkiId, CH)));
  assert.deepEqual(Buffer.from(own.info.pkiId), Buffer.from(h.self.pkiId));
  fakeCrypto(() => [ORG1]).verify(h.self.identity, own.envelope.signature, own.envelope.payload);
});

test('StateInfo routing (§5.7): with an external endpoint to members of channel orgs, without one to our org only', async () => {
  const outsider = fakePeer('c1', 'Org3MSP');
  for (const external of [true, false]) {
    const h = new Harness({
      peers: [a1, b1, outsider],
      externalEndpoint: external ? 'self:7051' : '',
      config: { propagatePeerNum: 10 },
    });
    h.channel.start();
    await h.clock.runFor(4000);
    const sends = h.flush().filter((s) => s.message.content.case === 'stateInfo');
    assert.equal(sends.length, 1);
    assert.deepEqual(names(h, sends[0]!.to), external ? ['a1', 'b1'] : ['a1']);
    h.channel.stop();
  }
});
