/**
 * The hot-path Envelope codec (src/core/link/frame.ts) against protobuf-es: identical bytes out,
 * identical envelopes in, WireError (and nothing else) on bytes protobuf-es refuses; plus the
 * Stopper and settleWithin helpers of a bounded stop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EnvelopeSchema, SecretEnvelopeSchema } from '../../src/wire/gen/gossip/message_pb.js';
import { WireError } from '../../src/base/errors.js';
import { decodeFrame, encodeFrame } from '../../src/core/link/frame.js';
import { Stopper, settleWithin } from '../../src/comm/stopper.js';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const envelopeArb = fc.record({
  payload: fc.oneof(bytes(40), bytes(300), fc.constant(new Uint8Array(0))),
  signature: fc.oneof(bytes(80), fc.constant(new Uint8Array(0))),
  secret: fc.option(fc.record({ payload: bytes(30), signature: bytes(30) }), { nil: undefined }),
});

/** protobuf-es's view of the same bytes, or the error it throws. */
function reference(
  b: Uint8Array,
): { ok: true; env: ReturnType<typeof fromBinary<typeof EnvelopeSchema>> } | { ok: false } {
  try {
    return { ok: true, env: fromBinary(EnvelopeSchema, b) };
  } catch {
    return { ok: false };
  }
}

function sameEnvelope(ours: ReturnType<typeof decodeFrame>, ref: ReturnType<typeof decodeFrame>): void {
  assert.deepEqual(Buffer.from(ours.payload), Buffer.from(ref.payload));
  assert.deepEqual(Buffer.from(ours.signature), Buffer.from(ref.signature));
  assert.equal(ours.$typeName, 'gossip.Envelope');
  assert.deepEqual(
    ours.secretEnvelope && toBinary(SecretEnvelopeSchema, ours.secretEnvelope),
    ref.secretEnvelope && toBinary(SecretEnvelopeSchema, ref.secretEnvelope),
  );
  // Re-encoding gives the same bytes (unknown fields included).
  assert.deepEqual(encodeFrame(ours), Buffer.from(toBinary(EnvelopeSchema, ref)));
}

describe('envelope frame codec', () => {
  test('encodes byte-for-byte as protobuf-es and decodes back, payload and signature as views', () => {
    fc.assert(
      fc.property(envelopeArb, ({ payload, signature, secret }) => {
        const env = create(EnvelopeSchema, {
          payload,
          signature,
          ...(secret ? { secretEnvelope: secret } : {}),
        });
        const frame = encodeFrame(env);
        assert.ok(Buffer.isBuffer(frame));
        assert.deepEqual(frame, Buffer.from(toBinary(EnvelopeSchema, env)));
        const back = decodeFrame(frame);
        sameEnvelope(back, fromBinary(EnvelopeSchema, frame));
        if (!secret && payload.length > 0)
          assert.equal(back.payload.buffer, frame.buffer, 'a view, not a copy');
      }),
      { numRuns: 400 },
    );
  });

  test('large lengths use multi-byte varints exactly as protobuf-es', () => {
    for (const n of [127, 128, 16_383, 16_384, 2_097_152]) {
      const env = create(EnvelopeSchema, {
        payload: new Uint8Array(n).fill(7),
        signature: new Uint8Array(71).fill(1),
      });
      const frame = encodeFrame(env);
      assert.deepEqual(frame, Buffer.from(toBinary(EnvelopeSchema, env)));
      assert.equal(decodeFrame(frame).payload.length, n);
    }
  });

  test('arbitrary and mutated bytes: same envelope as protobuf-es, or WireError when it refuses', () => {
    const valid = envelopeArb.map(({ payload, signature, secret }) =>
      toBinary(
        EnvelopeSchema,
        create(EnvelopeSchema, { payload, signature, ...(secret ? { secretEnvelope: secret } : {}) }),
      ),
    );
    const mutated = fc
      .tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
      .map(([b, i, v, cut]) => {
        const c = new Uint8Array(b);
        if (c.length > 0) c[i % c.length] = v;
        return c.subarray(0, c.length === 0 ? 0 : cut % (c.length + 1));
      });
    fc.assert(
      fc.property(fc.oneof(bytes(64), valid, mutated), (b) => {
        const ref = reference(b);
        let ours: ReturnType<typeof decodeFrame> | undefined;
        try {
          ours = decodeFrame(b);
        } catch (e) {
          assert.ok(e instanceof WireError, `not a WireError: ${String(e)}`);
          assert.equal(ref.ok, false, 'refused bytes protobuf-es accepts');
          return;
        }
        assert.ok(ref.ok, 'accepted bytes protobuf-es refuses');
        sameEnvelope(ours, ref.env);
      }),
      { numRuns: 2000 },
    );
  });

  test('repeated fields and unknown fields go the protobuf-es way (last wins, unknown kept)', () => {
    const twice = Buffer.from([0x0a, 1, 5, 0x0a, 2, 6, 7, 0x12, 0]);
    assert.deepEqual(Buffer.from(decodeFrame(twice).payload), Buffer.from([6, 7]));
    const unknown = Buffer.from([0x0a, 1, 5, 0x20, 9]);
    assert.deepEqual(encodeFrame(decodeFrame(unknown)), unknown);
  });
});

describe('bounded stop helpers', () => {
  test('Stopper aborts each registered step once, forgets finished ones, aborts late ones at once', () => {
    const s = new Stopper();
    const seen: string[] = [];
    s.onStop((e) => seen.push(`a:${e.message}`));
    const forget = s.onStop(() => seen.push('b'));
    s.onStop(() => {
      throw new Error('a failing abort does not stop the others');
    });
    s.onStop(() => seen.push('c'));
    forget();
    assert.equal(s.pending, 3);
    s.stop(new Error('stop'));
    s.stop(new Error('again'));
    assert.deepEqual(seen, ['a:stop', 'c']);
    assert.equal(s.pending, 0);
    assert.ok(s.stopped);
    s.onStop((e) => seen.push(`late:${e.message}`));
    assert.deepEqual(seen, ['a:stop', 'c', 'late:stop']);
  });

  test('settleWithin waits for work added meanwhile, and gives up after its deadline', async () => {
    const live = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      live.add(p);
      void p.then(() => live.delete(p));
      return p;
    };
    let release!: () => void;
    track(new Promise<void>((r) => (release = r)).then(() => void track(Promise.resolve())));
    setImmediate(() => release());
    assert.equal(await settleWithin(live, 5_000), true);
    assert.equal(live.size, 0);
    track(new Promise(() => undefined)); // never settles
    const t0 = Date.now();
    assert.equal(await settleWithin(live, 50), false);
    assert.ok(Date.now() - t0 < 2_000);
  });
});
