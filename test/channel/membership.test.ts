/** Who is in the channel (PROTOCOL.md §5.1, §5.3, §5.5) and leaving it (§5.8). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tag } from '../../src/wire/gossip.js';
import type { GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { CH, Harness, ORG1, ORG2, ORG3, dataMsg, fakePeer, gossip, key, stateInfo } from './harness.js';
import { PullMsgType } from '../../src/wire/gossip.js';

const a1 = fakePeer('a1', ORG1);
const a2 = fakePeer('a2', ORG1);
const b1 = fakePeer('b1', ORG2);
const c1 = fakePeer('c1', ORG3);

const peerNames = (h: Harness): string[] =>
  h.channel
    .peersOfChannel()
    .map((p) => [...h.members.values()].find((m) => key(m.pkiId) === key(p.pkiId))!.name)
    .sort();

test('membership by org: IsMemberInChan is the org; eligible needs identity and a cached StateInfo', () => {
  const h = new Harness({ peers: [a1, a2, b1, c1] });
  assert.ok(h.channel.isMemberInChan(a1.pkiId));
  assert.ok(h.channel.isMemberInChan(b1.pkiId));
  assert.ok(!h.channel.isMemberInChan(c1.pkiId));
  assert.ok(!h.channel.isMemberInChan(fakePeer('nobody', ORG1).pkiId), 'unknown identity: no org');
  assert.deepEqual(peerNames(h), [], 'no StateInfo yet: nobody is eligible');
  h.admit(a1);
  h.admit(b1, 9n);
  assert.deepEqual(peerNames(h), ['a1', 'b1']);
  assert.equal(
    h.channel.peersOfChannel().find((p) => key(p.pkiId) === key(b1.pkiId))?.properties?.ledgerHeight,
    9n,
  );
  // a StateInfo of an outsider org is refused, so it never becomes eligible
  h.receive(stateInfo(c1), c1);
  assert.ok(!h.channel.eligible(c1.pkiId));
  assert.deepEqual(peerNames(h), ['a1', 'b1']);
  // block pull membership: alive, eligible, same org
  h.admit(a2);
  assert.deepEqual(
    h.channel
      .sameOrgEligible()
      .map((m) => key(m.pkiId))
      .sort(),
    [a1, a2].map((p) => key(p.pkiId)).sort(),
  );
});

test('expiry: a dead member leaves PeersOfChannel at once; one discovery forgot is purged every pullInterval x 5', async () => {
  const h = new Harness({ peers: [a1, b1] });
  h.channel.start();
  h.admit(a1);
  h.admit(b1);
  h.dead.add(key(b1.pkiId));
  assert.deepEqual(peerNames(h), ['a1'], 'not alive: not listed');
  assert.ok(h.channel.eligible(b1.pkiId), 'still eligible (dead is not forgotten)');
  h.dead.clear();
  h.forget(b1);
  await h.clock.runFor(19_999);
  assert.ok(h.channel.cache.get(b1.pkiId), 'kept until the upkeep tick');
  await h.clock.runFor(1);
  assert.equal(h.channel.cache.get(b1.pkiId), undefined, 'purged after 20 s');
  assert.ok(h.channel.cache.get(a1.pkiId), 'known members stay');
  assert.ok(h.channel.cache.get(h.self.pkiId), 'our own stays');
  h.channel.stop();
});

test('configuration: an org removed from the channel drops its members; lower sequence or empty org list ignored', () => {
  const h = new Harness({ peers: [a1, b1] });
  h.admit(a1);
  h.admit(b1);
  assert.equal(h.channel.configure(h.join(2n)), 'same');
  assert.equal(h.channel.configure(h.join(1n, [ORG1])), false, 'older sequence');
  assert.equal(h.channel.configure(h.join(3n, [])), false, 'empty org list');
  assert.ok(h.channel.eligible(b1.pkiId));
  h.orgs = [ORG1];
  assert.equal(h.channel.configure(h.join(3n, [ORG1])), 'changed');
  assert.equal(h.channel.cache.get(b1.pkiId), undefined, 'StateInfo re-checked against the new org list');
  assert.ok(h.channel.eligible(a1.pkiId));
  assert.ok(!h.channel.isMemberInChan(b1.pkiId));
  h.receive(stateInfo(b1), b1);
  assert.equal(h.drops.at(-1)?.reason, 'org_not_in_channel');
});

test('leave: left_channel is published; no peers, no block pull, no blocks; others who left are not peers', async () => {
  const h = new Harness({ peers: [a1, a2, b1] });
  h.channel.start();
  h.admit(a1);
  h.admit(b1);
  h.receive(stateInfo(a2, { left: true, height: 3n }), a2);
  assert.ok(h.channel.eligible(a2.pkiId));
  assert.deepEqual(peerNames(h), ['a1', 'b1'], 'a peer that left is not a peer of the channel');
  h.channel.updateLedgerHeight(4n);
  await h.clock.runFor(4000);
  h.pushed.length = 0;

  h.channel.leave();
  assert.ok(h.channel.left);
  await h.clock.runFor(4000);
  const mine = h.pushed.filter((i) => i.kind === 'stateInfo' && key(i.creator!) === key(h.self.pkiId));
  assert.equal(mine.length, 1, 'the leave is published');
  const own = h.channel.cache.get(h.self.pkiId)!;
  assert.equal(own.properties?.leftChannel, true);
  assert.equal(own.properties?.ledgerHeight, 4n, 'height kept');
  assert.deepEqual(h.channel.peersOfChannel(), []);
  assert.deepEqual(h.channel.sameOrgEligible(), []);

  const hello = gossip({
    tag: Tag.CHAN_AND_ORG,
    channel: Buffer.from(CH),
    content: { case: 'hello', value: { nonce: 5n, msgType: PullMsgType.BLOCK_MSG } },
  });
  h.receive(hello, a1);
  h.receive(dataMsg(5n), a1);
  assert.equal(await h.dropped('left_channel'), 2);
  assert.equal(h.responses.length, 0);
  assert.equal(h.delivered.length, 0);
  const before = h.sent.length;
  await h.clock.runFor(60_000);
  const pulls = h.sent
    .slice(before)
    .filter((s: { message: GossipMessage }) => s.message.content.case === 'hello');
  assert.equal(pulls.length, 0, 'no block pull rounds after leaving');
  h.channel.stop();
});
