/**
 * A transaction's id (channel header tx_id) for the block index, read without building
 * protobuf-es messages when the envelope has the canonical shape:
 *   Envelope, Payload, Header, SignatureHeader = [0x0a len A] [0x12 len B] (bytesFields12);
 *   ChannelHeader = fields 1..8 each at most once and in increasing order with their declared
 *   wire types (varints of at most 9 bytes; Timestamp the same way with its fields 1 and 2),
 *   channel_id and tx_id plain ASCII.
 * Then the generic decoder (decodeTx) accepts the envelope and gives the same tx_id. Any other
 * shape is undefined: the caller decodes it with decodeTx.
 */
import { bytesFields12 } from '../wire/block.js';

export function fastTxId(envelope: Uint8Array): string | undefined {
  const env = bytesFields12(envelope);
  const pay = env && bytesFields12(env[0]);
  const hdr = pay && bytesFields12(pay[0]);
  if (!hdr || !bytesFields12(hdr[1])) return undefined;
  return channelHeaderTxId(hdr[0]);
}

/** Wire type of ChannelHeader fields 1..8: 0 varint, 2 length-delimited. */
const WIRE = [-1, 0, 0, 2, 2, 2, 0, 2, 2];
const TIMESTAMP = 3;
const CHANNEL_ID = 4;
const TX_ID = 5;

function channelHeaderTxId(b: Uint8Array): string | undefined {
  let o = 0;
  let last = 0;
  let txId = '';
  while (o < b.length) {
    const tag = b[o++];
    const field = tag >>> 3;
    if (tag >= 0x80 || field <= last || field > 8 || (tag & 7) !== WIRE[field]) return undefined;
    last = field;
    if (WIRE[field] === 0) {
      o = skipVarint(b, o, b.length);
      if (o < 0) return undefined;
      continue;
    }
    const end = lengthEnd(b, o);
    if (end < 0) return undefined;
    const start = bodyStart;
    if (field === TIMESTAMP && !isTimestamp(b, start, end)) return undefined;
    if (field === CHANNEL_ID || field === TX_ID) {
      for (let i = start; i < end; i++) if (b[i] >= 0x80) return undefined;
      if (field === TX_ID) txId = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
    }
    o = end;
  }
  return txId;
}

/** google.protobuf.Timestamp: [0x08 varint seconds] [0x10 varint nanos]. */
function isTimestamp(b: Uint8Array, from: number, end: number): boolean {
  let o = from;
  if (o < end && b[o] === 0x08) o = skipVarint(b, o + 1, end);
  if (o >= 0 && o < end && b[o] === 0x10) o = skipVarint(b, o + 1, end);
  return o === end;
}

/** Position after a varint of at most 9 bytes ending before `limit`; -1 otherwise. */
function skipVarint(b: Uint8Array, at: number, limit: number): number {
  for (let i = 0, o = at; i < 9 && o < limit; i++) if (b[o++] < 0x80) return o;
  return -1;
}

/** Body start of the field read by the last successful lengthEnd. */
let bodyStart = 0;

/** End of a length-delimited body whose length (at most 4 varint bytes) is at `at`; -1 when it does not fit. */
function lengthEnd(b: Uint8Array, at: number): number {
  let len = 0;
  let mul = 1;
  let o = at;
  for (let i = 0; ; i++) {
    if (i === 4 || o >= b.length) return -1;
    const c = b[o++];
    len += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) break;
  }
  if (o + len > b.length) return -1;
  bodyStart = o;
  return o + len;
}
