/**
 * The gossip.Gossip gRPC server (PROTOCOL.md §1.1, §1.2, §3.3): Ping always answers Empty;
 * each GossipStream is handed to `onStream` (which authenticates it). TLS requests a client
 * certificate; server keepalive and message limits as Fabric's. grpc-js has no server-side
 * ping enforcement (Fabric's minInterval 60 s), so pings from clients are never refused.
 * A received message over maxRecvMsgSize is refused by grpc-js itself (the call ends with
 * RESOURCE_EXHAUSTED before any handler sees it), so it is not in grapevine_gossip_comm_bad_input_total.
 *
 * We own the listening socket and every accepted socket (grpc-js serves them through a
 * connection injector), so stop() is bounded whatever clients do:
 *   1. stop listening; 2. grpc-js ends every session and call; 3. destroy every accepted socket,
 *   including ones still in their TLS handshake (grpc-js does not know those, and a server close
 *   would otherwise wait for them); 4. wait for the listener to close, at most `graceMs`.
 * A TLS handshake must also finish within serverConnTimeout (Fabric's connection timeout).
 */
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { GrapevineError } from '../base/errors.js';
import { EmptySchema } from '../wire/gen/gossip/message_pb.js';
import type { CommConfig } from '../core/link/comm-config.js';
import { RawGossipService, serverStream, type GrpcLinkStream } from './stream.js';
import { ownLeaves, serverCredentials, type CommTls } from './tls.js';
import type { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';
import { grpcMetricsInterceptor } from './grpc-metrics.js';

export function serverOptions(cfg: CommConfig): grpc.ServerOptions {
  return {
    'grpc.keepalive_time_ms': cfg.serverKeepaliveIntervalMs,
    'grpc.keepalive_timeout_ms': cfg.serverKeepaliveTimeoutMs,
    'grpc.max_receive_message_length': cfg.maxRecvMsgSize,
    'grpc.max_send_message_length': cfg.maxSendMsgSize,
  };
}

/** host:port, [v6]:port -> listen options; throws LISTEN on anything else. */
function listenTarget(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  let host = address.slice(0, Math.max(i, 0));
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535 || host === '') {
    throw new GrapevineError('LISTEN', `cannot listen on ${address}: not host:port`);
  }
  return { host, port };
}

export class GossipServer {
  private readonly server: grpc.Server;
  private readonly sockets = new Set<Socket>();
  private listener?: NetServer;
  private stopped = false;

  constructor(
    private readonly cfg: CommConfig,
    private readonly tls: CommTls | undefined,
    onStream: (stream: GrpcLinkStream) => void,
    /** Fabric's grpc_server_* and grpc_comm_conn_* metrics go here (absent: none). */
    private readonly grpcMetrics?: Metrics,
  ) {
    const ownLeaf = ownLeaves(tls).server;
    this.server = new grpc.Server({
      ...serverOptions(cfg),
      ...(grpcMetrics ? { interceptors: [grpcMetricsInterceptor(grpcMetrics)] } : {}),
    });
    this.server.addService(RawGossipService, {
      Ping: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, create(EmptySchema)),
      GossipStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const stream = serverStream(call, ownLeaf);
        if (this.stopped) stream.close();
        else onStream(stream);
      },
    });
  }

  /**
   * Serve another gRPC service on the same server (same port, TLS and limits); before listen().
   * E.g. Grapevine's catch-up stream next to gossip.Gossip (GrpcTransportOptions.services).
   */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(service, implementation);
  }

  /** Accepted sockets not yet closed (diagnostics and tests). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Bind `address` (host:port, port 0 = any); returns the bound port. */
  async listen(address: string): Promise<number> {
    const target = listenTarget(address);
    if (this.stopped) throw new GrapevineError('LISTEN', `cannot listen on ${address}: server stopped`);
    const injector = this.server.createConnectionInjector(
      serverCredentials(this.tls, this.cfg.clientAuthRequired, this.cfg.serverConnTimeoutMs),
    );
    const opened = this.grpcMetrics?.counter(METRICS.grpcCommConnOpened);
    const closed = this.grpcMetrics?.counter(METRICS.grpcCommConnClosed);
    const listener = createServer({ noDelay: true }, (socket) => {
      if (this.stopped) {
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
  stop(graceMs: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    const closed = new Promise<void>((resolve) => {
      if (!this.listener?.listening) return resolve();
      this.listener.close(() => resolve());
    });
    this.server.forceShutdown();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    return Promise.race([closed, deadline]).finally(() => clearTimeout(timer));
  }
}
