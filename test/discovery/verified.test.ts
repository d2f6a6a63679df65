/**
 * Alive messages already verified are not verified again (src/core/discovery/verified.ts):
 * membership responses repeat the same messages. Only byte-identical messages are spared, only
 * within the alive expiration timeout, and a forged copy is still refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { EnvelopeSchema } from '../../src/wire/gen/gossip/message_pb.js';
import { aliveOf, harness, memResOf } from './fixtures.js';

const TTL = 25_000;

test('membership responses: each alive message is verified once, until the alive expiration timeout', async () => {
  let checks = 0;
  const h = await harness({ aliveExpirationTimeoutMs: TTL }, 0, () => checks++);
  h.d.start();
  const [, b, c] = h.peers[0];
  const alives = [aliveOf(b!, { seq: 1n, internal: 'b.internal:7051' }), aliveOf(c!, { seq: 1n })];
  h.t.deliver(memResOf(alives), b!);
  const first = checks;
  assert.equal(first, 3, 'two alive signatures and one secret envelope');
  for (let i = 0; i < 5; i++) h.t.deliver(memResOf(alives), c!);
  assert.equal(checks, first, 'the same messages again: no signature checked');
  assert.equal(h.d.aliveMembers().length, 2);

  // the same signature over other bytes is checked (and refused)
  const forged = create(EnvelopeSchema, {
    payload: aliveOf(b!, { seq: 9n }).payload,
    signature: alives[0]!.signature,
    secretEnvelope: alives[0]!.secretEnvelope,
  });
  h.t.deliver(memResOf([forged]), c!);
  assert.equal(checks, first + 1);
  assert.equal(
    await h.metrics.value('grapevine_gossip_discovery_dropped_total', { reason: 'bad_signature' }),
    1,
  );

  // past the alive expiration timeout the messages are checked again
  await h.vc.runFor(TTL + 1);
  const before = checks;
  h.t.deliver(memResOf(alives), b!);
  assert.equal(checks, before + 3);
  h.d.stop();
});
