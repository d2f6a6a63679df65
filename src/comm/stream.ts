/**
 * The gossip.Gossip service as comm uses it: GossipStream carries raw frames (Buffers), so
 * comm encodes each outgoing envelope once, decodes incoming bytes itself (bad bytes are counted
 * and close the connection instead of surfacing as a gRPC deserializer error), and keeps the
 * payload bytes exactly as received. Ping is the typed definition of src/wire/services.ts.
 *
 * `GossipDuplex` hides whether a stream is the server or the client end.
 */
import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { GossipService, rawStreamMethod } from '../wire/services.js';
import { remoteCertDer, serverCallCertDer } from './tls.js';

export const RawGossipService = {
  GossipStream: rawStreamMethod(GossipService.GossipStream.path, 'GossipStream'),
  Ping: GossipService.Ping,
} satisfies grpc.ServiceDefinition;

/** Either end of a GossipStream. */
export interface GossipDuplex {
  readonly direction: 'in' | 'out';
  /** The Node stream: write(Buffer), 'data' (Buffer), pause/resume, 'drain', 'end', 'error', 'close'. */
  readonly stream: Duplex;
  /** DER of the TLS certificate the remote presented (undefined without TLS). */
  remoteCertDer(): Uint8Array | undefined;
  /** Remote socket address. */
  peer(): string;
  /** End the stream (server: OK status; client: cancel and close the channel). Idempotent. */
  close(): void;
}

/** Errors are read from the stream by whoever owns it; this keeps a late one from being unhandled. */
const ignore = (): void => {};

/** Read the remote certificate once it is known (Node parses the whole certificate on every read). */
function once(read: () => Uint8Array | undefined): () => Uint8Array | undefined {
  let value: Uint8Array | undefined;
  return () => (value ??= read());
}

export function serverDuplex(call: grpc.ServerDuplexStream<Buffer, Buffer>): GossipDuplex {
  call.on('error', ignore);
  let closed = false;
  return {
    direction: 'in',
    stream: call as unknown as Duplex,
    remoteCertDer: once(() => serverCallCertDer(call)),
    peer: () => call.getPeer(),
    close() {
      if (closed) return;
      closed = true;
      try {
        call.end();
      } catch {
        /* already finished */
      }
    },
  };
}

export function clientDuplex(
  client: grpc.Client,
  call: grpc.ClientDuplexStream<Buffer, Buffer>,
  endpoint: string,
): GossipDuplex {
  call.on('error', ignore);
  let closed = false;
  return {
    direction: 'out',
    stream: call as unknown as Duplex,
    remoteCertDer: once(() => remoteCertDer(call)),
    peer: () => endpoint,
    close() {
      if (closed) return;
      closed = true;
      call.cancel();
      client.close();
    },
  };
}
