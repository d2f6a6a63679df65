import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  blockChannelId,
  blockDataHash,
  blockHeaderBytes,
  blockHeaderHash,
  blockLastConfigIndex,
  configEnvelopeOf,
  decodeBlock,
  encodeBlock,
  isConfigBlock,
} from '../../src/wire/index.js';
import { WireError } from '../../src/base/errors.js';
import { headerHashOf } from '../../src/wire/block.js';
import { derOctetString, derSequence, derUnsignedInteger } from '../../src/wire/der.js';
import { SKIP_VECTORS, vectorBlocks } from '../helpers/vectors.js';

test('block header DER matches Go asn1 for edge numbers', () => {
  const h = (n: bigint) =>
    Buffer.from(
      blockHeaderBytes({ number: n, previousHash: new Uint8Array(), dataHash: new Uint8Array() } as never),
    ).toString('hex');
  assert.equal(h(0n), '300702010004000400');
  assert.equal(h(127n), '300702017f04000400');
  assert.equal(h(128n), '30080202008004000400');
  assert.equal(h(0xffffffffffffffffn), '300f020900ffffffffffffffff04000400');
});

test('block header DER and hash equal the generic DER encoder for any number and hash lengths', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 0n, max: 70_000n }),
        fc.constantFrom(0n, 127n, 128n, 255n, 256n, (1n << 63n) - 1n, 1n << 63n),
      ),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 70 }),
      (number, previousHash, dataHash) => {
        const der = derSequence(
          derUnsignedInteger(number),
          derOctetString(previousHash),
          derOctetString(dataHash),
        );
        const header = { number, previousHash, dataHash } as never;
        assert.deepEqual(Buffer.from(blockHeaderBytes(header)), Buffer.from(der));
        const want = createHash('sha256').update(der).digest();
        assert.deepEqual(Buffer.from(blockHeaderHash(header)), want);
        assert.deepEqual(Buffer.from(headerHashOf(number, previousHash, dataHash)), want);
      },
    ),
    { numRuns: 2000 },
  );
});

test(
  'real Fabric blocks: decode, re-encode byte-identically, hash chain and data hash',
  { skip: SKIP_VECTORS },
  () => {
    const blocks = vectorBlocks();
    assert.ok(blocks.length >= 27);
    let prev: Uint8Array | undefined;
    for (const { n, bytes } of blocks) {
      const b = decodeBlock(bytes);
      assert.equal(b.header!.number, BigInt(n));
      assert.deepEqual(Buffer.from(encodeBlock(b)), Buffer.from(bytes), `block ${n} re-encodes identically`);
      assert.deepEqual(
        Buffer.from(blockDataHash(b.data!.data)),
        Buffer.from(b.header!.dataHash),
        `block ${n} data hash`,
      );
      if (prev)
        assert.deepEqual(Buffer.from(b.header!.previousHash), Buffer.from(prev), `block ${n} previous hash`);
      prev = blockHeaderHash(b.header!);
      assert.equal(blockChannelId(b), 'mychannel');
    }
    const b0 = decodeBlock(blocks[0].bytes);
    assert.ok(isConfigBlock(b0));
    assert.ok(configEnvelopeOf(b0).config);
    assert.ok(isConfigBlock(decodeBlock(blocks[24].bytes)));
    assert.ok(!isConfigBlock(decodeBlock(blocks[1].bytes)));
    assert.equal(blockLastConfigIndex(decodeBlock(blocks[25].bytes)), 24n);
    assert.equal(blockLastConfigIndex(decodeBlock(blocks[10].bytes)), 0n);
  },
);

test('block decoders never throw anything but WireError on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        const b = decodeBlock(bytes);
        try {
          blockChannelId(b);
        } catch (e) {
          assert.ok(e instanceof WireError, String(e));
        }
        try {
          configEnvelopeOf(b);
        } catch (e) {
          assert.ok(e instanceof WireError, String(e));
        }
        blockLastConfigIndex(b);
        isConfigBlock(b);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
