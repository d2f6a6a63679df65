/**
 * The gossip.Gossip gRPC server (PROTOCOL.md §1.1, §1.2, §3.3): Ping always answers Empty;
 * each GossipStream is handed to `onStream` (which authenticates it). TLS requests a client
 * certificate; server keepalive and message limits as Fabric's. grpc-js has no server-side
 * ping enforcement (Fabric's minInterval 60 s), so pings from clients are never refused.
 * A received message over maxRecvMsgSize is refused by grpc-js itself (the call ends with
 * RESOURCE_EXHAUSTED before any handler sees it), so it is not in grapevine_gossip_comm_bad_input_total.
 *
 * We own the listening socket and every accepted socket (listener.ts: TCP_NODELAY, stop()
 * bounded whatever clients do, connection limits). A TLS handshake must finish within
 * serverConnTimeout (Fabric's connection timeout), a first stream must open within idleTimeout
 * and a handshake succeed within another, and at most maxConns (maxConnsPerAddress from one IP)
 * are open, unauthenticated ones shed first.
 */
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { GrapevineError } from '../base/errors.js';
import { EmptySchema } from '../wire/gen/gossip/message_pb.js';
import type { CommConfig } from '../core/link/comm-config.js';
import { RawGossipService, serverStream, type GrpcLinkStream } from './stream.js';
import { ownLeaves, serverCredentials, type CommTls } from './tls.js';
import type { Metrics } from '../base/metrics.js';
import { grpcMetricsInterceptor } from './grpc-metrics.js';
import { OwnedListener, authenticateCall } from './listener.js';

export function serverOptions(cfg: CommConfig): grpc.ServerOptions {
  return {
    'grpc.keepalive_time_ms': cfg.serverKeepaliveIntervalMs,
    'grpc.keepalive_timeout_ms': cfg.serverKeepaliveTimeoutMs,
    'grpc.max_receive_message_length': cfg.maxRecvMsgSize,
    'grpc.max_send_message_length': cfg.maxSendMsgSize,
  };
}

export class GossipServer {
  private readonly server: grpc.Server;
  private readonly listener: OwnedListener;
  private stopped = false;

  constructor(
    private readonly cfg: CommConfig,
    private readonly tls: CommTls | undefined,
    onStream: (stream: GrpcLinkStream) => void,
    /** Fabric's grpc_server_* and grpc_comm_conn_* metrics go here (absent: none). */
    grpcMetrics?: Metrics,
    /** grapevine_conn_*{server="gossip"} go here (absent: none). */
    metrics?: Metrics,
  ) {
    const ownLeaf = ownLeaves(tls).server;
    this.server = new grpc.Server({
      ...serverOptions(cfg),
      ...(grpcMetrics ? { interceptors: [grpcMetricsInterceptor(grpcMetrics)] } : {}),
    });
    this.listener = new OwnedListener(this.server, {
      name: 'gossip',
      limits: {
        maxConns: cfg.maxConns,
        maxConnsPerAddress: cfg.maxConnsPerAddress,
        handshakeTimeoutMs: cfg.serverConnTimeoutMs,
        idleTimeoutMs: cfg.idleTimeoutMs,
        maxUnauthenticatedBytes: cfg.maxUnauthenticatedBytes,
        maxUnauthenticatedBytesTotal: cfg.maxUnauthenticatedBytesTotal,
      },
      ...(metrics ? { metrics } : {}),
      ...(grpcMetrics ? { grpcMetrics } : {}),
    });
    this.server.addService(
      RawGossipService,
      this.listener.withAuthentication({
        Ping: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
          cb(null, create(EmptySchema)),
        GossipStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          const stream = serverStream(call, ownLeaf, () => authenticateCall(call));
          if (this.stopped) stream.close();
          else onStream(stream);
        },
      }),
    );
  }

  /**
   * Serve another gRPC service on the same server (same port, TLS and limits); before listen().
   * E.g. Grapevine's catch-up stream next to gossip.Gossip (GrpcTransportOptions.services).
   */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(service, this.listener.withAuthentication(implementation));
  }

  /** Accepted sockets not yet closed (diagnostics and tests). */
  get openSockets(): number {
    return this.listener.openSockets;
  }

  /** Bind `address` (host:port, port 0 = any); returns the bound port. */
  async listen(address: string): Promise<number> {
    if (this.stopped) throw new GrapevineError('LISTEN', `cannot listen on ${address}: server stopped`);
    return this.listener.listen(address, serverCredentials(this.tls, this.cfg.clientAuthRequired));
  }

  /** Stop accepting, end every call and session, destroy every socket; bounded by `graceMs`. */
  stop(graceMs: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    return this.listener.close(graceMs);
  }
}
