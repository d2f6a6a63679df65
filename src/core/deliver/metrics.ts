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
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../base/time.js';
import type { Metrics } from '../../base/metrics.js';

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

const SINCE = 'grapevine_deliver_seconds_since_last_block';
/** One scrape-time gauge per registry, fed by every deliver service using that registry. */
const lastBlockByRegistry = new WeakMap<Registry, Map<string, number>>();

export class DeliverMetrics {
  private readonly blocks: Counter<string>;
  private readonly reconnects: Counter<string>;
  private readonly connectedGauge: Gauge<string>;
  /** Last block time (clock ms) per channel, read by the scrape-time gauge. */
  private readonly lastBlock: Map<string, number>;

  constructor(
    metrics: Metrics,
    private readonly clock: Clock,
  ) {
    this.blocks = metrics.counter(
      'grapevine_deliver_blocks_received_total',
      'Blocks received from the ordering service, verified and handed to the state layer.',
      ['channel'],
    );
    this.reconnects = metrics.counter(
      'grapevine_deliver_reconnects_total',
      'Deliver sessions that ended and will be reconnected, by reason.',
      ['channel', 'reason'],
    );
    this.connectedGauge = metrics.gauge(
      'grapevine_deliver_connected',
      'The orderer endpoint the deliver client is connected to: 1 for the endpoint in use, 0 otherwise.',
      ['channel', 'endpoint'],
    );
    let last = lastBlockByRegistry.get(metrics.registry);
    if (!last) {
      const map = new Map<string, number>();
      last = map;
      lastBlockByRegistry.set(metrics.registry, map);
      new Gauge({
        name: SINCE,
        help: 'Seconds since the deliver client last received a block from the ordering service.',
        labelNames: ['channel'],
        registers: [metrics.registry],
        collect() {
          const now = clock.now();
          for (const [channel, at] of map) this.set({ channel }, Math.max(0, (now - at) / 1000));
        },
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
