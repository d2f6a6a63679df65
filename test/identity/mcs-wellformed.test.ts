/**
 * The transaction well-formedness check (v2.5 VerifyTransactionsAreWellFormed) decides on the
 * wire bytes when they are canonical and decodes + re-encodes otherwise. These tests hold it to
 * the plain decode-and-re-encode reference below: same accept/reject, same code and message, on
 * valid, mutated and arbitrary transactions and on the real Fabric blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create, toBinary } from '@bufbuild/protobuf';
import { checkTransactionsWellFormed, isCanonicalEnvelope } from '../../src/identity/mcs.js';
import { GrapevineError, VerifyError } from '../../src/base/errors.js';
import {
  BlockDataSchema,
  BlockSchema,
  ChannelHeaderSchema,
  EnvelopeSchema,
  HeaderSchema,
  HeaderType,
  PayloadSchema,
  type Block,
} from '../../src/wire/gen/common/common_pb.js';
import { decode } from '../../src/wire/codec.js';
import { decodeBlock, isConfigBlock } from '../../src/wire/block.js';
import { SKIP_VECTORS, vectorBlocks } from '../helpers/vectors.js';
import { field } from '../helpers/mutate.js';

/** The check as it was written first: decode every envelope and compare its re-encoding. */
function reference(block: Block): void {
  const data = block.data?.data ?? [];
  if (data.length === 0) throw new VerifyError('MALFORMED_TX', 'empty block');
  if (isConfigBlock(block)) return;
  data.forEach((raw, i) => {
    let env;
    try {
      env = decode(EnvelopeSchema, raw, `transaction ${i}`);
    } catch (e) {
      throw new VerifyError('MALFORMED_TX', `transaction ${i} is invalid: ${(e as Error).message}`);
    }
    if (env.payload.length === 0) throw new VerifyError('MALFORMED_TX', `transaction ${i} has no payload`);
    if (env.signature.length === 0)
      throw new VerifyError('MALFORMED_TX', `transaction ${i} has no signature`);
    const again = toBinary(EnvelopeSchema, env);
    if (!Buffer.from(again).equals(raw)) {
      throw new VerifyError(
        'MALFORMED_TX',
        again.length < raw.length
          ? `transaction ${i} has ${raw.length - again.length} trailing bytes`
          : `transaction ${i} does not match its canonical encoding`,
      );
    }
  });
}

function outcome(f: () => void): string {
  try {
    f();
    return 'OK';
  } catch (e) {
    assert.ok(e instanceof GrapevineError, `GrapevineError, got ${String(e)}`);
    return `${e.code}: ${e.message}`;
  }
}

function blockOf(txs: Uint8Array[]): Block {
  return create(BlockSchema, { data: create(BlockDataSchema, { data: txs }) });
}

function assertSame(txs: Uint8Array[]): string {
  const b = blockOf(txs);
  const want = outcome(() => reference(b));
  assert.equal(
    outcome(() => checkTransactionsWellFormed(b)),
    want,
  );
  return want;
}

function envelope(payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { payload, signature }));
}

const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const validTx = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 200 }))
  .map(([p, s]) => envelope(p, s));

/** Ways to damage a transaction's bytes (each keeps it a Uint8Array). */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('prepend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(tx: Uint8Array, m: Mutation): Uint8Array {
  const b = new Uint8Array(tx);
  switch (m.kind) {
    case 'flip':
      if (b.length) b[m.at % b.length] ^= 1 << m.bit;
      return b;
    case 'set':
      if (b.length) b[m.at % b.length] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, b.length ? m.at % b.length : 0);
    case 'append':
      return Buffer.concat([b, m.extra]);
    case 'prepend':
      return Buffer.concat([m.extra, b]);
  }
  return b;
}

