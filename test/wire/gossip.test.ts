import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import {
  decodeEnvelope,
  encodeEnvelope,
  openEnvelope,
  secretInternalEndpoint,
  tagError,
  Tag,
  unsignedGossip,
  signGossip,
  PullMsgType,
  type GossipMessageInit,
} from '../../src/wire/index.js';
import { WireError } from '../../src/base/errors.js';
import { SKIP_VECTORS, readVector, vectorIndex, vectorPath } from '../helpers/vectors.js';

test(
  'every captured Fabric gossip envelope decodes, re-encodes byte-identically and has a legal tag',
  { skip: SKIP_VECTORS },
  () => {
    const files = readdirSync(vectorPath('gossip')).filter((f) => f.endsWith('.pb'));
    assert.ok(files.length > 1000, `expected >1000 captured envelopes, found ${files.length}`);
    const byFile = new Map(
      vectorIndex()
        .gossip.filter((g) => g.file)
        .map((g) => [g.file!.replace('gossip/', ''), g]),
    );
    for (const f of files) {
      const bytes = readVector('gossip', f);
      const env = decodeEnvelope(bytes);
      assert.deepEqual(Buffer.from(encodeEnvelope(env)), Buffer.from(bytes), f);
      const { message } = openEnvelope(env);
      const meta = byFile.get(f);
      assert.ok(meta, `index entry for ${f}`);
      assert.equal(Tag[message.tag], meta.tag, `${f} tag`);
      assert.equal(env.signature.length > 0, meta.signed, `${f} signed`);
      // conn messages never reach the tag check in Fabric; everything else carries a legal tag.
      if (message.content.case !== 'conn')
        assert.equal(tagError(message), undefined, `${f}: ${tagError(message)}`);
      if (message.content.case === 'aliveMsg' && env.secretEnvelope) {
        assert.match(secretInternalEndpoint(env.secretEnvelope) ?? '', /^127\.0\.0\.1:\d+$/);
      }
    }
  },
);

test(
  'captured alive/state info nonces and timestamps keep full 64-bit precision',
  { skip: SKIP_VECTORS },
  () => {
    const entry = vectorIndex().gossip.find((g) => g.file && g.type === 'alive_msg')!;
    const { message } = openEnvelope(decodeEnvelope(readVector(entry.file!)));
    assert.equal(message.content.case, 'aliveMsg');
    const ts = message.content.value.timestamp!;
    assert.equal(typeof ts.incNum, 'bigint');
    assert.ok(ts.incNum > 1_700_000_000_000_000_000n, 'inc_num is a ns timestamp beyond 2^53');
  },
);

test('tag rules follow Fabric IsTagLegal', () => {
  const mk = (tag: Tag, content: NonNullable<GossipMessageInit>['content']) =>
    unsignedGossip({ tag, content }).message;
  assert.equal(tagError(mk(Tag.CHAN_AND_ORG, { case: 'dataMsg', value: {} })), undefined);
  assert.ok(tagError(mk(Tag.EMPTY, { case: 'dataMsg', value: {} })));
  assert.equal(
    tagError(mk(Tag.EMPTY, { case: 'hello', value: { msgType: PullMsgType.IDENTITY_MSG } })),
    undefined,
  );
  assert.ok(tagError(mk(Tag.EMPTY, { case: 'hello', value: { msgType: PullMsgType.BLOCK_MSG } })));
  assert.ok(tagError(mk(Tag.CHAN_AND_ORG, { case: 'hello', value: { msgType: PullMsgType.UNDEFINED } })));
  assert.equal(tagError(mk(Tag.CHAN_OR_ORG, { case: 'stateInfo', value: {} })), undefined);
  assert.ok(tagError(mk(Tag.UNDEFINED, { case: 'aliveMsg', value: {} })));
  assert.ok(tagError(mk(Tag.EMPTY, { case: 'empty', value: {} })));
});

test('signGossip signs exactly the bytes it sends', () => {
  let signed: Uint8Array | undefined;
  const signer = {
    serializedIdentity: new Uint8Array([1]),
    sign: (d: Uint8Array) => ((signed = d), new Uint8Array([9, 9])),
  };
  const { envelope } = signGossip(
    { tag: Tag.EMPTY, nonce: 2n ** 63n + 5n, content: { case: 'empty', value: {} } },
    signer,
  );
  assert.deepEqual(signed, envelope.payload);
  assert.equal(openEnvelope(envelope).message.nonce, 2n ** 63n + 5n);
});

test('gossip decoders never throw anything but WireError on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        openEnvelope(decodeEnvelope(bytes));
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
      try {
        openEnvelope({ payload: bytes, signature: new Uint8Array() } as never);
      } catch (e) {
        assert.ok(e instanceof WireError, String(e));
      }
    }),
    { numRuns: 3000 },
  );
});
