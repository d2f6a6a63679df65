/**
 * The small headers every transaction carries (common.Header, common.ChannelHeader,
 * common.SignatureHeader), decoded without the generic decoder when their bytes have the shape
 * every Fabric SDK and orderer writes. A catch-up decodes these three for every transaction it
 * verifies, and protobuf-es's generic decoder (a walk over the schema per field) was the largest
 * part of a verifier worker's time.
 *
 * Fast path: fields in increasing field-number order, each at most once, of the expected wire
 * type, varints of at most 9 bytes (no negative numbers), strings in ASCII. Such bytes decode to one
 * message only, and it is built here with the same shape protobuf-es gives (every field with its
 * default, bytes as views of the input). Anything else (an unknown, repeated or reordered field,
 * a long varint, non-ASCII text, a truncated field) goes through the generic decoder, which
 * gives the same message or the WireError. test/wire/headers.test.ts checks both ways agree.
 */
import { decode } from './codec.js';
import { bodyStart, lengthDelimited } from './fields.js';
import {
  ChannelHeaderSchema,
  HeaderSchema,
  SignatureHeaderSchema,
  type ChannelHeader,
  type Header,
  type SignatureHeader,
} from './gen/common/common_pb.js';
import type { Timestamp } from '@bufbuild/protobuf/wkt';

const EMPTY = new Uint8Array(0);

/**
 * b = `0x0a len A` then optionally `0x12 len B`, nothing else, each length a varint of at most
 * 4 bytes that fits: [A, B] as views of b (B empty when absent). Any other shape, including a
 * repeated, reordered or unknown field, is undefined and left to the generic decoder. Decoding
 * such bytes as a message of two bytes-or-message fields 1 and 2 gives exactly A and B.
 */
export function bytesFields12(b: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  if (b.length < 2 || b[0] !== 0x0a) return undefined;
  const aEnd = lengthDelimited(b, 1);
  if (aEnd < 0) return undefined;
  const a = b.subarray(bodyStart, aEnd);
  if (aEnd === b.length) return [a, EMPTY];
  if (b[aEnd] !== 0x12 || lengthDelimited(b, aEnd + 1) !== b.length) return undefined;
  return [a, b.subarray(bodyStart)];
}

/** common.Header from its bytes (throws WireError). */
export function decodeHeader(bytes: Uint8Array, what = 'common.Header'): Header {
  const f = bytesFields12(bytes);
  if (!f) return decode(HeaderSchema, bytes, what);
  return { $typeName: 'common.Header', channelHeader: f[0], signatureHeader: f[1] };
}

/** common.SignatureHeader from its bytes (throws WireError). */
export function decodeSignatureHeader(bytes: Uint8Array, what = 'common.SignatureHeader'): SignatureHeader {
  const f = bytesFields12(bytes);
  if (!f) return decode(SignatureHeaderSchema, bytes, what);
  return { $typeName: 'common.SignatureHeader', creator: f[0], nonce: f[1] };
}

/** common.ChannelHeader from its bytes (throws WireError). */
export function decodeChannelHeader(bytes: Uint8Array, what = 'common.ChannelHeader'): ChannelHeader {
  return scanChannelHeader(bytes) ?? decode(ChannelHeaderSchema, bytes, what);
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
/** ChannelHeader's fields: number -> wire type. */
const CHANNEL_HEADER_WIRE = [
  -1,
  WIRE_VARINT,
  WIRE_VARINT,
  WIRE_LEN,
  WIRE_LEN,
  WIRE_LEN,
  WIRE_VARINT,
  WIRE_LEN,
  WIRE_LEN,
];
/**
 * Longest varint taken on the fast path: 9 bytes (< 2^63: a non-negative int64 or a uint64 that
 * reads the same as either; negative ones take 10 and go the generic way).
 */
const MAX_VARINT_BYTES = 9;
const INT32_LIMIT = 2 ** 31;

/** The position after the last varint read (module state, as fields.ts's bodyStart). */
let pos = 0;

/** A varint of at most 9 bytes at `at` (sets pos), or -1n. */
function varint(b: Uint8Array, at: number): bigint {
  let v = 0; // the first 7 bytes: 49 bits, exact in a double
  let mul = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (at + i >= b.length) return -1n;
    const c = b[at + i]!;
    if (c < 0x80) {
      pos = at + i + 1;
      return i < 7 ? BigInt(v + c * mul) : bigTail(b, at, i);
    }
    v += (c & 0x7f) * mul;
    mul *= 128;
  }
  return -1n;
}

