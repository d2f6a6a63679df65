/**
 * The commit loop (PROTOCOL.md §9.5): waits for the payload at the buffer's `next`, then pops
 * consecutive payloads and appends them to the ledger in order. Up to `maxInFlight` appends (of
 * at most `maxBytesInFlight` bytes together) are issued without waiting for the previous one to
 * be durable (the ledger serialises them, commits those waiting together and resolves them in
 * order), so block verification, network and disk overlap; 1 = strictly one at a time, as Fabric.
 *
 *   onIssued(p) comes first for every block popped in a turn, then (with a clock that has
 *   `immediate`) the appends are issued in the next turn, after the Deliver streams it woke sent.
 *   VerifyBlock already ran at ingress (gossip: the channel layer; orderer: the deliver client;
 *   state transfer and catch-up: this layer); the ledger checks number = height and the hash
 *   chain. After each commit: gossip_state_height, gossip_state_commit_duration, and
 *   onCommitted(height) (the channel layer publishes it in StateInfo). onIssued(p) when an append
 *   is issued (the Deliver server may serve the block on at once: it is next in order and
 *   verified), onRewound(height) when refused appends void what was issued beyond height.
 *   A block the ledger refuses (wrong number, previous hash, data hash, malformed, too large) is
 *   counted 'ledger_rejected' (appends already issued behind it fail too and are counted), and
 *   once they settled the buffer's `next` goes back to the ledger height, so the block is
 *   fetched again from someone else. Any other ledger failure (I/O, store failed or
 *   closed) is reported through onFatal (Fabric panics the peer there); the loop then waits for
 *   the in-flight appends, and with a ledger that can recover() tries that after 1 s, 2 s, ...
 *   30 s until it works, then goes on from the recovered height (onRecovered) as after a
 *   rejection; a ledger without recover() stops the loop for good.
 */
import type { Clock } from '../../base/time.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import type { PayloadBuffer, BufferedPayload } from './buffer.js';
import type { StateDropReason } from './errors.js';
import type { StateLedger } from './types.js';

const VERIFIED = { dataHashChecked: true } as const;
const VERIFIED_FROM = new Map<string, { dataHashChecked: true; source: string }>();
/** The append options of a verified block from `source` (one object per source, not per block). */
function verifiedFrom(source: string): { dataHashChecked: true; source: string } {
  let o = VERIFIED_FROM.get(source);
  if (!o) VERIFIED_FROM.set(source, (o = { ...VERIFIED, source }));
  return o;
}
const REJECTED = new Set(['WRONG_NUMBER', 'BAD_PREVIOUS_HASH', 'BAD_DATA_HASH', 'MALFORMED', 'TOO_LARGE']);

export interface CommitLoopDeps {
  readonly buffer: PayloadBuffer;
  readonly ledger: StateLedger;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Appends issued before the first of them is durable (>= 1). */
  readonly maxInFlight: number;
  /** Their bytes at most (one append always goes, whatever its size). */
  readonly maxBytesInFlight: number;
  /** Seconds per commit. */
  observeDuration(seconds: number): void;
  onCommitted(height: bigint, p: BufferedPayload): void;
  /** An append of `p` was issued: it is the next block in order and verified, not yet durable. */
  onIssued?(p: BufferedPayload): void;
  /** Appends were refused and the buffer went back to `height`: what was issued beyond is void. */
  onRewound?(height: bigint): void;
  onFatal(err: unknown): void;
  /** The ledger was recovered after a failure and the loop runs again from `height`. */
  onRecovered?(height: bigint): void;
  /** First wait before a recovery attempt after a ledger failure, doubled up to 30 s. Default 1 s. */
  readonly recoverAfterMs?: number;
  drop(reason: StateDropReason, detail: string): void;
}

const RECOVER_MAX_MS = 30_000;

export class CommitLoop {
  private stopped = false;
  private done?: Promise<void>;
  /** Wakes a recovery wait at stop(). */
  private wake?: () => void;
  /** A rejection or failure: issue nothing more until the in-flight appends settled. */
  private halted: false | 'rejected' | 'fatal' = false;

  constructor(private readonly d: CommitLoopDeps) {}

