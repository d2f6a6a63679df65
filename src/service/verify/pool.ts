/**
 * A pool of worker threads (worker.ts) that decode and VerifyBlock catch-up blocks off the main
 * thread, so TLS, gRPC and the commit loop keep the main thread. Algorithm:
 *   verify(seq, bytes): wait while maxInFlight jobs are unsettled (bounded work); hand the block
 *     to the worker whose batch is filling, else to the one with the fewest jobs (so a batch
 *     holds consecutive blocks: one chained run for segment verification); jobs for a worker are sent in one message once
 *     `batch` of them wait, or when the worker has no batch in hand (at the next turn of the
 *     event loop, setImmediate, or as its previous batch's reply arrives): a busy worker's next
 *     batch keeps filling, so batches are large under load and a lone block still goes at once
 *     (and a segment-verifying worker checks fewer signatures). The jobs' bytes are copied into
 *     one fresh ArrayBuffer that is transferred (one allocation and one copy per block, nothing
 *     cloned, the caller's bytes untouched).
 *   reply: one message per batch: the facts of the good blocks (hashes packed in one transferred
 *     buffer) and the reasons of the bad ones; a good block resolves with the caller's own bytes
 *     and its BlockFacts for the ledger, a bad one rejects StateError 'bad_block' (does not
 *     decode / fails verification).
 *   A worker that dies rejects its jobs with StateError 'CATCHUP_FAILED' and is not used
 *     again; with none left every verify rejects so (the caller then verifies inline).
 * Callers keep order: results may settle out of order across workers, so the catch-up runner
 * awaits them in stream order and stops at the first bad one.
 */
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../base/errors.js';
import type { BlockFacts } from '../../ledger/inspect.js';
import type { CatchupVerifierFactory } from '../../core/state/types.js';
import { StateError } from '../../core/state/errors.js';

/** One message to a worker: jobs[i] is blocks[ends[i-1] .. ends[i]) of `blocks` (ends[-1] = 0). */
export interface VerifyBatch {
  readonly ids: number[];
  readonly seqs: bigint[];
  readonly ends: number[];
  readonly blocks: ArrayBuffer;
}

/**
 * A worker's answer to one VerifyBatch, in job order. A good block i has reasons[i] = '' and
 * takes the next entry of numbers, prevLengths, txIds and dataHashChecked and the next prevLength + 32 bytes of
 * hashes (previous_hash then header hash); a bad one has its reason.
 */
export interface VerifyResults {
  readonly ids: number[];
  readonly reasons: string[];
  readonly numbers: bigint[];
  readonly prevLengths: number[];
  readonly hashes: Uint8Array;
  readonly txIds: string[][];
  readonly dataHashChecked: boolean[];
  /** Orderer-signature checks the worker made for this batch. */
  readonly signatureChecks: number;
}

export type VerifyReply =
  | { readonly ready: true }
  | { readonly initError: string }
  /** `spent`: the batch's buffer handed back for reuse. */
  | { readonly results: VerifyResults; readonly spent?: ArrayBuffer };

export interface WorkerInit {
  /** URL (file:) of a module exporting createBlockVerifier(init) (see worker.ts). */
  readonly module: string;
  /** Structured-cloneable argument of createBlockVerifier. */
  readonly init: unknown;
  readonly channel: string;
  /**
   * Check every block's orderer signatures even when the verifier can check runs of chained
   * blocks with one (segment.ts). Default false.
   */
  readonly allSignatures?: boolean;
}

export interface VerifiedBlock {
  readonly seq: bigint;
  readonly bytes: Uint8Array;
  readonly facts: BlockFacts;
}

export interface VerifyPoolOptions extends WorkerInit {
  /** Worker threads (>= 1). */
  readonly workers: number;
  /** Jobs submitted and not yet settled (>= 1); verify() waits above it. */
  readonly maxInFlight: number;
  /** Most jobs per message to a worker. Default 32. */
  readonly batch?: number;
  /** Called per batch answered: its blocks and the orderer-signature checks made for them. */
  readonly onBatch?: (blocks: number, signatureChecks: number) => void;
}

interface Pending {
  readonly seq: bigint;
  readonly bytes: Uint8Array;
  readonly resolve: (v: VerifiedBlock) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly jobs: Map<number, Pending>;
  outbox: { id: number; seq: bigint; bytes: Uint8Array }[];
  /** Batches sent and not answered yet. */
  sent: number;
  /** starting: takes jobs already (they wait in its message queue). */
  state: 'starting' | 'alive' | 'dead';
}

