import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, open, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockStore, LedgerError, blockFileName, RECORD_HEADER_BYTES } from '../../src/ledger/index.js';
import { encodeRecordHeader } from '../../src/ledger/record.js';
import { blockHeaderHash, decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { makeBlock, makeChain, makeTx, seededRandom } from './synthetic.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gv-ledger-rec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A store holding chain[0..n) in one file, closed. Returns the record offsets. */
async function seed(dir: string, chain: Uint8Array[], n: number): Promise<number[]> {
  const store = await BlockStore.open(dir);
  const offsets: number[] = [];
  let off = 0;
  for (const b of chain.slice(0, n)) {
    offsets.push(off);
    await store.append(b);
    off += RECORD_HEADER_BYTES + b.length;
  }
  await store.close();
  return offsets;
}

const record = (b: Uint8Array) => Buffer.concat([encodeRecordHeader(b), b]);
const file0 = (dir: string) => join(dir, blockFileName(0));

async function assertIntact(store: BlockStore, chain: Uint8Array[]): Promise<void> {
  let prev: Uint8Array | undefined;
  let n = 0;
  for await (const b of store.blocks(0n)) {
    assert.deepEqual(Buffer.from(b.bytes), Buffer.from(chain[n]), `block ${n}`);
    if (prev) assert.deepEqual(b.block.header!.previousHash, prev);
    prev = blockHeaderHash(b.block.header!);
    n++;
  }
  assert.equal(BigInt(n), store.height());
}

async function rejectsCorrupt(p: Promise<unknown>, file: string, offset: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LedgerError, String(e));
    assert.equal(e.code, 'CORRUPT', e.message);
    assert.equal(e.file, file);
    assert.equal(e.offset, offset, e.message);
    assert.ok(e.message.includes(file) && e.message.includes(String(offset)), e.message);
    return true;
  });
}

test('a torn tail (any prefix of an unindexed record) is truncated and appending continues', async (t) => {
  const chain = makeChain(6, 21, 3, 300);
  const rec = record(chain[5]);
  for (const cut of [
    1,
    RECORD_HEADER_BYTES - 1,
    RECORD_HEADER_BYTES,
    RECORD_HEADER_BYTES + 7,
    rec.length - 1,
  ]) {
    const dir = await tempDir(t);
    await seed(dir, chain, 5);
    const before = (await stat(file0(dir))).size;
    await appendFile(file0(dir), rec.subarray(0, cut));
    const store = await BlockStore.open(dir);
    assert.equal(store.height(), 5n, `cut ${cut}`);
    assert.equal(store.recovery.truncatedBytes, cut);
    assert.equal((await stat(file0(dir))).size, before);
    assert.equal(await store.append(chain[5]), 6n);
    await assertIntact(store, chain);
    await store.close();
  }
});

test('a complete record past the checkpoint is re-indexed; bad-checksum and zero-filled tails are cut', async (t) => {
  const chain = makeChain(8, 22, 2, 200);
  const dir = await tempDir(t);
  await seed(dir, chain, 5);
  // crash after fsync, before the index write: the block is committed and must come back
  await appendFile(file0(dir), record(chain[5]));
  let store = await BlockStore.open(dir);
  assert.equal(store.height(), 6n);
  assert.equal(store.recovery.reindexedBlocks, 1);
  assert.equal(store.recovery.checkpointHeight, 5n);
  assert.equal((await store.getBlockByTxId('tx-5-1'))?.number, 5n);
  await store.close();

  const bad = record(chain[6]);
  bad[bad.length - 3] ^= 0x55; // payload checksum fails, record ends at EOF
  await appendFile(file0(dir), bad);
  store = await BlockStore.open(dir);
  assert.equal(store.height(), 6n);
  assert.equal(store.recovery.truncatedBytes, bad.length);
  await store.close();

  await appendFile(file0(dir), Buffer.alloc(4096)); // preallocated zeros after power loss
  store = await BlockStore.open(dir);
  assert.equal(store.height(), 6n);
  assert.equal(store.recovery.truncatedBytes, 4096);
  await store.append(chain[6]);
  await store.append(chain[7]);
  await assertIntact(store, chain);
  await store.close();
});

