/**
 * A gRPC server's listening socket owned by us (grpc-js serves the accepted sockets through a
 * connection injector), for the gossip server and the orderer alike:
 *   - connection limits (src/base/conn-gate.ts): a socket over the total or per-address cap is
 *     destroyed at accept, before TLS; a TLS handshake must finish within the handshake deadline
 *     (peer.connectiontimeout; the orderer's 5 s, as Fabric's grpc ConnectionTimeout); a
 *     connection must then open an HTTP/2 stream (any gRPC call, Ping included) within the idle
 *     deadline, and authenticate (authenticated(): the service above saw a valid handshake, seek
 *     or envelope on it) within another; each counted (grapevine_conn_*{server}). An
 *     authenticated connection is left to gRPC's keepalive, as Fabric's, and never shed;
 *   - every accepted socket has TCP_NODELAY: a block or a gossip message goes out at once, not
 *     after the peer acknowledged the previous segment (Nagle; Go's servers, Fabric's, set it too);
 *   - every accepted socket is tracked, so close() is bounded whatever clients do: stop listening,
 *     let grpc-js end its sessions, destroy every socket (also those still in their TLS handshake,
 *     which grpc-js does not know and a plain server close would wait for), wait for the listener
 *     to close, at most `graceMs`;
 *   - grpc_comm_conn_opened / grpc_comm_conn_closed count the admitted ones when grpcMetrics are given.
 *
 * How "TLS done" and "a stream opened" are seen from outside grpc-js: the injector feeds our
 * socket to an http2 server grpc-js creates for it (http2.createSecureServer/createServer). That
 * server is not exposed, but grpc-js keeps it in its private `http2Servers` map: the entry that
 * appears when the injector is created is ours (grpc-js 1.14; listen() throws if it is not found,
 * so an upgrade that changes this fails every test at once). On it, 'secureConnection' (the TLS
 * socket) marks the handshake done and 'stream' (whose session's socket) marks the connection
 * active; both name the connection by its remote address:port, which the TLS socket and the
 * session's socket share with our raw socket. This also sees streams that grpc-js answers
 * UNIMPLEMENTED, and no call path or handler has to cooperate. Because the handshake deadline is
 * enforced here (one timer per connection), the TLS credentials carry none of their own.
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { GrapevineError } from '../base/errors.js';
import type { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';
import { ConnGate, DEFAULT_CONN_LIMITS, peerKey, type ConnLimits } from '../base/conn-gate.js';

const AUTHENTICATE = Symbol('grapevine.authenticate');

/**
 * The connection of `call` proved an identity (see OwnedListener.withAuthentication); a no-op for a
 * call on a server without an owned listener.
 */
export function authenticateCall(call: object): void {
  (call as { [AUTHENTICATE]?: () => void })[AUTHENTICATE]?.();
}

/** host:port, [v6]:port -> listen options; throws LISTEN on anything else. */
export function listenTarget(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  let host = address.slice(0, Math.max(i, 0));
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535 || host === '') {
    throw new GrapevineError('LISTEN', `cannot listen on ${address}: not host:port`);
  }
  return { host, port };
}

export interface OwnedListenerOptions {
  /** The `server` label of grapevine_conn_* (gossip, orderer). */
  readonly name: string;
  /** Default DEFAULT_CONN_LIMITS. */
  readonly limits?: Partial<ConnLimits>;
  /** Where grapevine_conn_* go (absent: not counted). */
  readonly metrics?: Metrics;
  /** Where grpc_comm_conn_opened/closed go (absent: not counted). */
  readonly grpcMetrics?: Metrics;
}

type Injector = ReturnType<grpc.Server['createConnectionInjector']>;

/** The injector and the http2 server grpc-js made for it (see the top of the file). */
function injectorWithHttp2Server(
  server: grpc.Server,
  credentials: grpc.ServerCredentials,
): { injector: Injector; http2: EventEmitter } {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  const before = servers instanceof Map ? new Set(servers.keys()) : undefined;
  const injector = server.createConnectionInjector(credentials);
  const http2 = before && [...(servers as Map<unknown, unknown>).keys()].find((k) => !before.has(k));
  if (!(http2 instanceof EventEmitter)) {
    injector.destroy();
    throw new GrapevineError('LISTEN', 'grpc-js internals changed: the injector http2 server is not found');
  }
  return { injector, http2 };
}

