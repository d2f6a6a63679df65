/**
 * Outbound connections (PROTOCOL.md §3.1, §3.7):
 *   1. connect (TCP + TLS) within dialTimeout; a connection that is refused or whose TLS
 *      handshake fails gives up at once instead of retrying until the deadline;
 *   2. unary Ping within connTimeout;
 *   3. open GossipStream (no deadline, except a probe handshake's handshakeTimeout), handed to
 *      the link (src/core/link) as a LinkStream, which runs the handshake over it.
 * probe() stops after step 2. Each dial has its own gRPC channel (local subchannel pool), so
 * closing a connection closes its TCP connection. Every client is tracked until closed, and
 * every step in progress is registered with the Stopper: a stop cancels the Ping, closes the
 * stream and the channel and rejects the dial with STOPPED at once, so closeAll() leaves
 * nothing behind and nothing waiting.
 */
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '../wire/gen/gossip/message_pb.js';
import type { CommConfig } from '../core/link/comm-config.js';
import { DialError, stoppedError } from '../core/link/stream.js';
import type { Stopper } from '../core/link/stopper.js';
import { RawGossipService, clientStream, type GrpcLinkStream } from './stream.js';
import { waitChannelReady } from './ready.js';
import { channelCredentials, tlsTargetOptions, type CommTls } from './tls.js';

export { DialError, type DialStep } from '../core/link/stream.js';

export interface DialerOptions {
  readonly cfg: CommConfig;
  readonly tls?: CommTls;
  /** Our TLS client leaf (tls_cert_hash when dialling). */
  readonly ownLeafDer?: Uint8Array;
  readonly stopper: Stopper;
}

export function clientChannelOptions(cfg: CommConfig): grpc.ChannelOptions {
  return {
    'grpc.keepalive_time_ms': cfg.clientKeepaliveIntervalMs,
    'grpc.keepalive_timeout_ms': cfg.clientKeepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': cfg.maxRecvMsgSize,
    'grpc.max_send_message_length': cfg.maxSendMsgSize,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  };
}

export class Dialer {
  private readonly creds: grpc.ChannelCredentials;
  private readonly clients = new Set<grpc.Client>();

  constructor(private readonly opts: DialerOptions) {
    this.creds = channelCredentials(opts.tls);
  }

  /**
   * `work`, unless the transport stops first: then `onStop` runs (it cancels what `work` waits
   * for) and the result rejects with STOPPED at once.
   */
  private stoppable<T>(
    work: (settle: (err: Error | undefined, value?: T) => void) => void,
    onStop: () => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const settle = (err: Error | undefined, value?: T): void => {
        if (done) return;
        done = true;
        forget();
        if (err) reject(err);
        else resolve(value as T);
      };
      const forget = this.opts.stopper.onStop((e) => {
        if (done) return;
        settle(e);
        onStop();
      });
      if (!done) work(settle);
    });
  }

  /** Connect and Ping; the client is open on success (close it with release()). */
  async connect(endpoint: string): Promise<grpc.Client> {
    if (this.opts.stopper.stopped) throw stoppedError();
    const { cfg } = this.opts;
    const client = new grpc.Client(endpoint, this.creds, {
      ...clientChannelOptions(cfg),
      ...(this.opts.tls ? tlsTargetOptions(endpoint) : {}),
    });
    this.clients.add(client);
    try {
      await this.stoppable<void>(
        (settle) => void waitReady(client, cfg.dialTimeoutMs, endpoint).then(() => settle(undefined), settle),
        () => client.close(),
      );
      let call: grpc.ClientUnaryCall | undefined;
      await this.stoppable<void>(
        (settle) => {
          call = client.makeUnaryRequest(
            RawGossipService.Ping.path,
            RawGossipService.Ping.requestSerialize,
            RawGossipService.Ping.responseDeserialize,
            create(EmptySchema),
            new grpc.Metadata(),
            { deadline: Date.now() + cfg.connTimeoutMs },
            (err) =>
              settle(
                err
                  ? new DialError('PING', `Ping ${endpoint} failed: ${err.details || err.message}`, {
                      cause: err,
                    })
                  : undefined,
              ),
          );
        },
        () => call?.cancel(),
      );
      return client;
    } catch (e) {
      this.release(client);
      throw e;
    }
  }

  /** §3.7 probe: reachable = connect + Ping succeed. */
  async probe(endpoint: string): Promise<void> {
    this.release(await this.connect(endpoint));
  }

  /** Connect, Ping and open a GossipStream (the link runs the handshake on it). */
  async open(endpoint: string, probe: boolean): Promise<GrpcLinkStream> {
    const client = await this.connect(endpoint);
    const { cfg } = this.opts;
    try {
      const call = client.makeBidiStreamRequest(
        RawGossipService.GossipStream.path,
        RawGossipService.GossipStream.requestSerialize,
        RawGossipService.GossipStream.responseDeserialize,
        new grpc.Metadata(),
        probe ? { deadline: Date.now() + cfg.handshakeTimeoutMs } : {},
      );
      call.once('close', () => this.clients.delete(client));
      return clientStream(client, call, endpoint, this.opts.ownLeafDer);
    } catch (e) {
      this.release(client);
      throw new DialError('STREAM', `cannot open GossipStream to ${endpoint}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  release(client: grpc.Client): void {
    this.clients.delete(client);
    client.close();
  }

  /** Close every client this dialer opened (the Stopper has failed every dial in progress). */
  closeAll(): void {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }

  /** Clients not yet closed (diagnostics and tests). */
  get openClients(): number {
    return this.clients.size;
  }
}

/** Wait until the channel is READY; fail at the first TRANSIENT_FAILURE or at the deadline. */
function waitReady(client: grpc.Client, timeoutMs: number, endpoint: string): Promise<void> {
  return waitChannelReady(client, timeoutMs, (why) =>
    why === 'failed'
      ? new DialError('CONNECT', `cannot connect to ${endpoint} (TCP or TLS failure)`)
      : new DialError('CONNECT', `cannot connect to ${endpoint} within ${timeoutMs} ms`),
  );
}
