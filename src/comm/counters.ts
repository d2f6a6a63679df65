/**
 * The comm layer's metrics (Fabric's names where Fabric has one), registered once per
 * transport. Labelled children are looked up once per label value and kept, so counting on a
 * hot path is one increment.
 */
import type { Metrics } from '../base/metrics.js';
import type { ConnectionCounters } from './connection.js';

export type CommCountedReason = 'gossip_comm_bad_input' | 'gossip_comm_handshake_failures';

export class CommCounters {
  readonly conn: ConnectionCounters;
  private readonly open;
  private readonly children = new Map<string, { inc(): void }>();

  constructor(private readonly m: Metrics) {
    this.conn = {
      sent: m.counter('gossip_comm_messages_sent', 'Number of messages sent'),
      received: m.counter('gossip_comm_messages_received', 'Number of messages received'),
      overflow: m.counter('gossip_comm_overflow_count', 'Number of outgoing queue buffer overflows'),
    };
    this.open = m.gauge('gossip_comm_conns_open', 'Open gossip connections');
    this.open.set(0);
    m.counter('gossip_comm_handshake_failures', 'Failed gossip handshakes by reason', ['reason']);
    m.counter('gossip_comm_bad_input', 'Received frames dropped or refused, by reason', ['reason']);
  }

  /** gossip_comm_conns_open */
  setOpen(n: number): void {
    this.open.set(n);
  }

  /** name{reason}++ */
  count(name: CommCountedReason, reason: string): void {
    const key = `${name}\0${reason}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.m.counter(name, '', ['reason']).labels({ reason });
      this.children.set(key, child);
    }
    child.inc();
  }
}
