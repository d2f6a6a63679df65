import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanBlock, type ScannedBlock } from '../../src/wire/blockscan.js';
import { parseBlock } from '../../src/ledger/inspect.js';
import { decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { decode } from '../../src/wire/codec.js';
import { create } from '@bufbuild/protobuf';
import { BlockSchema, type Block } from '../../src/wire/gen/common/common_pb.js';
import { SKIP_VECTORS, vectorBlocks } from '../helpers/vectors.js';
import { makeChain } from '../ledger/synthetic.js';
import { byteMutation, mutate } from '../helpers/mutate.js';

/**
 * What the generic decoder reads, in the scanner's terms; undefined when it refuses the bytes.
 * (Not decodeBlock: that builds its message from the scanner.)
 */
function decoded(bytes: Uint8Array): ScannedBlock | 'no header' | undefined {
  let b: Block;
  try {
    b = decode(BlockSchema, bytes);
  } catch {
    return undefined;
  }
  if (!b.header) return 'no header';
  return {
    number: b.header.number,
    previousHash: b.header.previousHash,
    dataHash: b.header.dataHash,
    data: b.data?.data,
    metadata: b.metadata?.metadata,
  };
}

function sameAsDecoder(bytes: Uint8Array): void {
  const s = scanBlock(bytes);
  if (!s) return;
  const d = decoded(bytes);
  assert.ok(d && d !== 'no header', 'the scanner read bytes the decoder refuses');
  assert.equal(s.number, d.number);
  assert.deepEqual(Buffer.from(s.previousHash), Buffer.from(d.previousHash));
  assert.deepEqual(Buffer.from(s.dataHash), Buffer.from(d.dataHash));
  // each field present or absent as the decoder has it, with the same entries
  const entries = (xs: Uint8Array[] | undefined) => xs?.map((x) => Buffer.from(x));
  assert.deepEqual(entries(s.data), entries(d.data));
  assert.deepEqual(entries(s.metadata), entries(d.metadata));
}

const bytesArb = (max: number) => fc.uint8Array({ maxLength: max });
const blockArb = fc.record({
  number: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 1000n })),
  previousHash: bytesArb(40),
  dataHash: bytesArb(40),
  data: fc.option(fc.array(bytesArb(300), { maxLength: 6 })),
  metadata: fc.option(fc.array(bytesArb(50), { maxLength: 6 })),
  big: fc.boolean(),
});

test('canonical blocks: the scanner reads what the generic decoder reads (numbers below 2^63)', () => {
  fc.assert(
    fc.property(blockArb, (r) => {
      const data = r.data ?? undefined;
      const bytes = encodeBlock(
        create(BlockSchema, {
          header: {
            number: r.number,
            previousHash: r.big ? new Uint8Array(200).fill(7) : r.previousHash,
            dataHash: r.dataHash,
          },
          data: data ? { data } : undefined,
          metadata: r.metadata ? { metadata: r.metadata } : undefined,
        }),
      );
      const s = scanBlock(bytes);
      if (r.number < 1n << 63n) assert.ok(s, 'canonical block not read');
      sameAsDecoder(bytes);
    }),
    { numRuns: 1000 },
  );
});

test('mutated, truncated, extended and random bytes: whatever the scanner reads, the decoder reads the same', () => {
  const chain = makeChain(4, 3, 3, 40);
  const base = fc.oneof(fc.constantFrom(...chain), bytesArb(200));
  fc.assert(
    fc.property(base, fc.array(byteMutation, { maxLength: 3 }), (b, ms) => {
      sameAsDecoder(mutate(b, ms));
    }),
    { numRuns: 3000 },
  );
});

test('shapes the scanner leaves to the decoder', () => {
  const [good] = makeChain(1, 4, 2, 30);
  assert.ok(scanBlock(good));
  const header = Uint8Array.of(0x08, 0x05, 0x12, 0x01, 0xaa, 0x1a, 0x01, 0xbb);
  const h = Uint8Array.of(0x0a, header.length, ...header);
  const d = Uint8Array.of(0x12, 0x03, 0x0a, 0x01, 0x01);
  const m = Uint8Array.of(0x1a, 0x02, 0x0a, 0x00);
  const cases: [string, Uint8Array][] = [
    ['data before header', Uint8Array.of(...d, ...h)],
    ['header twice', Uint8Array.of(...h, ...h)],
    ['no header', Uint8Array.of(...d, ...m)],
    ['unknown top-level field', Uint8Array.of(...h, 0x22, 0x00)],
    ['metadata before data', Uint8Array.of(...h, ...m, ...d)],
    ['header fields reordered', Uint8Array.of(0x0a, 0x05, 0x12, 0x01, 0xaa, 0x08, 0x05)],
    ['10-byte number', Uint8Array.of(0x0a, 0x0b, 0x08, ...new Array<number>(9).fill(0xff), 0x01)],
    ['5-byte length', Uint8Array.of(0x0a, 0x84, 0x80, 0x80, 0x80, 0x00)],
    ['data entry with another field number', Uint8Array.of(...h, 0x12, 0x03, 0x12, 0x01, 0x01)],
  ];
  for (const [what, bytes] of cases) {
    assert.equal(scanBlock(bytes), undefined, what);
    sameAsDecoder(bytes);
  }
  // the decoder takes some of these; parseBlock then goes through it and gets the same facts
  const merged = parseBlock(Uint8Array.of(...h, ...h));
  assert.equal(merged.number, 5n);
});

test('parseBlock: the scanned and the decoded path give the same facts', () => {
  for (const bytes of makeChain(6, 8, 3, 200)) {
    const fast = parseBlock(bytes);
    const slow = parseBlock(bytes, decodeBlock(bytes));
    assert.equal(fast.number, slow.number);
    assert.deepEqual(fast.headerHash, slow.headerHash);
    assert.deepEqual(fast.previousHash, slow.previousHash);
    assert.deepEqual(fast.txIds, slow.txIds);
    assert.deepEqual(fast.dataHash, slow.dataHash);
    assert.deepEqual(fast.data, slow.data);
  }
});

test('real Fabric blocks are read by the scanner exactly as decoded', { skip: SKIP_VECTORS }, () => {
  for (const { bytes } of vectorBlocks()) {
    assert.ok(scanBlock(bytes));
    sameAsDecoder(bytes);
  }
});
