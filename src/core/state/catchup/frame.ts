/**
 * A catch-up stream message: several whole blocks in one gRPC message, so per-message costs
 * (gRPC, HTTP/2, TLS records) are paid once per frame instead of once per block.
 *
 *   frame = (0x0a | varint length | block bytes)*   i.e. protobuf `message BlockBatch { repeated
 *   bytes blocks = 1; }`, the blocks exactly as the server's ledger holds them, in order.
 *   Decoding returns views into the frame (no copy); anything else than field 1 with wire type
 *   2, a length running past the end, an over-long varint or an empty frame is malformed.
 */
import { StateError } from '../errors.js';

function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

/** The bytes one block takes in a frame. */
export function framedSize(block: Uint8Array): number {
  return 1 + varintSize(block.length) + block.length;
}

export function encodeFrame(blocks: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const b of blocks) total += framedSize(b);
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const b of blocks) {
    out[o++] = 0x0a;
    let n = b.length;
    while (n >= 0x80) {
      out[o++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    out[o++] = n;
    out.set(b, o);
    o += b.length;
  }
  return out;
}

export function decodeFrame(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < frame.length) {
    if (frame[o++] !== 0x0a) throw malformed(`field tag ${frame[o - 1]} at offset ${o - 1}`);
    let len = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (o >= frame.length) throw malformed('length runs past the end');
      if (i >= 5) throw malformed('block length above 4 GiB');
      const b = frame[o++];
      len += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) break;
    }
    if (o + len > frame.length) throw malformed(`block of ${len} bytes runs past the end of the frame`);
    out.push(frame.subarray(o, o + len));
    o += len;
  }
  if (out.length === 0) throw malformed('empty frame');
  return out;
}

function malformed(what: string): StateError {
  return new StateError('malformed', `catch-up frame: ${what}`);
}
