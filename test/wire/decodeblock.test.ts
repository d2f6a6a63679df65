/**
 * decodeBlock's fast path (the block scanner, wire/blockscan.ts) against the generic protobuf-es decoder, the
 * reference: on real and synthetic blocks it is taken and gives the same message; on mutated,
 * truncated, extended, reshaped and random bytes both give the same message or both a WireError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toBinary } from '@bufbuild/protobuf';
import { decodeBlock } from '../../src/wire/block.js';
import { scanBlock } from '../../src/wire/blockscan.js';
import { decode, encode } from '../../src/wire/codec.js';
import { BlockSchema, type Block } from '../../src/wire/gen/common/common_pb.js';
import { WireError } from '../../src/base/errors.js';
import { makeChain } from '../ledger/synthetic.js';
import { HAVE_VECTORS, vectorBlocks } from '../helpers/vectors.js';
import { varint } from '../helpers/mutate.js';

type Outcome = { ok: true; shape: string[] } | { ok: false };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Everything a caller can read of a block, presence of each message included. */
function shape(b: Block): string[] {
  return [
    hex(toBinary(BlockSchema, b)),
    b.header
      ? `header ${b.header.number} ${hex(b.header.previousHash)} ${hex(b.header.dataHash)}`
      : 'no header',
    b.data ? `data ${b.data.data.map(hex).join(',')}` : 'no data',
    b.metadata ? `metadata ${b.metadata.metadata.map(hex).join(',')}` : 'no metadata',
  ];
}

function outcome(f: () => Block): Outcome {
  try {
    return { ok: true, shape: shape(f()) };
  } catch (e) {
    assert.ok(e instanceof WireError, `not a WireError: ${String(e)}`);
    return { ok: false };
  }
}

const same = (bytes: Uint8Array) =>
  assert.deepEqual(
    outcome(() => decodeBlock(bytes)),
    outcome(() => decode(BlockSchema, bytes, 'common.Block')),
  );

const chain = makeChain(6, 3, 3, 200);

test('decodeBlock equals the generic decoder on synthetic blocks, bytes fields are views of the input', () => {
  for (const bytes of chain) {
    assert.ok(scanBlock(bytes), 'an orderer-shaped block takes the fast path');
    same(bytes);
    const b = decodeBlock(bytes);
    const tx = b.data!.data[0]!;
    assert.equal(tx.buffer, bytes.buffer, 'a view, not a copy');
  }
  // the empty block, and a header with every field at its default
  same(new Uint8Array(0));
  same(encode(BlockSchema, { header: {} }));
  same(encode(BlockSchema, { header: { number: 2n ** 63n - 1n }, data: { data: [new Uint8Array(0)] } }));
});

test(
  'decodeBlock equals the generic decoder on the Fabric vectors',
  { skip: !HAVE_VECTORS && 'no ../shared/fabric-vectors' },
  () => {
    const blocks = vectorBlocks();
    assert.ok(blocks.length > 20);
    for (const { bytes } of blocks) {
      assert.ok(scanBlock(bytes), 'a real Fabric block takes the fast path');
      same(bytes);
    }
  },
);

test('property: decodeBlock equals the generic decoder on mutated, truncated, extended, reshaped and random bytes', () => {
  const base = fc.constantFrom(...chain);
  const mutated = fc.tuple(base, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
    const c = Uint8Array.from(b);
    c[at % c.length] = v;
    return c;
  });
  // a mutation within the first bytes, where the tags and lengths are
  const headMutated = fc
    .tuple(base, fc.nat({ max: 40 }), fc.integer({ min: 0, max: 255 }))
    .map(([b, at, v]) => {
      const c = Uint8Array.from(b);
      c[at] = v;
      return c;
    });
  const truncated = fc.tuple(base, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1)));
  const extended = fc
    .tuple(base, fc.uint8Array({ maxLength: 12 }))
    .map(([b, x]) => Uint8Array.from([...b, ...x]));
  // whole fields repeated, swapped or unknown, at the block's and at the header's level
  const reshaped = fc
    .tuple(base, fc.constantFrom('repeat-data', 'swap', 'unknown', 'header-swap', 'big-number'))
    .map(([bytes, how]) => {
      const b = decode(BlockSchema, bytes);
      const field = (tag: number, v: Uint8Array) => [tag, ...varint(v.length), ...v];
      const header = toBinary(BlockSchema, { ...b, data: undefined, metadata: undefined } as Block).subarray(
        2,
      );
      const data = toBinary(BlockSchema, { ...b, header: undefined, metadata: undefined } as Block);
      const meta = toBinary(BlockSchema, { ...b, header: undefined, data: undefined } as Block);
      switch (how) {
        case 'repeat-data':
          return Uint8Array.from([...field(0x0a, header), ...data, ...data, ...meta]);
        case 'swap':
          return Uint8Array.from([...data, ...field(0x0a, header), ...meta]);
        case 'unknown':
          return Uint8Array.from([
            ...field(0x0a, header),
            ...data,
            ...meta,
            ...field(0x22, Uint8Array.of(1)),
          ]);
        case 'header-swap': {
          const h = b.header!;
          const hb = [...field(0x1a, h.dataHash), ...field(0x12, h.previousHash)];
          return Uint8Array.from([...field(0x0a, Uint8Array.from(hb)), ...data, ...meta]);
        }
        default: {
          // a 10-byte number: left to the generic decoder's 64-bit rules
          const n = [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
          return Uint8Array.from([...field(0x0a, Uint8Array.from(n)), ...data, ...meta]);
        }
      }
    });
  fc.assert(
    fc.property(
      fc.oneof(mutated, headMutated, truncated, extended, reshaped, fc.uint8Array({ maxLength: 64 })),
      (bytes) => same(bytes),
    ),
    { numRuns: 3000 },
  );
});
