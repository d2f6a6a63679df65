import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlockStore } from '../../src/ledger/index.js';
import { blockDataHash, blockHeaderHash } from '../../src/wire/block.js';
import { ChainBuilder, seededRandom } from './synthetic.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const SEED = Number(process.env.GRAPEVINE_CRASH_SEED ?? 0x5eed);
const ROUNDS = Number(process.env.GRAPEVINE_CRASH_ROUNDS ?? 50);
const CONCURRENT_ROUNDS = Number(process.env.GRAPEVINE_CRASH_ROUNDS ?? 20);
const FILE_BYTES = 256 * 1024; // as crash-writer.ts

interface ChildRun {
  ready: bigint;
  committed: bigint;
  /** Appends reported committed, and the durable writes they took (the child's last report). */
  commits: number;
  writes: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer; kills it with SIGKILL `delayMs` after it reported `killAfter` commits. */
function runChild(
  dir: string,
  seed: number,
  killAfter: number,
  delayMs: number,
  window: number,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'crash-writer.ts'), dir, String(seed), String(window)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const run: ChildRun = { ready: -1n, committed: -1n, commits: 0, writes: 0, signal: null, stderr: '' };
    let buf = '';
    let commits = 0;
    let killing = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [word, value, writes] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (word === 'ready') run.ready = BigInt(value);
        if (word === 'committed') {
          const h = BigInt(value);
          if (h > run.committed) run.committed = h;
          commits++;
          run.commits = commits;
          run.writes = Number(writes);
        }
      }
      if (!killing && commits >= killAfter) {
        killing = true;
        const kill = () => child.kill('SIGKILL');
        if (delayMs === 0) kill();
        else setTimeout(kill, delayMs);
      }
    });
    child.stderr.on('data', (c: Buffer) => (run.stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      run.signal = signal;
      resolve(run);
    });
  });
}

async function verifyChain(store: BlockStore): Promise<void> {
  let prev: Uint8Array | undefined;
  let n = 0n;
  for await (const b of store.blocks(0n)) {
    const header = b.block.header!;
    assert.equal(header.number, n);
    assert.deepEqual(blockDataHash(b.block.data!.data), header.dataHash, `block ${n} data hash`);
    if (prev) assert.deepEqual(header.previousHash, prev, `block ${n} chains`);
    prev = blockHeaderHash(header);
    n++;
  }
  assert.equal(n, store.height());
  assert.deepEqual(store.lastBlockHash(), prev);
}

/**
 * ROUNDS writer processes on one store, each SIGKILLed at a seeded random point; after each,
 * the reopened store must hold at least every block any writer reported committed, as an
 * intact chain. window > 1 keeps that many appends in flight (group commit).
 */
async function crashRounds(
  t: { after: (fn: () => Promise<void>) => void; diagnostic: (m: string) => void },
  rounds: number,
  window: number,
  maxKillAfter: number,
): Promise<{ commits: number; writes: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'gv-ledger-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rand = seededRandom(SEED + window);
  let durable = 0n; // highest height any child reported as committed
  let truncations = 0;
  let reindexed = 0;
  let commits = 0;
  let writes = 0;
  for (let round = 0; round < rounds; round++) {
    const killAfter = 1 + Math.floor(rand() * maxKillAfter);
    const delayMs = rand() < 0.5 ? 0 : Math.floor(rand() * 4);
    const run = await runChild(dir, SEED + round, killAfter, delayMs, window);
    const where = `round ${round} (seed ${SEED}, window ${window}, killAfter ${killAfter}, delay ${delayMs} ms)`;
    assert.equal(run.signal, 'SIGKILL', `${where}: child was not killed; stderr: ${run.stderr}`);
    assert.ok(run.ready >= durable, `${where}: child opened at ${run.ready} < committed ${durable}`);
    if (run.committed > durable) durable = run.committed;
    commits += run.commits;
    writes += run.writes;

    const store = await BlockStore.open(dir, { maxFileBytes: FILE_BYTES });
    try {
      assert.ok(store.height() >= durable, `${where}: height ${store.height()} < committed ${durable}`);
      if (store.recovery.truncatedBytes > 0) truncations++;
      reindexed += store.recovery.reindexedBlocks;
      await verifyChain(store);
      durable = store.height();
    } finally {
      await store.close();
    }
  }
  // appending continues after the last crash
  const store = await BlockStore.open(dir, { maxFileBytes: FILE_BYTES });
  const next = new ChainBuilder(store.height(), store.lastBlockHash() ?? new Uint8Array(), 1).next();
  assert.equal(await store.append(next), durable + 1n);
  assert.ok(store.stats().files > 1, 'the run should roll over block files');
  await verifyChain(store);
  await store.close();
  t.diagnostic(
    `height ${durable + 1n}, opens that truncated a torn tail: ${truncations}, blocks re-indexed on open: ${reindexed}, appends reported ${commits} in ${writes} durable writes`,
  );
  return { commits, writes };
}

test(
  `crash safety: ${ROUNDS} SIGKILLs at seeded random points never lose a committed block (seed ${SEED})`,
  { timeout: 180_000 },
  async (t) => {
    const { commits, writes } = await crashRounds(t, ROUNDS, 1, 8);
    assert.equal(writes, commits, 'one at a time: one write per append');
  },
);

test(
  `crash safety with 16 appends in flight (group commit): ${CONCURRENT_ROUNDS} SIGKILLs never lose a committed block (seed ${SEED})`,
  { timeout: 180_000 },
  async (t) => {
    const { commits, writes } = await crashRounds(t, CONCURRENT_ROUNDS, 16, 40);
    assert.ok(
      writes < commits / 2,
      `appends in flight are grouped: ${commits} appends took ${writes} writes`,
    );
  },
);
