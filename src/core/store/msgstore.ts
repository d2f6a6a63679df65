/**
 * One bounded, expiring, newest-wins message store (Fabric's gossip msgstore), sans-IO. It holds
 * the alive messages (PROTOCOL.md §4.3), the per-channel StateInfo cache (§5.3), the StateInfo of
 * channels not joined (§5.6), the block messages (§6.3) and the leadership messages (§7.2).
 *
 *   policy.compare(n, s), for an incoming message n and a held message s:
 *     'invalidated' -> n is a duplicate of s or older than it: n is refused;
 *     'invalidates' -> s is older: s goes when n is added;
 *     'none'        -> both may be held.
 *     policy.key(m) names a message; two held messages never share a key. With sameKeyOnly the
 *     policy declares that messages of different keys never invalidate each other, so only the
 *     held message of n's key is consulted (O(1)); otherwise every held message is (blocks).
 *   checkValid(n): no held message, expired ones included, invalidates n.
 *   add(n): refused ('invalid') unless valid. Victims = the held messages n invalidates (decided
 *     before anything is removed). If a capacity is set and held - |victims| >= capacity, the
 *     bound is hit (fullMetric counted): whenFull 'refuse' -> n refused ('full'), nothing removed;
 *     'evictOldest' -> the oldest held message goes. Then the victims go and n is appended with
 *     addedAt = clock.now() (never less than the previous addedAt, so addition order is age order).
 *   expire(): walking from the oldest, every live message older than ttlMs becomes expired:
 *     returned and announced (onRemove 'expired'); it is no longer listed (get, values, size) but
 *     still compared against ("seen") until it is older than ttlMs + keepExpiredMs, when it is
 *     deleted (keepExpiredMs 0: at once). The walk stops at the first message not older than ttlMs.
 *     With expiryCheckMs, start() runs expire() on the injected clock every expiryCheckMs.
 *   onRemove announces every live message that stops being live: 'replaced' (invalidated by a
 *     newer one), 'evicted' (capacity), 'expired'; remove / removeWhere / clear (the owner's own
 *     calls) are silent. sizeMetric is set to the number of live messages after each change.
 * The five stores (policy; TTL, seen period; capacity, when full; metrics):
 *   alive (discovery/alivestore.ts): newest PeerTime per PKI-ID; aliveExpirationTimeout x
 *     msgExpirationFactor, 0; maxAliveStore, evict oldest; grapevine_gossip_discovery_alive_store_evicted_total,
 *     grapevine_gossip_discovery_alive_store_size.
 *   StateInfo cache (channel/stores.ts): newest per PKI-ID; none (purged by the channel's upkeep);
 *     maxStateInfos, refuse; grapevine_gossip_channel_map_full_total{map=state_info},
 *     grapevine_gossip_channel_state_info_cached{channel}.
 *   foreign StateInfo (channel/stores.ts): newest per PKI-ID; publishStateInfoInterval x 100, 0;
 *     maxForeignStateInfos, evict oldest; grapevine_gossip_channel_map_full_total{map=foreign_state_info}.
 *   leadership (channel/stores.ts): newest per PKI-ID; leaderAliveThreshold x 10, 0;
 *     maxStateInfos, refuse; grapevine_gossip_channel_map_full_total{map=leadership}.
 *   blocks (channel/blockstore.ts): seq_num window of maxBlockCountToStore; pullInterval x 100,
 *     the same again; none (the policy bounds it); grapevine_gossip_block_store_size{channel}.
 * Invariants (InvariantError): size <= capacity; no held message invalidates another (policy
 *   consistency: checked for every message added); after expire() nothing is older than
 *   ttlMs + keepExpiredMs and no live message older than ttlMs; checkInvariants() checks all of
 *   them over the whole store (property tests).
 */
import { invariant } from '../../base/errors.js';
import type { CounterDef, GaugeDef } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import type { Clock, TimerHandle } from '../../base/time.js';

