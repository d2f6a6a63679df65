/**
 * Writes index batches behind the commit path. A block is committed (and append resolves) once
 * its record is durable; its index entries are then queued here and written in order, many
 * blocks per batch: a batch starts once half of maxPending blocks wait, when the store goes idle
 * (idle()), or on flush(), never on a timer. Until written, reads find the block through the
 * pending maps. At most maxPending blocks wait: beyond that, add() waits for the writer
 * (backpressure). A crash loses only queued entries, which recovery rebuilds from the block files.
 */
import {
  indexBlocks,
  type BlockLocation,
  type Checkpoint,
  type IndexDb,
  type IndexedBlock,
} from './indexdb.js';

export class IndexWriter {
  private queue: { block: IndexedBlock; cp: Checkpoint }[] = [];
  private readonly locations = new Map<bigint, BlockLocation>();
  private readonly txs = new Map<string, { number: bigint; txIndex: number }>();
  private pump: Promise<void> | undefined;
  /** A batch starts once this many blocks wait (or on idle() or flush()). */
  private readonly startAt: number;
  /** idle(), flush() or backpressure asked for everything waiting to be written. */
  private drainAll = false;
  /** The first index write failure; the store refuses appends after it. */
  error: unknown;
  batches = 0;

  constructor(
    private readonly db: IndexDb,
    private readonly maxPending: number,
  ) {
    this.startAt = Math.max(1, Math.ceil(maxPending / 2));
  }

  /** Queues the entries of a committed block and the checkpoint after it; waits while over maxPending. */
  async add(block: IndexedBlock, cp: Checkpoint): Promise<void> {
    this.push(block, cp);
    await this.backpressure();
  }

  /** Queues the entries of a committed block and the checkpoint after it, without waiting. */
  push(block: IndexedBlock, cp: Checkpoint): void {
    this.locations.set(block.number, block.location);
    block.txIds.forEach((id, i) => {
      if (id !== '' && !this.txs.has(id)) this.txs.set(id, { number: block.number, txIndex: i });
    });
    this.queue.push({ block, cp });
    if (this.queue.length >= this.startAt) this.start();
  }

  /** The store has nothing to write: write what waits. */
  idle(): void {
    this.drainAll = true;
    this.start();
  }

  /** Resolves once at most maxPending blocks wait for their entries (or the writer failed). */
  async backpressure(): Promise<void> {
    while (this.locations.size > this.maxPending && this.error === undefined) {
      this.drainAll = true;
      this.start();
      await this.pump;
    }
  }

  location(n: bigint): BlockLocation | undefined {
    return this.locations.get(n);
  }

  tx(id: string): { number: bigint; txIndex: number } | undefined {
    return this.txs.get(id);
  }

  get pending(): number {
    return this.locations.size;
  }

  /** Resolves when every queued entry is written (or the writer failed). */
  async flush(): Promise<void> {
    while ((this.queue.length > 0 || this.pump) && this.error === undefined) {
      this.drainAll = true;
      this.start();
      await this.pump;
    }
  }

  /** Starts the writer if entries wait and it is not running (nor failed). */
  private start(): void {
    if (this.queue.length > 0 && this.error === undefined) this.pump ??= this.run();
  }

  private async run(): Promise<void> {
    try {
      // start after the appends that queued these entries have resolved (off their path)
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length >= this.startAt || (this.drainAll && this.queue.length > 0)) {
        this.drainAll = false;
        const batch = this.queue;
        this.queue = [];
        await indexBlocks(
          this.db,
          batch.map((b) => b.block),
          batch[batch.length - 1].cp,
        );
        this.batches++;
        for (const { block } of batch) {
          this.locations.delete(block.number);
          for (const id of block.txIds) if (this.txs.get(id)?.number === block.number) this.txs.delete(id);
        }
      }
    } catch (e) {
      this.error = e; // entries stay in the pending maps, so committed blocks remain readable
    } finally {
      this.pump = undefined;
    }
  }
}
