/**
 * The header fast paths (src/wire/headers.ts) must give exactly the message protobuf-es's generic
 * decoder gives (same fields, same types, nothing more), and fail exactly when it fails, for any
 * bytes: canonical headers, the real Fabric vectors, and mutated, reshaped and random bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';
import { decode } from '../../src/wire/codec.js';
import { decodeTx } from '../../src/wire/block.js';
import { decodeChannelHeader, decodeHeader, decodeSignatureHeader } from '../../src/wire/headers.js';
import {
  ChannelHeaderSchema,
  HeaderSchema,
  SignatureHeaderSchema,
} from '../../src/wire/gen/common/common_pb.js';
import { WireError } from '../../src/base/errors.js';
import { HAVE_VECTORS, vectorTransactions } from '../helpers/vectors.js';
import { byteMutation, mutate, varint } from '../helpers/mutate.js';

type Outcome<T> = { ok: true; message: T } | { ok: false };

function outcome<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, message: f() };
  } catch (e) {
    assert.ok(e instanceof WireError, `not a WireError: ${String(e)}`);
    return { ok: false };
  }
}

const CASES = [
  { schema: ChannelHeaderSchema, fast: (b: Uint8Array) => decodeChannelHeader(b) },
  { schema: HeaderSchema, fast: (b: Uint8Array) => decodeHeader(b) },
  { schema: SignatureHeaderSchema, fast: (b: Uint8Array) => decodeSignatureHeader(b) },
] as const;

function same<D extends DescMessage>(schema: D, fast: (b: Uint8Array) => MessageShape<D>, bytes: Uint8Array) {
  assert.deepStrictEqual(
    outcome(() => fast(bytes)),
    outcome(() => decode(schema, bytes)),
    `${schema.typeName} ${Buffer.from(bytes).toString('hex')}`,
  );
}

function sameAll(bytes: Uint8Array) {
  for (const c of CASES) same(c.schema as DescMessage, c.fast as (b: Uint8Array) => never, bytes);
}

const channelHeaders = [
  create(ChannelHeaderSchema, {}),
  create(ChannelHeaderSchema, { type: 3, channelId: 'mychannel', txId: 'ab'.repeat(32) }),
  create(ChannelHeaderSchema, {
    type: 3,
    version: 2,
    timestamp: create(TimestampSchema, { seconds: 1_765_000_000n, nanos: 123_456_789 }),
    channelId: 'mychannel',
    txId: 'f'.repeat(64),
    epoch: 7n,
    extension: Uint8Array.of(1, 2, 3),
    tlsCertHash: new Uint8Array(32).fill(9),
  }),
  create(ChannelHeaderSchema, { timestamp: create(TimestampSchema, {}) }),
  // values off the fast path: negative int32, huge epoch, non-ASCII text, long timestamp
  create(ChannelHeaderSchema, { type: -1, version: 2 ** 30 }),
  create(ChannelHeaderSchema, { epoch: 2n ** 63n + 5n }),
  create(ChannelHeaderSchema, { epoch: 2n ** 62n + 3n, type: 2 ** 31 - 1 }), // 9- and 5-byte varints
  create(ChannelHeaderSchema, {
    epoch: 2n ** 49n,
    timestamp: create(TimestampSchema, { seconds: 2n ** 56n + 1n }),
  }),
  create(ChannelHeaderSchema, { channelId: 'kanäl', txId: '€' }),
  create(ChannelHeaderSchema, { timestamp: create(TimestampSchema, { seconds: -5n, nanos: -1 }) }),
].map((h) => toBinary(ChannelHeaderSchema, h));

const twoFields = [
  new Uint8Array(0),
  Uint8Array.of(0x0a, 0x00),
  Uint8Array.of(0x0a, 0x02, 1, 2, 0x12, 0x01, 3),
  Uint8Array.of(0x12, 0x01, 3),
  Uint8Array.of(0x12, 0x01, 3, 0x0a, 0x01, 4),
  Uint8Array.of(0x0a, 0x01, 4, 0x0a, 0x01, 5),
  Uint8Array.of(0x0a, 0x01, 4, 0x1a, 0x01, 5),
  Uint8Array.of(0x0a, 0x81, 0x00, 7), // non-minimal length varint
  Uint8Array.of(0x0a, 0x05, 1),
];

/** A timestamp twice: protobuf-es (and Go) merge the second into the first (seconds 5, nanos 7). */
const mergedTimestamps = Uint8Array.of(0x1a, 0x02, 0x08, 0x05, 0x1a, 0x02, 0x10, 0x07);

test('headers: fast paths equal protobuf-es on canonical, unusual and malformed headers', () => {
  for (const b of [...channelHeaders, ...twoFields, mergedTimestamps]) sameAll(b);
  assert.equal(decodeChannelHeader(mergedTimestamps).timestamp?.seconds, 5n);
  // the canonical ones really are read by the fast path: they come out without the generic decoder's WireError context
  const fast = decodeChannelHeader(channelHeaders[2]!);
  assert.equal(fast.timestamp?.nanos, 123_456_789);
  assert.equal(fast.timestamp?.seconds, 1_765_000_000n);
  assert.equal(fast.epoch, 7n);
  assert.equal(decodeChannelHeader(channelHeaders[6]!).epoch, 2n ** 62n + 3n);
});

test(
  'headers: fast paths equal protobuf-es on every transaction of the Fabric vectors',
  { skip: !HAVE_VECTORS && 'no ../shared/fabric-vectors' },
  () => {
    const txs = vectorTransactions();
    for (const tx of txs) {
      const { payload } = decodeTx(tx);
      same(ChannelHeaderSchema, decodeChannelHeader, payload.header!.channelHeader);
      same(SignatureHeaderSchema, decodeSignatureHeader, payload.header!.signatureHeader);
    }
    assert.ok(txs.length > 20);
  },
);

test('property: header fast paths equal protobuf-es on mutated, reshaped, truncated and random bytes', () => {
  const base = fc.constantFrom(...channelHeaders, ...twoFields.slice(2, 3));
  const mutated = fc
    .tuple(base, fc.array(byteMutation, { minLength: 1, maxLength: 3 }))
    .map(([b, ms]) => mutate(b, ms));
  // fields generated one by one: any number 1..9, any wire type, values of any size, in any order
  const field = fc.tuple(
    fc.integer({ min: 1, max: 9 }),
    fc.constantFrom(0, 1, 2, 5),
    fc.uint8Array({ maxLength: 40 }),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  );
  const built = fc.array(field, { maxLength: 9 }).map((fields) => {
    const out: number[] = [];
    for (const [no, wire, bytes, n] of fields) {
      out.push((no << 3) | wire);
      if (wire === 0) {
        let v = n;
        do {
          out.push(Number(v & 0x7fn) | (v >= 0x80n ? 0x80 : 0));
          v >>= 7n;
        } while (v > 0n);
      } else if (wire === 2) out.push(...varint(bytes.length), ...bytes);
      else out.push(...bytes.subarray(0, wire === 1 ? 8 : 4), ...new Uint8Array(8));
    }
    return Uint8Array.from(out);
  });
  fc.assert(
    fc.property(fc.oneof(mutated, built, fc.uint8Array({ maxLength: 48 })), (bytes) => sameAll(bytes)),
    { numRuns: 3000 },
  );
});
