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

function varint(b: Uint8Array, pos: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= b.length) return undefined;
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
  return undefined;
}

/** Skip one field's value of `wire` type at pos; returns the new pos, or undefined when malformed. */
function skip(b: Uint8Array, pos: number, wire: number): number | undefined {
  switch (wire) {
    case 0: {
      const r = varint(b, pos);
      return r?.[1];
    }
    case 1:
      return pos + 8;
    case 2: {
      const r = varint(b, pos);
      return r ? r[1] + r[0] : undefined;
    }
    case 5:
      return pos + 4;
    default:
      return undefined;
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
    if (!tag) return undefined;
    pos = tag[1];
    const field = Math.floor(tag[0] / 8);
    const wire = tag[0] & 7;
    if (field === 2 && wire === 2) {
      const len = varint(bytes, pos);
      if (!len) return undefined;
      let p = len[1];
      const end = p + len[0];
      if (end > bytes.length) return undefined;
      while (p < end) {
        const t = varint(bytes, p);
        if (!t) return undefined;
        p = t[1];
        if (Math.floor(t[0] / 8) === 1 && (t[0] & 7) === 2 && ++count >= 2) return count;
        const n = skip(bytes, p, t[0] & 7);
        if (n === undefined) return undefined;
        p = n;
      }
      pos = end;
      continue;
    }
    const n = skip(bytes, pos, wire);
    if (n === undefined || n > bytes.length) return undefined;
    pos = n;
  }
  return count;
}

/**
 * The first length-delimited field `field` of the message in bytes[start, end): its value's
 * [start, end), or undefined when absent or the framing is broken.
 */
function lengthDelimited(
  b: Uint8Array,
  start: number,
  end: number,
  field: number,
): [number, number] | undefined {
  let pos = start;
  while (pos < end) {
    const tag = varint(b, pos);
    if (!tag) return undefined;
    pos = tag[1];
    const wire = tag[0] & 7;
    if (Math.floor(tag[0] / 8) === field && wire === 2) {
      const len = varint(b, pos);
      if (!len || len[1] + len[0] > end) return undefined;
      return [len[1], len[1] + len[0]];
    }
    const n = skip(b, pos, wire);
    if (n === undefined || n > end) return undefined;
    pos = n;
  }
  return undefined;
}

/**
 * The channel header type of a serialized block's first transaction (Block.data = 2 ->
 * BlockData.data = 1 -> Envelope.payload = 1 -> Payload.header = 1 -> Header.channel_header = 1
 * -> ChannelHeader.type = 1), without decoding anything; undefined when not found (type 0,
 * MESSAGE, is left out of the encoding) or malformed.
 */
export function firstTxType(bytes: Uint8Array): number | undefined {
  let r: [number, number] | undefined = [0, bytes.length];
  for (const field of [2, 1, 1, 1, 1]) {
    r = lengthDelimited(bytes, r[0], r[1], field);
    if (!r) return undefined;
  }
  let pos = r[0];
  while (pos < r[1]) {
    const tag = varint(bytes, pos);
    if (!tag) return undefined;
    pos = tag[1];
    if (tag[0] === 0x08) return varint(bytes, pos)?.[0]; // field 1, varint
    const n = skip(bytes, pos, tag[0] & 7);
    if (n === undefined) return undefined;
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
