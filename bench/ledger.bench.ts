/**
 * Ledger benchmark (`npm run bench ledger`).
 *   ledger-commit-10k / ledger-commit-1m: BlockStore.append of chained ~10 KB / ~1 MB blocks
 *     as the peer commits them (verified at ingress, so the data hash is not recomputed; number,
 *     previous_hash, record checksum, durable write, index), against a baseline of raw write +
 *     fdatasync of the same bytes to a plain file, in the same run, alternating in slices.
 *   ledger-commit-10k-rehash / ledger-commit-1m-rehash: the same with the store re-hashing the
 *     data (append of bytes nobody verified).
 *   ledger-get: random BlockStore.getBlock (cache disabled, so every call is an index lookup, a
 *     positional read and a checksum) against raw positional reads of the same records.
 * Bounded loops; temp dirs removed at the end.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockStore, RECORD_HEADER_BYTES, blockFileName } from '../src/ledger/index.js';
import { ChainBuilder, seededRandom } from '../test/ledger/synthetic.js';
import { figureJson, type Figure } from './lib/figures.js';

type LedgerFigure = Figure & { detail: string };

const round = (x: number) => Math.round(x * 10) / 10;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/**
 * Commits `count` chained blocks of about `blockBytes` to two BlockStores and the same bytes to a
 * plain file (write + fdatasync each), alternating in slices of `slice` blocks (in a rotating order) so
 * that all three see the same machine and disk conditions; totals over all slices. Two figures against the same
 * raw baseline:
 *   `name`: append(bytes, undefined, {dataHashChecked: true}), as the peer's commit loop appends
 *     a block that passed VerifyBlock (which checked its data hash): the store parses the bytes,
 *     checks number and previous_hash, writes the record durably and indexes it.
 *   `name`-rehash: append(bytes) alone: the store also hashes the data against header.data_hash.
 */
async function commitFigures(
  root: string,
  name: string,
  blockBytes: number,
  count: number,
  slice: number,
): Promise<LedgerFigure[]> {
  const builder = new ChainBuilder(0n, new Uint8Array(), 42);
  const blocks = Array.from({ length: count }, () => builder.nextOfSize(blockBytes));
  const total = blocks.reduce((s, b) => s + b.length, 0);
  const vouched = await BlockStore.open(join(root, name));
  const rehash = await BlockStore.open(join(root, `${name}-rehash`));
  const raw = await open(join(root, `${name}.raw`), 'w');
  const VERIFIED = { dataHashChecked: true } as const;
  let rawPos = 0;
  const ms = { raw: 0, vouched: 0, rehash: 0 };
  const runners: Record<keyof typeof ms, (part: Uint8Array[]) => Promise<void>> = {
    raw: async (part) => {
      for (const b of part) {
        await raw.write(b, 0, b.length, rawPos);
        rawPos += b.length;
        await raw.datasync();
      }
    },
    vouched: async (part) => {
      for (const b of part) await vouched.append(b, undefined, VERIFIED);
    },
    rehash: async (part) => {
      for (const b of part) await rehash.append(b);
    },
  };
  const order: (keyof typeof ms)[] = ['raw', 'vouched', 'rehash'];
  for (let i = 0; i < count; i += slice) {
    const part = blocks.slice(i, i + slice);
    // each variant takes each place in the rotation equally often (the slice after a raw
    // fdatasync and the one after a ledger write do not see the same disk)
    const k = (i / slice) % order.length;
    for (const name of [...order.slice(k), ...order.slice(0, k)]) {
      const t0 = performance.now();
      await runners[name](part);
      ms[name] += performance.now() - t0;
    }
  }
  await vouched.close();
  await rehash.close();
  await raw.close();
  const baseline = total / 1e6 / (ms.raw / 1000);
  const figure = (bench: string, took: number, what: string): LedgerFigure => {
    const value = total / 1e6 / (took / 1000);
    return {
      bench,
      value: round(value),
      unit: 'MB/s',
      baseline: round(baseline),
      ratio: ratio(value, baseline),
      detail: `${what}; ${count} blocks of ${Math.round(total / count / 1024)} KiB: ${round((count * 1000) / took)} blocks/s (raw ${round((count * 1000) / ms.raw)}), alternating slices of ${slice}`,
    };
  };
  return [
    figure(name, ms.vouched, 'verified block (data hash checked by VerifyBlock)'),
    figure(`${name}-rehash`, ms.rehash, 'the store re-hashes the data'),
  ];
}

/** Random getBlock with the cache off, against positional reads of the same records, alternating slices. */
async function getFigure(root: string, count: number, reads: number, slice: number): Promise<LedgerFigure> {
  const dir = join(root, 'get');
  const builder = new ChainBuilder(0n, new Uint8Array(), 7);
  const blocks = Array.from({ length: count }, () => builder.nextOfSize(10 * 1024));
  const store0 = await BlockStore.open(dir);
  for (const b of blocks) await store0.append(b);
  await store0.close();
  const offsets: number[] = [];
  let off = 0;
  for (const b of blocks) {
    offsets.push(off);
    off += RECORD_HEADER_BYTES + b.length;
  }
  const rand = seededRandom(9);
  const order = Array.from({ length: reads }, () => Math.floor(rand() * count));

  const store = await BlockStore.open(dir, { cacheMaxBlocks: 0 });
  const fh = await open(join(dir, blockFileName(0)), 'r');
  let ledMs = 0;
  let rawMs = 0;
  let check = 0;
  for (let i = 0; i < reads; i += slice) {
    const part = order.slice(i, i + slice);
    let t0 = performance.now();
    for (const n of part) {
      const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + blocks[n].length);
      await fh.read(buf, 0, buf.length, offsets[n]);
      check += buf[RECORD_HEADER_BYTES];
    }
    rawMs += performance.now() - t0;
    t0 = performance.now();
    for (const n of part) check += (await store.getBlock(BigInt(n)))!.bytes[0];
    ledMs += performance.now() - t0;
  }
  await fh.close();
  await store.close();
  const value = (reads * 1000) / ledMs;
  const baseline = (reads * 1000) / rawMs;
  return {
    bench: 'ledger-get',
    value: Math.round(value),
    unit: 'blocks/s',
    baseline: Math.round(baseline),
    ratio: ratio(value, baseline),
    detail: `${reads} random reads over ${count} blocks of 10 KiB, cache off (index lookup + read + checksum; decode is lazy), slices of ${slice} (${check & 1})`,
  };
}

const root = await mkdtemp(join(tmpdir(), 'gv-bench-ledger-'));
try {
  // run-bench.mjs passes --expose-gc: collect the previous figure's garbage before each one
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const figures: LedgerFigure[] = [];
  gc();
  figures.push(...(await commitFigures(root, 'ledger-commit-10k', 10 * 1024, 3000, 50)));
  gc();
  figures.push(...(await commitFigures(root, 'ledger-commit-1m', 1024 * 1024, 300, 10)));
  gc();
  figures.push(await getFigure(root, 2000, 40_000, 1000));
  console.log('figure                    value        baseline     ratio  detail');
  for (const f of figures) {
    console.log(
      `${f.bench.padEnd(25)} ${`${f.value} ${f.unit}`.padEnd(12)} ${`${f.baseline} ${f.unit}`.padEnd(12)} ${String(f.ratio).padEnd(6)} ${f.detail}`,
    );
  }
  for (const f of figures) {
    console.log(figureJson(f));
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
