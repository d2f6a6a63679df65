import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BlockStore, LedgerError, blockFileName } from '../../src/ledger/index.js';
import { ConfigError } from '../../src/base/errors.js';
import { blockHeaderHash, decodeBlock, decodeTx } from '../../src/wire/block.js';
import { SKIP_VECTORS, vectorBlocks } from '../helpers/vectors.js';
import { ChainBuilder, makeBlock, makeChain, makeTx, seededRandom } from './synthetic.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gv-ledger-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof LedgerError && e.code === code);
}

test('real Fabric blocks: append, read, range, tx id, reopen', { skip: SKIP_VECTORS }, async (t) => {
  const dir = await tempDir(t);
  const blocks = vectorBlocks();
  let store = await BlockStore.open(dir);
  assert.equal(store.height(), 0n);
  assert.equal(store.lastBlockHash(), undefined);
  for (const { n, bytes } of blocks) assert.equal(await store.append(bytes), BigInt(n + 1));
  assert.equal(store.height(), BigInt(blocks.length));
  const last = decodeBlock(blocks[blocks.length - 1].bytes);
  assert.deepEqual(store.lastBlockHash(), blockHeaderHash(last.header!));

  const check = async (s: BlockStore) => {
    for (const { n, bytes } of blocks) {
      const b = await s.getBlock(BigInt(n));
      assert.ok(b);
      assert.equal(b.number, BigInt(n));
      assert.deepEqual(Buffer.from(b.bytes), Buffer.from(bytes), `block ${n} bytes`);
      assert.equal(b.block.header!.number, BigInt(n));
    }
    const tx = decodeTx(decodeBlock(blocks[5].bytes).data!.data[3]).channelHeader.txId;
    const hit = await s.getBlockByTxId(tx);
    assert.equal(hit?.number, 5n);
    assert.equal(hit?.txIndex, 3);
    assert.equal(await s.getBlockByTxId('no-such-tx'), undefined);
    const seen: bigint[] = [];
    for await (const b of s.blocks(10n, 20n)) seen.push(b.number);
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, i) => BigInt(10 + i)),
    );
  };
  await check(store);
  await store.close();
  store = await BlockStore.open(dir, { cacheMaxBlocks: 0 });
  assert.equal(store.recovery.reindexedBlocks, 0);
  assert.equal(store.recovery.rebuiltIndex, false);
  assert.equal(store.height(), BigInt(blocks.length));
  await check(store);
  await store.close();
});

test('synthetic chain across many rolled-over files; reads survive reopen', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(60, 7, 3, 400);
  let store = await BlockStore.open(dir, { maxFileBytes: 4096, maxOpenFiles: 2 });
  for (const b of chain.slice(0, 30)) await store.append(b);
  for (const b of chain.slice(30)) await store.append(decodeBlock(b)); // decoded input re-encodes identically
  const files = (await readdir(dir)).filter((f) => f.startsWith('blockfile_'));
  assert.ok(files.length > 10, `expected many block files, got ${files.length}`);
  for (const f of files) assert.ok((await stat(join(dir, f))).size <= 4096);
  await store.close();

  store = await BlockStore.open(dir, { maxFileBytes: 4096, maxOpenFiles: 2, cacheMaxBlocks: 4 });
  const order = seededRandom(3);
  for (let i = 0; i < 100; i++) {
    const n = Math.floor(order() * chain.length);
    const b = await store.getBlockBytes(BigInt(n));
    assert.deepEqual(Buffer.from(b!), Buffer.from(chain[n]));
  }
  const s = store.stats();
  assert.ok(s.openReadHandles <= 2, `read handles ${s.openReadHandles}`);
  assert.ok(s.cacheBlocks <= 4 && s.cacheEvictions > 0 && s.cacheHits + s.cacheMisses >= 100);
  let prev: Uint8Array | undefined;
  let count = 0;
  for await (const b of store.blocks(0n)) {
    if (prev) assert.deepEqual(b.block.header!.previousHash, prev);
    prev = blockHeaderHash(b.block.header!);
    count++;
  }
  assert.equal(count, 60);
  assert.equal((await store.getBlockByTxId('tx-44-2'))?.number, 44n);
  assert.equal(await store.getBlock(60n), undefined);
  assert.equal(await store.getBlock(-1n), undefined);
  await store.close();
});

