/**
 * Child process for the crash test:
 * `node --import tsx test/ledger/crash-writer.ts <dir> <seed> [window]`.
 * Opens the store (recovering whatever the last kill left), prints `ready <height>`, then appends
 * seeded synthetic blocks forever (bounded), printing `committed <height>` after each append
 * resolved, i.e. after fdatasync (and the store's count of durable writes so far). With window > 1, that many appends are kept in flight (group
 * commit batches them). The parent kills it with SIGKILL at a random point.
 */
import { BlockStore } from '../../src/ledger/index.js';
import { ChainBuilder, seededRandom } from './synthetic.js';

const [dir, seedArg, windowArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: crash-writer.ts <dir> <seed>\n');
  process.exit(2);
}
const seed = Number(seedArg ?? 1);
const window = Math.max(1, Number(windowArg ?? 1));
export const CRASH_FILE_BYTES = 256 * 1024;

const store = await BlockStore.open(dir, { maxFileBytes: CRASH_FILE_BYTES });
const height = store.height();
const rand = seededRandom(seed ^ Number(height));
const builder = new ChainBuilder(height, store.lastBlockHash() ?? new Uint8Array(), seed + Number(height));
process.stdout.write(`ready ${height}\n`);
const inflight = new Set<Promise<void>>();
for (let i = 0; i < 2000; i++) {
  const txs = 1 + Math.floor(rand() * 6);
  const txBytes = Math.floor(rand() * (rand() < 0.2 ? 60_000 : 3_000));
  const p: Promise<void> = store.append(builder.next(txs, txBytes)).then((h) => {
    process.stdout.write(`committed ${h} ${store.stats().writes}\n`);
    inflight.delete(p);
  });
  inflight.add(p);
  if (inflight.size >= window) await Promise.race(inflight);
}
await Promise.all(inflight);
await store.close();
