/**
 * A fast read of a block's bytes: the header fields and views of the transactions and metadata,
 * without the generic decoder (the ledger's commit path reads blocks with it, and decodeBlock
 * builds its message from it: a catch-up decodes every block). Only the canonical shape is read here:
 *   Block       = [0x0a len BlockHeader] [0x12 len BlockData] [0x1a len BlockMetadata], the
 *                 header present, each field at most once and in this order;
 *   BlockHeader = [0x08 varint number] [0x12 len previous_hash] [0x1a len data_hash], in order;
 *   BlockData, BlockMetadata = (0x0a len bytes)*;
 * lengths are varints of at most 4 bytes, the number a varint of at most 9 bytes, and every
 * length must fit inside its enclosing message. Anything else (unknown, repeated or reordered
 * fields, other wire types, longer varints, truncation) is undefined, and the caller decodes
 * the bytes with the generic decoder, which accepts or refuses them. For bytes read here, the
 * generic decoder gives the same number, hashes and transactions.
 */
import { bodyStart, lengthDelimited } from './fields.js';

export interface ScannedBlock {
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly dataHash: Uint8Array;
  /** Views of the transactions (BlockData.data), in order; undefined when the block has no data field. */
  readonly data?: Uint8Array[];
  /** Views of the metadata entries (BlockMetadata.metadata); undefined when it has no metadata field. */
  readonly metadata?: Uint8Array[];
}

const EMPTY: Uint8Array = new Uint8Array(0);

export function scanBlock(b: Uint8Array): ScannedBlock | undefined {
  const end = b.length;
  if (end < 2 || b[0] !== 0x0a) return undefined;
  const h = lengthDelimited(b, 1, end);
  if (h < 0) return undefined;
  const header = scanHeader(b, bodyStart, h);
  if (!header) return undefined;
  let o = h;
  let data: Uint8Array[] | undefined;
  let metadata: Uint8Array[] | undefined;
  if (o < end && b[o] === 0x12) {
    const e = lengthDelimited(b, o + 1, end);
    if (e < 0 || !(data = repeatedBytes(b, bodyStart, e))) return undefined;
    o = e;
  }
  if (o < end && b[o] === 0x1a) {
    const e = lengthDelimited(b, o + 1, end);
    if (e < 0 || !(metadata = repeatedBytes(b, bodyStart, e))) return undefined;
    o = e;
  }
  return o === end ? { ...header, data, metadata } : undefined;
}

function scanHeader(
  b: Uint8Array,
  from: number,
  end: number,
): { number: bigint; previousHash: Uint8Array; dataHash: Uint8Array } | undefined {
  let o = from;
  let number = 0n;
  let previousHash = EMPTY;
  let dataHash = EMPTY;
  if (o < end && b[o] === 0x08) {
    o++;
    let n = 0n;
    let small = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (i === 9 || o >= end) return undefined;
      const c = b[o++];
      if (i < 7) small += (c & 0x7f) * mul;
      else n |= BigInt(c & 0x7f) << BigInt(7 * i);
      mul *= 128;
      if (c < 0x80) break;
    }
    number = BigInt(small) | n;
  }
  if (o < end && b[o] === 0x12) {
    const e = lengthDelimited(b, o + 1, end);
    if (e < 0) return undefined;
    previousHash = b.subarray(bodyStart, e);
    o = e;
  }
  if (o < end && b[o] === 0x1a) {
    const e = lengthDelimited(b, o + 1, end);
    if (e < 0) return undefined;
    dataHash = b.subarray(bodyStart, e);
    o = e;
  }
  return o === end ? { number, previousHash, dataHash } : undefined;
}

/** The bodies of a message made only of field 1 length-delimited entries; undefined otherwise. */
function repeatedBytes(b: Uint8Array, from: number, end: number): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  let o = from;
  while (o < end) {
    if (b[o] !== 0x0a) return undefined;
    const e = lengthDelimited(b, o + 1, end);
    if (e < 0) return undefined;
    out.push(b.subarray(bodyStart, e));
    o = e;
  }
  return out;
}