test('corruption in the middle of a file is reported with file and offset, never skipped', async (t) => {
  const chain = makeChain(6, 23, 2, 200);
  const dir = await tempDir(t);
  const offsets = await seed(dir, chain, 6);
  const path = file0(dir);
  const bytes = await readFile(path);
  bytes[offsets[2] + RECORD_HEADER_BYTES + 40] ^= 0x01;
  await writeFile(path, bytes);

  // indexed block: reading it fails loudly
  const store = await BlockStore.open(dir);
  await rejectsCorrupt(store.getBlock(2n), path, offsets[2]);
  assert.deepEqual(Buffer.from((await store.getBlockBytes(3n))!), Buffer.from(chain[3]));
  await rejectsCorrupt(
    (async () => {
      for await (const _ of store.blocks(0n)) void _;
    })(),
    path,
    offsets[2],
  );
  await store.close();

  // re-indexing from the files meets it: open fails
  await rm(join(dir, 'index'), { recursive: true });
  await rejectsCorrupt(BlockStore.open(dir), path, offsets[2]);
  // ... and keeps failing: nothing was truncated
  assert.equal((await stat(path)).size, bytes.length);
  await rejectsCorrupt(BlockStore.open(dir), path, offsets[2]);
});

test('a damaged header followed by a valid record past the checkpoint is CORRUPT, not a torn tail', async (t) => {
  const chain = makeChain(8, 24, 2, 200);
  const dir = await tempDir(t);
  await seed(dir, chain, 5);
  const at = (await stat(file0(dir))).size;
  const r5 = record(chain[5]);
  r5[5] ^= 0x10; // length byte: header checksum fails
  await appendFile(file0(dir), Buffer.concat([r5, record(chain[6])]));
  await rejectsCorrupt(BlockStore.open(dir), file0(dir), at);
});

test('a block out of chain order in the files is CORRUPT', async (t) => {
  const chain = makeChain(8, 25, 2, 200);
  const dir = await tempDir(t);
  await seed(dir, chain, 5);
  const at = (await stat(file0(dir))).size;
  await appendFile(file0(dir), record(chain[6]));
  await rejectsCorrupt(BlockStore.open(dir), file0(dir), at);
});

test('a committed (indexed) block cut from the file is CORRUPT, never a silent lower height', async (t) => {
  const chain = makeChain(5, 26, 2, 200);
  const dir = await tempDir(t);
  await seed(dir, chain, 5);
  const size = (await stat(file0(dir))).size;
  await truncate(file0(dir), size - 10);
  await assert.rejects(
    BlockStore.open(dir),
    (e: unknown) => e instanceof LedgerError && e.code === 'CORRUPT' && e.file === file0(dir),
  );
});

test('missing block file in the middle is CORRUPT', async (t) => {
  const chain = makeChain(30, 27, 2, 300);
  const dir = await tempDir(t);
  const store = await BlockStore.open(dir, { maxFileBytes: 2048 });
  for (const b of chain) await store.append(b);
  await store.close();
  await unlink(join(dir, blockFileName(1)));
  await assert.rejects(
    BlockStore.open(dir, { maxFileBytes: 2048 }),
    (e: unknown) => e instanceof LedgerError && e.code === 'CORRUPT' && e.message.includes(blockFileName(1)),
  );
});

test('a missing or damaged index is rebuilt entirely from the files', async (t) => {
  const chain = makeChain(40, 28, 3, 300);
  const dir = await tempDir(t);
  let store = await BlockStore.open(dir, { maxFileBytes: 4096, reindexBatchBlocks: 7 });
  for (const b of chain) await store.append(b);
  await store.close();

  await rm(join(dir, 'index'), { recursive: true });
  store = await BlockStore.open(dir, { maxFileBytes: 4096, reindexBatchBlocks: 7 });
  assert.equal(store.recovery.rebuiltIndex, true);
  assert.equal(store.recovery.reindexedBlocks, 40);
  await assertIntact(store, chain);
  assert.equal((await store.getBlockByTxId('tx-33-2'))?.txIndex, 2);
  await store.close();

  for (const damage of ['CURRENT', 'checkpoint']) {
    if (damage === 'CURRENT') {
      await writeFile(join(dir, 'index', 'CURRENT'), 'garbage');
    } else {
      // a checkpoint value that does not parse: write it through LevelDB itself
      const { ClassicLevel } = await import('classic-level');
      const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'index'), {
        keyEncoding: 'buffer',
        valueEncoding: 'buffer',
      });
      await db.put(Buffer.from('c'), Buffer.from('nonsense'));
      await db.close();
    }
    store = await BlockStore.open(dir, { maxFileBytes: 4096 });
    assert.equal(store.recovery.rebuiltIndex, true, damage);
    assert.equal(store.height(), 40n);
    await assertIntact(store, chain);
    await store.close();
  }
});

