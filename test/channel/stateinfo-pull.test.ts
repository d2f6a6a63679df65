/** StateInfoPullRequest / StateInfoSnapshot (PROTOCOL.md §5.4), through the node's receive path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelMac } from '../../src/core/channel/mac.js';
import { Tag, channelName } from '../../src/wire/gossip.js';
import type { Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { CH, Harness, ORG1, ORG2, ORG3, fakePeer, gossip, key, names, stateInfo } from './harness.js';

const a1 = fakePeer('a1', ORG1);
const a2 = fakePeer('a2', ORG1);
const b1 = fakePeer('b1', ORG2);
const b2 = fakePeer('b2', ORG2);
const c1 = fakePeer('c1', ORG3);

const pullReq = (mac: Uint8Array): Envelope =>
  gossip({
    tag: Tag.CHAN_OR_ORG,
    nonce: 0n,
    content: { case: 'stateInfoPullReq', value: { channelMAC: mac } },
  });
const snapshot = (elements: Envelope[], channel = CH): Envelope =>
  gossip({
    tag: Tag.CHAN_OR_ORG,
    nonce: 0n,
    channel: Buffer.from(channel),
    content: { case: 'stateSnapshot', value: { elements } },
  });

test('pull request: every requestStateInfoInterval to pullPeerNum alive members of channel orgs, MAC of our PKI-ID, unsigned', async () => {
  const many = Array.from({ length: 6 }, (_, i) => fakePeer(`x${i}`, i % 2 ? ORG1 : ORG2));
  const h = new Harness({ peers: [...many, c1] });
  h.channel.start();
  await h.clock.runFor(4000 * 5);
  const reqs = h.sent.filter((s) => s.message.content.case === 'stateInfoPullReq');
  assert.equal(reqs.length, 5, 'one request round per interval');
  for (const r of reqs) {
    assert.equal(r.to.length, 3, 'pullPeerNum targets');
    assert.ok(!names(h, r.to).includes('c1'), 'never to an org outside the channel');
    assert.equal(r.message.tag, Tag.CHAN_OR_ORG);
    assert.equal(r.message.channel.length, 0);
    assert.equal(r.envelope.signature.length, 0);
    const mac = (r.message.content.value as { channelMAC: Uint8Array }).channelMAC;
    assert.deepEqual(Buffer.from(mac), Buffer.from(channelMac(h.self.pkiId, CH)));
  }
  h.channel.stop();
});

test('pull request responder: a channel member gets a snapshot of the cache; an outsider or a wrong MAC gets nothing', async () => {
  const h = new Harness({ peers: [a1, b1, c1] });
  h.admit(a1);
  h.admit(b1);
  h.receive(pullReq(channelMac(b1.pkiId, CH)), b1);
  assert.equal(h.responses.length, 1);
  const r = h.responses[0]!;
  assert.equal(r.message.content.case, 'stateSnapshot');
  assert.equal(r.message.tag, Tag.CHAN_OR_ORG);
  assert.equal(channelName(r.message), CH);
  assert.equal(r.envelope.signature.length, 0, 'unsigned');
  const elements = (r.message.content.value as { elements: Envelope[] }).elements;
  assert.equal(elements.length, 3, 'ours, a1, b1');
  const cachedA1 = h.channel.cache.get(a1.pkiId)!.envelope;
  assert.ok(
    elements.some(
      (e) =>
        Buffer.from(e.payload).equals(cachedA1.payload) &&
        Buffer.from(e.signature).equals(cachedA1.signature),
    ),
    'cached envelopes as received',
  );

  // org not in the channel (its MAC is right): refused
  h.receive(pullReq(channelMac(c1.pkiId, CH)), c1);
  // a MAC computed with another PKI-ID than the connection's, or for another channel: no channel
  h.receive(pullReq(channelMac(a1.pkiId, CH)), b1);
  h.receive(pullReq(channelMac(b1.pkiId, 'otherchannel')), b1);
  assert.equal(h.responses.length, 1);
  assert.equal(await h.dropped('org_not_in_channel'), 1);
  assert.equal(await h.dropped('unknown_channel'), 2);
});

test('pull request responder: a foreign requester does not learn our org peers without an external endpoint', () => {
  const h = new Harness({ peers: [a1, b1] });
  h.addMember(a2, { internalOnly: true });
  for (const p of [a1, a2, b1]) h.admit(p);
  const elementsFor = (p: typeof a1): string[] => {
    h.responses.length = 0;
    h.receive(pullReq(channelMac(p.pkiId, CH)), p);
    const els = (h.responses[0]!.message.content.value as { elements: Envelope[] }).elements;
    return els
      .map((e) =>
        [...h.channel.cache.values()].find((si) => Buffer.from(si.envelope.payload).equals(e.payload))!,
      )
      .map((si) =>
        key(si.pkiId) === key(h.self.pkiId)
          ? 'self'
          : [...h.members.values()].find((m) => key(m.pkiId) === key(si.pkiId))!.name,
      )
      .sort();
  };
  assert.deepEqual(elementsFor(a1), ['a1', 'a2', 'b1', 'self'], 'same org: everything');
  assert.deepEqual(elementsFor(b1), ['a1', 'b1', 'self'], 'foreign: not a2 (no external endpoint)');
});

test('snapshot receiver: valid elements are cached (not forwarded); unknown-to-discovery ones skipped', () => {
  const h = new Harness({ peers: [a1, b1, b2] });
  const stranger = fakePeer('s1', ORG2);
  h.identities.set(key(stranger.pkiId), stranger.identity); // identity known, discovery does not know it
  h.receive(snapshot([stateInfo(b1, { height: 4n }), stateInfo(stranger), stateInfo(b2)]), a1);
  assert.deepEqual(h.drops, []);
  assert.equal(h.channel.cache.get(b1.pkiId)?.properties?.ledgerHeight, 4n);
  assert.ok(h.channel.eligible(b2.pkiId));
  assert.equal(h.channel.cache.get(stranger.pkiId), undefined);
  assert.equal(h.pushed.length, 0, 'snapshot elements are not forwarded');
});

test('snapshot receiver: a bad element aborts the rest and is counted; an outsider sender is refused', async () => {
  const cases: [string, Envelope, string][] = [
    ['bad MAC', stateInfo(b1, { mac: channelMac(b1.pkiId, 'otherchannel') }), 'bad_mac'],
    ['MAC of another PKI-ID', stateInfo(b1, { mac: channelMac(a1.pkiId, CH) }), 'bad_mac'],
    ['creator org not in channel', stateInfo(c1), 'org_not_in_channel'],
    ['forged signature', stateInfo(b1, { signer: a1.signer }), 'bad_signature'],
    [
      'not a StateInfo',
      gossip({
        tag: Tag.CHAN_OR_ORG,
        content: { case: 'stateInfoPullReq', value: { channelMAC: new Uint8Array(32) } },
      }),
      'malformed',
    ],
  ];
  for (const [what, bad, reason] of cases) {
    const h = new Harness({ peers: [a1, b1, b2, c1] });
    h.receive(snapshot([bad, stateInfo(b2)]), a1);
    assert.deepEqual(
      h.drops.map((d) => d.reason),
      [reason],
      what,
    );
    assert.equal(h.channel.cache.get(b2.pkiId), undefined, `${what}: the rest is not processed`);
    assert.equal(h.channel.cache.get(b1.pkiId), undefined, what);
  }
  const h = new Harness({ peers: [a1, b1, b2, c1] });
  h.receive(snapshot([stateInfo(b2)]), c1);
  assert.equal(await h.dropped('org_not_in_channel'), 1);
  assert.equal(h.channel.cache.get(b2.pkiId), undefined);
  h.receive(snapshot([stateInfo(b2)], 'otherchannel'), a1);
  assert.equal(await h.dropped('unknown_channel'), 1);
});
