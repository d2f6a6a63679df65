/**
 * The block message store (PROTOCOL.md §6.3): which blocks a channel holds for forwarding and
 * pull, and which it has seen.
 *
 *   add(seq): a seq already held (or seen and not yet forgotten) is a duplicate -> refused. A
 *     block older than the newest held by more than maxBlockCountToStore is refused (it would be
 *     evicted at once); otherwise held, and every held block older than it by more than the
 *     window is evicted. Result: roughly the newest ~window blocks are held.
 *   TTL (pullInterval x 100): a block held that long expires (no longer held; still "seen" until
 *     2 x TTL, so a late copy is still a duplicate). Expiry is checked lazily on add and by
 *     `sweep()` (the channel calls it on its upkeep timer).
 *   Evicted and expired blocks are reported to `onRemove` (the pull store drops them).
 *   Bounded: at most maxSeen seqs remembered (held + seen); the oldest are forgotten first.
 */
import type { Envelope } from '../wire/gen/gossip/message_pb.js';

interface Entry {
  readonly seq: bigint;
  readonly envelope: Envelope;
  readonly addedAt: number;
  held: boolean;
}

export class BlockMessageStore {
  private readonly entries = new Map<bigint, Entry>();
  private newest: bigint | undefined;

  constructor(
    private readonly window: number,
    private readonly ttlMs: number,
    private readonly maxSeen: number,
    private readonly onRemove: (seq: bigint) => void = () => {},
  ) {}

  /** Held blocks (the newest ~window). */
  get heldCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.held) n++;
    return n;
  }

  get seenCount(): number {
    return this.entries.size;
  }

  /** Would a block with this seq be accepted as new? */
  isNew(seq: bigint, nowMs: number): boolean {
    this.sweep(nowMs);
    if (this.entries.has(seq)) return false;
    return this.newest === undefined || this.newest - seq <= BigInt(this.window);
  }

  add(seq: bigint, envelope: Envelope, nowMs: number): boolean {
    if (!this.isNew(seq, nowMs)) return false;
    this.entries.set(seq, { seq, envelope, addedAt: nowMs, held: true });
    if (this.newest === undefined || seq > this.newest) this.newest = seq;
    const w = BigInt(this.window);
    for (const e of this.entries.values()) {
      if (e.held && this.newest - e.seq > w) this.unhold(e);
    }
    this.bound();
    return true;
  }

  has(seq: bigint): boolean {
    return this.entries.get(seq)?.held === true;
  }

  get(seq: bigint): Envelope | undefined {
    const e = this.entries.get(seq);
    return e?.held ? e.envelope : undefined;
  }

  /** Expire held blocks older than TTL; forget seen ones older than 2 x TTL. */
  sweep(nowMs: number): void {
    for (const e of [...this.entries.values()]) {
      const age = nowMs - e.addedAt;
      if (e.held && age > this.ttlMs) this.unhold(e);
      if (!e.held && age > 2 * this.ttlMs) this.entries.delete(e.seq);
    }
  }

  private unhold(e: Entry): void {
    e.held = false;
    this.onRemove(e.seq);
  }

  private bound(): void {
    if (this.entries.size <= this.maxSeen) return;
    const seqs = [...this.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const seq of seqs.slice(0, this.entries.size - this.maxSeen)) {
      const e = this.entries.get(seq)!;
      if (e.held) this.unhold(e);
      this.entries.delete(seq);
    }
  }
}
