/**
 * The real DeliverConnector (PROTOCOL.md §8.2): one gRPC channel per connection to the chosen
 * endpoint, dialled within connTimeout, keepalive 60 s / 20 s, 100 MiB limits. TLS trusts the
 * endpoint's root certs (its org's TLS CAs, or an override's) and presents a client certificate
 * only when clientAuthRequired. Then Deliver is opened and the SeekInfo envelope sent once.
 * Received frames are queued (bounded: the call is paused while the consumer is behind).
 */
import * as grpc from '@grpc/grpc-js';
import { waitChannelReady } from '../ready.js';
import { GrapevineError } from '../../base/errors.js';
import type { DeliverClientConfig } from '../../core/deliver/config.js';
import type { DeliverConnector, DeliverStream } from '../../core/deliver/deliverer.js';
import type { Endpoint } from '../../core/deliver/endpoints.js';
import { RawAtomicBroadcastService } from './frames.js';
import type { UpstreamConnector } from '../../core/stream/follower.js';
import { STREAM_DEFAULTS } from '../../core/stream/config.js';
import { channelCredentials, leafDer, sslCredentials, tlsTargetOptions, type CommTls } from '../tls.js';
import { sha256 } from '../../wire/block.js';

/** TLS of the deliver client; absent = plaintext (`peer.tls.enabled: false`). */
export interface DeliverTls {
  /** `peer.tls.clientAuthRequired`: present a client certificate and bind it in tls_cert_hash. */
  readonly clientAuthRequired: boolean;
  /** Client certificate and key (PEM): `peer.tls.clientCert.file`, or the server pair. */
  readonly certPem: Uint8Array;
  readonly keyPem: Uint8Array;
}

export class DeliverConnectError extends GrapevineError {}

const QUEUE_HIGH_WATER = 4;

function joinPem(pems: readonly Uint8Array[]): Buffer {
  return Buffer.concat(pems.map((p) => Buffer.concat([Buffer.from(p), Buffer.from('\n')])));
}

export class GrpcDeliverConnector implements DeliverConnector {
  private readonly clients = new Set<grpc.Client>();

  constructor(
    private readonly cfg: DeliverClientConfig,
    private readonly tls?: DeliverTls,
  ) {}

  private credentials(endpoint: Endpoint): grpc.ChannelCredentials {
    if (!this.tls) return grpc.credentials.createInsecure();
    const roots = endpoint.rootCerts.length > 0 ? joinPem(endpoint.rootCerts) : null;
    if (!this.tls.clientAuthRequired) return sslCredentials(roots);
    return sslCredentials(roots, Buffer.from(this.tls.keyPem), Buffer.from(this.tls.certPem));
  }

  connect(endpoint: Endpoint, seekEnvelope: Uint8Array): Promise<DeliverStream> {
    return this.dialDeliver(endpoint.address, this.credentials(endpoint), seekEnvelope);
  }

  /** Dial `address` within connTimeout, open Deliver and send the seek envelope. */
  protected async dialDeliver(
    address: string,
    credentials: grpc.ChannelCredentials,
    seekEnvelope: Uint8Array,
    receiveWindow?: number,
  ): Promise<DeliverStream> {
    const client = new grpc.Client(address, credentials, {
      'grpc.keepalive_time_ms': this.cfg.keepaliveIntervalMs,
      'grpc.keepalive_timeout_ms': this.cfg.keepaliveTimeoutMs,
      'grpc.max_receive_message_length': this.cfg.maxRecvMsgSize,
      'grpc.max_send_message_length': this.cfg.maxSendMsgSize,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_retries': 0,
      ...(receiveWindow ? { 'grpc-node.flow_control_window': receiveWindow } : {}),
      ...(credentials._isSecure() ? tlsTargetOptions(address) : {}),
    });
    this.clients.add(client);
    const release = (): void => {
      this.clients.delete(client);
      client.close();
    };
    try {
      await waitReady(client, this.cfg.connTimeoutMs, address);
    } catch (e) {
      release();
      throw e;
    }
    const m = RawAtomicBroadcastService.Deliver;
    const call = client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      new grpc.Metadata(),
    );
    const stream = new CallStream(call, release);
    call.write(Buffer.from(seekEnvelope));
    return stream;
  }

  /** Close every connection still open. */
  closeAll(): void {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }
}

/**
 * Deliver streams from upstream Grapevine peers (core/stream): the peer's Deliver service on its
 * gossip endpoint, dialled with the gossip TLS (the channel orgs' TLS CAs, our client certificate,
 * as the catch-up client does); the deliver client's timeouts and limits; an HTTP/2 receive window
 * of grapevine.streams.receiveWindow (a catching-up peer reads many blocks in a row: with
 * HTTP/2's 64 KiB the upstream waited for a window update every ~50 small blocks, and a
 * 10,000-block catch-up took 1.4 times as long).
 */
export class GrpcUpstreamConnector extends GrpcDeliverConnector implements UpstreamConnector {
  readonly tlsCertHash: Uint8Array | undefined;
  constructor(
    cfg: DeliverClientConfig,
    private readonly commTls: CommTls | undefined,
    private readonly receiveWindow: number = STREAM_DEFAULTS.receiveWindow,
  ) {
    super(cfg);
    this.tlsCertHash = commTls
      ? sha256(leafDer(commTls.clientCertPem ?? commTls.certPem, 'TLS client certificate'))
      : undefined;
  }

  open(address: string, seekEnvelope: Uint8Array): Promise<DeliverStream> {
    return this.dialDeliver(address, channelCredentials(this.commTls), seekEnvelope, this.receiveWindow);
  }
}

class CallStream implements DeliverStream {
  private readonly queue: Uint8Array[] = [];
  private waiting: ((f: Uint8Array | undefined) => void) | undefined;
  private ended = false;
  private closed = false;

  constructor(
    private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>,
    private readonly release: () => void,
  ) {
    call.on('data', (b: Buffer) => {
      const frame = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(frame);
        return;
      }
      this.queue.push(frame);
      if (this.queue.length >= QUEUE_HIGH_WATER) call.pause();
    });
    const end = (): void => {
      this.ended = true;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(undefined);
      }
    };
    call.on('end', end);
    call.on('error', end);
    call.on('close', end);
  }

  queued(): number {
    return this.queue.length;
  }

  recv(): Promise<Uint8Array | undefined> {
    const next = this.queue.shift();
    if (next) {
      if (this.queue.length < QUEUE_HIGH_WATER) this.call.resume();
      return Promise.resolve(next);
    }
    if (this.ended || this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    try {
      this.call.cancel();
    } catch {
      /* already done */
    }
    this.release();
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(undefined);
    }
  }
}

function waitReady(client: grpc.Client, timeoutMs: number, address: string): Promise<void> {
  return waitChannelReady(client, timeoutMs, (why) =>
    why === 'failed'
      ? new DeliverConnectError('CONNECT', `could not dial endpoint '${address}' (TCP or TLS failure)`)
      : new DeliverConnectError('CONNECT', `could not dial endpoint '${address}' within ${timeoutMs} ms`),
  );
}
