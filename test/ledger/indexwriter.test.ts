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
        write: () =>
          new Promise<void>((resolve, reject) =>
            writes.push({ ops, release: (err) => (err ? reject(err) : resolve()) }),
          ),
      };
    },
  };
  return { db: db as unknown as IndexDb, writes };
}

const block = (n: number): IndexedBlock => ({
  number: BigInt(n),
  location: { file: 0, offset: n * 100, length: 90 },
  txIds: [`t${n}`],
});
const cp = (n: number): Checkpoint => ({
  height: BigInt(n + 1),
  file: 0,
  endOffset: (n + 1) * 100,
  lastHash: new Uint8Array(32),
});
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
  w.idle();
  await tick();
  writes[0].release(new Error('disk full'));
  await w.flush();
  assert.match(String(w.error), /disk full/);
  assert.deepEqual(w.location(0n), block(0).location);
});

test('a batch starts once half of maxPending blocks wait, or when the store is idle, or on flush; never alone', async () => {
  const { db, writes } = fakeDb();
  const w = new IndexWriter(db, 8);
  for (let n = 0; n < 3; n++) w.push(block(n), cp(n));
  await tick();
  await tick();
  assert.equal(writes.length, 0, '3 of 8 pending: no batch yet');
  w.push(block(3), cp(3));
  await tick();
  assert.equal(writes.length, 1, '4 = half of 8: one batch');
  assert.equal(writes[0].ops, 4 + 4 + 1);
  // one more arrives while that batch is in flight: it waits for the next trigger
  w.push(block(4), cp(4));
  writes[0].release();
  await w.backpressure();
  await tick();
  await tick();
  assert.equal(writes.length, 1, 'a lone block left over does not get its own batch');
  assert.equal(w.pending, 1);
  assert.deepEqual(w.location(4n), block(4).location);
  w.idle();
  await tick();
  assert.equal(writes.length, 2, 'idle: what waits is written');
  assert.equal(writes[1].ops, 1 + 1 + 1);
  writes[1].release();
  w.push(block(5), cp(5));
  w.push(block(6), cp(6));
  const flushed = w.flush();
  await tick();
  await tick();
  assert.equal(writes.length, 3, 'flush writes what waits');
  assert.equal(writes[2].ops, 2 + 2 + 1);
  writes[2].release();
  await flushed;
  assert.equal(w.pending, 0);
  assert.equal(w.batches, 3);
});

test('backpressure past maxPending starts a batch even below the threshold of a lone block', async () => {
  const { db, writes } = fakeDb();
  const w = new IndexWriter(db, 0);
  let done = false;
  const added = w.add(block(0), cp(0)).then(() => (done = true));
  await tick();
  assert.equal(writes.length, 1);
  assert.equal(done, false, 'waits: 1 pending > maxPending 0');
  writes[0].release();
  await added;
  assert.equal(w.pending, 0);
});