test('bad blocks are rejected with typed errors and leave the store untouched', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(4, 11);
  const store = await BlockStore.open(dir);
  await store.append(chain[0]);
  await store.append(chain[1]);
  const size = (await stat(join(dir, blockFileName(0)))).size;
  const hash = store.lastBlockHash();

  await rejectsWith(store.append(chain[3]), 'WRONG_NUMBER'); // gap
  await rejectsWith(store.append(chain[1]), 'WRONG_NUMBER'); // duplicate
  const forked = new ChainBuilder(2n, new Uint8Array(32).fill(7), 99).next();
  await rejectsWith(store.append(forked), 'BAD_PREVIOUS_HASH');
  const tampered = decodeBlock(chain[2]);
  tampered.data!.data[0] = makeTx('testchannel', 'evil', 10, seededRandom(1));
  await rejectsWith(store.append(tampered), 'BAD_DATA_HASH');
  await rejectsWith(store.append(new Uint8Array([0xff, 0xff, 0xff])), 'MALFORMED');
  const headless = makeBlock(2n, hash!, []);
  headless.header = undefined;
  await rejectsWith(store.append(headless), 'MALFORMED');

  assert.equal(store.height(), 2n);
  assert.deepEqual(store.lastBlockHash(), hash);
  assert.equal((await stat(join(dir, blockFileName(0)))).size, size);
  assert.equal(await store.getBlockByTxId('evil'), undefined);
  assert.equal(await store.append(chain[2]), 3n);
  await store.close();
  const again = await BlockStore.open(dir);
  assert.equal(again.height(), 3n);
  assert.equal(again.recovery.reindexedBlocks, 0);
  await again.close();
});

test('dataHashChecked: the caller vouches for the data hash and it is not computed again; the chain is still checked', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(3, 12);
  const store = await BlockStore.open(dir);
  await store.append(chain[0], undefined, { dataHashChecked: true });
  // the hash-chain checks stay: a gap and a fork are refused even when the data hash was checked
  await rejectsWith(store.append(chain[2], undefined, { dataHashChecked: true }), 'WRONG_NUMBER');
  const forked = new ChainBuilder(1n, new Uint8Array(32).fill(7), 99).next();
  await rejectsWith(store.append(forked, undefined, { dataHashChecked: true }), 'BAD_PREVIOUS_HASH');
  // a block whose data no longer matches its header is taken as vouched for (the caller's MCS
  // would have refused it); without the option the store refuses it itself
  const tampered = decodeBlock(chain[1]);
  tampered.data!.data[0] = makeTx('testchannel', 'evil', 10, seededRandom(1));
  await rejectsWith(store.append(tampered), 'BAD_DATA_HASH');
  assert.equal(store.height(), 1n);
  assert.equal(await store.append(tampered, undefined, { dataHashChecked: true }), 2n);
  await store.close();
});

test('too-large blocks are refused', async (t) => {
  const dir = await tempDir(t);
  const store = await BlockStore.open(dir, { maxBlockBytes: 2000 });
  await rejectsWith(store.append(new ChainBuilder().next(1, 5000)), 'TOO_LARGE');
  assert.equal(store.height(), 0n);
  await store.close();
});

test('concurrent appends are serialised in call order', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(20, 5);
  const store = await BlockStore.open(dir, { maxFileBytes: 2048 });
  const results = await Promise.allSettled([store.append(chain[1]), ...chain.map((b) => store.append(b))]);
  assert.equal(results[0].status, 'rejected');
  assert.equal(((results[0] as PromiseRejectedResult).reason as LedgerError).code, 'WRONG_NUMBER');
  assert.deepEqual(
    results.slice(1).map((r) => (r.status === 'fulfilled' ? r.value : r.reason)),
    chain.map((_, i) => BigInt(i + 1)),
  );
  // reads during appends see only committed blocks
  const reads = await Promise.all([
    store.append(new ChainBuilder(20n, store.lastBlockHash(), 8).next()),
    store.getBlock(20n),
  ]);
  assert.equal(reads[0], 21n);
  assert.equal(reads[1], undefined);
  await store.close();
});

test('close is idempotent, waits for accepted appends, and later calls fail CLOSED; one opener at a time', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(3, 2);
  const store = await BlockStore.open(dir);
  await rejectsWith(BlockStore.open(dir), 'LOCKED');
  const pending = store.append(chain[0]);
  const c1 = store.close();
  const c2 = store.close();
  assert.equal(await pending, 1n);
  await Promise.all([c1, c2]);
  await store.close();
  await rejectsWith(store.append(chain[1]), 'CLOSED');
  await rejectsWith(store.getBlock(0n), 'CLOSED');
  await rejectsWith(store.getBlockByTxId('tx-0-0'), 'CLOSED');
  await rejectsWith(store.blocks(0n).next(), 'CLOSED');
  const again = await BlockStore.open(dir); // the lock was released
  assert.equal(again.height(), 1n);
  await again.close();
});

test('options are validated', async () => {
  await assert.rejects(
    BlockStore.open('/nonexistent-unused', { maxFileBytes: 10 }),
    (e: unknown) => e instanceof ConfigError && /maxFileBytes/.test((e as Error).message),
  );
  await assert.rejects(BlockStore.open('/nonexistent-unused', { cacheMaxBlocks: 1.5 }), ConfigError);
});

