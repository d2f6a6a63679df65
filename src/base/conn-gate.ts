/**
 * Connection limits of one listening port (gossip, orderer, operations, dashboard), shared by the
 * gRPC servers' owned listener (src/comm/listener.ts) and the HTTP servers (src/ops/http-limits.ts).
 *
 * Algorithm, per accepted TCP socket, before any byte of TLS or HTTP is read:
 *   1. admit: more than `maxConns` open on this port, or more than `maxConnsPerAddress` from its
 *      remote IP -> destroyed at once and counted in grapevine_conn_refused_total{server, reason
 *      total|per_address}. Established connections are never shed for new ones.
 *   2. setup deadline: on a TLS port the socket must finish its handshake (secured()) within
 *      `handshakeTimeoutMs`, else it is destroyed and counted in
 *      grapevine_conn_handshake_timeouts_total; then (or at once on a plaintext port) it must open
 *      a stream / send a request (active()) within `idleTimeoutMs`, else it is destroyed and
 *      counted in grapevine_conn_closed_idle_total (both closed with a TCP reset). After active()
 *      no deadline of ours applies (the protocol's keepalives and timeouts do).
 *   3. close: forgotten; grapevine_conn_open{server} follows the open count.
 * The signals secured()/active() name the connection by its remote `address:port` (the same string
 * for the raw socket, the TLS socket over it and the HTTP/2 session's socket), so the layers above
 * need not hand back the raw socket. One timer per connection at most.
 */
import type { Socket } from 'node:net';
import type { Metrics } from './metrics.js';
import { METRICS } from './metric-table.js';

export interface ConnLimits {
  /** Open connections on the port, all addresses together. */
  readonly maxConns: number;
  /** Open connections from one remote IP address. */
  readonly maxConnsPerAddress: number;
  /** TLS handshake deadline from accept (TLS ports only). */
  readonly handshakeTimeoutMs: number;
  /** Deadline for the first stream (gRPC call) or request, from the end of TLS (or from accept). */
  readonly idleTimeoutMs: number;
}

/** Safe defaults (grapevine.connLimits.* and peer.connectiontimeout in the config table). */
export const DEFAULT_CONN_LIMITS: ConnLimits = Object.freeze({
  maxConns: 2048,
  maxConnsPerAddress: 64,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 10_000,
});

/** `address:port` of a socket (raw, TLS or an HTTP/2 session's), the key of secured()/active(). */
export function peerKey(s: { readonly remoteAddress?: string; readonly remotePort?: number }): string {
  return `${s.remoteAddress ?? ''}:${s.remotePort ?? ''}`;
}

/** The IP a per-address cap counts: an IPv4-mapped IPv6 address is its IPv4 address. */
function ipOf(s: Socket): string {
  const a = s.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

interface Conn {
  readonly socket: Socket;
  readonly ip: string;
  timer?: NodeJS.Timeout;
  secured: boolean;
  gone?: boolean;
}

export class ConnGate {
  private readonly conns = new Map<string, Conn>();
  private readonly perIp = new Map<string, number>();
  private readonly labels: { server: string };

  constructor(
    server: string,
    private readonly limits: ConnLimits,
    private readonly tls: boolean,
    private readonly metrics?: Metrics,
  ) {
    this.labels = { server };
    this.gauge();
  }

  /** Open connections. */
  get open(): number {
    return this.conns.size;
  }

  /** Track `socket`, or destroy it (counted) when a cap is reached; returns whether it was admitted. */
  admit(socket: Socket): boolean {
    const ip = ipOf(socket);
    const reason =
      this.conns.size >= this.limits.maxConns
        ? 'total'
        : (this.perIp.get(ip) ?? 0) >= this.limits.maxConnsPerAddress
          ? 'per_address'
          : undefined;
    if (reason) {
      socket.on('error', () => undefined);
      socket.destroy();
      this.metrics?.counter(METRICS.grapevineConnRefusedTotal).inc({ ...this.labels, reason });
      return false;
    }
    socket.on('error', () => undefined); // the layers above report; a reset is ours
    const key = peerKey(socket);
    const conn: Conn = { socket, ip, secured: !this.tls };
    this.conns.set(key, conn);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.gauge();
    socket.once('close', () => this.forget(key, conn));
    if (this.tls) this.arm(conn, this.limits.handshakeTimeoutMs, METRICS.grapevineConnHandshakeTimeoutsTotal);
    else this.arm(conn, this.limits.idleTimeoutMs, METRICS.grapevineConnClosedIdleTotal);
    return true;
  }

  /** The TLS handshake of connection `key` (peerKey) finished: the idle deadline starts. */
  secured(key: string): void {
    const conn = this.conns.get(key);
    if (!conn || conn.secured) return;
    conn.secured = true;
    clearTimeout(conn.timer);
    this.arm(conn, this.limits.idleTimeoutMs, METRICS.grapevineConnClosedIdleTotal);
  }

  /** Connection `key` opened a stream or sent a request: no deadline of ours any more. */
  active(key: string): void {
    const conn = this.conns.get(key);
    if (!conn?.timer) return;
    clearTimeout(conn.timer);
    conn.timer = undefined;
  }

  /** Destroy every open connection (stop); they are no longer counted from here on. */
  destroyAll(): void {
    for (const [key, c] of [...this.conns]) {
      c.socket.destroy();
      this.forget(key, c);
    }
  }

  private arm(conn: Conn, ms: number, counter: typeof METRICS.grapevineConnClosedIdleTotal): void {
    conn.timer = setTimeout(() => {
      conn.timer = undefined;
      this.metrics?.counter(counter).inc(this.labels);
      // a reset: a plain destroy() of a socket an HTTP/2 session consumed waits for the client
      if (!conn.socket.destroyed) conn.socket.resetAndDestroy();
    }, ms);
    conn.timer.unref();
  }

  private forget(key: string, conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    clearTimeout(conn.timer);
    if (this.conns.get(key) === conn) this.conns.delete(key);
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, n);
    this.gauge();
  }

  private gauge(): void {
    this.metrics?.gauge(METRICS.grapevineConnOpen).set(this.labels, this.conns.size);
  }
}
