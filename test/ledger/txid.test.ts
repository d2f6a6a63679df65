import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fastTxId } from '../../src/ledger/txid.js';
import { encode } from '../../src/wire/codec.js';
import { decodeBlock, decodeTx } from '../../src/wire/block.js';
import {
  ChannelHeaderSchema,
  EnvelopeSchema,
  PayloadSchema,
  SignatureHeaderSchema,
} from '../../src/wire/gen/common/common_pb.js';
import { SKIP_VECTORS, vectorBlocks } from '../helpers/vectors.js';
import { makeTx, seededRandom } from './synthetic.js';
import { byteMutation, mutate } from '../helpers/mutate.js';

/** decodeTx's tx id, or undefined when it refuses the envelope. */
function slowTxId(envelope: Uint8Array): string | undefined {
  try {
    return decodeTx(envelope).channelHeader.txId;
  } catch {
    return undefined;
  }
}

function sameAsDecoder(envelope: Uint8Array): void {
  const fast = fastTxId(envelope);
  if (fast === undefined) return;
  assert.equal(fast, slowTxId(envelope), 'fast path read an id the decoder does not give');
}

const isAscii = (x: string) => [...x].every((c) => c.charCodeAt(0) < 0x80);
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 8 }));
const envelopeArb = fc
  .record({
    type: fc.integer({ min: -5, max: 10 }),
    version: fc.integer({ min: -2, max: 3 }),
    seconds: fc.option(fc.bigInt({ min: -(1n << 40n), max: 1n << 40n })),
    nanos: fc.integer({ min: 0, max: 999_999_999 }),
    channelId: text,
    txId: text,
    epoch: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    extension: fc.uint8Array({ maxLength: 10 }),
    tlsCertHash: fc.uint8Array({ maxLength: 10 }),
    creator: fc.uint8Array({ maxLength: 10 }),
    nonce: fc.uint8Array({ maxLength: 10 }),
    data: fc.uint8Array({ maxLength: 30 }),
  })
  .map((r) => {
    const channelHeader = encode(ChannelHeaderSchema, {
      type: r.type,
      version: r.version,
      timestamp: r.seconds === null ? undefined : { seconds: r.seconds, nanos: r.nanos },
      channelId: r.channelId,
      txId: r.txId,
      epoch: r.epoch,
      extension: r.extension,
      tlsCertHash: r.tlsCertHash,
    });
    const signatureHeader = encode(SignatureHeaderSchema, { creator: r.creator, nonce: r.nonce });
    const payload = encode(PayloadSchema, { header: { channelHeader, signatureHeader }, data: r.data });
    const plain =
      isAscii(r.txId + r.channelId) &&
      r.type >= 0 &&
      r.version >= 0 &&
      (r.seconds ?? 0n) >= 0n &&
      r.epoch < 1n << 63n &&
      r.creator.length > 0;
    return { envelope: encode(EnvelopeSchema, { payload, signature: r.data }), txId: r.txId, plain };
  });

test('tx ids of generated envelopes: the fast path gives what decodeTx gives, and reads every plain one', () => {
  fc.assert(
    fc.property(envelopeArb, ({ envelope, txId, plain }) => {
      assert.equal(slowTxId(envelope), txId);
      sameAsDecoder(envelope);
      // ASCII ids, no negative varints (10 bytes), a creator: read by the fast path
      if (plain) assert.equal(fastTxId(envelope), txId);
    }),
    { numRuns: 1000 },
  );
  const rand = seededRandom(3);
  assert.equal(
    fastTxId(makeTx('ch', 'tx-plain', 50, rand)),
    'tx-plain',
    'an SDK-shaped envelope takes the fast path',
  );
});

test('mutated, truncated and extended envelopes: whatever the fast path reads, decodeTx reads the same', () => {
  const rand = seededRandom(11);
  const base = fc.oneof(
    fc.constantFrom(...Array.from({ length: 4 }, (_, i) => makeTx('testchannel', `tx-${i}`, 20, rand))),
    envelopeArb.map((e) => e.envelope),
  );
  fc.assert(
    fc.property(base, fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (b, ms) => {
      sameAsDecoder(mutate(b, ms));
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => sameAsDecoder(b)),
    { numRuns: 2000 },
  );
});

test('real Fabric transactions: the fast path gives decodeTx tx ids', { skip: SKIP_VECTORS }, () => {
  let fast = 0;
  for (const { bytes } of vectorBlocks()) {
    for (const env of decodeBlock(bytes).data?.data ?? []) {
      const id = fastTxId(env);
      if (id !== undefined) fast++;
      sameAsDecoder(env);
    }
  }
  assert.ok(fast > 0, 'no real transaction took the fast path');
});
