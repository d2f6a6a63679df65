/**
 * The gossip.Gossip service as comm uses it: GossipStream carries raw frames (Buffers), so
 * comm encodes each outgoing envelope once, decodes incoming bytes itself (bad bytes are counted
 * and close the connection instead of surfacing as a gRPC deserializer error), and keeps the
 * payload bytes exactly as received. Ping is the typed definition of src/wire/services.ts.
 *
 * `GrpcLinkStream` is either end of a GossipStream as the link's LinkStream
 * (src/core/link/stream.ts): the real world's only part of a gossip connection.
 */
import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import type { LinkSink, LinkStream } from '../core/link/stream.js';
import { GossipService, rawStreamMethod } from '../wire/services.js';
import { remoteCertDer, serverCallCertDer } from './tls.js';

export const RawGossipService = {
  GossipStream: rawStreamMethod(GossipService.GossipStream.path, 'GossipStream'),
  Ping: GossipService.Ping,
} satisfies grpc.ServiceDefinition;

/** Either end of a GossipStream (a Node duplex of Buffers) as a LinkStream. */
export class GrpcLinkStream implements LinkStream {
  private sink?: LinkSink;
  private ended?: string;
  private closed = false;
  private cert?: Uint8Array | null;

  constructor(
    readonly direction: 'in' | 'out',
    private readonly stream: Duplex,
    private readonly peer: () => string,
    private readonly readCert: () => Uint8Array | undefined,
    readonly ownCertDer: Uint8Array | undefined,
    private readonly closeFn: () => void,
    private readonly onAuthenticated?: () => void,
  ) {
    stream.once('end', () => this.end_('stream ended by remote'));
    stream.once('close', () => this.end_('stream closed'));
    // Also keeps a late error from being unhandled.
    stream.on('error', (e: Error) => this.end_(`stream error: ${e.message}`));
  }

  get remoteEndpoint(): string {
    return this.peer();
  }

  /** The link authenticated this accepted stream: its connection is no stranger (conn-gate.ts). */
  authenticated(): void {
    this.onAuthenticated?.();
  }

  /** Read once (Node parses the whole certificate on every read). */
  remoteCertDer(): Uint8Array | undefined {
    if (this.cert === undefined) this.cert = this.readCert() ?? null;
    return this.cert ?? undefined;
  }

  attach(sink: LinkSink): void {
    const old = this.sink;
    if (old) {
      this.stream.off('data', old.onFrame);
      this.stream.off('drain', old.onDrain);
    }
    this.sink = sink;
    this.stream.on('data', sink.onFrame);
    this.stream.on('drain', sink.onDrain);
    if (this.ended !== undefined) sink.onClose(this.ended);
  }

  write(frame: Uint8Array): boolean {
    return this.stream.write(frame);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  end(): void {
    this.stream.end();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const sink = this.sink;
    if (sink) {
      this.stream.off('data', sink.onFrame);
      this.stream.off('drain', sink.onDrain);
    }
    this.closeFn();
  }

  private end_(why: string): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    this.sink?.onClose(why);
  }
}

/** The server end of a GossipStream; `ownLeafDer` = our server TLS leaf. */
export function serverStream(
  call: grpc.ServerDuplexStream<Buffer, Buffer>,
  ownLeafDer?: Uint8Array,
  onAuthenticated?: () => void,
): GrpcLinkStream {
  return new GrpcLinkStream(
    'in',
    call as unknown as Duplex,
    () => call.getPeer(),
    () => serverCallCertDer(call),
    ownLeafDer,
    () => {
      try {
        call.end();
      } catch {
        /* already finished */
      }
    },
    onAuthenticated,
  );
}

/** The client end of a GossipStream on its own channel; closing it closes the channel. */
export function clientStream(
  client: grpc.Client,
  call: grpc.ClientDuplexStream<Buffer, Buffer>,
  endpoint: string,
  ownLeafDer?: Uint8Array,
): GrpcLinkStream {
  return new GrpcLinkStream(
    'out',
    call as unknown as Duplex,
    () => endpoint,
    () => remoteCertDer(call),
    ownLeafDer,
    () => {
      call.cancel();
      client.close();
    },
  );
}
