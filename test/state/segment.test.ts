/**
 * Segment verification of catch-up blocks (src/state/verify/segment.ts):
 *   - with stand-in signature rules: one signature check per chained run, config blocks checked
 *     under the config before them and in effect after them, a chain break starts a new run, a
 *     failing last block falls back to block-by-block checks, nothing passes after a bad block;
 *   - with the real MessageCryptoService (ECDSA over real MSPs): forged and tampered blocks
 *     anywhere in a run never pass with forged headers or data (fast-check over tamperings);
 *   - Fabric's own chain (../shared/fabric-vectors blocks 1..26, config block 24):
 *     every block passes, with 2 signature checks instead of 26.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blockFacts } from '../../src/ledger/index.js';
import { createBlockVerifier as createMcsVerifier } from '../../src/service/verify/mcs-verifier.js';
import {
  verifySegment,
  type FailedBlock,
  type SegmentBlock,
  type SegmentRules,
  type SegmentStats,
} from '../../src/core/state/verify/segment.js';
import type { WorkerBlockVerifier } from '../../src/service/verify/worker.js';
import { blockHeaderHash, decodeBlock, encodeBlock, blockDataHash } from '../../src/wire/block.js';
import { testCrypto } from '../helpers/crypto.js';
import { SKIP_VECTORS, vectorBlocks } from '../helpers/vectors.js';
import { ordererSigner } from '../net/state-fixtures.js';
import { chain } from './fixtures.js';
import { createBlockVerifier as createTestVerifier } from './verifier-module.js';

// ---- stand-in rules: block i is "signed" unless listed; config blocks name the config after them

interface Fake {
  readonly badSig: boolean;
  readonly config?: string;
}

function fakeRun(
  n: number,
  opts: { badSig?: number[]; config?: Record<number, string>; breakAt?: number[] } = {},
) {
  const items: SegmentBlock<Fake>[] = [];
  let prev = new Uint8Array([0]);
  for (let i = 1; i <= n; i++) {
    const headerHash = new Uint8Array([i & 0xff, i >> 8, 7]);
    const previousHash = opts.breakAt?.includes(i) ? new Uint8Array([9, 9, 9]) : prev;
    items.push({
      seq: BigInt(i),
      previousHash,
      headerHash,
      signed: { badSig: opts.badSig?.includes(i) ?? false, config: opts.config?.[i] },
    });
    prev = headerHash;
  }
  return items;
}

function fakeRules(log: string[]): SegmentRules<Fake, string> {
  return {
    checkSignatures(b, ctx) {
      log.push(`${b.seq}@${ctx}`);
      if (b.signed.badSig) throw new Error(`bad signature on ${b.seq}`);
    },
    configOf: (b) => b.signed.config,
  };
}

function run(items: readonly (SegmentBlock<Fake> | FailedBlock)[]) {
  const log: string[] = [];
  const stats: SegmentStats = { signatureChecks: 0 };
  const reasons = verifySegment(items, 'c0', fakeRules(log), stats);
  return { reasons, log, checks: stats.signatureChecks, good: reasons.filter((r) => r === '').length };
}

test('a chained run takes one signature check, on its last block', () => {
  const r = run(fakeRun(20));
  assert.equal(r.good, 20);
  assert.deepEqual(r.log, ['20@c0']);
});

test("an intermediate block's own signatures are not what authenticates it (the documented rule)", () => {
  // block 7's signature is bad but its header is authenticated through block 8..20's chain
  const r = run(fakeRun(20, { badSig: [7] }));
  assert.equal(r.good, 20);
  assert.deepEqual(r.log, ['20@c0']);
});

test('a chain break starts a new run, each checked by its own last block', () => {
  const r = run(fakeRun(20, { breakAt: [11] }));
  assert.equal(r.good, 20);
  assert.deepEqual(r.log, ['10@c0', '20@c0']);
});

test('config blocks: checked under the config before them; their config checks the blocks after', () => {
  const r = run(fakeRun(20, { config: { 5: 'c1', 12: 'c2' } }));
  assert.equal(r.good, 20);
  assert.deepEqual(r.log, ['5@c0', '12@c1', '20@c2']);
  const last = run(fakeRun(6, { config: { 6: 'c1' } }));
  assert.deepEqual(last.log, ['6@c0'], 'a run ending in a config block needs no second check');
});

test('a failing last block: the run is checked block by block, the good prefix passes', () => {
  const r = run(fakeRun(20, { badSig: [20] }));
  assert.equal(r.good, 19);
  assert.match(r.reasons[19], /^block 20 fails verification: bad signature on 20/);
  assert.equal(r.checks, 1 + 20);
});

test('a config block with bad signatures: the blocks before it pass, nothing from it on', () => {
  const r = run(fakeRun(20, { config: { 8: 'c1' }, badSig: [8] }));
  assert.deepEqual(
    r.reasons.map((x) => x === ''),
    Array.from({ length: 20 }, (_, i) => i < 7),
  );
  assert.match(r.reasons[7], /^block 8 fails verification/);
  assert.match(r.reasons[8], /^not verified: block 8 before it failed/);
});

test('a block that failed its content checks: the run before it is checked by its own last block; nothing after passes', () => {
  const items: (SegmentBlock<Fake> | FailedBlock)[] = fakeRun(12);
  items[6] = { seq: 7n, reason: 'block 7 fails verification: DATA_HASH: x' };
  const r = run(items);
  assert.deepEqual(r.log, ['6@c0']);
  assert.deepEqual(r.reasons.slice(0, 6), ['', '', '', '', '', '']);
  assert.equal(r.reasons[6], 'block 7 fails verification: DATA_HASH: x');
  for (const x of r.reasons.slice(7)) assert.match(x, /^not verified: block 7 before it failed/);
});

// ---- the real MessageCryptoService (the test verifier: real ECDSA, real MSPs)

const CHANNEL = 'segchannel';
let root: string;
let blocks: Uint8Array[];
let verifier: WorkerBlockVerifier;
before(async () => {
  root = await testCrypto({ orgs: 2, peersPerOrg: 1 });
  blocks = chain(CHANNEL, ordererSigner(root), 41, 300);
  verifier = createTestVerifier({ root, channel: CHANNEL, channelOrgs: [1, 2], allOrgs: [1, 2] });
});

/** What the worker does in segment mode: content checks and facts, then verifySegment. */
function segmentVerify(
  v: WorkerBlockVerifier,
  from: bigint,
  bytes: readonly Uint8Array[],
  stats?: SegmentStats,
): string[] {
  const seg = v.segments!;
  const items = bytes.map((b, i): SegmentBlock<unknown> | FailedBlock => {
    const seq = from + BigInt(i);
    try {
      const block = decodeBlock(b);
      const signed = seg.checkContent(CHANNEL, seq, block);
      const f = blockFacts(block, true);
      return { seq, previousHash: f.previousHash, headerHash: f.headerHash, signed };
    } catch (e) {
      return { seq, reason: `block ${seq} fails verification: ${(e as Error).message}` };
    }
  });
  return verifySegment(items, seg.current(), seg, stats);
}

