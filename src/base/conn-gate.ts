/**
 * Connection limits of one listening port (gossip, orderer, operations, dashboard), shared by the
 * gRPC servers' owned listener (src/comm/listener.ts) and the HTTP servers (src/ops/http-limits.ts).
 *
 * A connection is a *stranger* until it proves who it is: on a gRPC port, a gossip handshake, a
 * Deliver seek or a Broadcast envelope that passed its checks (authenticated()); on an HTTP port,
 * its first request (the TLS client certificate, when required, was checked before it). Strangers
 * are what an attacker can make for free, so every limit acts on strangers only and an
 * authenticated connection is never shed.
 *
 * Algorithm, per accepted TCP socket, before any byte of TLS or HTTP is read:
 *   1. admit: when the port holds `maxConns`, the remote IP `maxConnsPerAddress`, or the process
 *      runs short of file descriptors or memory (resources.ts), room is made by closing the oldest
 *      strangers in that scope (the port, the IP; grapevine_conn_evicted_total{server, reason}): as
 *      many as bring the descriptors in use back to the reserve, else one; only
 *      when every connection in the scope is authenticated is the new socket destroyed
 *      (grapevine_conn_refused_total{server, reason}). So a flood of idle connections costs a
 *      legit client nothing: it takes a flooder's slot and authenticates within milliseconds.
 *   2. deadlines, one timer per connection: on a TLS port the handshake within
 *      `handshakeTimeoutMs` (grapevine_conn_handshake_timeouts_total); then a first stream/request
 *      (active()) within `idleTimeoutMs` (grapevine_conn_closed_idle_total); then, on a gRPC port,
 *      authentication within another `idleTimeoutMs` (counted as idle too). Each closes with a TCP
 *      reset. After authentication no deadline of ours applies (the protocol's keepalives do).
 *   3. bytes: a stranger may have read at most `maxUnauthenticatedBytes`, and the port's strangers
 *      together `maxUnauthenticatedBytesTotal` (largest closed first); checked at every admit and
 *      every SWEEP_MS while strangers are open, from the socket's own byte count (no hook in the
 *      data path), so what arrives between two sweeps is the slack
 *      (grapevine_conn_closed_bytes_total).
 *   4. close: forgotten; grapevine_conn_open{server} follows the open count.
 * The signals secured()/active()/authenticated() name the connection by its remote `address:port`
 * (the same string for the raw socket, the TLS socket over it, the HTTP/2 session's socket and
 * grpc-js's call.getPeer()), so the layers above need not hand back the raw socket.
 */
import type { Socket } from 'node:net';
import type { Metrics } from './metrics.js';
import { METRICS } from './metric-table.js';
import { processResources, type ProcessResources, type ResourceShortage } from './resources.js';

export interface ConnLimits {
  /** Open connections on the port, all addresses together. */
  readonly maxConns: number;
  /** Open connections from one remote IP address. */
  readonly maxConnsPerAddress: number;
  /** TLS handshake deadline from accept (TLS ports only). */
  readonly handshakeTimeoutMs: number;
  /** Deadline for the first stream (gRPC call) or request, from the end of TLS (or from accept). */
  readonly idleTimeoutMs: number;
  /** Bytes a connection may read before it authenticated. */
  readonly maxUnauthenticatedBytes: number;
  /** Bytes the port's unauthenticated connections may have read together. */
  readonly maxUnauthenticatedBytesTotal: number;
}

/** Safe defaults (grapevine.connLimits.* and peer.connectiontimeout in the config table). */
export const DEFAULT_CONN_LIMITS: ConnLimits = Object.freeze({
  maxConns: 2048,
  maxConnsPerAddress: 64,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 10_000,
  // a handshake (TLS, HTTP/2 preface and settings, a ConnEstablish or a signed seek) is a few KB
  maxUnauthenticatedBytes: 1024 * 1024,
  maxUnauthenticatedBytesTotal: 64 * 1024 * 1024,
});

/** How often open strangers' byte counts are checked. */
const SWEEP_MS = 100;

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
  readonly key: string;
  readonly socket: Socket;
  readonly ip: string;
  timer?: NodeJS.Timeout;
  secured: boolean;
  active: boolean;
  gone?: boolean;
}

type Reason = 'total' | 'per_address' | ResourceShortage;

export interface ConnGateOptions {
  /** The port speaks TLS (a handshake deadline applies). */
  readonly tls: boolean;
  /** The first request authenticates (HTTP ports); else authenticated() must be called (gRPC). */
  readonly authOnActive: boolean;
  readonly metrics?: Metrics;
  /** Default: the process's (processResources()). */
  readonly resources?: ProcessResources;
  /**
   * Shed new connections while the process is short of descriptors or memory (default true).
   * false for the operations server: the operator's way in stays open while the rest sheds.
   */
  readonly shedOnShortage?: boolean;
}

export class ConnGate {
  private readonly conns = new Map<string, Conn>();
  /** Not yet authenticated, oldest first (Map keeps insertion order). */
  private readonly strangers = new Map<string, Conn>();
  private readonly perIp = new Map<string, number>();
  private readonly labels: { server: string };
  private sweeper?: NodeJS.Timeout;

  constructor(
    server: string,
    private readonly limits: ConnLimits,
    private readonly o: ConnGateOptions,
  ) {
    this.labels = { server };
    this.gauge();
  }

  /** Open connections. */
  get open(): number {
    return this.conns.size;
  }

  /** Open connections not yet authenticated. */
  get unauthenticated(): number {
    return this.strangers.size;
  }

