/**
 * BlockStore: a channel's committed blocks, crash-safe.
 *
 * append(block): check number == height, previous_hash == hash of the last header and the data
 * hash (unless the caller checked it: opts.dataHashChecked); write one framed record (record.ts) at the end of the last block file (rolling over at
 * maxFileBytes), durably (O_DSYNC, or fdatasync); only then advance the height and queue the
 * index entries (indexwriter.ts). A block is committed once its record is durable, and append
 * resolves then. Appends take effect in call order; those arriving while a write is in flight
 * are coalesced into the next single write + sync (group commit, groupcommit.ts).
 * open(dir): take the index lock, check the index checkpoint against the files and re-index
 * what lies past it, truncating a torn tail (recovery.ts). Reads go through a bounded LRU cache
 * and a bounded pool of read handles, and every record read is checksum-verified.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Block } from '../wire/gen/common/common_pb.js';
import { decodeBlock } from '../wire/block.js';
import {
  blockFileName,
  listBlockFiles,
  openWriter,
  readRecord,
  ReadHandlePool,
  type Writer,
} from './blockfiles.js';
import { BlockCache, type CachedBlock } from './cache.js';
import { resolveOptions, type BlockStoreOptions, type ResolvedOptions } from './config.js';
import { ioError, LedgerError } from './errors.js';
import {
  createIndexDb,
  decodeCheckpoint,
  lookupLocation,
  lookupTx,
  readCheckpoint,
  readFloor,
  writeFloor,
  type Checkpoint,
  type IndexDb,
} from './indexdb.js';
import { planBatch, type QueuedAppend } from './groupcommit.js';
import {
  dataHashError,
  dataHashMatches,
  dataHashMatchesSoon,
  parseBlock,
  type BlockFacts,
  type InspectedBlock,
} from './inspect.js';
import { IndexWriter } from './indexwriter.js';
import { encodeRecordHeader, RECORD_HEADER_BYTES } from './record.js';
import { EMPTY_CHECKPOINT, scanFromCheckpoint, verifyCheckpoint, type RecoveryReport } from './recovery.js';

export interface StoredBlock {
  readonly number: bigint;
  /** The block exactly as committed (do not mutate: it may be shared with the cache). */
  readonly bytes: Uint8Array;
  /** Decoded on first access. */
  readonly block: Block;
}

export interface AppendOptions {
  /** header.data_hash was checked against the data by the caller (see append). */
  readonly dataHashChecked?: boolean;
  /** How the block reached the peer (the state layer's payload source), for observers of appends. */
  readonly source?: string;
}

export interface LedgerStats {
  height: bigint;
  files: number;
  appends: number;
  /** Durable writes (one per group-commit batch): appends / writes is the mean batch size. */
  writes: number;
  bytesWritten: number;
  cacheHits: number;
  cacheMisses: number;
  cacheEvictions: number;
  cacheBlocks: number;
  cacheBytes: number;
  openReadHandles: number;
  /** Committed blocks whose index entries are not written yet, and index batches written. */
  indexPending: number;
  indexBatches: number;
}

export class BlockStore {
  private heightValue: bigint;
  private lastHash: Uint8Array | undefined;
  /** Appends waiting for the write loop, in call order. */
  private queue: QueuedAppend[] = [];
  /** The write loop runs (set before it starts, cleared when it ends). */
  private writing = false;
  /** A durable write is on the thread pool. */
  private writeInFlight = false;
  private draining: Promise<void> = Promise.resolve();
  /** An idle check is scheduled (whenIdle). */
  private idleCheck = false;
  private batches = 0;
  private readsInFlight = 0;
  private readsDrained: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private failure: LedgerError | undefined;
  private appends = 0;
  private bytesWritten = 0;
  private readonly cache: BlockCache;
  private readonly pool: ReadHandlePool;
  private readonly indexer: IndexWriter;

