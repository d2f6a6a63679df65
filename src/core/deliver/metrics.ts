/**
 * Metrics of the peer's deliver client. Fabric v2.4.9's blocksprovider has none, so these are
 * Grapevine's own (docs/operations.md), all labelled by channel:
 *
 *   grapevine_deliver_blocks_received_total       counter: blocks verified and handed to state
 *   grapevine_deliver_reconnects_total{reason}    counter: sessions ended, by why (connect_failed,
 *                                                  stream_ended, bad_status, bad_block,
 *                                                  verify_failed, add_payload_failed,
 *                                                  endpoints_refreshed)
 *   grapevine_deliver_connected{endpoint}         gauge: 1 for the orderer endpoint in use, else 0
 *   grapevine_deliver_seconds_since_last_block    gauge computed at scrape time (injected clock);
 *                                                  absent until the first block
 * A registry shared by several deliver services (tests) reuses the same metric objects.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../../base/time.js';
import type { Metrics } from '../../base/metrics.js';
import { METRICS } from '../../base/metric-table.js';

export type DisconnectReason =
  | 'connect_failed'
  | 'stream_ended'
  | 'bad_status'
  | 'bad_block'
  | 'verify_failed'
  | 'add_payload_failed'
  | 'endpoints_refreshed';

/** What a Deliverer reports. */
export interface DelivererMetrics {
  blockReceived(): void;
  connected(endpoint: string): void;
  disconnected(endpoint: string | undefined, reason: DisconnectReason | 'stopped'): void;
}

/** One scrape-time gauge per registry, fed by every deliver service using that registry. */
const lastBlockByRegistry = new WeakMap<Registry, Map<string, number>>();

export class DeliverMetrics {
  private readonly blocks: Counter<'channel'>;
  private readonly reconnects: Counter<'channel' | 'reason'>;
  private readonly connectedGauge: Gauge<'channel' | 'endpoint'>;
  /** Last block time (clock ms) per channel, read by the scrape-time gauge. */
  private readonly lastBlock: Map<string, number>;

  constructor(
    metrics: Metrics,
    private readonly clock: Clock,
  ) {
    this.blocks = metrics.counter(METRICS.grapevineDeliverBlocksReceivedTotal);
    this.reconnects = metrics.counter(METRICS.grapevineDeliverReconnectsTotal);
    this.connectedGauge = metrics.gauge(METRICS.grapevineDeliverConnected);
    let last = lastBlockByRegistry.get(metrics.registry);
    if (!last) {
      const map = new Map<string, number>();
      last = map;
      lastBlockByRegistry.set(metrics.registry, map);
      metrics.gauge(METRICS.grapevineDeliverSecondsSinceLastBlock, function collect() {
        const now = clock.now();
        for (const [channel, at] of map) this.set({ channel }, Math.max(0, (now - at) / 1000));
      });
    }
    this.lastBlock = last;
  }

  /** The sink for one channel's deliverer. */
  forChannel(channel: string): DelivererMetrics {
    return {
      blockReceived: () => {
        this.blocks.inc({ channel });
        this.lastBlock.set(channel, this.clock.now());
      },
      connected: (endpoint) => this.connectedGauge.set({ channel, endpoint }, 1),
      disconnected: (endpoint, reason) => {
        if (endpoint !== undefined) this.connectedGauge.set({ channel, endpoint }, 0);
        if (reason !== 'stopped') this.reconnects.inc({ channel, reason });
      },
    };
  }
}
