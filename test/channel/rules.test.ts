/**
 * Who may send and receive what (PROTOCOL.md §1.5, §5.3, §5.7, §6.2, §6.4, §7.2): refused
 * messages are dropped, counted in grapevine_gossip_dropped_total{reason}, never forwarded nor delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PullMsgType, Tag } from '../../src/wire/gossip.js';
import type { Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { digestEnvelope, helloEnvelope, updateEnvelope } from '../../src/core/pull/messages.js';
import {
  CH,
  Harness,
  ORG1,
  ORG2,
  ORG3,
  blockBytes,
  dataMsg,
  fakePeer,
  gossip,
  key,
  leadership,
  names,
  stateInfo,
} from './harness.js';

const a1 = fakePeer('a1', ORG1);
const a2 = fakePeer('a2', ORG1);
const a3 = fakePeer('a3', ORG1);
const b1 = fakePeer('b1', ORG2);
const c1 = fakePeer('c1', ORG3);
const BLOCK = { msgType: PullMsgType.BLOCK_MSG, tag: Tag.CHAN_AND_ORG, channel: CH };

function world(): Harness {
  const h = new Harness({ peers: [a1, a2, a3, b1, c1], config: { propagatePeerNum: 10 } });
  for (const p of [a1, a2, b1]) h.admit(p);
  return h;
}

test('block push targets: eligible members of our org only, never the sender; leadership to all of them', () => {
  const h = world();
  h.receive(dataMsg(1n), a1);
  assert.equal(h.delivered.length, 1);
  const [fwd] = h.flush();
  assert.ok(fwd, 'a new block is forwarded');
  assert.deepEqual(
    names(h, fwd.to),
    ['a2'],
    'same org, eligible (a3 has no StateInfo), not back to a1, never b1 or c1',
  );
  assert.equal(fwd.message.tag, Tag.CHAN_AND_ORG);
  h.channel.dissemination.originate(2n, blockBytes(2n));
  const [own] = h.flush();
  assert.deepEqual(names(h, own!.to), ['a1', 'a2']);
  h.channel.dissemination.originateLeadership({ timestamp: { incNum: 1n, seqNum: 1n }, isDeclaration: true });
  const [lead] = h.flush();
  assert.deepEqual(names(h, lead!.to), ['a1', 'a2']);
  // fanout bound: propagatePeerNum
  const small = new Harness({ peers: [a1, a2, a3], config: { propagatePeerNum: 2 } });
  for (const p of [a1, a2, a3]) small.admit(p);
  small.channel.dissemination.originate(1n, blockBytes(1n));
  assert.equal(small.flush()[0]!.to.length, 2);
});

test('pushed block: forwarded once, delivered once; a duplicate is neither', () => {
  const h = world();
  h.receive(dataMsg(3n), a1);
  h.receive(dataMsg(3n), a2);
  assert.equal(h.delivered.length, 1);
  assert.equal(h.pushed.length, 1);
  assert.equal(key(h.pushed[0]!.from!), key(a1.pkiId));
  assert.equal(h.delivered[0]!.source, 'push');
});

test('refused pushed blocks: unjoined channel, org outside the channel, failing verification, bad tag', async () => {
  const h = world();
  h.receive(dataMsg(1n, { channel: 'otherchannel' }), a1);
  h.receive(dataMsg(1n), c1);
  h.receive(dataMsg(1n, { good: false }), a1);
  h.receive(dataMsg(1n, { tag: Tag.CHAN_OR_ORG }), a1);
  h.receive(
    gossip({ tag: Tag.CHAN_AND_ORG, channel: Buffer.from(CH), content: { case: 'dataMsg', value: {} } }),
    a1,
  );
  assert.equal(await h.dropped('unknown_channel'), 1);
  assert.equal(await h.dropped('org_not_in_channel'), 1);
  assert.equal(await h.dropped('bad_block'), 1);
  assert.equal(await h.dropped('bad_tag'), 1);
  assert.equal(await h.dropped('malformed'), 1);
  assert.equal(h.delivered.length, 0);
  assert.equal(h.pushed.length, 0, 'nothing forwarded');
  h.receive(dataMsg(1n), b1);
  assert.equal(
    h.delivered.length,
    1,
    "a pushed block from another channel org is taken (Fabric checks only the sender's org is in the channel)",
  );
});

test('StateInfo received: newer, from a channel org, signed by its creator -> cached and forwarded; else dropped by reason', async () => {
  const h = new Harness({ peers: [a1, b1, c1] });
  const fresh = stateInfo(b1, { time: { incNum: 1n, seqNum: 10n } });
  h.receive(fresh, b1);
  assert.equal(h.pushed.length, 1, 'forwarded');
  h.pushed.length = 0;
  const cases: [Envelope, typeof a1, string][] = [
    [fresh, a1, 'stale'],
    [stateInfo(b1, { time: { incNum: 1n, seqNum: 9n } }), b1, 'stale'],
    [stateInfo(b1, { time: { incNum: 1n, seqNum: 11n }, signer: a1.signer }), b1, 'bad_signature'],
    [stateInfo(a1, { time: { incNum: 1n, seqNum: 11n } }), c1, 'org_not_in_channel'],
    [stateInfo(c1), c1, 'org_not_in_channel'],
    [stateInfo(fakePeer('ghost', ORG2)), b1, 'unknown_identity'],
    [stateInfo(a1, { tag: Tag.CHAN_AND_ORG }), a1, 'bad_tag'],
    [{ ...stateInfo(a1), signature: new Uint8Array(0) }, a1, 'unsigned'],
  ];
  for (const [env, from, reason] of cases) {
    const before = h.drops.length;
    h.receive(env, from);
    assert.deepEqual(
      h.drops.slice(before).map((d) => d.reason),
      [reason],
      reason,
    );
  }
  assert.equal(h.pushed.length, 0, 'nothing refused is forwarded');
  assert.equal(await h.dropped('stale'), 2);
  assert.equal(h.channel.cache.get(b1.pkiId)?.time.seqNum, 10n);
});

test('leadership: same org, signed by its pki_id, newer PeerTime -> delivered, never forwarded; else dropped', async () => {
  const h = world();
  h.receive(leadership(a1, { incNum: 1n, seqNum: 5n }), a1);
  assert.equal(h.leaderships.length, 1);
  h.receive(leadership(a1, { incNum: 1n, seqNum: 5n }), a1);
  h.receive(leadership(a1, { incNum: 1n, seqNum: 4n }), a2);
  h.receive(leadership(a1, { incNum: 1n, seqNum: 6n }, a2.signer), a1);
  h.receive(leadership(b1, { incNum: 1n, seqNum: 1n }), b1);
  h.receive(leadership(a2, { incNum: 1n, seqNum: 1n }), b1);
  assert.equal(await h.dropped('stale'), 2);
  assert.equal(await h.dropped('bad_signature'), 1);
  assert.equal(await h.dropped('not_same_org'), 2);
  assert.equal(h.leaderships.length, 1);
  h.receive(leadership(a1, { incNum: 2n, seqNum: 0n }), a1);
  assert.equal(h.leaderships.length, 2, 'a new incarnation is newer');
  assert.equal(h.pushed.length, 0, 'never forwarded');
});

test('block pull: only eligible same-org peers are answered; another org or a peer without StateInfo is dropped', async () => {
  const h = world();
  h.channel.dissemination.originate(1n, blockBytes(1n));
  h.receive(helloEnvelope(BLOCK, 7n), a1);
  assert.equal(h.responses.length, 1, 'same-org eligible: digest');
  assert.equal(h.responses[0]!.message.content.case, 'dataDig');
  h.receive(helloEnvelope(BLOCK, 8n), b1);
  h.receive(helloEnvelope(BLOCK, 9n), a3);
  h.receive(helloEnvelope(BLOCK, 10n), c1);
  assert.equal(h.responses.length, 1, 'blocks never reach another org or a non-member by pull');
  assert.equal(await h.dropped('not_same_org'), 2);
  assert.equal(await h.dropped('not_eligible'), 1);
});

test('block pull: an update with a block failing verification is dropped whole and counted bad_block', async () => {
  const h = world();
  h.channel.start();
  let nonce = 0n;
  for (let i = 0; i < 10 && nonce === 0n; i++) {
    await h.clock.runFor(4000);
    const hello = h.sent
      .filter((s) => s.message.content.case === 'hello' && names(h, s.to).includes('a1'))
      .at(-1);
    if (hello) nonce = (hello.message.content.value as { nonce: bigint }).nonce;
  }
  assert.ok(nonce !== 0n, 'a1 was sent a Hello');
  h.receive(digestEnvelope(BLOCK, nonce, [Buffer.from('1'), Buffer.from('2')]), a1);
  await h.clock.runFor(1000);
  h.receive(updateEnvelope(BLOCK, nonce, [dataMsg(1n), dataMsg(2n, { good: false })]), a1);
  assert.equal(await h.dropped('bad_block'), 1);
  assert.equal(h.delivered.length, 0, 'one bad block drops the whole update');
  h.receive(updateEnvelope(BLOCK, nonce, [dataMsg(1n), dataMsg(2n)]), a1);
  assert.deepEqual(
    h.delivered.map((d) => [d.seqNum, d.source]),
    [
      [1n, 'pull'],
      [2n, 'pull'],
    ],
  );
  assert.equal(h.pushed.filter((i) => i.kind === 'block').length, 0, 'pulled blocks are not forwarded');
  h.channel.stop();
});

test('tags: every channel message with the wrong tag is dropped as bad_tag', async () => {
  const h = world();
  const wrong = [
    helloEnvelope({ ...BLOCK, tag: Tag.EMPTY }, 1n),
    gossip({
      tag: Tag.CHAN_AND_ORG,
      content: { case: 'stateInfoPullReq', value: { channelMAC: new Uint8Array(32) } },
    }),
    gossip({
      tag: Tag.ORG_ONLY,
      channel: Buffer.from(CH),
      content: { case: 'stateSnapshot', value: { elements: [] } },
    }),
    gossip({
      tag: Tag.CHAN_OR_ORG,
      channel: Buffer.from(CH),
      content: { case: 'leadershipMsg', value: { pkiId: a1.pkiId } },
    }),
    gossip({ tag: Tag.UNDEFINED, channel: Buffer.from(CH), content: { case: 'dataMsg', value: {} } }),
  ];
  for (const env of wrong) h.receive(env, a1);
  assert.equal(await h.dropped('bad_tag'), wrong.length);
  assert.equal(h.responses.length + h.pushed.length + h.delivered.length, 0);
});

test('a block the state layer refuses as too far ahead is offered again when the height moves', () => {
  const h = world();
  let next = 1n;
  const window = 2n;
  h.refuse = (seq) => seq >= next + window;
  for (const n of [5n, 4n, 3n]) h.receive(dataMsg(n), a1);
  assert.deepEqual(
    h.delivered.map((e) => e.seqNum),
    [5n, 4n, 3n],
    'offered once each on arrival (all refused: next is 1)',
  );
  // a duplicate push does not bring a parked block back: it is in the block store
  h.receive(dataMsg(3n), a2);
  assert.equal(h.delivered.length, 3);
  // blocks 1 and 2 come some other way (catch-up); the height moves
  next = 3n;
  h.channel.updateLedgerHeight(3n);
  assert.deepEqual(
    h.delivered.slice(3).map((e) => e.seqNum),
    [3n, 4n, 5n],
    'offered again lowest first, until one is refused again (5 is: 3 + 2)',
  );
  next = 5n;
  h.channel.updateLedgerHeight(5n);
  assert.deepEqual(
    h.delivered.slice(6).map((e) => e.seqNum),
    [5n],
  );
  next = 6n;
  h.channel.updateLedgerHeight(6n);
  assert.equal(h.delivered.length, 7, 'nothing left to offer');
});
