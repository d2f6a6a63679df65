import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BlockStore, LedgerError, RECORD_HEADER_BYTES, blockFileName } from '../../src/ledger/index.js';
import { planBatch, type QueuedAppend } from '../../src/ledger/groupcommit.js';
import { parseBlock } from '../../src/ledger/inspect.js';
import { blockHeaderHash, decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { ChainBuilder, makeChain, makeTx, seededRandom } from './synthetic.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gv-ledger-gc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const q = (bytes: Uint8Array, hashOk?: boolean): QueuedAppend => ({
  ib: parseBlock(bytes),
  hashOk,
  resolve: () => undefined,
  reject: () => undefined,
});
const limits = { maxFileBytes: 1 << 30, maxBatchBlocks: 256, maxBatchBytes: 1 << 30 };

function tampered(bytes: Uint8Array): Uint8Array {
  const b = decodeBlock(bytes);
  b.data!.data[0] = makeTx('testchannel', 'evil', 10, seededRandom(3));
  return encodeBlock(b);
}

function forkedAt(n: bigint): Uint8Array {
  return new ChainBuilder(n, new Uint8Array(32).fill(7), 99).next();
}

/** What each append gets, as a code ('ok' or the LedgerError code), in call order. */
async function outcomes(ps: Promise<bigint>[]): Promise<string[]> {
  return (await Promise.allSettled(ps)).map((r) =>
    r.status === 'fulfilled' ? 'ok' : (r.reason as LedgerError).code,
  );
}

test('planBatch: head checked against the committed tip, followers against the block before them', () => {
  const chain = makeChain(6, 2);
  const tip0 = { height: 0n, lastHash: undefined };
  // a lone unchecked head goes alone, its hash checked during the write
  assert.deepEqual(planBatch([q(chain[0])], tip0, 0, limits), {
    kind: 'write',
    count: 1,
    rollOver: false,
    checkHashDuringWrite: true,
  });
  // with company it is checked now and the batch runs to the first break in the chain
  const queue = [q(chain[0]), q(chain[1]), q(chain[2]), q(chain[2]), q(chain[3])];
  assert.deepEqual(planBatch(queue, tip0, 0, limits), {
    kind: 'write',
    count: 3,
    rollOver: false,
    checkHashDuringWrite: false,
  });
  assert.equal(queue[0].hashOk, true);
  // a follower with a bad data hash, or a fork, ends the batch (it is judged again as a head)
  assert.equal(
    (
      planBatch([q(chain[0]), q(chain[1]), q(tampered(chain[2])), q(chain[3])], tip0, 0, limits) as {
        count: number;
      }
    ).count,
    2,
  );
  assert.equal((planBatch([q(chain[0]), q(forkedAt(1n))], tip0, 0, limits) as { count: number }).count, 1);
  // heads failing the checks are rejected with the one-at-a-time error
  const tip2 = { height: 2n, lastHash: blockHeaderHash(decodeBlock(chain[1]).header!) };
  const code = (p: ReturnType<typeof planBatch>) => (p.kind === 'reject' ? p.error.code : 'write');
  assert.equal(code(planBatch([q(chain[3])], tip2, 0, limits)), 'WRONG_NUMBER');
  assert.equal(code(planBatch([q(forkedAt(2n))], tip2, 0, limits)), 'BAD_PREVIOUS_HASH');
  assert.equal(code(planBatch([q(tampered(chain[2])), q(chain[3])], tip2, 0, limits)), 'BAD_DATA_HASH');
  assert.equal(code(planBatch([q(tampered(chain[2]), false)], tip2, 0, limits)), 'BAD_DATA_HASH');
  // a wrong number wins over a bad data hash, as in a one-at-a-time append
  assert.equal(code(planBatch([q(tampered(chain[3]), false)], tip2, 0, limits)), 'WRONG_NUMBER');
});

