/**
 * The channel layer's newest-per-PKI-ID stores, each the message store (core/store/msgstore.ts)
 * with the PeerTime policy (a message replaces the held one of its PKI-ID only when strictly
 * newer; an equal or older one is invalid):
 *   StateInfo cache (§5.3), per channel: no TTL (purged by the channel's upkeep); a new PKI-ID
 *     beyond maxStateInfos is refused (grapevine_gossip_channel_map_full_total{map=state_info}); size in
 *     grapevine_gossip_channel_state_info_cached{channel}.
 *   foreign StateInfo (§5.6), node level, channels not joined: TTL publishStateInfoInterval x 100
 *     (expired on each add); beyond maxForeignStateInfos the oldest goes
 *     (grapevine_gossip_channel_map_full_total{map=foreign_state_info}).
 *   leadership (§7.2), per channel: the PeerTime of the last message per PKI-ID, TTL
 *     leaderAliveThreshold x 10 (expired by the channel's upkeep); a new PKI-ID beyond
 *     maxStateInfos is refused (grapevine_gossip_channel_map_full_total{map=leadership}).
 */
import { pkiIdKey, type PkiId } from '../../base/pkiid.js';
import type { Clock } from '../../base/time.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import { MessageStore, newestPerKey, type MetricRef } from '../store/msgstore.js';
import { peerTimeNewer, type PeerTime, type StateInfoEnvelope } from './stateinfo.js';

export type StateInfoCache = MessageStore<StateInfoEnvelope, string, PkiId>;
export type ForeignStateInfoStore = MessageStore<StateInfoEnvelope, string, PkiId>;

/** A leadership message as the store keeps it. */
export interface LeaderStamp {
  readonly pkiId: PkiId;
  readonly time: PeerTime;
}
export type LeadershipStore = MessageStore<LeaderStamp, string, PkiId>;

const mapFull = (map: string): MetricRef<CounterDef> => ({
  def: METRICS.grapevineGossipChannelMapFullTotal,
  labels: { map },
});

const newestByPeerTime = <T extends { readonly pkiId: PkiId; readonly time: PeerTime }>(
  key: (id: PkiId) => string,
) =>
  newestPerKey<T, string>(
    (m) => key(m.pkiId),
    (a, b) => peerTimeNewer(a.time, b.time),
  );

export function createStateInfoCache(o: {
  readonly channel: string;
  readonly clock: Clock;
  readonly maxEntries: number;
  readonly metrics?: Metrics;
}): StateInfoCache {
  return new MessageStore({
    clock: o.clock,
    policy: newestByPeerTime<StateInfoEnvelope>(pkiIdKey),
    keyOf: pkiIdKey,
    capacity: o.maxEntries,
    whenFull: 'refuse',
    metrics: o.metrics,
    fullMetric: mapFull('state_info'),
    sizeMetric: { def: METRICS.grapevineGossipChannelStateInfoCached, labels: { channel: o.channel } },
  });
}

export function createForeignStateInfoStore(o: {
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly metrics?: Metrics;
}): ForeignStateInfoStore {
  return new MessageStore({
    clock: o.clock,
    policy: newestByPeerTime<StateInfoEnvelope>(pkiIdKey),
    keyOf: pkiIdKey,
    ttlMs: o.ttlMs,
    capacity: o.maxEntries,
    whenFull: 'evictOldest',
    metrics: o.metrics,
    fullMetric: mapFull('foreign_state_info'),
  });
}

export function createLeadershipStore(o: {
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly metrics?: Metrics;
}): LeadershipStore {
  return new MessageStore({
    clock: o.clock,
    policy: newestByPeerTime<LeaderStamp>(pkiIdKey),
    keyOf: pkiIdKey,
    ttlMs: o.ttlMs,
    capacity: o.maxEntries,
    whenFull: 'refuse',
    metrics: o.metrics,
    fullMetric: mapFull('leadership'),
  });
}