test('canonical envelopes are recognised on the wire; every other shape is left to decode + re-encode', () => {
  const p = [1, 2, 3];
  const s = [9, 9];
  const cases: [number[], boolean, string][] = [
    [[...field(0x0a, p), ...field(0x12, s)], true, 'OK'],
    [
      [...field(0x12, s), ...field(0x0a, p)],
      false,
      'MALFORMED_TX: transaction 0 does not match its canonical encoding',
    ],
    [[...field(0x0a, p, 1), ...field(0x12, s)], false, 'MALFORMED_TX: transaction 0 has 1 trailing bytes'],
    [[...field(0x0a, p), ...field(0x12, s, 2)], false, 'MALFORMED_TX: transaction 0 has 2 trailing bytes'],
    [[...field(0x0a, p), ...field(0x12, s), 0x18, 1], false, 'OK'], // unknown field: kept and re-encoded
    [
      [...field(0x0a, p), ...field(0x0a, p), ...field(0x12, s)],
      false,
      'MALFORMED_TX: transaction 0 has 5 trailing bytes',
    ],
    [[...field(0x0a, []), ...field(0x12, s)], false, 'MALFORMED_TX: transaction 0 has no payload'],
    [[...field(0x0a, p), ...field(0x12, [])], false, 'MALFORMED_TX: transaction 0 has no signature'],
    [[...field(0x0a, p)], false, 'MALFORMED_TX: transaction 0 has no signature'],
    [[...field(0x0a, p), ...field(0x12, s)].slice(0, -1), false, ''],
    [[...field(0x0a, p), ...field(0x12, s), 0], false, ''],
  ];
  for (const [raw, canonical, want] of cases) {
    const tx = Uint8Array.from(raw);
    assert.equal(isCanonicalEnvelope(tx), canonical, `canonical? ${raw}`);
    const got = assertSame([tx]);
    if (want) assert.equal(got, want, `${raw}`);
    else assert.notEqual(got, 'OK', `${raw}`);
  }
  // a payload whose length needs 2 and 3 varint bytes
  for (const n of [127, 128, 300, 16_383, 16_384, 70_000]) {
    const tx = envelope(new Uint8Array(n).fill(7), Uint8Array.of(1));
    assert.equal(isCanonicalEnvelope(tx), true);
    assert.equal(assertSame([tx]), 'OK');
  }
  assert.equal(assertSame([]), 'MALFORMED_TX: empty block');
});

test('property: same outcome as decode + re-encode on valid, mutated and arbitrary transactions', () => {
  fc.assert(
    fc.property(fc.array(validTx, { minLength: 1, maxLength: 4 }), (txs) => {
      for (const t of txs) assert.equal(isCanonicalEnvelope(t), true);
      assert.equal(assertSame(txs), 'OK');
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(validTx, fc.option(mutation, { freq: 2 })), { minLength: 1, maxLength: 4 }),
      (items) => {
        assertSame(items.map(([t, m]) => (m ? mutate(t, m) : t)));
      },
    ),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(bytes(64), { minLength: 1, maxLength: 3 }), (txs) => {
      assertSame(txs);
    }),
    { numRuns: 2000 },
  );
});

test('property: a config block is exempt exactly when the reference exempts it', () => {
  const config = (type: HeaderType, channelId: string) =>
    toBinary(
      PayloadSchema,
      create(PayloadSchema, {
        header: create(HeaderSchema, {
          channelHeader: toBinary(ChannelHeaderSchema, create(ChannelHeaderSchema, { type, channelId })),
        }),
        data: Uint8Array.of(1),
      }),
    );
  fc.assert(
    fc.property(
      fc.constantFrom(HeaderType.CONFIG, HeaderType.ENDORSER_TRANSACTION),
      fc.boolean(),
      fc.option(mutation, { freq: 2 }),
      fc.option(validTx),
      (type, signed, m, second) => {
        let tx = Buffer.concat(
          [field(0x0a, [...config(type, 'ch')]), signed ? field(0x12, [5]) : []].map((x) =>
            Uint8Array.from(x),
          ),
        );
        if (m) tx = Buffer.from(mutate(tx, m));
        assertSame(second ? [tx, second] : [tx]);
      },
    ),
    { numRuns: 1000 },
  );
});

test('real Fabric v2.4.9 blocks: same outcome, and damaged copies too', { skip: SKIP_VECTORS }, () => {
  const blocks = vectorBlocks();
  assert.ok(blocks.length > 0);
  for (const { bytes: raw } of blocks) {
    const block = decodeBlock(raw);
    assert.equal(
      outcome(() => checkTransactionsWellFormed(block)),
      'OK',
    );
    assert.equal(
      outcome(() => reference(block)),
      'OK',
    );
    const txs = block.data?.data ?? [];
    fc.assert(
      fc.property(fc.nat({ max: Math.max(0, txs.length - 1) }), mutation, (i, m) => {
        const copy = txs.map((t, j) => (j === i ? mutate(t, m) : t));
        const b = blockOf(copy);
        assert.equal(
          outcome(() => checkTransactionsWellFormed(b)),
          outcome(() => reference(b)),
        );
      }),
      { numRuns: 50 },
    );
  }
});
