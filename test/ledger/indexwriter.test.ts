import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexWriter } from '../../src/ledger/indexwriter.js';
import type { Checkpoint, IndexDb, IndexedBlock } from '../../src/ledger/indexdb.js';

/** A fake LevelDB whose batch writes complete only when the test releases them. */
function fakeDb() {
  const writes: { ops: number; release: (err?: Error) => void }[] = [];
  const db = {
    hasMany: async (keys: unknown[]) => keys.map(() => false),
    batch() {
      let ops = 0;
      return {
        put() {
          ops++;
        },
        write: () => new Promise<void>((resolve, reject) => writes.push({ ops, release: (err) => (err ? reject(err) : resolve()) })),
      };
    },
  };
  return { db: db as unknown as IndexDb, writes };
}

const block = (n: number): IndexedBlock => ({ number: BigInt(n), location: { file: 0, offset: n * 100, length: 90 }, txIds: [`t${n}`] });
const cp = (n: number): Checkpoint => ({ height: BigInt(n + 1), file: 0, endOffset: (n + 1) * 100, lastHash: new Uint8Array(32) });
const tick = () => new Promise((r) => setImmediate(r));

test('pending entries are readable until written; blocks that pile up go in one batch; backpressure at maxPending', async () => {
  const { db, writes } = fakeDb();
  const w = new IndexWriter(db, 2);
  await w.add(block(0), cp(0));
  await tick();
  assert.equal(writes.length, 1, 'first batch in flight');
  await w.add(block(1), cp(1));
  let thirdDone = false;
  const third = w.add(block(2), cp(2)).then(() => (thirdDone = true));
  await tick();
  assert.equal(thirdDone, false, 'third add waits: 3 pending > maxPending 2');
  assert.equal(w.pending, 3);
  assert.deepEqual(w.location(1n), block(1).location);
  assert.deepEqual(w.tx('t2'), { number: 2n, txIndex: 0 });

  writes[0].release();
  await tick();
  assert.equal(writes.length, 2);
  assert.equal(writes[1].ops, 2 + 2 + 1, 'blocks 1 and 2 in one batch: 2 locations, 2 tx ids, checkpoint');
  assert.equal(w.location(0n), undefined);
  assert.equal(thirdDone, false);
  writes[1].release();
  await third;
  await w.flush();
  assert.equal(w.pending, 0);
  assert.equal(w.tx('t2'), undefined);
  assert.equal(w.batches, 2);
});

test('a failed index write keeps the entries readable and records the error', async () => {
  const { db, writes } = fakeDb();
  const w = new IndexWriter(db, 10);
  await w.add(block(0), cp(0));
  await tick();
  writes[0].release(new Error('disk full'));
  await w.flush();
  assert.match(String(w.error), /disk full/);
  assert.deepEqual(w.location(0n), block(0).location);
});
