/**
 * The gossip.Gossip gRPC server (PROTOCOL.md §1.1, §1.2, §3.3): Ping always answers Empty;
 * each GossipStream is handed to `onStream` (which authenticates it). TLS requests a client
 * certificate; server keepalive and message limits as Fabric's. grpc-js has no server-side
 * ping enforcement (Fabric's minInterval 60 s), so pings from clients are never refused.
 * A received message over maxRecvMsgSize is refused by grpc-js itself (the call ends with
 * RESOURCE_EXHAUSTED before any handler sees it), so it is not in gossip_comm_bad_input.
 */
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { GrapevineError } from '../errors.js';
import { EmptySchema } from '../wire/gen/gossip/message_pb.js';
import type { CommConfig } from './config.js';
import { RawGossipService, serverDuplex, type GossipDuplex } from './stream.js';
import { serverCredentials, type CommTls } from './tls.js';

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
  private stopped = false;

  constructor(
    private readonly cfg: CommConfig,
    private readonly tls: CommTls | undefined,
    onStream: (duplex: GossipDuplex) => void,
  ) {
    this.server = new grpc.Server(serverOptions(cfg));
    this.server.addService(RawGossipService, {
      Ping: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, create(EmptySchema)),
      GossipStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const duplex = serverDuplex(call);
        if (this.stopped) duplex.close();
        else onStream(duplex);
      },
    });
  }

  /** Bind `address` (host:port, port 0 = any); returns the bound port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, serverCredentials(this.tls, this.cfg.clientAuthRequired), (err, port) => {
        if (err) reject(new GrapevineError('LISTEN', `cannot listen on ${address}: ${err.message}`, { cause: err }));
        else resolve(port);
      });
    });
  }

  /** Stop accepting, end every call, release the port. */
  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    return new Promise((resolve) => {
      // tryShutdown's callback fires once the listening sockets are closed; forceShutdown ends
      // every open session and call now instead of waiting for clients to go away.
      this.server.tryShutdown(() => resolve());
      this.server.forceShutdown();
    });
  }
}