const MIN_BATCH_BUFFER = 1024 * 1024;
/** A batch of this many jobs or more means blocks arrive in a run (catch-up): linger for more. */
const LINGER_AFTER_BATCH = 4;
/** How long an idle worker's next batch waits for more jobs then (a lone block never waits). */
const LINGER_MS = 5;
const MAX_SPARE_BUFFERS = 4;
/** Larger buffers (a batch of huge blocks) are not kept. */
const MAX_SPARE_BYTES = 16 * 1024 * 1024;

const EXT = extname(new URL(import.meta.url).pathname) || '.js';
const WORKER_URL = new URL(`./worker${EXT}`, import.meta.url);

/**
 * Worker threads do not inherit the main thread's module hooks: running from TypeScript sources
 * (tsx), the worker first registers tsx's loader, then imports worker.ts.
 */
function startWorker(workerData: WorkerInit): Worker {
  if (EXT !== '.ts') return new Worker(WORKER_URL, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export class BlockVerifyPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private flushScheduled = false;
  /** Jobs in the batch sent last. */
  private lastBatch = 0;
  /** Batch buffers handed back by the workers, for reuse (at most MAX_SPARE_BUFFERS). */
  private readonly spare: ArrayBuffer[] = [];
  /** Messages sent to workers, and the jobs in them. */
  private batchesSent = 0;
  private buffersAllocated = 0;
  private signatureChecks = 0;
  /** The worker last picked (see pick). */
  private filling: Slot | undefined;
  private jobsSent = 0;
  private closed = false;
  private readonly batch: number;
  readonly ready: Promise<void>;

  constructor(private readonly o: VerifyPoolOptions) {
    if (!Number.isSafeInteger(o.workers) || o.workers < 1) throw new RangeError('workers must be >= 1');
    if (!Number.isSafeInteger(o.maxInFlight) || o.maxInFlight < 1)
      throw new RangeError('maxInFlight must be >= 1');
    this.batch = Math.max(1, o.batch ?? 32);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < o.workers; i++) ready.push(this.spawn());
    this.ready = Promise.all(ready).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** Workers still running. */
  get size(): number {
    let n = 0; // asked for every block: no array built
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i]!.state === 'alive') n++;
    return n;
  }

  get pending(): number {
    return this.inFlight;
  }

  /** Batches sent to workers and the jobs in them (jobs / batches = the mean batch). */
  stats(): { batches: number; jobs: number; buffersAllocated: number; signatureChecks: number } {
    return {
      batches: this.batchesSent,
      jobs: this.jobsSent,
      buffersAllocated: this.buffersAllocated,
      signatureChecks: this.signatureChecks,
    };
  }

  /** Decode and verify block `seq` (the bytes are copied to the worker; not to be changed until settled). */
  async verify(seq: bigint, bytes: Uint8Array): Promise<VerifiedBlock> {
    while (this.inFlight >= this.o.maxInFlight && !this.closed)
      await new Promise<void>((r) => this.waiters.push(r));
    const slot = this.pick();
    if (!slot)
      throw new StateError(
        'CATCHUP_FAILED',
        this.closed ? 'verifier pool closed' : 'no verifier worker is running',
      );
    const id = this.nextId++;
    this.inFlight++;
    const p = new Promise<VerifiedBlock>((resolve, reject) =>
      slot.jobs.set(id, { seq, bytes, resolve, reject }),
    );
    slot.outbox.push({ id, seq, bytes });
    if (slot.outbox.length >= this.batch) this.flush(slot);
    else if (slot.sent === 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      const flushIdle = () => {
        this.flushScheduled = false;
        for (const s of this.slots) if (s.sent === 0) this.flush(s);
      };
      // blocks arriving in a run (the last batch was not a lone block): wait LINGER_MS for more,
      // so a batch is one chained run with one signature check, not a handful of them
      if (this.lastBatch >= LINGER_AFTER_BATCH) setTimeout(flushIdle, LINGER_MS);
      else setImmediate(flushIdle);
    }
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(
      this.slots.map(async (s) => {
        s.state = 'dead';
        this.failJobs(s, 'verifier pool closed');
        await s.worker.terminate().catch(() => undefined);
      }),
    );
  }

  private spawn(): Promise<void> {
    const { module, init, channel, allSignatures } = this.o;
    const worker = startWorker({ module, init, channel, allSignatures });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), outbox: [], sent: 0, state: 'starting' };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: VerifyReply) => {
        if ('ready' in m) {
          if (slot.state === 'starting') slot.state = 'alive';
          resolve();
        } else if ('initError' in m) {
          dead(`did not start: ${m.initError}`);
          void worker.terminate();
        } else {
          if (m.spent) this.recycle(m.spent);
          this.onResults(slot, m.results);
        }
      });
      const dead = (why: string) => {
        if (slot.state !== 'dead') {
          slot.state = 'dead';
          this.failJobs(slot, `block verifier worker ${why}`);
        }
        reject(new StateError('CATCHUP_FAILED', `block verifier worker ${why}`)); // no-op once ready
      };
      worker.on('error', (e) => dead(`failed: ${errorMessage(e)}`));
      worker.on('exit', (code) => dead(`stopped (exit code ${code})`));
    });
  }

  /**
   * The worker for the next job: the one whose batch is filling, while it fills (a batch of
   * consecutive blocks is one chained run, so segment verification checks one signature for
   * it); else the one with the fewest jobs.
   */
  private pick(): Slot | undefined {
    const filling = this.filling;
    if (
      filling &&
      filling.state !== 'dead' &&
      filling.outbox.length > 0 &&
      filling.outbox.length < this.batch
    )
      return filling;
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.state === 'dead') continue;
      if (!best || s.jobs.size < best.jobs.size) best = s;
    }
    this.filling = best;
    return best;
  }

  private flush(slot: Slot): void {
    const jobs = slot.outbox;
    if (jobs.length === 0) return;
    slot.outbox = [];
    let total = 0;
    for (const j of jobs) total += j.bytes.length;
    const blocks = this.batchBuffer(total);
    const ends: number[] = [];
    let o = 0;
    for (const j of jobs) {
      blocks.set(j.bytes, o);
      o += j.bytes.length;
      ends.push(o);
    }
    const batch: VerifyBatch = {
      ids: jobs.map((j) => j.id),
      seqs: jobs.map((j) => j.seq),
      ends,
      blocks: blocks.buffer,
    };
    slot.sent++;
    this.lastBatch = jobs.length;
    this.batchesSent++;
    this.jobsSent += jobs.length;
    slot.worker.postMessage(batch, [blocks.buffer]);
  }

  /**
   * A buffer for a batch of `total` bytes: a spent one handed back by a worker when one is large
   * enough, else a new one (at least 1 MiB, so that it can serve later batches). Reuse spares
   * the allocation and the garbage-collector work that large short-lived buffers cost.
   */
  private batchBuffer(total: number): Uint8Array<ArrayBuffer> {
    const i = this.spare.findIndex((b) => b.byteLength >= total);
    if (i >= 0) return new Uint8Array(this.spare.splice(i, 1)[0], 0, total);
    this.buffersAllocated++;
    return new Uint8Array(new ArrayBuffer(Math.max(total, MIN_BATCH_BUFFER)), 0, total);
  }

  private recycle(b: ArrayBuffer): void {
    if (this.spare.length < MAX_SPARE_BUFFERS && b.byteLength <= MAX_SPARE_BYTES) this.spare.push(b);
  }

  private onResults(slot: Slot, r: VerifyResults): void {
    this.signatureChecks += r.signatureChecks;
    this.o.onBatch?.(r.ids.length, r.signatureChecks);
    slot.sent--;
    if (slot.sent === 0) this.flush(slot); // what queued while it worked
    let good = 0;
    let h = 0;
    for (let i = 0; i < r.ids.length; i++) {
      const reason = r.reasons[i];
      let facts: BlockFacts | undefined;
      if (reason === '') {
        const prev = r.prevLengths[good];
        facts = {
          kind: 'facts',
          number: r.numbers[good],
          previousHash: r.hashes.subarray(h, h + prev),
          headerHash: r.hashes.subarray(h + prev, h + prev + 32),
          txIds: r.txIds[good],
          dataHashChecked: r.dataHashChecked[good],
        };
        h += prev + 32;
        good++;
      }
      const p = slot.jobs.get(r.ids[i]);
      if (!p) continue;
      slot.jobs.delete(r.ids[i]);
      this.settled();
      if (facts) p.resolve({ seq: p.seq, bytes: p.bytes, facts });
      else p.reject(new StateError('bad_block', reason));
    }
  }

  private failJobs(slot: Slot, why: string): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    slot.outbox = [];
    for (const p of jobs) {
      this.settled();
      p.reject(new StateError('CATCHUP_FAILED', `block ${p.seq}: ${why}`));
    }
  }

  private settled(): void {
    this.inFlight--;
    const w = this.waiters.shift();
    w?.();
  }
}

/**
 * The state layer's CatchupVerifierFactory backed by this pool: `module` (a file: URL exporting
 * createBlockVerifier(init), e.g. mcs-verifier.ts) builds the same VerifyBlock inside each worker.
 */
export function workerVerifierPool(v: {
  readonly module: string | URL;
  readonly init: unknown;
}): CatchupVerifierFactory {
  return (o) => new BlockVerifyPool({ ...o, module: String(v.module), init: v.init });
}