export type Verdict = 'invalidated' | 'invalidates' | 'none';

export interface ReplacePolicy<T, K> {
  key(m: T): K;
  /** What an incoming message does to a held one (see the top of this file). */
  compare(incoming: T, held: T): Verdict;
  /** Messages of different keys never invalidate each other. */
  readonly sameKeyOnly: boolean;
}

/**
 * Newest per key: of two messages with the same key the strictly newer one wins; an equal or
 * older one is invalid (alive, StateInfo and leadership messages: PeerTime order).
 */
export function newestPerKey<T, K>(key: (m: T) => K, newer: (a: T, b: T) => boolean): ReplacePolicy<T, K> {
  return { key, sameKeyOnly: true, compare: (n, s) => (newer(n, s) ? 'invalidates' : 'invalidated') };
}

/** A metric of the table (base/metric-table.ts) and the label values this store reports it with. */
export interface MetricRef<D> {
  readonly def: D;
  readonly labels?: Readonly<Record<string, string>>;
}

export type RemoveReason = 'replaced' | 'evicted' | 'expired';
export type AddResult = 'added' | 'invalid' | 'full';

export interface MessageStoreOptions<T, K, Id = K> {
  readonly clock: Clock;
  readonly policy: ReplacePolicy<T, K>;
  /** The key of an id that get / remove take (e.g. a PKI-ID's hex); default: the id is the key. */
  readonly keyOf?: (id: Id) => K;
  /** A message held for longer than this (ms) expires; undefined: never. */
  readonly ttlMs?: number;
  /** How long (ms) an expired message is still compared against before it is deleted. Default 0. */
  readonly keepExpiredMs?: number;
  /** start() runs expire() every this many ms. */
  readonly expiryCheckMs?: number;
  /** At most this many held messages (expired ones still compared against included); >= 1. */
  readonly capacity?: number;
  /** A message that finds the store at capacity: refused, or the oldest goes. Default 'refuse'. */
  readonly whenFull?: 'refuse' | 'evictOldest';
  /** A live message stopped being live (not called for remove, removeWhere, clear). */
  readonly onRemove?: (m: T, reason: RemoveReason) => void;
  readonly metrics?: Metrics;
  /** Counter incremented each time the capacity bound is hit. */
  readonly fullMetric?: MetricRef<CounterDef>;
  /** Gauge set to the number of live messages. */
  readonly sizeMetric?: MetricRef<GaugeDef>;
}

interface Entry<T> {
  readonly msg: T;
  readonly addedAt: number;
  expired: boolean;
}

export class MessageStore<T, K = string, Id = K> {
  /** Addition order = age order (a replaced message is deleted, its successor appended). */
  private readonly entries = new Map<K, Entry<T>>();
  private readonly policy: ReplacePolicy<T, K>;
  private readonly ttlMs: number;
  private readonly keepExpiredMs: number;
  private live = 0;
  private lastAddedAt = -Infinity;
  private timer?: TimerHandle;
  private stopped = false;
  /** The size gauge and its labels (null: none), resolved on first use. */
  private sizeGauge?: {
    readonly gauge: ReturnType<Metrics['gauge']>;
    readonly labels: Record<string, string>;
  } | null;
  /** Clock time of the last expire(). */
  private lastExpireAt?: number;

  private readonly keyOf: (id: Id) => K;

  constructor(private readonly opts: MessageStoreOptions<T, K, Id>) {
    this.policy = opts.policy;
    this.keyOf = opts.keyOf ?? ((id) => id as unknown as K);
    this.ttlMs = opts.ttlMs ?? Infinity;
    this.keepExpiredMs = opts.keepExpiredMs ?? 0;
    if (opts.capacity !== undefined && !(opts.capacity >= 1))
      throw new RangeError(`message store capacity must be at least 1, got ${opts.capacity}`);
  }

  /** Live (unexpired) messages. */
  get size(): number {
    return this.live;
  }

