/**
 * A gRPC server's listening socket owned by us (grpc-js serves the accepted sockets through a
 * connection injector), for the gossip server and the orderer alike:
 *   - every accepted socket has TCP_NODELAY: a block or a gossip message goes out at once, not
 *     after the peer acknowledged the previous segment (Nagle; Go's servers, Fabric's, set it too);
 *   - every accepted socket is tracked, so close() is bounded whatever clients do: stop listening,
 *     let grpc-js end its sessions, destroy every socket (also those still in their TLS handshake,
 *     which grpc-js does not know and a plain server close would wait for), wait for the listener
 *     to close, at most `graceMs`;
 *   - grpc_comm_conn_opened / grpc_comm_conn_closed count them when metrics are given.
 */
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { GrapevineError } from '../base/errors.js';
import type { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';

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

export class OwnedListener {
  private readonly sockets = new Set<Socket>();
  private listener?: NetServer;
  private closed = false;

  constructor(
    private readonly server: grpc.Server,
    private readonly metrics?: Metrics,
  ) {}

  /** Accepted sockets not yet closed (diagnostics and tests). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Bind `address` (host:port, port 0 = any) serving `credentials`; returns the bound port. */
  async listen(address: string, credentials: grpc.ServerCredentials): Promise<number> {
    const target = listenTarget(address);
    if (this.closed) throw new GrapevineError('LISTEN', `cannot listen on ${address}: server stopped`);
    const injector = this.server.createConnectionInjector(credentials);
    const opened = this.metrics?.counter(METRICS.grpcCommConnOpened);
    const closed = this.metrics?.counter(METRICS.grpcCommConnClosed);
    const listener = createServer({ noDelay: true }, (socket) => {
      if (this.closed) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      opened?.inc();
      socket.once('close', () => {
        this.sockets.delete(socket);
        closed?.inc();
      });
      socket.on('error', () => undefined); // the TLS/HTTP2 layers above report and close
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
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    return Promise.race([listenerClosed, deadline]).finally(() => clearTimeout(timer));
  }
}
