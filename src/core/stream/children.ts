/**
 * The fan-out bound of the stream tree, kept by the upstream (grapevine.streams.fanout): at most
 * `fanout` stream children per channel are served at once. The planners of the org's peers aim at
 * that bound (tree.ts) but plan from their own views, which lag one another: a peer whose parent
 * is suspect takes its grandparent, a follower keeps a working stream for rebalanceAfter after its
 * plan moved, a new peer plans before every marker reached it. So the upstream keeps the bound:
 *   - a child while fewer than `fanout` are served: admitted;
 *   - beyond: a child planned here (in our own view now: tree.ts isPlannedChild) takes the place
 *     of the newest child that is not (shed: its stream ends with SERVICE_UNAVAILABLE between
 *     blocks); any other child is refused with SERVICE_UNAVAILABLE before any block.
 * Followers take SERVICE_UNAVAILABLE as "full, plan elsewhere" (follower.ts), not as a fault.
 * Planned children go first so that a child squatting in a place (its own plan moved, and it
 * holds its working stream for rebalanceAfter) cannot keep the planned one, and the subtree below
 * it, out.
 * Stream children only (the `grapevine-stream` call header): Fabric peers pulling through the
 * relay are bounded by grapevine.deliverServer.maxStreams alone.
 * Metrics: grapevine_stream_children{channel} (served now),
 * grapevine_stream_children_refused_total{channel, reason: full (refused), shed}.
 */
import { METRICS } from '../../base/metric-table.js';
import type { Metrics } from '../../base/metrics.js';
import type { DeliverChildLease, DeliverChildLimit } from '../deliver/serve.js';

interface Child {
  /** The serialized identity that signed its seek. */
  readonly identity: Uint8Array;
  readonly ac: AbortController;
}

export class StreamChildren implements DeliverChildLimit {
  private readonly served = new Map<string, Child[]>();

  /**
   * `isPlanned(channelId, identity)`: whether the peer whose serialized identity signed the seek
   * streams from us in our own plan of the channel's tree (absent: nobody is).
   */
  constructor(
    readonly fanout: number,
    private readonly isPlanned?: (channelId: string, identity: Uint8Array) => boolean,
    private readonly metrics?: Metrics,
  ) {}

  /** Stream children of `channelId` served now. */
  inUse(channelId: string): number {
    return this.served.get(channelId)?.length ?? 0;
  }

  acquire(channelId: string, identity: Uint8Array): DeliverChildLease | undefined {
    let list = this.served.get(channelId);
    if (!list) this.served.set(channelId, (list = []));
    if (list.length >= Math.max(1, this.fanout)) {
      // asked only when full (a plan costs a sort of the members), of the current view
      const planned = (id: Uint8Array) => this.isPlanned?.(channelId, id) ?? false;
      let victim: Child | undefined;
      if (planned(identity))
        for (let i = list.length - 1; i >= 0 && !victim; i--)
          if (!planned(list[i]!.identity)) victim = list[i];
      if (!victim) {
        this.count(channelId, 'full');
        return undefined;
      }
      this.remove(channelId, victim);
      victim.ac.abort();
      this.count(channelId, 'shed');
    }
    const child: Child = { identity, ac: new AbortController() };
    list.push(child);
    this.gauge(channelId);
    return { shed: child.ac.signal, release: () => this.remove(channelId, child) };
  }

  private remove(channelId: string, child: Child): void {
    const list = this.served.get(channelId);
    const i = list?.indexOf(child) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.served.delete(channelId);
    this.gauge(channelId);
  }

  private count(channelId: string, reason: 'full' | 'shed'): void {
    this.metrics?.counter(METRICS.grapevineStreamChildrenRefusedTotal).inc({ channel: channelId, reason });
  }

  private gauge(channelId: string): void {
    this.metrics?.gauge(METRICS.grapevineStreamChildren).set({ channel: channelId }, this.inUse(channelId));
  }
}