  /** Held messages, expired ones still compared against included. */
  get held(): number {
    return this.entries.size;
  }

  /** Run expire() every expiryCheckMs (when set) until stop(). */
  start(): void {
    if (this.stopped || this.timer || this.opts.expiryCheckMs === undefined) return;
    this.timer = this.opts.clock.setInterval(() => this.expire(), Math.max(1, this.opts.expiryCheckMs));
  }

  /** Idempotent; the store stays usable, only the timer ends (for good). */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Would `m` be added as far as the policy goes (capacity aside)? */
  checkValid(m: T): boolean {
    const p = this.policy;
    if (p.sameKeyOnly) {
      const e = this.entries.get(p.key(m));
      return !e || p.compare(m, e.msg) !== 'invalidated';
    }
    for (const e of this.entries.values()) if (p.compare(m, e.msg) === 'invalidated') return false;
    return true;
  }

  add(m: T): AddResult {
    const p = this.policy;
    const key = p.key(m);
    // the held messages m invalidates: m's key only (keyed policy), or any (then listed)
    let victims: K[] | undefined;
    let sameKeyVictim = false;
    if (p.sameKeyOnly) {
      const e = this.entries.get(key);
      if (e) {
        const v = p.compare(m, e.msg);
        if (v === 'invalidated') return 'invalid';
        invariant(v === 'invalidates', 'message store: a policy left two messages of one key side by side');
        sameKeyVictim = true;
      }
    } else {
      for (const [k, e] of this.entries) {
        const v = p.compare(m, e.msg);
        if (v === 'invalidated') return 'invalid';
        if (v === 'invalidates') (victims ??= []).push(k);
      }
      invariant(
        !this.entries.has(key) || (victims !== undefined && victims.includes(key)),
        'message store: a policy left two messages of one key side by side',
      );
    }
    const cap = this.opts.capacity;
    let evict = false;
    if (cap !== undefined && this.entries.size - (victims?.length ?? (sameKeyVictim ? 1 : 0)) >= cap) {
      this.countFull();
      if ((this.opts.whenFull ?? 'refuse') === 'refuse') return 'full';
      evict = true;
    }
    let removed: [T, RemoveReason][] | undefined;
    if (sameKeyVictim) removed = this.delete(key, 'replaced', removed);
    if (victims) for (const k of victims) removed = this.delete(k, 'replaced', removed);
    if (evict) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) removed = this.delete(oldest.value, 'evicted', removed);
    }
    const addedAt = Math.max(this.opts.clock.now(), this.lastAddedAt);
    this.lastAddedAt = addedAt;
    this.entries.set(key, { msg: m, addedAt, expired: false });
    this.live++;
    invariant(cap === undefined || this.entries.size <= cap, 'message store: above its capacity');
    if (!p.sameKeyOnly) {
      for (const [k, e] of this.entries)
        invariant(
          k === key || p.compare(e.msg, m) === 'none',
          'message store: the policy is not symmetric (a held message invalidates the one just added)',
        );
    }
    this.changed();
    if (removed) this.announce(removed);
    return 'added';
  }

  /** The live message of this id. */
  get(id: Id): T | undefined {
    const e = this.entries.get(this.keyOf(id));
    return e && !e.expired ? e.msg : undefined;
  }

  /** Live messages, oldest first. */
  values(): T[] {
    const out: T[] = [];
    for (const e of this.entries.values()) if (!e.expired) out.push(e.msg);
    return out;
  }

  /** Forget the message of this id (silently); returns it when it was live. */
  remove(id: Id): T | undefined {
    const key = this.keyOf(id);
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.delete(key);
    this.changed();
    return e.expired ? undefined : e.msg;
  }

  /** Forget every held message `pred` selects (silently); returns how many were live. */
  removeWhere(pred: (m: T) => boolean): number {
    let n = 0;
    let any = false;
    for (const [k, e] of this.entries) {
      if (!pred(e.msg)) continue;
      if (!e.expired) n++;
      this.delete(k);
      any = true;
    }
    if (any) this.changed();
    return n;
  }

  /** Expire (and delete, see the top) by the clock's now; returns the messages that expired now. */
  expire(): T[] {
    if (this.ttlMs === Infinity) return [];
    const now = this.opts.clock.now();
    const out: T[] = [];
    for (const [k, e] of this.entries) {
      const age = now - e.addedAt;
      if (age <= this.ttlMs) break;
      if (!e.expired) {
        e.expired = true;
        this.live--;
        out.push(e.msg);
      }
      if (age > this.ttlMs + this.keepExpiredMs) this.entries.delete(k);
    }
    this.lastExpireAt = now;
    const oldest = this.entries.values().next();
    invariant(
      oldest.done ||
        now - oldest.value.addedAt <= this.ttlMs + (oldest.value.expired ? this.keepExpiredMs : 0),
      'message store: an expired message outlived its expiry',
    );
    this.changed();
    this.announce(out.map((m) => [m, 'expired']));
    return out;
  }

  clear(): void {
    this.entries.clear();
    this.live = 0;
    this.changed();
  }

  /** Every invariant over the whole store (O(n) keyed, O(n²) otherwise); throws InvariantError. */
  checkInvariants(): void {
    const p = this.policy;
    const cap = this.opts.capacity;
    invariant(cap === undefined || this.entries.size <= cap, 'message store: above its capacity');
    const all = [...this.entries];
    let live = 0;
    let prev = -Infinity;
    for (const [k, e] of all) {
      invariant(p.key(e.msg) === k, 'message store: a message is held under another key');
      invariant(e.addedAt >= prev, 'message store: addition order is not age order');
      prev = e.addedAt;
      if (!e.expired) live++;
      // as of the last expire(): nothing older than ttl + keep, nothing live older than ttl
      const t = this.lastExpireAt;
      if (t !== undefined && e.addedAt <= t) {
        invariant(
          t - e.addedAt <= this.ttlMs + this.keepExpiredMs,
          'message store: an expired message outlived its expiry',
        );
        invariant(e.expired || t - e.addedAt <= this.ttlMs, 'message store: a message past its TTL is live');
      }
    }
    invariant(live === this.live, 'message store: live count is off');
    if (p.sameKeyOnly) return;
    for (const [ka, a] of all)
      for (const [kb, b] of all)
        invariant(
          ka === kb || p.compare(a.msg, b.msg) === 'none',
          'message store: a held message invalidates another',
        );
  }

  /** Delete a held message; a live one is listed in `removed` (created when needed) under `reason`. */
  private delete(
    key: K,
    reason?: RemoveReason,
    removed?: [T, RemoveReason][],
  ): [T, RemoveReason][] | undefined {
    const e = this.entries.get(key);
    if (!e) return removed;
    this.entries.delete(key);
    if (e.expired) return removed;
    this.live--;
    if (!reason || !this.opts.onRemove) return removed;
    (removed ??= []).push([e.msg, reason]);
    return removed;
  }

  private announce(removed: readonly (readonly [T, RemoveReason])[]): void {
    const f = this.opts.onRemove;
    if (f) for (const [m, reason] of removed) f(m, reason);
  }

  private countFull(): void {
    const ref = this.opts.fullMetric;
    const metrics = this.opts.metrics;
    if (!ref || !metrics) return;
    metrics.counter(ref.def).inc(ref.labels ?? {});
  }

  private changed(): void {
    if (this.sizeGauge === undefined) {
      const ref = this.opts.sizeMetric;
      const metrics = this.opts.metrics;
      if (!ref || !metrics) {
        this.sizeGauge = null;
        return;
      }
      this.sizeGauge = { gauge: metrics.gauge(ref.def), labels: ref.labels ?? {} };
    }
    this.sizeGauge?.gauge.set(this.sizeGauge.labels, this.live);
  }
}
