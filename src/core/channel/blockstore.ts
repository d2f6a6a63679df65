/**
 * The per-channel block message store (PROTOCOL.md §6.3): the message store
 * (core/store/msgstore.ts) with Fabric's DataMessage policy, by seq_num.
 *
 *   Policy between a new block n and each held block s:
 *     n = s                           -> the new one is a duplicate: refused ('invalidated');
 *     |n - s| <= maxBlockCountToStore -> both kept ('none');
 *     otherwise                       -> the older of the two goes (a new block far behind a
 *                                        held one is refused; held blocks far behind it are
 *                                        evicted: 'invalidates').
 *     Refusal is decided before anything is evicted (in reachable states the same outcome as
 *     Fabric's single pass: held blocks are never more than 2 x maxBlockCountToStore apart).
 *   TTL: a block older than ttl (pullInterval x 100 = 400 s) is expired: no longer returned,
 *     counted or offered for pull, but still compared against (still "seen") until 2 x ttl,
 *     when it is deleted. Checked every ttl / 100.
 *   Evicted and expired blocks are announced through onRemove (the block puller drops them from
 *     its pull store). The policy bounds the store to about maxBlockCountToStore + 1 blocks.
 */
import { create } from '@bufbuild/protobuf';
import type { Clock } from '../../base/time.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { METRICS } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import {
  EnvelopeSchema,
  GossipMessageSchema,
  type Envelope,
  type GossipMessage,
} from '../../wire/gen/gossip/message_pb.js';
import { MessageStore, type ReplacePolicy, type Verdict } from '../store/msgstore.js';

export interface StoredBlock {
  readonly seqNum: bigint;
  /** The DataMessage envelope exactly as received (or as built by the originator). */
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  /** Clock ms when it was added. */
  readonly addedAt: number;
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

/** Fabric's DataMessage comparator over seq_nums 64 bits wide. */
export function blockPolicy(maxBlockCountToStore: bigint): ReplacePolicy<StoredBlock, bigint> {
  return {
    key: (b) => b.seqNum,
    sameKeyOnly: false,
    compare(incoming, held): Verdict {
      const n = incoming.seqNum;
      const s = held.seqNum;
      if (n === s) return 'invalidated';
      const diff = n > s ? n - s : s - n;
      if (diff <= maxBlockCountToStore) return 'none';
      return n > s ? 'invalidates' : 'invalidated';
    },
  };
}

const NO_ENVELOPE = create(EnvelopeSchema);
const NO_MESSAGE = create(GossipMessageSchema);

export class BlockMessageStore {
  readonly maxBlockCountToStore: bigint;
  readonly ttlMs: number;
  private readonly store: MessageStore<StoredBlock, bigint>;
  private readonly log: Logger;

  constructor(private readonly opts: BlockMessageStoreOptions) {
    this.maxBlockCountToStore = BigInt(
      opts.maxBlockCountToStore || BLOCK_STORE_DEFAULTS.maxBlockCountToStore,
    );
    this.ttlMs = opts.ttlMs || BLOCK_STORE_DEFAULTS.ttlMs;
    this.log = opts.logger ?? silentLogger;
    this.store = new MessageStore({
      clock: opts.clock,
      policy: blockPolicy(this.maxBlockCountToStore),
      ttlMs: this.ttlMs,
      keepExpiredMs: this.ttlMs,
      expiryCheckMs: Math.max(1, Math.floor(this.ttlMs / 100)),
      onRemove: (b, reason) => this.removed(b.seqNum, reason === 'expired' ? 'expired' : 'evicted'),
      metrics: opts.metrics,
      sizeMetric: { def: METRICS.grapevineGossipBlockStoreSize, labels: { channel: opts.channel ?? '' } },
    });
  }

  /** Start the expiry check (every ttl / 100). */
  start(): void {
    this.store.start();
  }

  stop(): void {
    this.store.stop();
  }

  /** Whether a block with this seq_num would be added (not a duplicate, not too far behind). */
  checkValid(seqNum: bigint): boolean {
    // the policy compares seq_nums only
    return this.store.checkValid({ seqNum, envelope: NO_ENVELOPE, message: NO_MESSAGE, addedAt: 0 });
  }

  /** Add a block; false when it is a duplicate or too far behind a stored one. */
  add(seqNum: bigint, envelope: Envelope, message: GossipMessage): boolean {
    if (this.store.add({ seqNum, envelope, message, addedAt: this.opts.clock.now() }) === 'added')
      return true;
    this.opts.metrics
      ?.counter(METRICS.grapevineGossipBlockStoreRefusedTotal)
      .inc({ channel: this.opts.channel ?? '' });
    return false;
  }

  /** A stored, unexpired block. */
  get(seqNum: bigint): StoredBlock | undefined {
    return this.store.get(seqNum);
  }

  /** Unexpired blocks in insertion order. */
  blocks(): StoredBlock[] {
    return this.store.values();
  }

  /** Unexpired blocks (Fabric's Size). */
  get size(): number {
    return this.store.size;
  }

  /** Expire blocks older than ttl, delete those older than 2 x ttl (the timer calls this). */
  expire(): void {
    this.store.expire();
  }

  /** The store's invariants over all of it (tests). */
  checkInvariants(): void {
    this.store.checkInvariants();
  }

  private removed(seqNum: bigint, reason: BlockRemoval): void {
    this.log.debug(
      { channel: this.opts.channel, seqNum: String(seqNum), reason },
      'block store: block removed',
    );
    this.opts.metrics
      ?.counter(METRICS.grapevineGossipBlockStoreRemovedTotal)
      .inc({ channel: this.opts.channel ?? '', reason });
    try {
      this.opts.onRemove?.(seqNum, reason);
    } catch (e) {
      this.log.debug({ err: String(e) }, 'block store: onRemove threw');
    }
  }
}
