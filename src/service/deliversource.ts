/**
 * A peer channel as a Deliver source (comm/deliver/server.ts DeliverSource): the relay serving
 * `orderer.AtomicBroadcast/Deliver` from the peer's ledger, and the upstream of block streams.
 * Blocks are the bytes as received from the orderer; the Readers policy and the config sequence
 * are those of the channel's latest applied config.
 * A block is served as soon as it is next in order and verified and its append was issued
 * (staged), not only once durable: a hop then costs verification, not a disk sync. Staged blocks
 * are at most the commit loop's appends in flight (maxCommitsInFlight), dropped once committed,
 * and voided when the ledger refused an append (rewound). A reader waiting for block n is woken
 * by every staged block and commit, and by stop(), after which it gets SERVICE_UNAVAILABLE.
 */
import type { DeliverSource } from '../comm/deliver/server.js';
import type { PolicyEvaluator } from '../identity/types.js';
import type { StateLedger } from '../core/state/types.js';

export interface DeliverReaders {
  readonly policies: PolicyEvaluator;
  readonly path: string;
}

/** Readers when the config gave none (a setup without policies): every request is FORBIDDEN. */
const NO_READERS: DeliverReaders = {
  policies: {
    evaluate(path) {
      throw new Error(`no policy ${path} known for this channel`);
    },
  },
  path: '/Channel/Readers',
};

/** Staged blocks kept at most (the commit loop keeps fewer appends in flight: 64 by default). */
const MAX_STAGED = 1024;

export class LedgerDeliverSource implements DeliverSource {
  private waiters = new Set<{ readonly height: bigint; readonly resolve: () => void }>();
  private stopped = false;
  private current: DeliverReaders = NO_READERS;
  /** Blocks at and above the ledger height whose appends are in flight, in order. */
  private readonly staged = new Map<bigint, Uint8Array>();
  /** The height as last computed: the ledger's, then every consecutive staged block. */
  private top = 0n;
  /** No staged block is below this (the lowest staged, or the last committed height). */
  private low = 0n;
  sequence = 0n;

  constructor(
    readonly channelId: string,
    private readonly ledger: Pick<StateLedger, 'height' | 'getBlockBytes'>,
  ) {}

  get errored(): boolean {
    return this.stopped;
  }

  /** A config with a higher sequence was applied. */
  setConfig(sequence: bigint, readers: DeliverReaders | undefined): void {
    this.sequence = sequence;
    this.current = readers ?? NO_READERS;
  }

  readers(): DeliverReaders {
    return this.current;
  }

  height(): bigint {
    // the cached top moves up once per staged block, not once per call
    const h = this.ledger.height();
    if (this.top < h) this.top = h;
    while (this.staged.has(this.top)) this.top++;
    return this.top;
  }

  getBlockBytes(n: bigint): Promise<Uint8Array | undefined> {
    const s = this.staged.get(n);
    return s ? Promise.resolve(s) : this.ledger.getBlockBytes(n);
  }

  waitForHeight(height: bigint, signal: AbortSignal): Promise<void> {
    if (this.stopped || signal.aborted || this.height() >= height) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const w = {
        height,
        resolve: () => {
          this.waiters.delete(w);
          signal.removeEventListener('abort', w.resolve);
          resolve();
        },
      };
      this.waiters.add(w);
      signal.addEventListener('abort', w.resolve, { once: true });
    });
  }

  /** Block `seq` is next in order, verified, and its append issued (state provider onOrdered). */
  ordered(seq: bigint, bytes: Uint8Array): void {
    if (seq < this.ledger.height() || this.staged.size >= MAX_STAGED) return;
    if (this.staged.size === 0 || seq < this.low) this.low = seq;
    this.staged.set(seq, bytes);
    this.wake(this.height());
  }

  /** The ledger refused an append: blocks staged from `height` on are void. */
  rewound(height: bigint): void {
    for (const n of this.staged.keys()) if (n >= height) this.staged.delete(n);
    if (this.top > height) this.top = height;
  }

  /** The ledger reached `height` (after a durable commit). */
  committed(height: bigint): void {
    // usually a few blocks at the bottom: deleted by number, not by walking every staged one
    if (this.staged.size > 0 && height - this.low <= BigInt(this.staged.size))
      for (let n = this.low; n < height; n++) this.staged.delete(n);
    else for (const n of this.staged.keys()) if (n < height) this.staged.delete(n);
    if (this.low < height) this.low = height;
    this.wake(this.height());
  }

  private wake(height: bigint): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) if (height >= w.height) w.resolve();
  }

  /** The channel stopped: waiting readers wake and get SERVICE_UNAVAILABLE. */
  stop(): void {
    this.stopped = true;
    for (const w of [...this.waiters]) w.resolve();
  }
}
