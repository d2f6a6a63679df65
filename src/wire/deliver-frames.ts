/**
 * orderer.DeliverResponse framed by hand (status = field 1, varint; block = field 2, bytes), so
 * that blocks go out as stored and come in as views of the frame, never re-encoded.
 */
import { WireError } from '../base/errors.js';

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** DeliverResponse{status}. */
export function deliverStatusFrame(status: number): Buffer {
  // enum values are int32: negative numbers are sign-extended to 64 bits, as protobuf does
  return Buffer.from([0x08, ...varint(BigInt(status))]);
}

/** DeliverResponse{block} around the block's bytes. */
export function deliverBlockFrame(block: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x12, ...varint(BigInt(block.length))]), block]);
}

export type RawDeliverResponse =
  | { readonly case: 'status'; readonly status: number }
  | { readonly case: 'block'; readonly block: Uint8Array }
  | { readonly case: 'unknown' };

/**
 * Parse a DeliverResponse without re-encoding: the block's bytes are a view of the frame.
 * Last occurrence of the oneof wins, unknown fields are skipped; malformed -> WireError.
 */
export function parseDeliverResponse(buf: Uint8Array): RawDeliverResponse {
  let pos = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buf.length) throw new WireError('MALFORMED', 'DeliverResponse: truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new WireError('MALFORMED', 'DeliverResponse: varint too long');
  };
  let out: RawDeliverResponse = { case: 'unknown' };
  while (pos < buf.length) {
    const key = readVarint();
    const field = key >> 3n;
    const wire = Number(key & 7n);
    if (field === 0n) throw new WireError('MALFORMED', 'DeliverResponse: field number 0');
    if (wire === 0) {
      const v = readVarint();
      if (field === 1n) out = { case: 'status', status: Number(BigInt.asIntN(32, v)) };
    } else if (wire === 2) {
      const len = readVarint();
      if (len > BigInt(buf.length - pos))
        throw new WireError('MALFORMED', 'DeliverResponse: truncated field');
      const end = pos + Number(len);
      if (field === 2n) out = { case: 'block', block: buf.subarray(pos, end) };
      else if (field === 1n) throw new WireError('MALFORMED', 'DeliverResponse: status with wrong wire type');
      pos = end;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new WireError('MALFORMED', `DeliverResponse: unsupported wire type ${wire}`);
    }
    if (pos > buf.length) throw new WireError('MALFORMED', 'DeliverResponse: truncated field');
    if (field === 2n && wire !== 2)
      throw new WireError('MALFORMED', 'DeliverResponse: block with wrong wire type');
  }
  return out;
}
