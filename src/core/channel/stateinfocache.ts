/**
 * The per-channel StateInfo cache (PROTOCOL.md §5.3): the newest StateInfo per PKI-ID.
 * `add` keeps a message only when it is strictly newer (PeerTime) than the cached one; bounded
 * by maxEntries (a new PKI-ID beyond it is refused and counted in gossip_channel_map_full).
 */
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import type { Metrics } from '../../base/metrics.js';
import { peerTimeNewer, type StateInfoEnvelope } from './stateinfo.js';
import { METRICS } from '../../base/metric-table.js';

export type CacheAddResult = 'added' | 'stale' | 'full';

export class StateInfoCache {
  private readonly entries = new Map<string, StateInfoEnvelope>();

  constructor(
    private readonly channel: string,
    private readonly maxEntries: number,
    private readonly metrics?: Metrics,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Would `si` be added (newer than the cached entry, or the first for its PKI-ID)? */
  isNewer(si: StateInfoEnvelope): boolean {
    const old = this.entries.get(pkiIdKey(si.pkiId));
    return !old || peerTimeNewer(si.time, old.time);
  }

  add(si: StateInfoEnvelope): CacheAddResult {
    const key = pkiIdKey(si.pkiId);
    const old = this.entries.get(key);
    if (old && !peerTimeNewer(si.time, old.time)) return 'stale';
    if (!old && this.entries.size >= this.maxEntries) {
      this.metrics?.counter(METRICS.gossipChannelMapFull).inc({ map: 'state_info' });
      return 'full';
    }
    this.entries.set(key, si);
    this.gauge();
    return 'added';
  }

  get(pkiId: PkiId): StateInfoEnvelope | undefined {
    return this.entries.get(pkiIdKey(pkiId));
  }

  values(): StateInfoEnvelope[] {
    return [...this.entries.values()];
  }

  /** Remove every entry `pred` selects; returns how many. */
  removeWhere(pred: (si: StateInfoEnvelope) => boolean): number {
    let n = 0;
    for (const [k, si] of [...this.entries]) {
      if (pred(si)) {
        this.entries.delete(k);
        n++;
      }
    }
    if (n > 0) this.gauge();
    return n;
  }

  clear(): void {
    this.entries.clear();
    this.gauge();
  }

  private gauge(): void {
    this.metrics
      ?.gauge(METRICS.gossipChannelStateInfoCached)
      .set({ channel: this.channel }, this.entries.size);
  }
}