  start(): void {
    this.done ??= this.run();
  }

  /** Stop after the commits in progress; the caller closes the buffer to wake the loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    const { buffer } = this.d;
    const inflight = new Set<Promise<void>>();
    const max = Math.max(1, this.d.maxInFlight);
    let bytes = 0;
    const issuing: BufferedPayload[] = [];
    const room = () => {
      const n = inflight.size + issuing.length;
      return n === 0 || (n < max && bytes < this.d.maxBytesInFlight);
    };
    const { clock } = this.d;
    while (!this.stopped && !buffer.isClosed) {
      let p: BufferedPayload | undefined;
      while (!this.halted && room() && (p = buffer.popReady())) {
        bytes += p.bytes.length;
        this.d.onIssued?.(p);
        issuing.push(p);
      }
      // the Deliver streams woken by onIssued send first: the appends' own work (hashes, index
      // entries, the file write) would otherwise delay every hop of a block stream or relay
      if (issuing.length > 0 && this.d.onIssued && clock.immediate)
        await new Promise<void>((r) => clock.immediate!(r));
      for (const q of issuing.splice(0)) {
        const size = q.bytes.length;
        const t: Promise<void> = this.commit(q).finally(() => {
          inflight.delete(t);
          bytes -= size;
        });
        inflight.add(t);
      }
      if (this.halted) {
        await Promise.allSettled([...inflight]);
        if (this.halted === 'fatal' && !(await this.recover())) return;
        buffer.resetNext(this.d.ledger.height());
        this.d.onRewound?.(this.d.ledger.height());
        this.halted = false;
        continue;
      }
      if (!room()) await Promise.race(inflight);
      else if (inflight.size > 0) await Promise.race([...inflight, buffer.waitReady()]);
      else await buffer.waitReady();
    }
    await Promise.allSettled([...inflight]);
  }

  /**
   * After a ledger failure: ledger.recover() after recoverAfterMs, doubling up to 30 s, until it
   * succeeds (true: the loop goes on from the recovered height) or we stop (false). Without
   * recover() the loop stops for good (false).
   */
  private async recover(): Promise<boolean> {
    const { ledger, clock, logger } = this.d;
    if (!ledger.recover) {
      this.stopped = true;
      return false;
    }
    let waitMs = this.d.recoverAfterMs ?? 1000;
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        const t = clock.setTimeout(resolve, waitMs);
        this.wake = () => {
          clock.clearTimer(t);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.stopped) return false;
      try {
        await ledger.recover();
        this.halted = false;
        logger.warn({ height: String(ledger.height()) }, 'ledger recovered; the commit loop goes on');
        this.d.onRecovered?.(ledger.height());
        return true;
      } catch (e) {
        logger.debug({ err: errorMessage(e), retryMs: waitMs }, 'ledger recovery failed; trying again');
        waitMs = Math.min(RECOVER_MAX_MS, waitMs * 2);
      }
    }
    return false;
  }

  private async commit(p: BufferedPayload): Promise<void> {
    const { ledger, clock } = this.d;
    const t0 = clock.now();
    let height: bigint;
    try {
      // every buffered block passed VerifyBlock (gossip, deliver, state transfer) or the
      // catch-up verifier, which checked its data hash: the ledger need not hash it again
      height = await ledger.append(p.bytes, p.facts ?? p.block, verifiedFrom(p.source));
    } catch (e) {
      if (e instanceof GrapevineError && REJECTED.has(e.code)) {
        this.d.drop('ledger_rejected', `block ${p.seqNum} from ${p.source}: ${e.code}: ${e.message}`);
        if (this.halted !== 'fatal') this.halted = 'rejected';
        return;
      }
      if (this.halted === 'fatal') return;
      this.halted = 'fatal';
      this.d.logger.error(
        { seq: String(p.seqNum), err: errorMessage(e) },
        this.d.ledger.recover
          ? 'commit failed; the commit loop of this channel waits for the ledger to recover'
          : 'commit failed; the commit loop of this channel stops',
      );
      this.d.onFatal(e);
      return;
    }
    this.d.observeDuration(Math.max(0, clock.now() - t0) / 1000);
    this.d.onCommitted(height, p);
  }
}