type Tamper =
  'flip-data' | 'forge-data-rehash' | 'flip-signature' | 'flip-previous-hash' | 'swap-with-other-number';

/** Block bytes changed the way a malicious server might. */
function tamper(bytes: Uint8Array, how: Tamper, seed: number): Uint8Array {
  const b = decodeBlock(Uint8Array.from(bytes)); // decoded fields are views: never touch the shared chain
  const data = b.data!.data;
  const tx = data[seed % data.length];
  switch (how) {
    case 'flip-data':
      tx[tx.length - 1 - (seed % 50)] ^= 0x40;
      break;
    case 'forge-data-rehash':
      tx[tx.length - 1 - (seed % 50)] ^= 0x40;
      b.header!.dataHash = blockDataHash(data);
      break;
    case 'flip-signature': {
      // metadata[0] is the Metadata message; flip a byte near its end (inside a signature)
      const m = b.metadata!.metadata[0];
      m[m.length - 2 - (seed % 8)] ^= 0x01;
      break;
    }
    case 'flip-previous-hash':
      b.header!.previousHash[seed % 32] ^= 0x80;
      break;
    case 'swap-with-other-number':
      b.header!.number += 1n;
      break;
  }
  return encodeBlock(b);
}

test('real MCS: an untouched chain passes with one signature check', () => {
  const stats: SegmentStats = { signatureChecks: 0 };
  const reasons = segmentVerify(verifier, 1n, blocks.slice(1), stats);
  assert.ok(
    reasons.every((r) => r === ''),
    reasons.find((r) => r !== ''),
  );
  assert.equal(stats.signatureChecks, 1);
});