  /**
   * Track `socket`, making room by closing the oldest stranger in the full scope, or destroy it
   * (counted) when the scope holds only authenticated connections; returns whether it was admitted.
   */
  admit(socket: Socket): boolean {
    socket.on('error', () => undefined); // the layers above report; a reset is ours
    const ip = ipOf(socket);
    this.sweep();
    for (const [reason, over, inScope] of this.scopes(ip)) {
      let excess = over();
      if (excess <= 0) continue;
      let victim = this.oldestStranger(inScope);
      if (!victim) {
        socket.destroy();
        this.metrics?.counter(METRICS.grapevineConnRefusedTotal).inc({ ...this.labels, reason });
        return false;
      }
      for (; victim && excess > 0; excess--, victim = this.oldestStranger(inScope)) {
        this.metrics?.counter(METRICS.grapevineConnEvictedTotal).inc({ ...this.labels, reason });
        this.drop(victim);
      }
    }
    const key = peerKey(socket);
    this.resources.opened();
    const conn: Conn = { key, socket, ip, secured: !this.o.tls, active: false };
    this.conns.set(key, conn);
    this.strangers.set(key, conn);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    this.gauge();
    socket.once('close', () => this.forget(conn));
    if (this.o.tls)
      this.arm(conn, this.limits.handshakeTimeoutMs, METRICS.grapevineConnHandshakeTimeoutsTotal);
    else this.arm(conn, this.limits.idleTimeoutMs, METRICS.grapevineConnClosedIdleTotal);
    this.startSweeper();
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

  /** Connection `key` opened a stream or sent a request: authenticated (HTTP) or its auth deadline. */
  active(key: string): void {
    const conn = this.conns.get(key);
    if (!conn || conn.active) return;
    conn.active = true;
    if (this.o.authOnActive) return this.authenticated(key);
    if (!this.strangers.has(key)) return;
    clearTimeout(conn.timer);
    this.arm(conn, this.limits.idleTimeoutMs, METRICS.grapevineConnClosedIdleTotal);
  }

  /** Connection `key` proved an identity: never shed, no deadline of ours any more. */
  authenticated(key: string): void {
    const conn = this.strangers.get(key);
    if (!conn) return;
    this.strangers.delete(key);
    conn.active = true;
    clearTimeout(conn.timer);
    conn.timer = undefined;
  }

  /** Destroy every open connection (stop); they are no longer counted from here on. */
  destroyAll(): void {
    for (const c of [...this.conns.values()]) {
      c.socket.destroy();
      this.forget(c);
    }
  }

  private get metrics(): Metrics | undefined {
    return this.o.metrics;
  }

  private get resources(): ProcessResources {
    return this.o.resources ?? processResources();
  }

  /**
   * The caps a new connection from `ip` must fit, each with how many connections must go first
   * (0: it fits) and which ones may.
   */
  private scopes(ip: string): [Reason, () => number, (c: Conn) => boolean][] {
    const any = () => true;
    const resources = this.resources;
    const shed = this.o.shedOnShortage ?? true;
    return [
      ['total', () => this.conns.size - this.limits.maxConns + 1, any],
      [
        'per_address',
        () => (this.perIp.get(ip) ?? 0) - this.limits.maxConnsPerAddress + 1,
        (c: Conn) => c.ip === ip,
      ],
      // short of descriptors: back to the reserve (resources.fdsOver), not just one for one
      ['fds', () => (shed ? resources.fdsOver() : 0), any],
      // short of memory: one for one (the reading is a second old; closing does not show in it)
      ['memory', () => (shed && resources.shortage() === 'memory' ? 1 : 0), any],
    ];
  }

  private oldestStranger(inScope: (c: Conn) => boolean): Conn | undefined {
    for (const c of this.strangers.values()) if (inScope(c)) return c;
    return undefined;
  }

  /** Close the strangers over their byte allowance, then the largest while over the port's. */
  private sweep(): void {
    if (this.strangers.size === 0) return;
    let total = 0;
    const sized: [Conn, number][] = [];
    for (const c of this.strangers.values()) {
      const n = c.socket.bytesRead;
      if (n > this.limits.maxUnauthenticatedBytes) {
        this.dropForBytes(c);
        continue;
      }
      total += n;
      sized.push([c, n]);
    }
    if (total <= this.limits.maxUnauthenticatedBytesTotal) return;
    sized.sort((a, b) => b[1] - a[1]);
    for (const [c, n] of sized) {
      if (total <= this.limits.maxUnauthenticatedBytesTotal) break;
      this.dropForBytes(c);
      total -= n;
    }
  }

  private dropForBytes(c: Conn): void {
    this.metrics?.counter(METRICS.grapevineConnClosedBytesTotal).inc(this.labels);
    this.drop(c);
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.sweep();
      if (this.strangers.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  private arm(conn: Conn, ms: number, counter: typeof METRICS.grapevineConnClosedIdleTotal): void {
    conn.timer = setTimeout(() => {
      conn.timer = undefined;
      this.metrics?.counter(counter).inc(this.labels);
      this.drop(conn);
    }, ms);
    conn.timer.unref();
  }

  /** Close with a TCP reset (a plain destroy() of a socket an HTTP/2 session consumed waits for the client). */
  private drop(conn: Conn): void {
    if (!conn.socket.destroyed) conn.socket.resetAndDestroy();
    this.forget(conn);
  }

  private forget(conn: Conn): void {
    if (conn.gone) return;
    conn.gone = true;
    this.resources.closed();
    clearTimeout(conn.timer);
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
    if (this.strangers.get(conn.key) === conn) this.strangers.delete(conn.key);
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, n);
    this.gauge();
  }

  private gauge(): void {
    this.metrics?.gauge(METRICS.grapevineConnOpen).set(this.labels, this.conns.size);
  }
}
