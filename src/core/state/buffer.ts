/**
 * The payload buffer (PROTOCOL.md §9.1): payloads keyed by seq_num, handed out in order.
 *
 *   next = the seq the commit loop waits for (starts at the ledger height).
 *   Rules we chose (§9.6: Fabric's single unsigned compare `seq - next >= bbs` is NOT copied):
 *   - any add: seq < next -> refused 'below_height' (already committed; counted, silent);
 *     seq already held -> refused 'duplicate'.
 *   - non-blocking add (gossip push/pull, orderer with nonBlockingCommitMode):
 *     seq >= next + blockBufferSize -> refused 'too_far_ahead'; pull / anti-entropy / catch-up
 *     bring it later.
 *   - blocking add (orderer, state transfer, catch-up): no distance limit; it waits (an awaited
 *     wake-up, no polling) while the buffer holds more than 2 x blockBufferSize payloads, except
 *     that a payload inside the window [next, next + blockBufferSize) is always admitted at once:
 *     that is the block which lets the commit loop drain the buffer, so it must never wait behind
 *     the far-ahead ones (Fabric's plain size rule can stall there). Hence the bound: at most
 *     2 x bbs + 1 far-ahead payloads plus bbs window payloads, while `next` only moves forward
 *     (a backward resetNext can turn window payloads into far-ahead ones, see below).
 *   popReady(): the payload at `next` if held (next advances). resetNext(h): after the ledger
 *   refused a block, `next` goes back to the ledger height so the block is fetched again.
 * Invariants (InvariantError): nothing held below `next`; size <= 3 x bbs + 1 + r, where r
 *   counts the window payloads a backward resetNext turned into far-ahead ones (0 while `next`
 *   only moves forward).
 */
import { invariant } from '../../base/errors.js';
import type { BlockFacts } from '../../ledger/inspect.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { StateDropReason } from './errors.js';
import type { PayloadSource } from './types.js';

export interface BufferedPayload {
  readonly seqNum: bigint;
  /** The block exactly as received (appended to the ledger as is). */
  readonly bytes: Uint8Array;
  /** Decoded (and verified at ingress) block, when the source had it. */
  readonly block?: Block;
  /** What the ledger needs of it, when it was decoded and verified off the main thread. */
  readonly facts?: BlockFacts;
  readonly source: PayloadSource;
}

export type PushResult =
  'added' | Extract<StateDropReason, 'below_height' | 'duplicate' | 'too_far_ahead'> | 'stopped';

export class PayloadBuffer {
  private readonly items = new Map<bigint, BufferedPayload>();
  private nextSeq: bigint;
  private readyWaiters: (() => void)[] = [];
  private spaceWaiters: (() => void)[] = [];
  private closed = false;
  /** Window payloads that backward resets turned into far-ahead ones (see the bound above). */
  private reclassed = 0;

  constructor(
    next: bigint,
    private readonly blockBufferSize: number,
    private readonly onSize: (size: number) => void = () => {},
  ) {
    this.nextSeq = next;
  }

  get next(): bigint {
    return this.nextSeq;
  }

  get size(): number {
    return this.items.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  has(seq: bigint): boolean {
    return this.items.has(seq);
  }

  /** Non-blocking add (gossip). */
  tryPush(p: BufferedPayload): PushResult {
    const early = this.precheck(p.seqNum);
    if (early) return early;
    if (p.seqNum - this.nextSeq >= BigInt(this.blockBufferSize)) return 'too_far_ahead';
    this.insert(p);
    return 'added';
  }

  /** Blocking add (orderer, state transfer, catch-up): waits for room as described above. */
  async pushBlocking(p: BufferedPayload): Promise<PushResult> {
    for (;;) {
      const early = this.precheck(p.seqNum);
      if (early) return early;
      if (
        p.seqNum - this.nextSeq < BigInt(this.blockBufferSize) ||
        this.items.size <= 2 * this.blockBufferSize
      ) {
        this.insert(p);
        return 'added';
      }
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  /** The payload at `next`, if held; `next` advances past it. */
  popReady(): BufferedPayload | undefined {
    const p = this.items.get(this.nextSeq);
    if (!p) return undefined;
    this.items.delete(this.nextSeq);
    this.nextSeq++;
    this.changed();
    return p;
  }

  /** Resolves once the payload at `next` is held or the buffer is closed. */
  waitReady(): Promise<void> {
    if (this.closed || this.items.has(this.nextSeq)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Move `next` to `height` (the ledger's): payloads below it are discarded. */
  resetNext(height: bigint): void {
    const bbs = BigInt(this.blockBufferSize);
    const oldEnd = this.nextSeq + bbs;
    this.nextSeq = height;
    for (const seq of [...this.items.keys()]) {
      if (seq < height) this.items.delete(seq);
      else if (seq >= height + bbs && seq < oldEnd) this.reclassed++;
    }
    this.changed();
  }

  /** Wake every waiter; later adds are refused 'stopped'. */
  close(): void {
    this.closed = true;
    this.items.clear();
    this.changed();
  }

  private precheck(seq: bigint): PushResult | undefined {
    if (this.closed) return 'stopped';
    if (seq < this.nextSeq) return 'below_height';
    if (this.items.has(seq)) return 'duplicate';
    return undefined;
  }

  private insert(p: BufferedPayload): void {
    invariant(p.seqNum >= this.nextSeq, 'payload buffer: a payload below next');
    this.items.set(p.seqNum, p);
    invariant(
      this.items.size <= 3 * this.blockBufferSize + 1 + this.reclassed,
      () =>
        `payload buffer: ${this.items.size} payloads held, above its bound (blockBufferSize ${this.blockBufferSize})`,
    );
    this.changed();
  }

  private changed(): void {
    this.onSize(this.items.size);
    if (this.readyWaiters.length > 0 && (this.closed || this.items.has(this.nextSeq))) {
      const w = this.readyWaiters;
      this.readyWaiters = [];
      for (const f of w) f();
    }
    if (this.spaceWaiters.length > 0) {
      const w = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const f of w) f();
    }
  }
}