export class OwnedListener {
  private listener?: NetServer;
  private gate?: ConnGate;
  private closed = false;

  constructor(
    private readonly server: grpc.Server,
    private readonly opts: OwnedListenerOptions,
  ) {}

  /** Accepted sockets not yet closed (diagnostics and tests). */
  get openSockets(): number {
    return this.gate?.open ?? 0;
  }

  /**
   * `impl` with every handler tagging its call, so that the service can say, with
   * authenticateCall(call), that the call's connection proved an identity (a gossip handshake, a
   * Deliver seek or a Broadcast envelope passed its checks): it is then never shed for new
   * connections and no deadline of ours applies to it any more. Every service of a server with an
   * owned listener is registered through this, so no service has to be wired to the listener.
   */
  withAuthentication(impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const out: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(impl)) {
      const fn = handler as (...args: unknown[]) => unknown;
      out[name] = ((call: { getPeer(): string }, ...rest: unknown[]) => {
        Object.defineProperty(call, AUTHENTICATE, { value: () => this.gate?.authenticated(call.getPeer()) });
        return fn(call, ...rest);
      }) as grpc.UntypedHandleCall;
    }
    return out;
  }

  /** Bind `address` (host:port, port 0 = any) serving `credentials`; returns the bound port. */
  async listen(address: string, credentials: grpc.ServerCredentials): Promise<number> {
    const target = listenTarget(address);
    if (this.closed) throw new GrapevineError('LISTEN', `cannot listen on ${address}: server stopped`);
    const { injector, http2 } = injectorWithHttp2Server(this.server, credentials);
    const gate = (this.gate = new ConnGate(
      this.opts.name,
      { ...DEFAULT_CONN_LIMITS, ...this.opts.limits },
      {
        tls: credentials._isSecure(),
        authOnActive: false,
        ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
      },
    ));
    http2.on('secureConnection', (s: { remoteAddress?: string; remotePort?: number }) =>
      gate.secured(peerKey(s)),
    );
    http2.on(
      'stream',
      (stream: { session?: { socket?: { remoteAddress?: string; remotePort?: number } } }) => {
        const s = stream.session?.socket;
        if (s) gate.active(peerKey(s));
      },
    );
    // what a connection sent that this port cannot speak, counted by layer (grpc-js and Node close it)
    const errors = this.opts.metrics?.counter(METRICS.grapevineConnErrorsTotal);
    const count = (kind: string) => () => errors?.inc({ server: this.opts.name, kind });
    http2.on('tlsClientError', count('tls'));
    http2.on('unknownProtocol', count('alpn'));
    http2.on('sessionError', count('http2'));
    const opened = this.opts.grpcMetrics?.counter(METRICS.grpcCommConnOpened);
    const closed = this.opts.grpcMetrics?.counter(METRICS.grpcCommConnClosed);
    const listener = createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => undefined); // the TLS/HTTP2 layers above report and close
      if (this.closed) {
        socket.destroy();
        return;
      }
      if (!gate.admit(socket)) return;
      opened?.inc();
      socket.once('close', () => closed?.inc());
      injector.injectConnection(socket);
    });
    this.listener = listener;
    return new Promise((resolve, reject) => {
      listener.once('error', (err) =>
        reject(new GrapevineError('LISTEN', `cannot listen on ${address}: ${err.message}`, { cause: err })),
      );
      listener.listen(target, () => resolve((listener.address() as AddressInfo).port));
    });
  }

  /** Stop accepting, end every call and session, destroy every socket; bounded by `graceMs`. */
  close(graceMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const listenerClosed = new Promise<void>((resolve) => {
      if (!this.listener?.listening) return resolve();
      this.listener.close(() => resolve());
    });
    this.server.forceShutdown();
    this.gate?.destroyAll();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    return Promise.race([listenerClosed, deadline]).finally(() => clearTimeout(timer));
  }
}
