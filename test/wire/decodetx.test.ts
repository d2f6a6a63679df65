/**
 * decodeTx reads the Envelope and Payload layers without the generic decoder when their bytes
 * have the plain two-field shape (bytesFields12). It must give exactly what decoding every layer
 * with protobuf-es gives, and fail exactly when that fails, for any bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { decodeTx } from '../../src/wire/block.js';
import { bytesFields12 } from '../../src/wire/headers.js';
import { decode, encode } from '../../src/wire/codec.js';
import {
  ChannelHeaderSchema,
  HeaderSchema,
  EnvelopeSchema,
  PayloadSchema,
  SignatureHeaderSchema,
} from '../../src/wire/gen/common/common_pb.js';
import { WireError } from '../../src/base/errors.js';
import { makeTx, seededRandom } from '../ledger/synthetic.js';
import { HAVE_VECTORS, vectorTransactions } from '../helpers/vectors.js';
import { varint } from '../helpers/mutate.js';

/**
 * The reference: every layer through protobuf-es, as decodeTx did before its fast path, plus the
 * rule of Go's protobuf (Fabric's) that protobuf-es lacks: the header, a nested message, decodes
 * within its own length (protobuf-es lets its last field run on into the payload's data).
 */
function reference(bytes: Uint8Array) {
  const envelope = decode(EnvelopeSchema, bytes, 'common.Envelope');
  const payload = decode(PayloadSchema, envelope.payload, 'common.Payload');
  try {
    const r = new BinaryReader(envelope.payload);
    while (r.pos < r.len) {
      const [no, wire] = r.tag();
      if (no === 1 && wire === WireType.LengthDelimited) decode(HeaderSchema, r.bytes());
      else r.skip(wire);
    }
  } catch (e) {
    throw e instanceof WireError ? e : new WireError('MALFORMED', String(e));
  }
  if (!payload.header) throw new WireError('MALFORMED', 'transaction payload has no header');
  const channelHeader = decode(ChannelHeaderSchema, payload.header.channelHeader, 'common.ChannelHeader');
  const signatureHeader = decode(
    SignatureHeaderSchema,
    payload.header.signatureHeader,
    'common.SignatureHeader',
  );
  return { envelope, payload, channelHeader, signatureHeader };
}

type Outcome = { ok: true; bytes: string[] } | { ok: false };

function outcome(f: () => ReturnType<typeof reference>): Outcome {
  try {
    const t = f();
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return {
      ok: true,
      bytes: [
        hex(toBinary(EnvelopeSchema, t.envelope)),
        hex(toBinary(PayloadSchema, t.payload)),
        hex(toBinary(ChannelHeaderSchema, t.channelHeader)),
        hex(toBinary(SignatureHeaderSchema, t.signatureHeader)),
        t.channelHeader.txId,
        t.channelHeader.channelId,
      ],
    };
  } catch (e) {
    assert.ok(e instanceof WireError, `not a WireError: ${String(e)}`);
    return { ok: false };
  }
}

const same = (bytes: Uint8Array) =>
  assert.deepEqual(
    outcome(() => decodeTx(bytes)),
    outcome(() => reference(bytes)),
  );

const rand = seededRandom(7);
const txs = [0, 1, 100, 5000, 200_000].map((n, i) => makeTx('mychannel', `tx${i}`, n, rand));

test('a header whose last field runs on into the payload data is malformed, as in Fabric (protobuf-es alone accepts it)', () => {
  // found by the property below (seed 1062993850): the signature header claims 47 bytes, 44 remain in the header
  const bytes = Uint8Array.from(
    Buffer.from(
      '0a470a420a12080322096d796368616e6e656c2a03747831122f0a1066abab6ce340176b64f97404d057fcf11218d4ef35a7c5c1b6beeb4cf7a5dae4a3039f0f99792c0f29a8120160124675d039c8cf9cd778e540beb36b9704c299dd80f42e2c0db7822f51e079ec5e5e8f366784a9b7d7328d4d0b2423290c2d70c02485e291e978678095623e0df3b22669198bcd1b',
      'hex',
    ),
  );
  const env = decode(EnvelopeSchema, bytes);
  assert.ok(decode(PayloadSchema, env.payload).header, 'protobuf-es alone reads a header');
  assert.throws(() => decodeTx(bytes), WireError);
  // the same payload in a non-canonical shape (data first) goes the generic way, with the same rule
  const p = bytesFields12(env.payload)!;
  const swapped = Uint8Array.from([
    0x12,
    ...varint(p[1].length),
    ...p[1],
    0x0a,
    ...varint(p[0].length),
    ...p[0],
  ]);
  assert.throws(
    () => decodeTx(encode(EnvelopeSchema, { payload: swapped, signature: env.signature })),
    WireError,
  );
  same(bytes);
});

test('decodeTx equals the all-protobuf-es reference on real-shaped transactions', () => {
  for (const tx of txs) {
    assert.ok(bytesFields12(tx), 'an SDK-shaped envelope takes the fast path');
    same(tx);
    assert.equal(decodeTx(tx).channelHeader.channelId, 'mychannel');
  }
});

test(
  'decodeTx equals the reference on the Fabric vectors',
  { skip: !HAVE_VECTORS && 'no ../shared/fabric-vectors' },
  () => {
    const txs = vectorTransactions();
    for (const tx of txs) same(tx);
    assert.ok(txs.length > 20);
  },
);

test('property: decodeTx equals the reference on mutated, truncated, extended and random bytes', () => {
  const base = fc.constantFrom(...txs.slice(0, 4));
  const mutated = fc.tuple(base, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
    const c = Uint8Array.from(b);
    c[at % c.length] = v;
    return c;
  });
  const truncated = fc.tuple(base, fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1)));
  const extended = fc
    .tuple(base, fc.uint8Array({ maxLength: 12 }))
    .map(([b, x]) => Uint8Array.from([...b, ...x]));
  // the payload with an extra or repeated field, or its fields swapped
  const reshaped = fc.tuple(base, fc.constantFrom('repeat-header', 'swap', 'unknown')).map(([b, how]) => {
    const env = decode(EnvelopeSchema, b);
    const p = bytesFields12(env.payload)!;
    const field = (tag: number, v: Uint8Array) => Uint8Array.from([tag, ...varint(v.length), ...v]);
    const parts =
      how === 'repeat-header'
        ? [field(0x0a, p[0]), field(0x12, p[1]), field(0x0a, p[0])]
        : how === 'swap'
          ? [field(0x12, p[1]), field(0x0a, p[0])]
          : [field(0x0a, p[0]), field(0x12, p[1]), field(0x1a, Uint8Array.of(1))];
    const payload = Uint8Array.from(parts.flatMap((x) => [...x]));
    return encode(EnvelopeSchema, { payload, signature: env.signature });
  });
  fc.assert(
    fc.property(fc.oneof(mutated, truncated, extended, reshaped, fc.uint8Array({ maxLength: 64 })), (bytes) =>
      same(bytes),
    ),
    { numRuns: 2000 },
  );
});
