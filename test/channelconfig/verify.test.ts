import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { verifyBlocks } from '../../src/channelconfig/index.js';
import { WireError } from '../../src/base/errors.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import { blockHeaderHash, decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { encode } from '../../src/wire/codec.js';
import { ConfigPolicySchema } from '../../src/wire/gen/common/configtx_pb.js';
import { SignaturePolicyEnvelopeSchema } from '../../src/wire/gen/common/policies_pb.js';
import { parsePolicyDsl } from '../../src/channelconfig/index.js';
import { HAVE_VECTORS, SKIP_VECTORS, ordererDir, peerDir, readVector } from '../helpers/vectors.js';
import { editConfigBlock, groups } from './config-edit.js';
import { resignBlock, stripSignatures } from './sign-block.js';

const NOW = new Date('2027-06-01T00:00:00Z');
const block = (n: number) => readVector('blocks', `block_${n}.pb`);
const named = (n: number, bytes = block(n)) => ({ name: `block_${n}.pb`, bytes });
const signers = HAVE_VECTORS
  ? {
      orderer: loadSigningIdentity(join(ordererDir(), 'msp'), 'OrdererMSP', { now: NOW }).signer,
      peer: loadSigningIdentity(join(peerDir('org1', 'peer0'), 'msp'), 'Org1MSP', { now: NOW }).signer,
    }
  : undefined;

test(
  'blocks 0-26 verify against block_0: the config block is trusted as given, block 24 switches config',
  { skip: SKIP_VECTORS },
  () => {
    const blocks = Array.from({ length: 27 }, (_, n) => named(n));
    const res = verifyBlocks(block(0), blocks, NOW);
    assert.equal(res.length, 27);
    assert.deepEqual(
      res.filter((r) => !r.ok),
      [],
    );
    assert.deepEqual(
      res.map((r) => r.name),
      blocks.map((b) => b.name),
    );
    assert.match(res[0].reason!, /configuration block itself: trusted as given/);
    assert.match(res[24].reason!, /config block \(sequence 1\)/);
    assert.equal(res[7].reason, undefined);
    // With block_24 as the config, blocks 25-26 verify; block 0 is a genesis block, unsigned.
    const later = verifyBlocks(block(24), [named(0), named(25), named(26)], NOW);
    assert.deepEqual(
      later.map((r) => r.ok),
      [false, true, true],
    );
    assert.match(later[0].reason!, /block 0 carries no orderer signatures \(a genesis block is unsigned/);
  },
);

test('tampered blocks fail with a one-line reason', { skip: SKIP_VECTORS }, () => {
  // A flipped byte inside a transaction: data hash.
  const b5 = decodeBlock(block(5));
  b5.data!.data[2] = Uint8Array.from(b5.data!.data[2]);
  b5.data!.data[2][100] ^= 0x01;
  const flipped = encodeBlock(b5);
  // The number changed: the orderer's signature covers the header.
  const renumbered = encodeBlock({
    ...decodeBlock(block(5)),
    header: { ...decodeBlock(block(5)).header!, number: 6n },
  } as never);
  const res = verifyBlocks(
    block(0),
    [
      { name: 'flipped', bytes: flipped },
      { name: 'renumbered', bytes: renumbered },
      { name: 'unsigned', bytes: stripSignatures(block(5)) },
      { name: 'garbage', bytes: Uint8Array.of(0xff, 0xff) },
      { name: 'expired', bytes: block(5) },
    ],
    NOW,
  );
  const [f, r, u, g] = res;
  assert.ok(!f.ok && /block 5\b.*data hash/i.test(f.reason!), f.reason);
  assert.ok(!r.ok && /block 6\b.*\/Channel\/Orderer\/BlockValidation/.test(r.reason!), r.reason);
  assert.ok(!u.ok && /block 5 carries no orderer signatures/.test(u.reason!), u.reason);
  assert.ok(!g.ok && /^not a block/.test(g.reason!), g.reason);
  assert.ok(res[4].ok);
  for (const x of res) assert.ok(!x.reason || !x.reason.includes('\n'));
  const late = verifyBlocks(block(0), [named(5)], new Date('2040-01-01T00:00:00Z'));
  assert.ok(!late[0].ok && /BlockValidation/.test(late[0].reason!), late[0].reason);
});

test(
  'a correctly signed block with the wrong number breaks the listed hash chain',
  { skip: SKIP_VECTORS },
  () => {
    const prev = decodeBlock(block(4)).header!;
    const fake6 = resignBlock(block(5), [signers!.orderer], {
      number: 6n,
      previousHash: blockHeaderHash(prev),
    });
    const res = verifyBlocks(block(0), [named(4), named(5), { name: 'fake6', bytes: fake6 }], NOW);
    assert.deepEqual(
      res.map((r) => r.ok),
      [true, true, false],
    );
    assert.match(res[2].reason!, /block 6: previous_hash does not match the header hash of block 5/);
    // The same block alone (no predecessor listed) carries a valid orderer signature.
    assert.ok(verifyBlocks(block(0), [{ name: 'fake6', bytes: fake6 }], NOW)[0].ok);
  },
);

test('a CONFIG block in the list replaces the config for the blocks after it', { skip: SKIP_VECTORS }, () => {
  // Block 24 re-made so that only an Org1 peer may sign blocks from then on, signed by the orderer.
  const peerOnly = encode(SignaturePolicyEnvelopeSchema, parsePolicyDsl("OR('Org1MSP.peer')"));
  const edited = editConfigBlock(block(24), (c) => {
    groups(c).orderer.policies['BlockValidation'] = create(ConfigPolicySchema, {
      policy: { type: 1, value: peerOnly },
      modPolicy: 'Admins',
    });
  });
  const new24 = resignBlock(edited, [signers!.orderer]);
  const peer25 = resignBlock(block(25), [signers!.peer], {
    previousHash: blockHeaderHash(decodeBlock(new24).header!),
  });
  const res = verifyBlocks(
    block(0),
    [{ name: 'new24', bytes: new24 }, named(25), { name: 'peer25', bytes: peer25 }],
    NOW,
  );
  assert.deepEqual(
    res.map((r) => r.ok),
    [true, false, true],
  );
  assert.match(res[0].reason!, /config block/);
  assert.match(res[1].reason!, /OR\('Org1MSP.peer'\)/);
  // Under the original config the peer-signed block is rejected.
  assert.ok(!verifyBlocks(block(0), [{ name: 'peer25', bytes: peer25 }], NOW)[0].ok);
  // A signed config block whose config is invalid is reported and the old config kept.
  const broken = resignBlock(
    editConfigBlock(block(24), (c) => delete c.channelGroup!.groups['Orderer']),
    [signers!.orderer],
  );
  const res2 = verifyBlocks(block(0), [{ name: 'broken', bytes: broken }, named(26)], NOW);
  assert.deepEqual(
    res2.map((r) => r.ok),
    [false, true],
  );
  assert.match(res2[0].reason!, /signed config block but its config is invalid: .*Orderer/);
});

test('a config block that is not one is a typed error naming the block', { skip: SKIP_VECTORS }, () => {
  assert.throws(
    () => verifyBlocks(block(3), [named(4)], NOW),
    (e: unknown) => e instanceof WireError && e.code === 'NOT_CONFIG' && /block 3\b/.test(e.message),
  );
});