test('append never throws anything but LedgerError on arbitrary bytes, and never moves the height', async (t) => {
  const dir = await tempDir(t);
  const store = await BlockStore.open(dir);
  await store.append(new ChainBuilder().next());
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      try {
        await store.append(bytes);
      } catch (e) {
        assert.ok(e instanceof LedgerError, String(e));
      }
      assert.equal(store.height(), 1n);
    }),
    { numRuns: 300 },
  );
  await store.close();
});

test('blocks are readable as soon as append resolves, before their index entries are written', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(30, 12);
  const store = await BlockStore.open(dir, { maxPendingIndex: 1000 });
  const appended = Promise.all(chain.map((b) => store.append(b)));
  await appended;
  for (let n = 0; n < 30; n++) {
    assert.equal((await store.getBlockByTxId(`tx-${n}-1`))?.txIndex, 1);
    assert.deepEqual(Buffer.from((await store.getBlockBytes(BigInt(n)))!), Buffer.from(chain[n]));
  }
  await store.close();
  const s = await BlockStore.open(dir);
  assert.equal(s.height(), 30n);
  assert.equal(s.recovery.reindexedBlocks, 0, 'close flushed every index entry');
  assert.equal((await s.getBlockByTxId('tx-29-0'))?.number, 29n);
  assert.equal(s.stats().indexPending, 0);
  await s.close();
});

test('index entries wait for a batch: none per append, all of them once the store is idle', async (t) => {
  const dir = await tempDir(t);
  const chain = makeChain(5, 13);
  const store = await BlockStore.open(dir, { maxPendingIndex: 64 });
  for (const b of chain) await store.append(b);
  assert.equal(store.stats().indexBatches, 0, 'no index write while appends keep coming');
  assert.equal(store.stats().indexPending, 5);
  assert.equal((await store.getBlockByTxId('tx-4-1'))?.number, 4n);
  for (let i = 0; i < 10_000 && store.stats().indexPending > 0; i++)
    await new Promise((r) => setImmediate(r));
  assert.equal(store.stats().indexPending, 0, 'idle: written');
  assert.equal(store.stats().indexBatches, 1, 'in one batch');
  assert.equal((await store.getBlockByTxId('tx-4-1'))?.number, 4n);
  await store.close();
  const again = await BlockStore.open(dir);
  assert.equal(again.recovery.reindexedBlocks, 0);
  await again.close();
});

test('duplicate tx ids: the first occurrence is indexed', async (t) => {
  const dir = await tempDir(t);
  const rand = seededRandom(5);
  const store = await BlockStore.open(dir);
  let prev: Uint8Array = new Uint8Array();
  for (let n = 0n; n < 4n; n++) {
    const block = makeBlock(n, prev, [
      makeTx('testchannel', `own-${n}`, 20, rand),
      makeTx('testchannel', 'dup', 20, rand),
    ]);
    prev = blockHeaderHash(block.header!);
    await store.append(block);
  }
  const hit = await store.getBlockByTxId('dup');
  assert.equal(hit?.number, 0n);
  assert.equal(hit?.txIndex, 1);
  await store.close();
  const again = await BlockStore.open(dir);
  assert.equal((await again.getBlockByTxId('dup'))?.number, 0n);
  await again.close();
});

test('large blocks (data hash on the thread pool): a tampered one is refused and cut off, good ones commit', async (t) => {
  const dir = await tempDir(t);
  const b = new ChainBuilder(0n, new Uint8Array(), 5);
  const blocks = [b.nextOfSize(300 * 1024), b.nextOfSize(300 * 1024), b.nextOfSize(200 * 1024)];
  const store = await BlockStore.open(dir);
  await store.append(blocks[0]);
  const size = (await stat(join(dir, blockFileName(0)))).size;
  // one transaction swapped (multi-transaction data goes through the scratch buffer)
  const many = decodeBlock(blocks[1]);
  assert.ok(many.data!.data.length > 1);
  many.data!.data[1] = makeTx('testchannel', 'evil', 64 * 1024, seededRandom(3));
  await rejectsWith(store.append(many), 'BAD_DATA_HASH');
  // a single large transaction, one byte changed
  const one = new ChainBuilder(1n, store.lastBlockHash()!, 6).next(1, 200 * 1024);
  const bad = decodeBlock(one);
  const tx = new Uint8Array(bad.data!.data[0]);
  tx[tx.length - 1] ^= 1;
  bad.data!.data[0] = tx;
  await rejectsWith(store.append(bad), 'BAD_DATA_HASH');
  assert.equal(store.height(), 1n);
  assert.equal((await stat(join(dir, blockFileName(0)))).size, size);
  assert.equal(await store.append(blocks[1]), 2n);
  assert.equal(await store.append(blocks[2]), 3n);
  await store.close();
  const again = await BlockStore.open(dir);
  assert.equal(again.height(), 3n);
  assert.deepEqual((await again.getBlock(1n))!.bytes, blocks[1]);
  await again.close();
});
