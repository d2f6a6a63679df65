/**
 * Block store options: every field with its default and meaning, validated on open.
 */
import { ConfigError } from '../base/errors.js';

export interface LedgerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BlockStoreOptions {
  /** A block file rolls over once the next record would take it past this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Larger blocks are refused with TOO_LARGE. Default 256 MiB. */
  maxBlockBytes?: number;
  /** Read cache bound, in blocks. Default 64. 0 disables the cache. */
  cacheMaxBlocks?: number;
  /** Read cache bound, in bytes. Default 32 MiB. */
  cacheMaxBytes?: number;
  /** Read handles kept open across block files. Default 8. */
  maxOpenFiles?: number;
  /** Committed blocks whose index entries may wait to be written before append waits. Default 64. */
  maxPendingIndex?: number;
  /** Group commit: most blocks in one durable write. Default 256. 1 = one write per block. */
  maxBatchBlocks?: number;
  /** Group commit: most bytes in one durable write (a larger single block still goes alone). Default 16 MiB. */
  maxBatchBytes?: number;
  /** Blocks per index batch when re-indexing on open. Default 256. */
  reindexBatchBlocks?: number;
  /** pino-compatible logger for recovery events; silent when absent. */
  logger?: LedgerLogger;
}

export type ResolvedOptions = Required<Omit<BlockStoreOptions, 'logger'>> & {
  logger: LedgerLogger | undefined;
};

export const LEDGER_DEFAULTS: Required<Omit<BlockStoreOptions, 'logger'>> = {
  maxFileBytes: 64 * 1024 * 1024,
  maxBlockBytes: 256 * 1024 * 1024,
  cacheMaxBlocks: 64,
  cacheMaxBytes: 32 * 1024 * 1024,
  maxOpenFiles: 8,
  maxPendingIndex: 64,
  maxBatchBlocks: 256,
  maxBatchBytes: 16 * 1024 * 1024,
  reindexBatchBlocks: 256,
};

export function resolveOptions(opts: BlockStoreOptions = {}): ResolvedOptions {
  const out = { ...LEDGER_DEFAULTS, logger: opts.logger };
  const minimum: Record<keyof typeof LEDGER_DEFAULTS, number> = {
    maxFileBytes: 1024,
    maxBlockBytes: 1,
    cacheMaxBlocks: 0,
    cacheMaxBytes: 0,
    maxOpenFiles: 1,
    maxPendingIndex: 0,
    maxBatchBlocks: 1,
    maxBatchBytes: 1,
    reindexBatchBlocks: 1,
  };
  for (const key of Object.keys(LEDGER_DEFAULTS) as (keyof typeof LEDGER_DEFAULTS)[]) {
    const v = opts[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < minimum[key]) {
      throw new ConfigError(
        'BAD_CONFIG',
        `ledger option ${key} must be an integer >= ${minimum[key]}, got ${String(v)}`,
      );
    }
    out[key] = v;
  }
  if (out.maxBlockBytes > 0xffff_fff0) {
    throw new ConfigError(
      'BAD_CONFIG',
      `ledger option maxBlockBytes must be below 4 GiB, got ${out.maxBlockBytes}`,
    );
  }
  return out;
}
