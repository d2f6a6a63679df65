/**
 * The alive-message store (PROTOCOL.md §4.3): the message store (core/store/msgstore.ts) with
 * the alive policy, at most one gossiped alive message per PKI-ID.
 *
 *   checkValid(m): true unless the store holds a message of the same PKI-ID with an equal or
 *     newer PeerTime (an equal copy is invalid too).
 *   add(m): replaces the older message of that PKI-ID; its TTL starts now.
 *   expire(): messages held longer than TTL (aliveExpirationTimeout x msgExpirationFactor) are
 *     removed and returned (discovery then removes the member unless it is a bootstrap or anchor
 *     peer).
 *   Bounded: beyond maxEntries the oldest entry is evicted (grapevine_gossip_discovery_alive_store_evicted_total).
 */
import { pkiIdKey, type PkiId } from '../../base/pkiid.js';
import type { Clock } from '../../base/time.js';
import { METRICS } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import { MessageStore, newestPerKey } from '../store/msgstore.js';
import { isNewer } from './alive.js';
import type { AliveEnvelope } from './types.js';

export type AliveStore = MessageStore<AliveEnvelope, string, PkiId>;

export function createAliveStore(o: {
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly metrics?: Metrics;
}): AliveStore {
  return new MessageStore({
    clock: o.clock,
    policy: newestPerKey(
      (a: AliveEnvelope) => pkiIdKey(a.pkiId),
      (a, b) => isNewer(a.time, b.time),
    ),
    keyOf: pkiIdKey,
    ttlMs: o.ttlMs,
    capacity: o.maxEntries,
    whenFull: 'evictOldest',
    metrics: o.metrics,
    fullMetric: { def: METRICS.grapevineGossipDiscoveryAliveStoreEvictedTotal },
    sizeMetric: { def: METRICS.grapevineGossipDiscoveryAliveStoreSize },
  });
}