test('planBatch: batch bounds (blocks, bytes, end of the block file) and roll-over of the head', () => {
  const chain = makeChain(10, 4).slice(1); // blocks 1..9: the same size (one-digit numbers in tx ids)
  const rec = RECORD_HEADER_BYTES + chain[0].length;
  assert.ok(chain.every((b) => b.length === chain[0].length));
  const all = () => chain.map((b) => q(b, true));
  const tip1 = { height: 1n, lastHash: parseBlock(makeChain(1, 4)[0]).headerHash };
  const count = (p: ReturnType<typeof planBatch>) => (p.kind === 'write' ? p.count : -1);
  assert.equal(count(planBatch(all(), tip1, 0, limits)), 9);
  assert.equal(count(planBatch(all(), tip1, 0, { ...limits, maxBatchBlocks: 4 })), 4);
  assert.equal(count(planBatch(all(), tip1, 0, { ...limits, maxBatchBytes: 3 * rec + 1 })), 3);
  assert.equal(
    count(planBatch(all(), tip1, 0, { ...limits, maxBatchBytes: 1 })),
    1,
    'the head goes even when alone above the bound',
  );
  // file of 5 records: at offset 2 records, 3 fit
  assert.equal(count(planBatch(all(), tip1, 2 * rec, { ...limits, maxFileBytes: 5 * rec })), 3);
  // the head does not fit: roll over, and the batch fills the fresh file
  const p = planBatch(all(), tip1, 4 * rec + 1, { ...limits, maxFileBytes: 5 * rec });
  assert.deepEqual(p, { kind: 'write', count: 5, rollOver: true, checkHashDuringWrite: false });
});

test('appends issued together take one write after the first; each resolves with its own height', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(200, 6, 2, 500);
  const store = await BlockStore.open(dir);
  const heights = await Promise.all(chain.map((b) => store.append(b)));
  assert.deepEqual(
    heights,
    chain.map((_, i) => BigInt(i + 1)),
  );
  assert.equal(store.stats().appends, 200);
  assert.equal(store.stats().writes, 2, 'the first append alone, then the 199 queued behind its write');
  const single = await BlockStore.open(join(dir, 'one'), { maxBatchBlocks: 1 });
  await Promise.all(chain.slice(0, 20).map((b) => single.append(b)));
  assert.equal(single.stats().writes, 20, 'maxBatchBlocks 1: one write per block');
  await single.close();
  await store.close();
  const again = await BlockStore.open(dir);
  assert.equal(again.height(), 200n);
  assert.equal(again.recovery.reindexedBlocks, 0);
  for (const n of [0, 1, 2, 150, 199])
    assert.deepEqual(Buffer.from((await again.getBlockBytes(BigInt(n)))!), Buffer.from(chain[n]));
  await again.close();
});

test('concurrent appends with bad blocks mixed in get the outcomes of one-at-a-time appends; files hold only the good ones', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(8, 7);
  const inputs = [
    chain[0],
    chain[1],
    chain[1], // duplicate
    tampered(chain[2]),
    chain[2],
    forkedAt(3n),
    chain[3],
    chain[5], // gap
    chain[4],
    tampered(chain[5]),
    chain[5],
    chain[6],
    new Uint8Array([1, 2, 3]), // malformed: refused at once
    chain[7],
  ];
  const serial = await BlockStore.open(join(dir, 'serial'));
  const expected: string[] = [];
  for (const b of inputs) expected.push((await outcomes([serial.append(b)]))[0]);
  await serial.close();
  assert.deepEqual(expected, [
    'ok',
    'ok',
    'WRONG_NUMBER',
    'BAD_DATA_HASH',
    'ok',
    'BAD_PREVIOUS_HASH',
    'ok',
    'WRONG_NUMBER',
    'ok',
    'BAD_DATA_HASH',
    'ok',
    'ok',
    'MALFORMED',
    'ok',
  ]);

  const store = await BlockStore.open(join(dir, 'grouped'));
  // the lone first append: its write is in flight while the rest queue
  const first = store.append(inputs[0]);
  assert.deepEqual(await outcomes([first, ...inputs.slice(1).map((b) => store.append(b))]), expected);
  assert.ok(store.stats().writes < 8, `grouped: ${store.stats().writes} writes`);
  assert.equal(store.height(), 8n);
  await store.close();
  const size = (await stat(join(dir, 'grouped', blockFileName(0)))).size;
  assert.equal(
    size,
    chain.reduce((s, b) => s + RECORD_HEADER_BYTES + b.length, 0),
    'no trace of the refused blocks',
  );
  const again = await BlockStore.open(join(dir, 'grouped'));
  assert.equal(again.height(), 8n);
  assert.equal(again.recovery.reindexedBlocks, 0);
  assert.equal(again.recovery.truncatedBytes, 0);
  await again.close();
});

