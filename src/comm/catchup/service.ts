/**
 * `grapevine.Catchup/StreamBlockFrames`: Grapevine's own gRPC method for fast catch-up, served on the
 * peer's gRPC server next to gossip.Gossip. A Fabric peer does not have it and answers
 * UNIMPLEMENTED, which is how a client learns to fall back to RemoteStateRequest; nothing on the
 * gossip wire changes.
 *
 *   request:  a signed common.Envelope (request.ts): channel header type DELIVER_SEEK_INFO with
 *             channel_id, timestamp and tls_cert_hash; signature header creator + nonce;
 *             data = SeekInfo{start = Specified(first), stop = Specified(last)}.
 *   response: a server stream of frames (frame.ts): each message holds one or more whole
 *             serialized common.Blocks (up to maxFrameBytes, at least one block), exactly the
 *             bytes the server's ledger holds, in order from `first`; the stream ends with OK
 *             after min(last, height - 1). Errors: INVALID_ARGUMENT (malformed request),
 *             UNAUTHENTICATED (no or mismatched client certificate), PERMISSION_DENIED (the
 *             creator fails the channel Readers policy, or a stale timestamp), NOT_FOUND
 *             (channel not served), RESOURCE_EXHAUSTED (too many streams).
 * Messages pass through as raw bytes (no protobuf re-encoding on either side).
 */
import type * as grpc from '@grpc/grpc-js';

export const CATCHUP_STREAM_PATH = '/grapevine.Catchup/StreamBlockFrames';

const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export const CatchupService = {
  StreamBlockFrames: {
    path: CATCHUP_STREAM_PATH,
    requestStream: false,
    responseStream: true,
    requestSerialize: asBuffer,
    requestDeserialize: (b: Buffer): Uint8Array => b,
    responseSerialize: asBuffer,
    responseDeserialize: (b: Buffer): Uint8Array => b,
    originalName: 'StreamBlockFrames',
  },
} satisfies grpc.ServiceDefinition;

export { asBuffer };
