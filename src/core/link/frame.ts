/**
 * The gossip Envelope on the hot path (PROTOCOL.md §1.3): encode and decode without the generic
 * protobuf machinery, byte-for-byte what protobuf-es produces and reads.
 *
 *   encode: proto3 fields in number order, empty bytes omitted: 0x0a len payload, 0x12 len
 *     signature. An envelope with a secret_envelope or unknown fields goes through protobuf-es.
 *     Returns a Buffer (the stream's frame type) with no further copy.
 *   decode: the common frame (fields 1 and 2, each at most once, well-formed) becomes an
 *     Envelope whose payload/signature are views of the frame, exactly as protobuf-es would
 *     return them; anything else (secret_envelope, unknown or repeated fields, bad wire types,
 *     truncation) is handed to protobuf-es, which decodes it or throws our WireError.
 */
import { EnvelopeSchema, type Envelope } from '../../wire/gen/gossip/message_pb.js';
import { decodeEnvelope, encodeEnvelope } from '../../wire/gossip.js';

const EMPTY = new Uint8Array(0);
const TAG_PAYLOAD = 0x0a;
const TAG_SIGNATURE = 0x12;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

function fieldSize(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

function writeField(buf: Buffer, pos: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return pos;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** Serialize an Envelope to the bytes of one stream frame (identical to protobuf-es toBinary). */
export function encodeFrame(env: Envelope): Buffer {
  if (env.secretEnvelope !== undefined || (env as { $unknown?: unknown[] }).$unknown?.length) {
    const bytes = encodeEnvelope(env);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const { payload, signature } = env;
  const buf = Buffer.allocUnsafe(fieldSize(payload.length) + fieldSize(signature.length));
  writeField(buf, writeField(buf, 0, TAG_PAYLOAD, payload), TAG_SIGNATURE, signature);
  return buf;
}

/** Decode one received frame (payload and signature are views of `frame`). Throws WireError only. */
export function decodeFrame(frame: Uint8Array): Envelope {
  const end = frame.length;
  let pos = 0;
  let payload: Uint8Array | undefined;
  let signature: Uint8Array | undefined;
  while (pos < end) {
    const tag = frame[pos++];
    if ((tag !== TAG_PAYLOAD || payload) && (tag !== TAG_SIGNATURE || signature))
      return decodeEnvelope(frame);
    // The length varint: at most 5 bytes, and the field must fit in the frame.
    let len = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 28) return decodeEnvelope(frame);
      const byte = frame[pos++];
      len += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    if (len > end - pos) return decodeEnvelope(frame);
    const value = frame.subarray(pos, pos + len);
    if (tag === TAG_PAYLOAD) payload = value;
    else signature = value;
    pos += len;
  }
  return {
    $typeName: EnvelopeSchema.typeName,
    payload: payload ?? EMPTY,
    signature: signature ?? EMPTY,
  } as Envelope;
}