test('a lone block failing the data-hash check is cut off again; the queue behind it goes on', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(4, 8);
  const store = await BlockStore.open(dir);
  await store.append(chain[0]);
  await store.append(chain[1]);
  // the bad block is alone (idle store): written while hashed, then undone
  const results = await outcomes([
    store.append(tampered(chain[2])),
    store.append(chain[2]),
    store.append(chain[3]),
  ]);
  assert.deepEqual(results, ['BAD_DATA_HASH', 'ok', 'ok']);
  await store.close();
  const again = await BlockStore.open(dir);
  assert.equal(again.height(), 4n);
  assert.equal(again.recovery.truncatedBytes, 0);
  await again.close();
});

test('grouped writes never cross a block file boundary; chain intact after reopen', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(120, 9, 3, 300);
  const maxFileBytes = 8 * 1024;
  const store = await BlockStore.open(dir, { maxFileBytes });
  await store.appendMany(chain);
  assert.ok(store.stats().writes < 60);
  await store.close();
  const files = (await readdir(dir)).filter((f) => f.startsWith('blockfile_'));
  assert.ok(files.length > 5);
  for (const f of files) assert.ok((await stat(join(dir, f))).size <= maxFileBytes, f);
  const again = await BlockStore.open(dir, { maxFileBytes });
  let n = 0;
  for await (const b of again.blocks(0n)) assert.deepEqual(Buffer.from(b.bytes), Buffer.from(chain[n++]));
  assert.equal(n, 120);
  await again.close();
});

test('appendMany resolves with the height, rejects with the first failure, and keeps what came before it', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(6, 10);
  const store = await BlockStore.open(dir);
  assert.equal(await store.appendMany([]), 0n);
  assert.equal(await store.appendMany(chain.slice(0, 3)), 3n);
  await assert.rejects(
    store.appendMany([chain[3], chain[5], chain[4]]),
    (e: unknown) => e instanceof LedgerError && e.code === 'WRONG_NUMBER',
  );
  assert.equal(store.height(), 5n, 'blocks 3 and 4 committed around the refused one');
  await store.close();
  await assert.rejects(
    store.appendMany([chain[5]]),
    (e: unknown) => e instanceof LedgerError && e.code === 'CLOSED',
  );
});

test('property: any interleaving of good, duplicate, forked and tampered appends issued at once matches one-at-a-time', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(12, 11);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom('next', 'next', 'next', 'dup', 'gap', 'forked', 'tampered'), {
        maxLength: 24,
      }),
      async (picks) => {
        let k = 0; // the next block of the chain, if every 'next' so far was committed
        const at = (n: number) => chain[Math.max(0, Math.min(n, chain.length - 1))];
        const inputs = picks.map((kind) => {
          if (kind === 'next') return at(k++);
          if (kind === 'dup') return at(k - 1);
          if (kind === 'gap') return at(k + 1);
          return kind === 'forked' ? forkedAt(BigInt(k)) : tampered(at(k));
        });
        const serial = await BlockStore.open(join(dir, `s${run}`));
        const expected: string[] = [];
        for (const b of inputs) expected.push((await outcomes([serial.append(b)]))[0]);
        const grouped = await BlockStore.open(join(dir, `g${run++}`));
        assert.deepEqual(await outcomes(inputs.map((b) => grouped.append(b))), expected);
        assert.equal(grouped.height(), serial.height());
        assert.deepEqual(grouped.lastBlockHash(), serial.lastBlockHash());
        await Promise.all([serial.close(), grouped.close()]);
      },
    ),
    { numRuns: 40 },
  );
});
