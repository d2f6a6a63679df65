/**
 * LRU cache of recently read or appended blocks, bounded by block count and by bytes.
 * Entries keep the raw bytes and the decoded block once someone asked for it.
 */
import type { Block } from '../wire/gen/common/common_pb.js';

export interface CachedBlock {
  readonly bytes: Uint8Array;
  block?: Block;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
}

export class BlockCache {
  private readonly map = new Map<bigint, CachedBlock>();
  private bytes = 0;
  readonly stats: CacheStats = { hits: 0, misses: 0, evictions: 0 };

  constructor(
    private readonly maxBlocks: number,
    private readonly maxBytes: number,
  ) {}

  get(n: bigint): CachedBlock | undefined {
    const e = this.map.get(n);
    if (!e) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.map.delete(n);
    this.map.set(n, e);
    return e;
  }

  set(n: bigint, entry: CachedBlock): void {
    if (entry.bytes.length > this.maxBytes || this.maxBlocks === 0) return;
    const old = this.map.get(n);
    if (old) {
      this.map.delete(n);
      this.bytes -= old.bytes.length;
    }
    this.map.set(n, entry);
    this.bytes += entry.bytes.length;
    for (const [k, e] of this.map) {
      if (this.map.size <= this.maxBlocks && this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= e.bytes.length;
      this.stats.evictions++;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }
}
