/**
 * Ledger benchmark (`npm run bench ledger`).
 *   ledger-commit-10k / ledger-commit-1m: BlockStore.append of chained ~10 KB / ~1 MB blocks
 *     (each one written, fdatasync-ed and indexed), against a baseline of raw write + fdatasync
 *     of the same bytes to a plain file, in the same run. Runs alternate and the median counts.
 *   ledger-get: random BlockStore.getBlock (cache disabled, so every call is an index lookup, a
 *     positional read and a checksum) against raw positional reads of the same records.
 * Bounded loops; temp dirs removed at the end.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockStore, RECORD_HEADER_BYTES, blockFileName } from '../src/ledger/index.js';
import { ChainBuilder, seededRandom } from '../test/ledger/synthetic.js';

interface Figure {
  bench: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  detail: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;

async function ledgerCommit(dir: string, blocks: Uint8Array[]): Promise<number> {
  const store = await BlockStore.open(dir);
  const t0 = performance.now();
  for (const b of blocks) await store.append(b);
  const ms = performance.now() - t0;
  await store.close();
  return ms;
}

async function rawCommit(path: string, blocks: Uint8Array[]): Promise<number> {
  const fh = await open(path, 'w');
  const t0 = performance.now();
  let pos = 0;
  for (const b of blocks) {
    await fh.write(b, 0, b.length, pos);
    pos += b.length;
    await fh.datasync();
  }
  const ms = performance.now() - t0;
  await fh.close();
  return ms;
}

async function commitFigure(root: string, name: string, blockBytes: number, count: number, reps: number): Promise<Figure> {
  const builder = new ChainBuilder(0n, new Uint8Array(), 42);
  const blocks = Array.from({ length: count }, () => builder.nextOfSize(blockBytes));
  const total = blocks.reduce((s, b) => s + b.length, 0);
  const led: number[] = [];
  const raw: number[] = [];
  for (let r = 0; r < reps; r++) {
    const d = join(root, `${name}-${r}`);
    raw.push(await rawCommit(join(root, `${name}-raw-${r}`), blocks));
    led.push(await ledgerCommit(d, blocks));
    await rm(d, { recursive: true, force: true });
    await rm(join(root, `${name}-raw-${r}`), { force: true });
  }
  const mbps = (ms: number) => total / 1e6 / (ms / 1000);
  const value = mbps(median(led));
  const baseline = mbps(median(raw));
  return {
    bench: name,
    value: round(value),
    unit: 'MB/s',
    baseline: round(baseline),
    ratio: Math.round((value / baseline) * 100) / 100,
    detail: `${count} blocks of ${Math.round(total / count / 1024)} KiB, ${round((count * 1000) / median(led))} blocks/s (raw ${round((count * 1000) / median(raw))}), median of ${reps}`,
  };
}

async function getFigure(root: string, count: number, reads: number): Promise<Figure> {
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
  const led: number[] = [];
  const raw: number[] = [];
  let check = 0;
  for (let r = 0; r < 3; r++) {
    let t0 = performance.now();
    for (const n of order) {
      const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + blocks[n].length);
      await fh.read(buf, 0, buf.length, offsets[n]);
      check += buf[RECORD_HEADER_BYTES];
    }
    raw.push(performance.now() - t0);
    t0 = performance.now();
    for (const n of order) check += (await store.getBlock(BigInt(n)))!.bytes[0];
    led.push(performance.now() - t0);
  }
  await fh.close();
  await store.close();
  const value = (reads * 1000) / median(led);
  const baseline = (reads * 1000) / median(raw);
  return {
    bench: 'ledger-get',
    value: Math.round(value),
    unit: 'blocks/s',
    baseline: Math.round(baseline),
    ratio: Math.round((value / baseline) * 100) / 100,
    detail: `${reads} random reads over ${count} blocks of 10 KiB, cache off, median of 3 (checksum ${check & 1})`,
  };
}

const root = await mkdtemp(join(tmpdir(), 'gv-bench-ledger-'));
try {
  const figures = [
    await commitFigure(root, 'ledger-commit-10k', 10 * 1024, 1000, 3),
    await commitFigure(root, 'ledger-commit-1m', 1024 * 1024, 100, 3),
    await getFigure(root, 2000, 20_000),
  ];
  console.log('figure               value        baseline     ratio  detail');
  for (const f of figures) {
    console.log(`${f.bench.padEnd(20)} ${`${f.value} ${f.unit}`.padEnd(12)} ${`${f.baseline} ${f.unit}`.padEnd(12)} ${String(f.ratio).padEnd(6)} ${f.detail}`);
  }
  for (const f of figures) {
    console.log(JSON.stringify({ bench: f.bench, value: f.value, unit: f.unit, baseline: f.baseline, ratio: f.ratio }));
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
