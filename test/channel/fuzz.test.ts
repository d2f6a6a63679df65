/**
 * Arbitrary input to the channel receive path: the node's dispatcher never throws, the channel's
 * handlers throw nothing but our typed errors, and nothing is forwarded or handed over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ReceivedMessage } from '../../src/core/link/types.js';
import { GrapevineError } from '../../src/base/errors.js';
import { channelMac } from '../../src/core/channel/mac.js';
import {
  PullMsgType,
  Tag,
  decodeEnvelope,
  openEnvelope,
  signGossip,
  unsignedGossip,
  type GossipMessageInit,
} from '../../src/wire/gossip.js';
import { create } from '@bufbuild/protobuf';
import { EnvelopeSchema, type Envelope } from '../../src/wire/gen/gossip/message_pb.js';
import { CH, Harness, ORG1, ORG2, ORG3, blockBytes, fakeCrypto, fakePeer } from './harness.js';

const a1 = fakePeer('a1', ORG1);
const b1 = fakePeer('b1', ORG2);
const c1 = fakePeer('c1', ORG3);
const senders = [a1, b1, c1];

const bytes = fc.uint8Array({ maxLength: 48 });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const tag = fc.constantFrom(
  Tag.UNDEFINED,
  Tag.EMPTY,
  Tag.ORG_ONLY,
  Tag.CHAN_ONLY,
  Tag.CHAN_AND_ORG,
  Tag.CHAN_OR_ORG,
);
const channel = fc.oneof(fc.constant(Buffer.from(CH)), fc.constant(new Uint8Array(0)), bytes);
const pkiId = fc.oneof(fc.constantFrom(a1.pkiId, b1.pkiId, c1.pkiId, new Uint8Array(0)), bytes);
const mac = fc.oneof(fc.constantFrom(...senders.map((p) => channelMac(p.pkiId, CH))), bytes);
const time = fc.record({ incNum: u64, seqNum: u64 });
const msgType = fc.constantFrom(PullMsgType.UNDEFINED, PullMsgType.BLOCK_MSG, PullMsgType.IDENTITY_MSG);
const seq = fc.oneof(fc.bigInt({ min: 0n, max: 20n }), u64);
const blockData = fc.oneof(
  bytes,
  seq.map((s) => blockBytes(s, false)),
);
const digests = fc.array(
  fc.oneof(
    bytes,
    seq.map((s) => Buffer.from(String(s))),
  ),
  { maxLength: 4 },
);

const dataEnv = fc.record({ seqNum: seq, data: blockData, ch: channel, t: tag }).map(
  ({ seqNum, data, ch, t }) =>
    unsignedGossip({
      tag: t,
      channel: ch,
      content: { case: 'dataMsg', value: { payload: { seqNum, data } } },
    }).envelope,
);
const stateInfoValue = fc.record({
  pkiId,
  channelMAC: mac,
  timestamp: time,
  properties: fc.record({ ledgerHeight: u64, leftChannel: fc.boolean() }),
});
const envelopeOf = fc.oneof(
  dataEnv,
  fc.record({ payload: bytes, signature: bytes }).map((e) => create(EnvelopeSchema, e)),
);

const content: fc.Arbitrary<NonNullable<GossipMessageInit>['content']> = fc.oneof(
  fc
    .record({ seqNum: seq, data: blockData })
    .map((payload) => ({ case: 'dataMsg' as const, value: { payload } })),
  fc.constant({ case: 'dataMsg' as const, value: {} }),
  stateInfoValue.map((value) => ({ case: 'stateInfo' as const, value })),
  mac.map((channelMAC) => ({ case: 'stateInfoPullReq' as const, value: { channelMAC } })),
  fc
    .array(
      fc.oneof(
        envelopeOf,
        stateInfoValue.map(
          (value) =>
            signGossip({ tag: Tag.CHAN_OR_ORG, content: { case: 'stateInfo', value } }, a1.signer).envelope,
        ),
      ),
      { maxLength: 3 },
    )
    .map((elements) => ({
      case: 'stateSnapshot' as const,
      value: { elements },
    })),
  fc
    .record({ pkiId, timestamp: time, isDeclaration: fc.boolean() })
    .map((value) => ({ case: 'leadershipMsg' as const, value })),
  fc.record({ nonce: u64, msgType }).map((value) => ({ case: 'hello' as const, value })),
  fc.record({ nonce: u64, msgType, digests }).map((value) => ({ case: 'dataDig' as const, value })),
  fc.record({ nonce: u64, msgType, digests }).map((value) => ({ case: 'dataReq' as const, value })),
  fc
    .record({ nonce: u64, msgType, data: fc.array(envelopeOf, { maxLength: 3 }) })
    .map((value) => ({ case: 'dataUpdate' as const, value })),
);

const message = fc
  .record({ tag, nonce: u64, channel, content, signed: fc.constantFrom(undefined, a1, b1, c1) })
  .map(({ signed, ...init }) =>
    signed ? signGossip(init, signed.signer).envelope : unsignedGossip(init).envelope,
  );

function world(): Harness {
  const h = new Harness({ peers: senders });
  h.admit(a1);
  h.admit(b1);
  h.channel.dissemination.originate(1n, blockBytes(1n));
  h.pushed.length = 0;
  h.sent.length = 0;
  return h;
}

function assertNothingForwarded(h: Harness): void {
  for (const item of h.pushed) {
    // only a StateInfo that is valid (signed by its creator, a channel member) may go on
    assert.equal(item.kind, 'stateInfo', `a ${item.kind} was forwarded`);
    const si = openEnvelope(item.envelope).message;
    assert.equal(si.tag, Tag.CHAN_OR_ORG);
    const creator = senders.find((p) => Buffer.from(p.pkiId).equals(item.creator!));
    assert.ok(creator, 'forwarded StateInfo of a known peer');
    // its MAC is the creator's for our channel, or (§5.6) it matches no joined channel and came
    // from a same-org connection, which Fabric keeps and re-gossips too
    const ofOurChannel = Buffer.from((si.content.value as { channelMAC: Uint8Array }).channelMAC).equals(
      channelMac(creator.pkiId, CH),
    );
    const fromOurOrg = item.from !== undefined && Buffer.from(item.from).equals(a1.pkiId);
    assert.ok(ofOurChannel || fromOurOrg, 'forwarded a StateInfo of another channel from another org');
    // of our channel: the creator is a channel member whose signature the channel accepts;
    // otherwise (§5.6) it is at least signed by its creator
    if (ofOurChannel) assert.notEqual(creator, c1, 'forwarded StateInfo of a peer outside the channel');
    fakeCrypto(() => (ofOurChannel ? [ORG1, ORG2] : [ORG1, ORG2, ORG3])).verifyByChannel(
      CH,
      creator.identity,
      item.envelope.signature,
      item.envelope.payload,
    );
  }
  assert.equal(h.delivered.length, 0, 'nothing handed to the state layer');
  // only a valid LeadershipMessage reaches election: our org's member, signed by it, CHAN_AND_ORG
  for (const e of h.leaderships) {
    const lm = openEnvelope(e.envelope).message;
    assert.equal(lm.tag, Tag.CHAN_AND_ORG);
    const creator = senders.find((p) => Buffer.from(p.pkiId).equals(e.message.pkiId));
    assert.ok(creator === a1, 'delivered leadership of a peer of our org');
    fakeCrypto(() => [ORG1, ORG2]).verifyByChannel(
      CH,
      creator.identity,
      e.envelope.signature,
      e.envelope.payload,
    );
  }
  assert.deepEqual(h.sent, [], 'nothing sent to anyone (responses go only to the requester)');
  for (const d of h.drops)
    assert.ok(!d.detail.startsWith('unexpected error'), `an untyped error escaped a handler: ${d.detail}`);
}

test('property: arbitrary GossipMessages to the receive path: no throw, typed errors only, nothing forwarded', () => {
  const h = world();
  fc.assert(
    fc.property(message, fc.constantFrom(...senders), (env, from) => {
      h.pushed.length = 0;
      h.leaderships.length = 0;
      assert.doesNotThrow(() => h.receive(env, from));
      assertNothingForwarded(h);
    }),
    { numRuns: 600 },
  );
});

test('property: the channel handlers throw nothing but GrapevineError on arbitrary messages', () => {
  const h = world();
  const handlers: ((m: ReceivedMessage) => void)[] = [
    (m) => h.channel.handleStateInfo(m),
    (m) => h.channel.handleStateInfoPullRequest(m),
    (m) => h.channel.handleStateSnapshot(m),
    (m) => h.channel.dissemination.handlePushedBlock(m),
    (m) => h.channel.dissemination.handleLeadership(m),
    (m) => h.channel.dissemination.handleBlockPull(m),
  ];
  fc.assert(
    fc.property(
      message,
      fc.constantFrom(...senders),
      fc.nat({ max: handlers.length - 1 }),
      (env, from, i) => {
        const m = h.received(env, from);
        try {
          handlers[i]!(m);
        } catch (e) {
          assert.ok(e instanceof GrapevineError, `untyped error: ${String(e)}`);
        }
        assert.equal(h.delivered.length, 0);
      },
    ),
    { numRuns: 600 },
  );
});

test('property: arbitrary bytes as an envelope: decoding fails typed or the receive path drops it', () => {
  const h = world();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...senders), (raw, from) => {
      let env: Envelope;
      try {
        env = decodeEnvelope(raw);
        openEnvelope(env);
      } catch (e) {
        assert.ok(e instanceof GrapevineError);
        return;
      }
      assert.doesNotThrow(() => h.receive(env, from));
      assertNothingForwarded(h);
    }),
    { numRuns: 1000 },
  );
});
