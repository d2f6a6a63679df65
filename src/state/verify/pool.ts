/**
 * A pool of worker threads (worker.ts) that decode and VerifyBlock catch-up blocks off the main
 * thread, so TLS, gRPC and the commit loop keep the main thread. Algorithm:
 *   verify(seq, bytes): wait while maxInFlight jobs are unsettled (bounded work); hand the block
 *     to the worker with the fewest jobs; jobs for a worker are sent in one message per turn of
 *     the event loop (setImmediate) or every `batch` jobs. The block's buffer is transferred
 *     when the block owns it (gRPC messages above 4 KiB do), else copied once.
 *   reply: resolves with the block bytes (transferred back) and its BlockFacts for the ledger,
 *     or rejects StateError 'bad_block' (does not decode / fails verification).
 *   A worker that dies rejects its jobs with StateError 'CATCHUP_FAILED' and is not used
 *     again; with none left every verify rejects so (the caller then verifies inline).
 * Callers keep order: results may settle out of order across workers, so the catch-up runner
 * awaits them in stream order and stops at the first bad one.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import type { BlockFacts } from '../../ledger/inspect.js';
import { StateError } from '../errors.js';

export interface VerifyJob {
  readonly id: number;
  readonly seq: bigint;
  readonly bytes: Uint8Array;
}

export type VerifyResult =
  | {
      readonly id: number;
      readonly ok: true;
      readonly bytes: Uint8Array;
      readonly number: bigint;
      /** previous_hash (prevLength bytes) then the header hash (32 bytes). */
      readonly hashes: Uint8Array;
      readonly prevLength: number;
      readonly txIds: string[];
      readonly dataHashChecked: boolean;
    }
  | { readonly id: number; readonly ok: false; readonly bytes: Uint8Array; readonly reason: string };

export type VerifyReply =
  { readonly ready: true } | { readonly initError: string } | { readonly results: VerifyResult[] };

export interface WorkerInit {
  /** URL (file:) of a module exporting createBlockVerifier(init) (see worker.ts). */
  readonly module: string;
  /** Structured-cloneable argument of createBlockVerifier. */
  readonly init: unknown;
  readonly channel: string;
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
  /** Jobs per message to a worker. Default 16. */
  readonly batch?: number;
}

/** Default worker count: the cores left after the main thread, at least 1, at most 4. */
export function defaultVerifyWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

interface Pending {
  readonly seq: bigint;
  readonly resolve: (v: VerifiedBlock) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly jobs: Map<number, Pending>;
  outbox: VerifyJob[];
  transfer: ArrayBuffer[];
  /** starting: takes jobs already (they wait in its message queue). */
  state: 'starting' | 'alive' | 'dead';
}

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
  private closed = false;
  private readonly batch: number;
  readonly ready: Promise<void>;

  constructor(private readonly o: VerifyPoolOptions) {
    if (!Number.isSafeInteger(o.workers) || o.workers < 1) throw new RangeError('workers must be >= 1');
    if (!Number.isSafeInteger(o.maxInFlight) || o.maxInFlight < 1)
      throw new RangeError('maxInFlight must be >= 1');
    this.batch = Math.max(1, o.batch ?? 16);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < o.workers; i++) ready.push(this.spawn());
    this.ready = Promise.all(ready).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** Workers still running. */
  get size(): number {
    return this.slots.filter((s) => s.state === 'alive').length;
  }

  get pending(): number {
    return this.inFlight;
  }

  /** Decode and verify block `seq`; the bytes must not be used by the caller afterwards. */
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
    let job = bytes;
    const buf = bytes.buffer;
    if (
      !(buf instanceof ArrayBuffer) ||
      buf.byteLength - bytes.byteLength > 64 ||
      slot.transfer.includes(buf)
    ) {
      job = new Uint8Array(bytes); // shares a buffer with other data: send a copy
    }
    this.inFlight++;
    const p = new Promise<VerifiedBlock>((resolve, reject) => slot.jobs.set(id, { seq, resolve, reject }));
    slot.outbox.push({ id, seq, bytes: job });
    slot.transfer.push(job.buffer as ArrayBuffer);
    if (slot.outbox.length >= this.batch) this.flush(slot);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        for (const s of this.slots) this.flush(s);
      });
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
    const { module, init, channel } = this.o;
    const worker = startWorker({ module, init, channel });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), outbox: [], transfer: [], state: 'starting' };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: VerifyReply) => {
        if ('ready' in m) {
          if (slot.state === 'starting') slot.state = 'alive';
          resolve();
        } else if ('initError' in m) {
          dead(`did not start: ${m.initError}`);
          void worker.terminate();
        } else this.onResults(slot, m.results);
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

  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.state === 'dead') continue;
      if (!best || s.jobs.size < best.jobs.size) best = s;
    }
    return best;
  }

  private flush(slot: Slot): void {
    if (slot.outbox.length === 0) return;
    const jobs = slot.outbox;
    const transfer = slot.transfer;
    slot.outbox = [];
    slot.transfer = [];
    slot.worker.postMessage(jobs, transfer);
  }

  private onResults(slot: Slot, results: VerifyResult[]): void {
    for (const r of results) {
      const p = slot.jobs.get(r.id);
      if (!p) continue;
      slot.jobs.delete(r.id);
      this.settled();
      if (!r.ok) {
        p.reject(new StateError('bad_block', r.reason));
        continue;
      }
      p.resolve({
        seq: p.seq,
        bytes: r.bytes,
        facts: {
          kind: 'facts',
          number: r.number,
          previousHash: r.hashes.subarray(0, r.prevLength),
          headerHash: r.hashes.subarray(r.prevLength),
          txIds: r.txIds,
          dataHashChecked: r.dataHashChecked,
        },
      });
    }
  }

  private failJobs(slot: Slot, why: string): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    slot.outbox = [];
    slot.transfer = [];
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