test('real MCS: a tampered block anywhere never passes with a forged header or forged data', () => {
  const original = blocks.slice(1).map((b) => {
    const d = decodeBlock(b);
    return { header: Buffer.from(blockHeaderHash(d.header!)), data: d.data!.data.map((x) => Buffer.from(x)) };
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 39 }),
      fc.constantFrom<Tamper>(
        'flip-data',
        'forge-data-rehash',
        'flip-signature',
        'flip-previous-hash',
        'swap-with-other-number',
      ),
      fc.nat(1000),
      (at, how, seed) => {
        const input = blocks.slice(1).map((b, i) => (i === at ? tamper(b, how, seed) : b));
        const reasons = segmentVerify(verifier, 1n, input);
        // everything accepted is a prefix, and each accepted block has the original header and data
        const accepted = reasons.findIndex((r) => r !== '');
        const n = accepted === -1 ? reasons.length : accepted;
        assert.ok(
          reasons.slice(n).every((r) => r !== ''),
          'nothing passes after a bad block',
        );
        for (let i = 0; i < n; i++) {
          const d = decodeBlock(input[i]);
          assert.deepEqual(
            Buffer.from(blockHeaderHash(d.header!)),
            original[i].header,
            `header of block ${i + 1}`,
          );
          assert.deepEqual(
            d.data!.data.map((x) => Buffer.from(x)),
            original[i].data,
            `data of block ${i + 1}`,
          );
        }
        // a forged header or forged data is always refused, at the tampered block
        if (how !== 'flip-signature') assert.ok(n <= at, `${how} at ${at} accepted (${n} passed)`);
        // only the orderer signature of an intermediate block goes unchecked
        if (how === 'flip-signature' && at === 39) assert.equal(n, 39, 'the last block is always checked');
      },
    ),
    { numRuns: 60, seed: 4242 },
  );
});

test(
  "Fabric's chain (vectors blocks 1..26, config block 24): all pass, with 2 signature checks",
  { skip: SKIP_VECTORS },
  () => {
    const all = vectorBlocks().sort((a, b) => a.n - b.n);
    const v = createMcsVerifier({ channel: 'mychannel', configBlock: all[0].bytes });
    const stats: SegmentStats = { signatureChecks: 0 };
    const seg = v.segments!;
    const items = all.slice(1).map((x) => {
      const block = decodeBlock(x.bytes);
      const f = blockFacts(block, true);
      return {
        seq: BigInt(x.n),
        previousHash: f.previousHash,
        headerHash: f.headerHash,
        signed: seg.checkContent('mychannel', BigInt(x.n), block),
      };
    });
    const reasons = verifySegment(items, seg.current(), seg, stats);
    assert.deepEqual(
      reasons,
      items.map(() => ''),
    );
    assert.equal(stats.signatureChecks, 2, 'config block 24 and block 26');
    // the same chain with block 26's signature broken: 1..25 pass (checked one by one), 26 does not
    const broken = tamper(all[26].bytes, 'flip-signature', 0);
    const b26 = decodeBlock(broken);
    const items2 = [...items.slice(0, 25), { ...items[25], signed: seg.checkContent('mychannel', 26n, b26) }];
    const reasons2 = verifySegment(items2, seg.current(), seg);
    assert.deepEqual(
      reasons2.slice(0, 25),
      items.slice(0, 25).map(() => ''),
    );
    assert.match(reasons2[25], /^block 26 fails verification/);
  },
);
