/**
 * The alive-message store (PROTOCOL.md §4.3; Fabric's msgstore with the alive invalidation
 * policy): at most one gossiped alive message per PKI-ID.
 *
 *   checkValid(m): true unless the store holds a message of the same PKI-ID with an equal or
 *     newer timestamp (an equal copy is invalid too).
 *   add(m): replaces the older message of that PKI-ID; its TTL starts now.
 *   expire(now): messages older than TTL (aliveExpirationTimeout x msgExpirationFactor) are
 *     removed and handed to the expiry callback (discovery then removes the member unless it
 *     is a bootstrap or anchor peer).
 *   Bounded: beyond maxEntries the oldest entry is evicted (counted, not announced).
 */
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import type { Metrics } from '../../base/metrics.js';
import { isNewer } from './alive.js';
import type { AliveEnvelope } from './types.js';
import { METRICS } from '../../base/metric-table.js';

interface Entry {
  readonly alive: AliveEnvelope;
  readonly addedAt: number;
}

export class AliveStore {
  /** Insertion order = age order (a replaced entry is re-inserted at the end). */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly metrics?: Metrics,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  checkValid(a: AliveEnvelope): boolean {
    const e = this.entries.get(pkiIdKey(a.pkiId));
    return !e || isNewer(a.time, e.alive.time);
  }

  /** Add if valid; returns whether it was added. */
  add(a: AliveEnvelope, now: number): boolean {
    if (!this.checkValid(a)) return false;
    const key = pkiIdKey(a.pkiId);
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
      this.metrics?.counter(METRICS.gossipDiscoveryAliveStoreEvicted).inc();
    }
    this.entries.set(key, { alive: a, addedAt: now });
    this.updateSize();
    return true;
  }

  get(pkiId: PkiId): AliveEnvelope | undefined {
    return this.entries.get(pkiIdKey(pkiId))?.alive;
  }

  remove(pkiId: PkiId): void {
    if (this.entries.delete(pkiIdKey(pkiId))) this.updateSize();
  }

  /** Remove and return every message whose TTL ran out by `now`. */
  expire(now: number): AliveEnvelope[] {
    const out: AliveEnvelope[] = [];
    for (const [key, e] of this.entries) {
      if (now - e.addedAt <= this.ttlMs) break;
      this.entries.delete(key);
      out.push(e.alive);
    }
    if (out.length > 0) this.updateSize();
    return out;
  }

  clear(): void {
    this.entries.clear();
    this.updateSize();
  }

  private updateSize(): void {
    this.metrics?.gauge(METRICS.gossipDiscoveryAliveStoreSize).set(this.entries.size);
  }
}
