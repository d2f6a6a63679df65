/** Catch-up frames (catchup/frame.ts): round trip, views without copies, malformed input refused with StateError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, framedSize } from '../../src/core/state/catchup/frame.js';
import { StateError } from '../../src/core/state/index.js';

test('frames round-trip any blocks; decoding returns views into the frame', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
      (blocks) => {
        const f = encodeFrame(blocks);
        assert.equal(
          f.length,
          blocks.reduce((s, b) => s + framedSize(b), 0),
        );
        const out = decodeFrame(f);
        assert.deepEqual(
          out.map((b) => Buffer.from(b)),
          blocks.map((b) => Buffer.from(b)),
        );
        for (const b of out) assert.equal(b.buffer, f.buffer);
      },
    ),
  );
  const big = new Uint8Array(70_000).fill(3);
  assert.ok(Buffer.from(decodeFrame(encodeFrame([big]))[0]).equals(big));
});

test('malformed frames: StateError malformed, never anything else', () => {
  assert.throws(() => decodeFrame(new Uint8Array(0)), { code: 'malformed' });
  assert.throws(() => decodeFrame(Uint8Array.of(0x12, 0)), { code: 'malformed' });
  assert.throws(() => decodeFrame(Uint8Array.of(0x0a, 5, 1, 2)), { code: 'malformed' });
  assert.throws(() => decodeFrame(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)), {
    code: 'malformed',
  });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        decodeFrame(b);
      } catch (e) {
        assert.ok(e instanceof StateError && e.code === 'malformed');
      }
    }),
  );
});