  private constructor(
    readonly dir: string,
    private readonly opts: ResolvedOptions,
    private readonly db: IndexDb,
    private writer: Writer,
    cp: Checkpoint,
    /** What open found and repaired. */
    readonly recovery: RecoveryReport,
  ) {
    this.heightValue = cp.height;
    this.lastHash = cp.lastHash;
    this.cache = new BlockCache(opts.cacheMaxBlocks, opts.cacheMaxBytes);
    this.pool = new ReadHandlePool(dir, opts.maxOpenFiles);
    this.indexer = new IndexWriter(db, opts.maxPendingIndex);
  }

  /** Opens (creating if needed) the store in dir, recovering from a crash if there was one. */
  static async open(dir: string, options?: BlockStoreOptions): Promise<BlockStore> {
    const opts = resolveOptions(options);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw ioError(`cannot create ledger folder ${dir}`, e);
    }
    const report: RecoveryReport = {
      rebuiltIndex: false,
      rebuildReason: undefined,
      checkpointHeight: 0n,
      reindexedBlocks: 0,
      truncatedBytes: 0,
      truncatedFile: undefined,
    };
    const indexDir = join(dir, 'index');
    let db = await openIndex(indexDir, report);
    let writer: Writer | undefined;
    try {
      const files = await listBlockFiles(dir);
      let cp = decodeCheckpoint(await readCheckpoint(db));
      let floor = await readFloor(db).catch(() => 0n);
      if (cp && (await verifyCheckpoint(dir, db, cp, files, opts.maxBlockBytes)) === 'index-damaged') {
        if (cp.height > floor) floor = cp.height; // the rebuild must get at least this far
        cp = undefined;
      }
      if (!cp) {
        const stale = (await db.keys({ limit: 1 }).all()).length > 0;
        if (stale) {
          await db.close();
          await rm(indexDir, { recursive: true, force: true });
          report.rebuiltIndex = true;
          report.rebuildReason = 'index checkpoint unreadable or inconsistent';
          db = await openIndex(indexDir, report);
        } else if (files.length > 0) {
          report.rebuiltIndex = true;
          report.rebuildReason ??= 'index is empty';
        }
        cp = EMPTY_CHECKPOINT;
        if (floor > 0n) await writeFloor(db, floor);
      }
      report.checkpointHeight = cp.height;
      const state = await scanFromCheckpoint(dir, db, cp, files, opts, report);
      if (state.height < floor) {
        throw new LedgerError(
          'CORRUPT',
          `ledger ${dir}: the block files hold ${state.height} blocks but ${floor} were committed`,
        );
      }
      if (report.rebuiltIndex || report.reindexedBlocks > 0) {
        opts.logger?.info(
          { dir, ...report, checkpointHeight: String(cp.height), height: String(state.height) },
          'ledger: re-indexed',
        );
      }
      writer = await openWriter(dir, files.length === 0 ? 0 : files.length - 1);
      return new BlockStore(dir, opts, db, writer, state.checkpoint, report);
    } catch (e) {
      await writer?.fh.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      throw e instanceof LedgerError ? e : ioError(`cannot open ledger ${dir}`, e);
    }
  }

  height(): bigint {
    return this.heightValue;
  }

  /** Hash of the last block header; undefined while the store is empty. */
  lastBlockHash(): Uint8Array | undefined {
    return this.lastHash ? new Uint8Array(this.lastHash) : undefined;
  }

  /**
   * Commits the next block (decoded or as received bytes; bytes are stored as given, never
   * re-encoded). Resolves with the new height once the block is durable (the write covering it
   * was synced); its index entries follow behind. Appends take effect in call order; those that
   * queue while a write is in flight are committed together (group commit, groupcommit.ts).
   * A caller that already decoded the bytes may pass the result as `decoded` (it must be exactly
   * decodeBlock(block)) to save decoding them again, or the BlockFacts it computed from them
   * (inspect.ts) to save the decode, the header hash, the tx ids and the data hash here.
   * `opts.dataHashChecked`: the caller already checked header.data_hash against the data
   * (MessageCryptoService.verifyBlock does, and the commit loop appends only verified blocks),
   * so it is not hashed again here; as Fabric's block store, which checks only the number and
   * previous_hash on add. Without it every append is data-hash checked.
   */
  append(block: Block | Uint8Array, decoded?: Block | BlockFacts, opts?: AppendOptions): Promise<bigint> {
    if (this.closing) return Promise.reject(closedError());
    let ib: InspectedBlock;
    try {
      ib = parseBlock(block, decoded);
    } catch (e) {
      return Promise.reject(e);
    }
    if (ib.bytes.length > this.opts.maxBlockBytes) {
      return Promise.reject(
        new LedgerError(
          'TOO_LARGE',
          `block ${ib.number} is ${ib.bytes.length} bytes, above maxBlockBytes ${this.opts.maxBlockBytes}`,
        ),
      );
    }
    return new Promise<bigint>((resolve, reject) => {
      // While a write is in flight this block waits anyway: check its data hash now. An idle
      // store instead checks it while the block's own write is in flight.
      const hashOk =
        opts?.dataHashChecked === true ? true : this.writeInFlight ? dataHashMatches(ib) : undefined;
      this.queue.push({ ib, hashOk, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        this.draining = this.drain();
      }
    });
  }

  /**
   * Appends the blocks in order (as many append calls). Resolves with the new height once all
   * are durable; rejects with the first failure (the blocks before it stay committed).
   */
  async appendMany(blocks: readonly (Block | Uint8Array)[]): Promise<bigint> {
    const results = await Promise.allSettled(blocks.map((b) => this.append(b)));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    return results.length > 0
      ? (results[results.length - 1] as PromiseFulfilledResult<bigint>).value
      : this.heightValue;
  }

  /** The write loop: one batch at a time until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.indexer.error !== undefined && !this.failure) {
          this.failure = new LedgerError(
            'FAILED',
            `ledger ${this.dir} failed: index write failed; reopen to recover`,
            { cause: this.indexer.error },
          );
        }
        if (this.failure) {
          for (const q of this.queue.splice(0)) q.reject(this.failure);
          return;
        }
        const plan = planBatch(
          this.queue,
          { height: this.heightValue, lastHash: this.lastHash },
          this.writer.offset,
          this.opts,
        );
        if (plan.kind === 'reject') {
          this.queue.shift()!.reject(plan.error);
          continue;
        }
        if (plan.rollOver) {
          try {
            await this.rollOver();
          } catch (e) {
            this.queue.shift()!.reject(e);
            continue;
          }
        }
        await this.commitBatch(this.queue.splice(0, plan.count), plan.checkHashDuringWrite);
        await this.indexer.backpressure();
      }
    } finally {
      this.writing = false;
      this.whenIdle();
    }
  }

  /**
   * Index entries wait for a batch (indexwriter.ts); once the store is idle (no write in flight,
   * nothing queued) on the next turn of the event loop, they are written.
   */
  private whenIdle(): void {
    if (this.idleCheck) return;
    this.idleCheck = true;
    setImmediate(() => {
      this.idleCheck = false;
      if (!this.writing) this.indexer.idle();
    });
  }

  /**
   * One durable write for the batch; then the tip advances, index entries are queued and the
   * appends resolve, in order. A single block not yet hash-checked is checked while its write
   * runs on the thread pool, and cut off again if the check fails.
   */
  private async commitBatch(batch: QueuedAppend[], checkHashDuringWrite: boolean): Promise<void> {
    const w = this.writer;
    const start = w.offset;
    this.writeInFlight = true;
    const write = this.writeDurable(w, batch);
    // while the write runs on the thread pool (a large block's hash goes there too)
    const hashing = checkHashDuringWrite ? dataHashMatchesSoon(batch[0].ib) : undefined;
    for (const q of batch) lazyFacts(q.ib); // computed now rather than after the write
    try {
      const [hashOk] = await Promise.all([hashing, write]);
      if (hashOk !== undefined) batch[0].hashOk = hashOk;
    } catch (e) {
      for (const q of batch) q.reject(e);
      return;
    } finally {
      this.writeInFlight = false;
    }
    if (batch[0].hashOk === false) {
      const err = dataHashError(batch[0].ib.number);
      await this.undoWrite(w, start, batch[0].ib.number, err);
      batch[0].reject(err);
      return;
    }
    // Committed. Index entries follow behind (indexwriter.ts).
    let offset = start;
    for (const q of batch) {
      const ib = q.ib;
      const size = RECORD_HEADER_BYTES + ib.bytes.length;
      const location = { file: w.file, offset, length: ib.bytes.length };
      offset += size;
      const cp: Checkpoint = {
        height: ib.number + 1n,
        file: w.file,
        endOffset: offset,
        lastHash: ib.headerHash,
      };
      this.heightValue = cp.height;
      this.lastHash = ib.headerHash;
      this.appends++;
      this.bytesWritten += size;
      this.indexer.push({ number: ib.number, location, txIds: ib.txIds }, cp);
    }
    w.offset = offset;
    this.batches++;
    for (const q of batch) q.resolve(q.ib.number + 1n);
  }

  /** One writev at the writer's offset, durable on return (O_DSYNC, or fdatasync where absent). */
  private async writeDurable(w: Writer, batch: readonly QueuedAppend[]): Promise<void> {
    const first = batch[0].ib.number;
    // names for the error messages, built only when one is needed
    const name = () => join(this.dir, blockFileName(w.file));
    const what = () =>
      batch.length === 1 ? `block ${first}` : `blocks ${first}..${batch[batch.length - 1].ib.number}`;
    const iov: Uint8Array[] = [];
    let total = 0;
    for (const q of batch) {
      iov.push(encodeRecordHeader(q.ib.bytes), q.ib.bytes);
      total += RECORD_HEADER_BYTES + q.ib.bytes.length;
    }
    try {
      const { bytesWritten } = await w.fh.writev(iov, w.offset);
      if (bytesWritten !== total) throw new Error(`short write: ${bytesWritten} of ${total} bytes`);
    } catch (e) {
      await this.undoWrite(w, w.offset, first, e);
      throw ioError(`cannot write ${what()} to ${name()}`, e);
    }
    if (w.dsync) return;
    try {
      await w.fh.datasync();
    } catch (e) {
      this.failure = new LedgerError(
        'FAILED',
        `ledger ${this.dir} failed: fdatasync of ${name()} failed; reopen to recover`,
        { cause: e },
      );
      throw ioError(`cannot sync ${what()} to ${name()}`, e);
    }
  }

  /** Cuts the file back to `offset`; if that fails the store is unusable. */
  private async undoWrite(w: Writer, offset: number, first: bigint, cause: unknown): Promise<void> {
    try {
      await w.fh.truncate(offset);
      await w.fh.datasync();
    } catch (e) {
      this.failure = new LedgerError(
        'FAILED',
        `ledger ${this.dir} failed: could not undo the write of block ${first} to ${blockFileName(w.file)} (${(e as Error).message})`,
        { cause },
      );
    }
  }

  private async rollOver(): Promise<void> {
    const next = this.writer.file + 1;
    const fresh = await openWriter(this.dir, next);
    const old = this.writer;
    this.writer = fresh;
    await old.fh.close().catch(() => undefined);
  }

  /** The committed bytes of block n; undefined when n >= height. */
  getBlockBytes(n: bigint): Promise<Uint8Array | undefined> {
    return this.track(async () => (await this.entry(n))?.bytes);
  }

  /** Block n (bytes and, on first access, decoded); undefined when n >= height. */
  getBlock(n: bigint): Promise<StoredBlock | undefined> {
    return this.track(async () => {
      const e = await this.entry(n);
      return e && storedBlock(n, e);
    });
  }

  /** The block holding the transaction with this tx id (first occurrence), and its index. */
  getBlockByTxId(txId: string): Promise<(StoredBlock & { readonly txIndex: number }) | undefined> {
    return this.track(async () => {
      this.checkOpen();
      // pending first (taken now): an entry leaves it only once it is on disk, where the lookup
      // then finds it; an earlier occurrence on disk wins over a pending one
      const pending = this.indexer.tx(txId);
      const hit = (await lookupTx(this.db, txId)) ?? pending;
      if (!hit || hit.number >= this.heightValue) return undefined;
      const e = await this.entry(hit.number);
      if (!e) return undefined;
      return Object.assign(storedBlock(hit.number, e), { txIndex: hit.txIndex });
    });
  }

  /**
   * Blocks from `from` up to but excluding `to` (default: the height when iteration reaches
   * them), in order, read one at a time.
   */
  async *blocks(from: bigint, to?: bigint): AsyncGenerator<StoredBlock, void, undefined> {
    for (let n = from < 0n ? 0n : from; (to === undefined || n < to) && n < this.heightValue; n++) {
      const b = await this.getBlock(n);
      if (!b) return;
      yield b;
    }
  }

  stats(): LedgerStats {
    return {
      height: this.heightValue,
      files: this.writer.file + 1,
      appends: this.appends,
      writes: this.batches,
      bytesWritten: this.bytesWritten,
      cacheHits: this.cache.stats.hits,
      cacheMisses: this.cache.stats.misses,
      cacheEvictions: this.cache.stats.evictions,
      cacheBlocks: this.cache.size,
      cacheBytes: this.cache.byteSize,
      openReadHandles: this.pool.size,
      indexPending: this.indexer.pending,
      indexBatches: this.indexer.batches,
    };
  }

  /** Waits for appends already accepted and reads in flight, then releases every handle. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.writing) await this.draining;
      await this.indexer.flush();
      if (this.readsInFlight > 0) await new Promise<void>((resolve) => (this.readsDrained = resolve));
      await this.pool.closeAll();
      await this.writer.fh.close().catch(() => undefined);
      await this.db.close().catch(() => undefined);
      this.cache.clear();
    })();
    return this.closing;
  }

  private async entry(n: bigint): Promise<CachedBlock | undefined> {
    this.checkOpen();
    if (n < 0n || n >= this.heightValue) return undefined;
    const cached = this.cache.get(n);
    if (cached) return cached;
    const loc = this.indexer.location(n) ?? lookupLocation(this.db, n);
    if (!loc)
      throw new LedgerError('CORRUPT', `ledger ${this.dir}: the index has no entry for committed block ${n}`);
    const bytes = await readRecord(this.pool, loc.file, loc.offset, loc.length);
    const e: CachedBlock = { bytes };
    this.cache.set(n, e);
    return e;
  }

  /** Counts a read in flight, so close() can wait for it before closing handles. */
  private async track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) throw closedError();
    this.readsInFlight++;
    try {
      return await fn();
    } finally {
      if (--this.readsInFlight === 0) this.readsDrained?.();
    }
  }

  private checkOpen(): void {
    if (this.closing) throw closedError();
  }
}

