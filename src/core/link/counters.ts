/**
 * The comm layer's metrics (Fabric's names where Fabric has one), registered once per
 * transport. Labelled children are looked up once per label value and kept, so counting on a
 * hot path is one increment.
 */
import type { Metrics } from '../../base/metrics.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';
import type { ConnectionCounters } from './connection.js';

export class CommCounters {
  readonly conn: ConnectionCounters;
  private readonly open;
  private readonly children = new Map<string, { inc(): void }>();

  constructor(private readonly m: Metrics) {
    this.conn = {
      sent: m.counter(METRICS.gossipCommMessagesSent),
      received: m.counter(METRICS.gossipCommMessagesReceived),
      overflow: m.counter(METRICS.gossipCommOverflowCount),
    };
    this.open = m.gauge(METRICS.grapevineGossipCommConnsOpen);
    this.open.set(0);
    m.counter(METRICS.grapevineGossipCommHandshakeFailuresTotal);
    m.counter(METRICS.grapevineGossipCommBadInputTotal);
  }

  /** grapevine_gossip_comm_conns_open */
  setOpen(n: number): void {
    this.open.set(n);
  }

  /** grapevine_gossip_comm_bad_input_total{reason}++ */
  badInput(reason: string): void {
    this.count(METRICS.grapevineGossipCommBadInputTotal, reason);
  }

  /** grapevine_gossip_comm_handshake_failures_total{reason}++ */
  handshakeFailure(reason: string): void {
    this.count(METRICS.grapevineGossipCommHandshakeFailuresTotal, reason);
  }

  private count(def: CounterDef<'reason'>, reason: string): void {
    const key = `${def.name}\0${reason}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.m.counter(def).labels({ reason });
      this.children.set(key, child);
    }
    child.inc();
  }
}
