/**
 * A peer channel as a Deliver source (comm/deliver/server.ts DeliverSource): the relay serving
 * `orderer.AtomicBroadcast/Deliver` from the peer's ledger. Blocks are the ledger's bytes as
 * stored (as received from the orderer); the Readers policy and the config sequence are those of
 * the channel's latest applied config; a reader waiting for block n is woken by every commit
 * (the state provider's onCommitted) and by stop(), after which it gets SERVICE_UNAVAILABLE.
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

export class LedgerDeliverSource implements DeliverSource {
  private waiters = new Set<{ readonly height: bigint; readonly resolve: () => void }>();
  private stopped = false;
  private current: DeliverReaders = NO_READERS;
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
    return this.ledger.height();
  }

  getBlockBytes(n: bigint): Promise<Uint8Array | undefined> {
    return this.ledger.getBlockBytes(n);
  }

  waitForHeight(height: bigint, signal: AbortSignal): Promise<void> {
    if (this.stopped || signal.aborted || this.ledger.height() >= height) return Promise.resolve();
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

  /** The ledger reached `height` (after a durable commit). */
  committed(height: bigint): void {
    for (const w of [...this.waiters]) if (height >= w.height) w.resolve();
  }

  /** The channel stopped: waiting readers wake and get SERVICE_UNAVAILABLE. */
  stop(): void {
    this.stopped = true;
    for (const w of [...this.waiters]) w.resolve();
  }
}
