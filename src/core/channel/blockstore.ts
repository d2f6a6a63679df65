/**
 * The per-channel block message store (PROTOCOL.md §6.3; Fabric's msgstore with the DataMessage
 * comparator), sans-IO.
 *
 *   Replacement policy between a new block n and each stored block s:
 *     n = s                          -> the new one is a duplicate: refused;
 *     |n - s| <= maxBlockCountToStore -> both kept;
 *     otherwise                       -> the older of the two goes (a new block far behind a
 *                                        stored one is refused; stored blocks far behind it
 *                                        are evicted).
 *     Refusal is decided before anything is evicted (in reachable states the same outcome as
 *     Fabric's single pass: stored blocks are never more than 2 x maxBlockCountToStore apart).
 *   TTL: a block older than ttl (pullInterval x 100 = 400 s) is expired: no longer returned,
 *     counted or offered for pull, but still compared against (still "seen") until 2 x ttl,
 *     when it is deleted. Checked every ttl / 100.
 *   Evicted and expired blocks are announced through onRemove (the block puller drops them from
 *     its pull store). The policy bounds the store to about maxBlockCountToStore + 1 blocks.
 */
import type { Clock, TimerHandle } from '../../base/time.js';
import { silentLogger, type Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';

export interface StoredBlock {
  readonly seqNum: bigint;
  /** The DataMessage envelope exactly as received (or as built by the originator). */
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  /** Clock ms when it was added. */
  readonly addedAt: number;
}

interface Entry extends StoredBlock {
  expired: boolean;
}

export type BlockRemoval = 'evicted' | 'expired';

export interface BlockMessageStoreOptions {
  readonly clock: Clock;
  /** `peer.gossip.maxBlockCountToStore`: largest seq_num distance kept. Fabric default 10. */
  readonly maxBlockCountToStore?: number;
  /** TTL (ms); Fabric: pullInterval x 100 = 400 s. */
  readonly ttlMs?: number;
  /** A stored (not yet expired) block was evicted or expired. */
  readonly onRemove?: (seqNum: bigint, reason: BlockRemoval) => void;
  readonly channel?: string;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

export const BLOCK_STORE_DEFAULTS = { maxBlockCountToStore: 10, ttlMs: 4000 * 100 } as const;

export class BlockMessageStore {
  readonly maxBlockCountToStore: bigint;
  readonly ttlMs: number;
  private entries: Entry[] = [];
  private timer?: TimerHandle;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: BlockMessageStoreOptions) {
    this.maxBlockCountToStore = BigInt(
      opts.maxBlockCountToStore || BLOCK_STORE_DEFAULTS.maxBlockCountToStore,
    );
    this.ttlMs = opts.ttlMs || BLOCK_STORE_DEFAULTS.ttlMs;
    this.log = opts.logger ?? silentLogger;
  }

  /** Start the expiry check (every ttl / 100). */
  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = this.opts.clock.setInterval(() => this.expire(), Math.max(1, Math.floor(this.ttlMs / 100)));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Whether a block with this seq_num would be added (not a duplicate, not too far behind). */
  checkValid(seqNum: bigint): boolean {
    return this.entries.every((e) => this.compare(seqNum, e.seqNum) !== 'refused');
  }

  /** Add a block; false when it is a duplicate or too far behind a stored one. */
  add(seqNum: bigint, envelope: Envelope, message: GossipMessage): boolean {
    if (!this.checkValid(seqNum)) {
      this.count(METRICS.gossipBlockStoreRefused);
      return false;
    }
    const kept: Entry[] = [];
    for (const e of this.entries) {
      if (this.compare(seqNum, e.seqNum) === 'evicts') {
        if (!e.expired) this.removed(e.seqNum, 'evicted');
      } else {
        kept.push(e);
      }
    }
    kept.push({ seqNum, envelope, message, addedAt: this.opts.clock.now(), expired: false });
    this.entries = kept;
    this.updateSize();
    return true;
  }

  /** A stored, unexpired block. */
  get(seqNum: bigint): StoredBlock | undefined {
    const e = this.entries.find((x) => x.seqNum === seqNum && !x.expired);
    return e ? strip(e) : undefined;
  }

  /** Unexpired blocks in insertion order. */
  blocks(): StoredBlock[] {
    return this.entries.filter((e) => !e.expired).map(strip);
  }

  /** Unexpired blocks (Fabric's Size). */
  get size(): number {
    return this.entries.reduce((n, e) => n + (e.expired ? 0 : 1), 0);
  }

  /** Expire blocks older than ttl, delete those older than 2 x ttl (the timer calls this). */
  expire(): void {
    const now = this.opts.clock.now();
    const kept: Entry[] = [];
    for (const e of this.entries) {
      const age = now - e.addedAt;
      if (!e.expired && age > this.ttlMs) {
        e.expired = true;
        this.removed(e.seqNum, 'expired');
      }
      if (age <= 2 * this.ttlMs) kept.push(e);
    }
    this.entries = kept;
    this.updateSize();
  }

  private compare(incoming: bigint, stored: bigint): 'refused' | 'evicts' | 'keep' {
    if (incoming === stored) return 'refused';
    const diff = incoming > stored ? incoming - stored : stored - incoming;
    if (diff <= this.maxBlockCountToStore) return 'keep';
    return incoming > stored ? 'evicts' : 'refused';
  }

  private removed(seqNum: bigint, reason: BlockRemoval): void {
    this.log.debug(
      { channel: this.opts.channel, seqNum: String(seqNum), reason },
      'block store: block removed',
    );
    this.opts.metrics
      ?.counter(METRICS.gossipBlockStoreRemoved)
      .inc({ channel: this.opts.channel ?? '', reason });
    try {
      this.opts.onRemove?.(seqNum, reason);
    } catch (e) {
      this.log.debug({ err: String(e) }, 'block store: onRemove threw');
    }
  }

  private count(def: CounterDef<'channel'>): void {
    this.opts.metrics?.counter(def).inc({ channel: this.opts.channel ?? '' });
  }

  private updateSize(): void {
    this.opts.metrics
      ?.gauge(METRICS.gossipBlockStoreSize)
      .set({ channel: this.opts.channel ?? '' }, this.size);
  }
}

function strip(e: Entry): StoredBlock {
  return { seqNum: e.seqNum, envelope: e.envelope, message: e.message, addedAt: e.addedAt };
}
