/**
 * Config blocks seen at commit (PROTOCOL.md §10.2: "the same callbacks run on every later config
 * block"). The state layer commits through `watchConfigBlocks(ledger, onConfig)`: every append
 * goes to the real ledger (with the decoded block or verifier facts the caller gives), and once
 * it is durable a CONFIG block is handed to onConfig (decoded, and its bytes as stored).
 * A config block holds exactly one transaction, of type CONFIG, so the check first walks the
 * block's protobuf framing (no copy, no decode) for its first transaction's type and counts its
 * transactions; only a one-transaction CONFIG block is decoded.
 */
import type { StateLedger } from '../core/state/types.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { configBlockOf } from './setup.js';

/**
 * The framing readers below run for every committed block, so they allocate nothing: a read
 * returns the value (-1: malformed or absent) and leaves the position after it in `end`.
 */
let end = 0;

/** The varint at pos (at most 8 bytes), or -1. */
function varint(b: Uint8Array, pos: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= b.length) return -1;
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) {
      end = pos;
      return v;
    }
    mul *= 128;
  }
  return -1;
}

/** Skip one field's value of `wire` type at pos; returns the new pos, or -1 when malformed. */
function skip(b: Uint8Array, pos: number, wire: number): number {
  switch (wire) {
    case 0:
      return varint(b, pos) < 0 ? -1 : end;
    case 1:
      return pos + 8;
    case 2: {
      const len = varint(b, pos);
      return len < 0 ? -1 : end + len;
    }
    case 5:
      return pos + 4;
    default:
      return -1;
  }
}

/**
 * Transactions in a serialized Block (Block.data = 2 -> BlockData.data = 1, repeated), counting
 * at most 2; undefined when the framing is not what a block looks like.
 */
export function txCountUpTo2(bytes: Uint8Array): number | undefined {
  let pos = 0;
  let count = 0;
  while (pos < bytes.length) {
    const tag = varint(bytes, pos);
    if (tag < 0) return undefined;
    pos = end;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 2 && wire === 2) {
      const len = varint(bytes, pos);
      if (len < 0) return undefined;
      let p = end;
      const stop = p + len;
      if (stop > bytes.length) return undefined;
      while (p < stop) {
        const t = varint(bytes, p);
        if (t < 0) return undefined;
        p = end;
        if (Math.floor(t / 8) === 1 && (t & 7) === 2 && ++count >= 2) return count;
        const n = skip(bytes, p, t & 7);
        if (n < 0) return undefined;
        p = n;
      }
      pos = stop;
      continue;
    }
    const n = skip(bytes, pos, wire);
    if (n < 0 || n > bytes.length) return undefined;
    pos = n;
  }
  return count;
}

/**
 * The first length-delimited field `field` of the message in bytes[start, stop): where its value
 * starts (its end in `end`), or -1 when absent or the framing is broken.
 */
function lengthDelimited(b: Uint8Array, start: number, stop: number, field: number): number {
  let pos = start;
  while (pos < stop) {
    const tag = varint(b, pos);
    if (tag < 0) return -1;
    pos = end;
    const wire = tag & 7;
    if (Math.floor(tag / 8) === field && wire === 2) {
      const len = varint(b, pos);
      if (len < 0 || end + len > stop) return -1;
      const at = end;
      end = at + len;
      return at;
    }
    const n = skip(b, pos, wire);
    if (n < 0 || n > stop) return -1;
    pos = n;
  }
  return -1;
}

/** Block.data = 2 -> BlockData.data = 1 -> Envelope.payload = 1 -> Payload.header = 1 -> Header.channel_header = 1. */
const PATH_TO_CHANNEL_HEADER = [2, 1, 1, 1, 1] as const;

/**
 * The channel header type of a serialized block's first transaction (Block.data = 2 ->
 * BlockData.data = 1 -> Envelope.payload = 1 -> Payload.header = 1 -> Header.channel_header = 1
 * -> ChannelHeader.type = 1), without decoding anything; undefined when not found (type 0,
 * MESSAGE, is left out of the encoding) or malformed.
 */
export function firstTxType(bytes: Uint8Array): number | undefined {
  let start = 0;
  let stop = bytes.length;
  for (let i = 0; i < PATH_TO_CHANNEL_HEADER.length; i++) {
    start = lengthDelimited(bytes, start, stop, PATH_TO_CHANNEL_HEADER[i]!);
    if (start < 0) return undefined;
    stop = end;
  }
  let pos = start;
  while (pos < stop) {
    const tag = varint(bytes, pos);
    if (tag < 0) return undefined;
    pos = end;
    if (tag === 0x08) {
      const type = varint(bytes, pos); // field 1, varint
      return type < 0 ? undefined : type;
    }
    const n = skip(bytes, pos, tag & 7);
    if (n < 0) return undefined;
    pos = n;
  }
  return undefined;
}

const HEADER_TYPE_CONFIG = 1;

/** The ledger as the state layer sees it, telling `onConfig` of every committed config block. */
export function watchConfigBlocks(
  ledger: StateLedger,
  onConfig: (block: Block, bytes: Uint8Array) => void,
): StateLedger {
  return {
    height: () => ledger.height(),
    getBlockBytes: (n) => ledger.getBlockBytes(n),
    async append(
      bytes: Uint8Array,
      decoded?: Parameters<StateLedger['append']>[1],
      opts?: Parameters<StateLedger['append']>[2],
    ): Promise<bigint> {
      // opts carries dataHashChecked: dropping it would make the store hash every block again
      const h = await ledger.append(bytes, decoded, opts);
      // only a block whose one transaction is a CONFIG one is decoded (and checked fully)
      if (firstTxType(bytes) === HEADER_TYPE_CONFIG && txCountUpTo2(bytes) === 1) {
        const block = configBlockOf(bytes);
        if (block) onConfig(block, bytes);
      }
      return h;
    },
    ...(ledger.recover ? { recover: () => ledger.recover!() } : {}),
  };
}