/** A varint of 8 or 9 bytes (`last` = index of its final byte) as an exact bigint. */
function bigTail(b: Uint8Array, at: number, last: number): bigint {
  let v = 0n;
  for (let i = last; i >= 0; i--) v = (v << 7n) | BigInt(b[at + i]! & 0x7f);
  return v;
}

/** A varint read as a non-negative int32 (sets pos), or -1 (absent, too long, or negative as int32). */
function int32(b: Uint8Array, at: number): number {
  const v = varint(b, at);
  return v < 0n || v >= INT32_LIMIT ? -1 : Number(v);
}

/** ASCII text of b[start, end), or undefined when a byte is not ASCII. */
function ascii(b: Uint8Array, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return undefined;
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** ChannelHeader by the fast path; undefined when its bytes are not of the canonical shape. */
export function scanChannelHeader(b: Uint8Array): ChannelHeader | undefined {
  // a message field is an own property only when present, as protobuf-es has it
  const h: ChannelHeader = {
    $typeName: 'common.ChannelHeader',
    type: 0,
    version: 0,
    channelId: '',
    txId: '',
    epoch: 0n,
    extension: EMPTY,
    tlsCertHash: EMPTY,
  };
  let last = 0;
  let o = 0;
  while (o < b.length) {
    const tag = b[o]!;
    const no = tag >> 3;
    if (
      tag >= 0x80 ||
      no <= last ||
      no >= CHANNEL_HEADER_WIRE.length ||
      (tag & 7) !== CHANNEL_HEADER_WIRE[no]
    )
      return undefined;
    last = no;
    if ((tag & 7) === WIRE_VARINT) {
      if (no === 6) {
        const v = varint(b, o + 1);
        if (v < 0n) return undefined;
        h.epoch = v;
      } else {
        const v = int32(b, o + 1);
        if (v < 0) return undefined;
        if (no === 1) h.type = v;
        else h.version = v;
      }
      o = pos;
      continue;
    }
    const end = lengthDelimited(b, o + 1);
    if (end < 0) return undefined;
    const start = bodyStart;
    o = end;
    if (no === 3) {
      const ts = scanTimestamp(b, start, o);
      if (!ts) return undefined;
      h.timestamp = ts;
    } else if (no === 4 || no === 5) {
      const s = ascii(b, start, o);
      if (s === undefined) return undefined;
      if (no === 4) h.channelId = s;
      else h.txId = s;
    } else if (no === 7) h.extension = b.subarray(start, o);
    else h.tlsCertHash = b.subarray(start, o);
  }
  return h;
}

/** google.protobuf.Timestamp in b[start, end): seconds (field 1) then nanos (field 2), each optional. */
function scanTimestamp(b: Uint8Array, start: number, end: number): Timestamp | undefined {
  let seconds = 0n;
  let nanos = 0;
  let o = start;
  if (o < end && b[o] === 0x08) {
    seconds = varint(b, o + 1);
    if (seconds < 0n || pos > end) return undefined;
    o = pos;
  }
  if (o < end && b[o] === 0x10) {
    nanos = int32(b, o + 1);
    if (nanos < 0 || pos > end) return undefined;
    o = pos;
  }
  if (o !== end) return undefined;
  return { $typeName: 'google.protobuf.Timestamp', seconds, nanos };
}
