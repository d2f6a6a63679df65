import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32, nativeCrc32, zlibCrc32 } from '../../src/ledger/crc.js';

test(
  'record CRC-32: the check value, and the native module loads here',
  {
    skip:
      process.platform !== 'linux' || process.arch !== 'x64'
        ? 'prebuilt binary checked on linux x64 only'
        : false,
  },
  () => {
    const check = Buffer.from('123456789', 'latin1');
    assert.equal(zlibCrc32(check), 0xcbf43926);
    assert.equal(crc32(check), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(300).fill(0xff)), zlibCrc32(new Uint8Array(300).fill(0xff)));
    assert.ok(
      nativeCrc32,
      '@node-rs/crc32 did not load (the store falls back to zlib, at about a third of the speed)',
    );
  },
);

test(
  'native and zlib CRC-32 agree on random inputs, including views at odd offsets',
  { skip: !nativeCrc32 },
  () => {
    const native = nativeCrc32!;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.nat({ max: 7 }),
        fc.nat({ max: 7 }),
        (bytes, head, tail) => {
          const view = bytes.subarray(
            Math.min(head, bytes.length),
            Math.max(Math.min(head, bytes.length), bytes.length - tail),
          );
          const want = zlibCrc32(view);
          assert.equal(native(view), want);
          assert.equal(crc32(view), want);
          assert.ok(want >= 0 && want <= 0xffffffff);
        },
      ),
      { numRuns: 500 },
    );
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 2654435761) >>> 24);
    assert.equal(native(big), zlibCrc32(big));
  },
);