test('block files that belong to another chain than the index are CORRUPT', async (t) => {
  const dir = await tempDir(t);
  await seed(dir, makeChain(3, 30), 3);
  const other = makeChain(3, 31);
  const fh = await open(file0(dir), 'w');
  await fh.write(Buffer.concat(other.map(record)));
  await fh.close();
  await assert.rejects(
    BlockStore.open(dir),
    (e: unknown) => e instanceof LedgerError && e.code === 'CORRUPT',
  );
  assert.equal(decodeBlock(other[0]).header!.number, 0n);
});

test('a last block failing the data-hash check (crash before append undid it) is removed; elsewhere it is CORRUPT', async (t) => {
  const chain = makeChain(7, 29, 2, 200);
  const prev = blockHeaderHash(decodeBlock(chain[4]).header!);
  const bogus = makeBlock(5n, prev, [makeTx('testchannel', 'bogus', 50, seededRandom(4))]);
  bogus.header!.dataHash = new Uint8Array(32).fill(1);
  const bad = record(encodeBlock(bogus));

  const dir = await tempDir(t);
  await seed(dir, chain, 5);
  await appendFile(file0(dir), bad);
  let store = await BlockStore.open(dir);
  assert.equal(store.height(), 5n);
  assert.equal(store.recovery.truncatedBytes, bad.length);
  assert.equal(await store.getBlockByTxId('bogus'), undefined);
  await store.append(chain[5]);
  await store.close();

  const dir2 = await tempDir(t);
  await seed(dir2, chain, 5);
  const at = (await stat(file0(dir2))).size;
  await appendFile(file0(dir2), Buffer.concat([bad, record(chain[6])]));
  await rejectsCorrupt(BlockStore.open(dir2), file0(dir2), at);
  store = await BlockStore.open(dir);
  assert.equal(store.height(), 6n);
  await store.close();
});

test('an index entry lost under a good checkpoint: rebuilt, and the committed height stays a floor', async (t) => {
  const chain = makeChain(6, 32, 2, 200);
  const dir = await tempDir(t);
  const offsets = await seed(dir, chain, 6);
  const { ClassicLevel } = await import('classic-level');
  const dropLastEntry = async () => {
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'index'), {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    });
    const key = Buffer.alloc(9);
    key[0] = 0x62;
    key.writeBigUInt64BE(5n, 1);
    await db.del(key);
    await db.close();
  };
  await dropLastEntry();
  const store = await BlockStore.open(dir);
  assert.equal(store.recovery.rebuiltIndex, true);
  assert.equal(store.height(), 6n);
  await assertIntact(store, chain);
  await store.close();

  await dropLastEntry();
  await truncate(file0(dir), offsets[5]); // and the last committed block is gone from the file
  await assert.rejects(
    BlockStore.open(dir),
    (e: unknown) => e instanceof LedgerError && e.code === 'CORRUPT' && /hold 5 blocks but 6/.test(e.message),
  );
  await assert.rejects(
    BlockStore.open(dir),
    (e: unknown) => e instanceof LedgerError && e.code === 'CORRUPT',
    'still refused on the next open',
  );
});

test('an index of the version-1 layout (one key per tx id) is rebuilt on open; tx lookups find first occurrences', async (t) => {
  const chain = makeChain(5, 41, 2, 100);
  const dir = await tempDir(t);
  await seed(dir, chain, 5);
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'index'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  const cp = (await db.get(Buffer.from('c')))!;
  assert.equal(cp[0], 2, 'checkpoint version 2');
  const v1 = Buffer.from(cp);
  v1[0] = 1;
  await db.put(Buffer.from('c'), v1);
  await db.put(Buffer.from('ttx-3-1'), Buffer.alloc(12)); // an old-layout entry: dropped with the rest
  await db.close();
  const store = await BlockStore.open(dir);
  assert.equal(store.recovery.rebuiltIndex, true);
  assert.equal(store.height(), 5n);
  assert.equal((await store.getBlockByTxId('tx-3-1'))?.number, 3n);
  assert.equal((await store.getBlockByTxId('tx-3-1'))?.txIndex, 1);
  assert.equal(await store.getBlockByTxId('tx-3'), undefined, 'a prefix of an id is not the id');
  await assertIntact(store, chain);
  await store.close();
});
