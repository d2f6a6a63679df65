import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blockToJson, bytesToTree, jsonToBlock, jsonToBytes } from '../../src/blockjson/index.js';
import { GrapevineError, WireError } from '../../src/base/errors.js';
import { configEnvelopeOf, decodeBlock } from '../../src/wire/index.js';
import { SKIP_VECTORS, readVector, vectorBlocks } from '../helpers/vectors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test(
  'every vector block: JSON -> proto_encode -> JSON is stable; without config maps the bytes are identical',
  { skip: SKIP_VECTORS },
  () => {
    for (const { n, bytes } of vectorBlocks()) {
      const json = blockToJson(bytes);
      const back = jsonToBlock(json);
      assert.equal(blockToJson(back), json, `block ${n}: decoded back to the same JSON`);
      const config = n === 0 || n === 24;
      if (!config) assert.equal(hex(back), hex(bytes), `block ${n} re-encodes byte-identically`);
      // Encoding is deterministic (map entries in sorted key order), so a second trip is byte-stable.
      assert.equal(hex(jsonToBlock(blockToJson(back))), hex(back), `block ${n} second trip`);
    }
  },
);

test(
  'config block 0: the re-encoded block equals the original field by field (only map order may differ)',
  { skip: SKIP_VECTORS },
  () => {
    const bytes = readVector('blocks', 'block_0.pb');
    const orig = decodeBlock(bytes);
    const back = decodeBlock(jsonToBlock(blockToJson(bytes)));
    assert.deepEqual(back.header, orig.header);
    assert.deepEqual(back.metadata, orig.metadata);
    assert.equal(back.data!.data[0].length, orig.data!.data[0].length);
    assert.deepEqual(configEnvelopeOf(back), configEnvelopeOf(orig));
  },
);

test('--decode-metadata JSON encodes back to the same bytes', { skip: SKIP_VECTORS }, () => {
  for (const n of [1, 25]) {
    const bytes = readVector('blocks', `block_${n}.pb`);
    const json = blockToJson(bytes, { decodeMetadata: true });
    assert.equal(hex(jsonToBlock(json)), hex(bytes));
  }
});

test('an edit made in the JSON lands in the encoded config', { skip: SKIP_VECTORS }, () => {
  const tree = bytesToTree(readVector('blocks', 'block_0.pb')) as any;
  const org1 = tree.data.data[0].payload.data.config.channel_group.groups.Application.groups.Org1MSP;
  org1.values.AnchorPeers.value.anchor_peers.push({ host: 'peer1.example.com', port: 8051 });
  org1.policies.Admins.policy.value.identities[0].principal.role = 'PEER';
  const again = bytesToTree(jsonToBlock(tree)) as any;
  const org1b = again.data.data[0].payload.data.config.channel_group.groups.Application.groups.Org1MSP;
  assert.deepEqual(org1b.values.AnchorPeers.value.anchor_peers, [
    { host: '127.0.0.1', port: 7051 },
    { host: 'peer1.example.com', port: 8051 },
  ]);
  assert.equal(org1b.policies.Admins.policy.value.identities[0].principal.role, 'PEER');
});

test('proto_encode of bad JSON: WireError naming the path', { skip: SKIP_VECTORS }, () => {
  assert.throws(
    () => jsonToBlock('{not json'),
    (e) => e instanceof WireError && /not JSON/.test(e.message),
  );
  assert.throws(
    () => jsonToBlock('[]'),
    (e) => e instanceof WireError && /expected a JSON object/.test(e.message),
  );
  const tree = bytesToTree(readVector('blocks', 'block_0.pb')) as any;
  const cfg = tree.data.data[0].payload.data.config;
  cfg.channel_group.groups.Application.groups.Org1MSP.values.AnchorPeers.value.anchor_peers[0].port = 'seven';
  assert.throws(
    () => jsonToBlock(tree),
    (e) => e instanceof WireError && /Org1MSP\.values\.AnchorPeers\.value\.anchor_peers\[0\]/.test(e.message),
  );
  const t2 = bytesToTree(readVector('blocks', 'block_0.pb')) as any;
  t2.data.data[0].payload.data.config.channel_group.values.Bogus = {
    mod_policy: '',
    value: { x: 1 },
    version: '0',
  };
  assert.throws(
    () => jsonToBlock(t2),
    (e) => e instanceof WireError && /unknown Channel ConfigValue name: Bogus/.test(e.message),
  );
  assert.throws(
    () => jsonToBytes('{}', 'nope.Type'),
    (e) => e instanceof WireError && /unsupported message type/.test(e.message),
  );
});

function onlyWireErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof GrapevineError, `unexpected ${String(e)}`);
  }
}

test('arbitrary bytes: only typed errors, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      onlyWireErrors(() => bytesToTree(bytes));
      onlyWireErrors(() => bytesToTree(bytes, 'common.Envelope'));
    }),
    { numRuns: 500 },
  );
});

test(
  'corrupted real blocks: only typed errors; whatever decodes encodes to a canonical form that round-trips exactly',
  { skip: SKIP_VECTORS },
  () => {
    const sources = [
      readVector('blocks', 'block_1.pb'),
      readVector('blocks', 'block_24.pb'),
      readVector('blocks', 'block_0.pb'),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = new Uint8Array(sources[which]);
          for (const [pos, v] of edits) bytes[pos % bytes.length] = v;
          let json: string;
          try {
            json = blockToJson(bytes);
          } catch (e) {
            assert.ok(e instanceof GrapevineError, `unexpected ${String(e)}`);
            return;
          }
          // A corrupted inner message may hold unknown fields or explicit defaults, which the JSON
          // cannot carry (as with configtxlator): the first trip normalises, later trips are exact.
          const once = jsonToBlock(json);
          const onceJson = blockToJson(once);
          assert.equal(hex(jsonToBlock(onceJson)), hex(once));
          assert.equal(blockToJson(jsonToBlock(onceJson)), onceJson);
        },
      ),
      { numRuns: 150 },
    );
  },
);
