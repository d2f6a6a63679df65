/**
 * Writes index batches behind the commit path. A block is committed (and append resolves) once
 * its record is durable; its index entries are then queued here and written in order, several
 * blocks per batch when they pile up. Until written, reads find the block through the pending
 * maps. At most maxPending blocks wait: beyond that, add() waits for the writer (backpressure).
 * A crash loses only queued entries, which recovery rebuilds from the block files.
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
  /** The first index write failure; the store refuses appends after it. */
  error: unknown;
  batches = 0;

  constructor(
    private readonly db: IndexDb,
    private readonly maxPending: number,
  ) {}

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
    this.pump ??= this.run();
  }

  /** Resolves once at most maxPending blocks wait for their entries (or the writer failed). */
  async backpressure(): Promise<void> {
    while (this.locations.size > this.maxPending && this.pump) await this.pump;
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
    await this.pump;
  }

  private async run(): Promise<void> {
    try {
      // start after the appends that queued these entries have resolved (off their path)
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0 && this.error === undefined) {
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