function storedBlock(n: bigint, e: CachedBlock): StoredBlock {
  return {
    number: n,
    bytes: e.bytes,
    get block(): Block {
      if (!e.block) {
        try {
          e.block = decodeBlock(e.bytes);
        } catch (err) {
          throw new LedgerError(
            'CORRUPT',
            `committed block ${n} does not decode: ${(err as Error).message}`,
            { cause: err },
          );
        }
      }
      return e.block;
    },
  };
}

/** Computes the header hash and tx ids of a block (lazy in InspectedBlock). */
function lazyFacts(ib: InspectedBlock): void {
  void ib.headerHash;
  void ib.txIds;
}

function closedError(): LedgerError {
  return new LedgerError('CLOSED', 'ledger is closed');
}

async function openIndex(path: string, report: RecoveryReport): Promise<IndexDb> {
  const db = createIndexDb(path);
  try {
    await db.open();
    return db;
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === 'LEVEL_LOCKED')
      throw new LedgerError('LOCKED', `ledger index ${path} is in use by another process`, { cause: e });
    report.rebuiltIndex = true;
    report.rebuildReason = `index did not open (${(e as { cause?: Error }).cause?.message ?? (e as Error).message})`;
  }
  try {
    await rm(path, { recursive: true, force: true });
    const fresh = createIndexDb(path);
    await fresh.open();
    return fresh;
  } catch (e) {
    throw ioError(`cannot recreate ledger index ${path}`, e);
  }
}
