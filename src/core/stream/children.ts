/**
 * The fan-out bound of the stream tree, kept by the upstream (grapevine.streams.fanout): at most
 * `fanout` stream children per channel are served at once. The planners of the org's peers aim at
 * that bound (tree.ts) but plan from their own views, which lag one another: a peer whose parent
 * is suspect takes its grandparent, a follower keeps a working stream for rebalanceAfter after its
 * plan moved, a new peer plans before every marker reached it. The upstream therefore refuses the
 * child beyond its fan-out with SERVICE_UNAVAILABLE before any block (core/deliver/serve.ts); the
 * follower takes that as "full, plan elsewhere" (follower.ts), not as a fault.
 * Stream children only (the `grapevine-stream` call header): Fabric peers pulling through the
 * relay are bounded by grapevine.deliverServer.maxStreams alone.
 * Metrics: grapevine_stream_children{channel} (served now), grapevine_stream_children_refused_total{channel}.
 */
import { METRICS } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import type { DeliverChildLimit } from '../deliver/serve.js';

export class StreamChildren implements DeliverChildLimit {
  private readonly served = new Map<string, number>();

  constructor(
    readonly fanout: number,
    private readonly metrics?: Metrics,
  ) {}

  /** Stream children of `channelId` served now. */
  inUse(channelId: string): number {
    return this.served.get(channelId) ?? 0;
  }

  acquire(channelId: string): boolean {
    const n = this.inUse(channelId);
    if (n >= Math.max(1, this.fanout)) {
      this.metrics?.counter(METRICS.grapevineStreamChildrenRefusedTotal).inc({ channel: channelId });
      return false;
    }
    this.set(channelId, n + 1);
    return true;
  }

  release(channelId: string): void {
    const n = this.inUse(channelId);
    if (n > 0) this.set(channelId, n - 1);
  }

  private set(channelId: string, n: number): void {
    if (n === 0) this.served.delete(channelId);
    else this.served.set(channelId, n);
    this.metrics?.gauge(METRICS.grapevineStreamChildren).set({ channel: channelId }, n);
  }
}
