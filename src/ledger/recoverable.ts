/**
 * A channel's BlockStore that can be brought back in place after it failed. The store refuses
 * every append once a write or a sync failed (disk full, an I/O error), since what is durable
 * is then unknown; reopening its folder runs the crash recovery (a torn tail truncated, the
 * index caught up), which is what a restart did. recover() does that without a restart:
 * close the failed store (errors ignored), open the folder again; while the cause remains the
 * open or the next append fails again and the caller retries later. Everyone holding this
 * object (the state layer, the Deliver source, catch-up serving) sees the new store at once.
 */
import type { Block } from '../wire/gen/common/common_pb.js';
import type { BlockFacts } from './inspect.js';
import { BlockStore, type AppendOptions } from './store.js';
import type { BlockStoreOptions } from './config.js';

export class RecoverableLedger {
  private recovering: Promise<void> | undefined;

  constructor(
    private store: BlockStore,
    private readonly dir: string,
    private readonly options?: BlockStoreOptions,
  ) {}

  height(): bigint {
    return this.store.height();
  }

  append(block: Uint8Array, decoded?: Block | BlockFacts, opts?: AppendOptions): Promise<bigint> {
    return this.store.append(block, decoded, opts);
  }

  getBlockBytes(n: bigint): Promise<Uint8Array | undefined> {
    return this.store.getBlockBytes(n);
  }

  /** Reopen the folder (once at a time); rejects when it cannot be opened. */
  recover(): Promise<void> {
    this.recovering ??= (async () => {
      try {
        await this.store.close().catch(() => undefined);
        this.store = await BlockStore.open(this.dir, this.options);
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
