/**
 * StateInfo of channels we have not joined (PROTOCOL.md §5.6): kept at node level, newest per
 * PKI-ID, for publishStateInfoInterval x 100; the node re-gossips one when it is newer. Bounded
 * by maxEntries (expired entries go first, then the oldest; counted in gossip_channel_map_full).
 */
import { pkiIdKey } from '../../base/pkiid.js';
import type { Metrics } from '../../base/metrics.js';
import { peerTimeNewer, type StateInfoEnvelope } from './stateinfo.js';
import { METRICS } from '../../base/metric-table.js';

export class ForeignStateInfoStore {
  private readonly entries = new Map<string, { si: StateInfoEnvelope; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly metrics?: Metrics,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Keep `si` when newer than what is held for its PKI-ID; returns whether it was. */
  add(si: StateInfoEnvelope, nowMs: number): boolean {
    this.expire(nowMs);
    const key = pkiIdKey(si.pkiId);
    const old = this.entries.get(key);
    if (old && !peerTimeNewer(si.time, old.si.time)) return false;
    if (!old && this.entries.size >= this.maxEntries) {
      this.metrics?.counter(METRICS.gossipChannelMapFull).inc({ map: 'foreign_state_info' });
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(key);
    this.entries.set(key, { si, at: nowMs });
    return true;
  }

  expire(nowMs: number): void {
    for (const [k, v] of this.entries) {
      if (nowMs - v.at <= this.ttlMs) break;
      this.entries.delete(k);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
