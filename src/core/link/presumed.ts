/**
 * Presumed-dead notifications (PROTOCOL.md §3.7): a PKI-ID whose send failed or to which no
 * connection could be made. Reports queue up to a bound (Fabric: a channel of 100; beyond it,
 * reports are dropped and counted) and are delivered to subscribers on a microtask, never from
 * inside the failing call.
 */
import type { Metrics } from '../../base/metrics.js';
import type { Unsubscribe } from './types.js';
import type { PkiId } from '../../base/pkiid.js';
import { METRICS } from '../../base/metric-table.js';

export class PresumedDead {
  private readonly handlers = new Set<(pkiId: PkiId) => void>();
  private queue: PkiId[] = [];
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly bound: number,
    private readonly metrics: Metrics,
  ) {}

  subscribe(handler: (pkiId: PkiId) => void): Unsubscribe {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  report(pkiId: PkiId): void {
    if (this.stopped) return;
    if (this.queue.length >= this.bound) {
      this.metrics.counter(METRICS.grapevineGossipCommPresumedDeadDroppedTotal).inc();
      return;
    }
    this.metrics.counter(METRICS.grapevineGossipCommPresumedDeadTotal).inc();
    this.queue.push(pkiId);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.handlers.clear();
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const id of batch) {
      for (const h of [...this.handlers]) {
        try {
          h(id);
        } catch {
          /* a subscriber's failure is its own */
        }
      }
    }
  }
}
