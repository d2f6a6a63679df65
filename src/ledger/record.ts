/**
 * Record framing of the block files.
 *
 * A block file is a sequence of records, each:
 *   magic "GVBK" (4) | payload length u32 LE (4) | CRC-32 of payload u32 LE (4) |
 *   CRC-32 of the 12 bytes before it u32 LE (4) | payload (the block's protobuf bytes).
 * The header has its own checksum so a damaged length is never trusted; the payload checksum
 * catches torn or rotted block bytes. CRC-32 is zlib's (IEEE polynomial; crc.ts).
 */
import { crc32 } from './crc.js';

export const RECORD_MAGIC = Buffer.from('GVBK', 'latin1');
export const RECORD_HEADER_BYTES = 16;
/** Lengths above this are never valid (guards against allocating for a damaged header). */
export const MAX_RECORD_PAYLOAD = 0xffff_fff0;

export function encodeRecordHeader(payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  RECORD_MAGIC.copy(h, 0);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  h.writeUInt32LE(crc32(h.subarray(0, 12)), 12);
  return h;
}

export interface RecordHeader {
  readonly length: number;
  readonly payloadCrc: number;
}

/** Parses a 16-byte header; undefined when the magic or the header checksum is wrong. */
export function parseRecordHeader(h: Uint8Array): RecordHeader | undefined {
  if (h.length < RECORD_HEADER_BYTES) return undefined;
  const b = Buffer.from(h.buffer, h.byteOffset, RECORD_HEADER_BYTES);
  if (!b.subarray(0, 4).equals(RECORD_MAGIC)) return undefined;
  if (crc32(b.subarray(0, 12)) !== b.readUInt32LE(12)) return undefined;
  const length = b.readUInt32LE(4);
  if (length > MAX_RECORD_PAYLOAD) return undefined;
  return { length, payloadCrc: b.readUInt32LE(8) };
}

export function payloadMatches(header: RecordHeader, payload: Uint8Array): boolean {
  return payload.length === header.length && crc32(payload) === header.payloadCrc;
}
