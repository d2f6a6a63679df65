/**
 * Blocks: decoding, header bytes and hashes, and the parts of a block that verification and
 * routing need (PROTOCOL.md §1.8, §2.8). All numbers are exact bigints.
 */
import { create } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { createHash, hash } from 'node:crypto';
import { WireError } from '../base/errors.js';
import { decode, encode } from './codec.js';
import { scanBlock } from './blockscan.js';
import { bytesFields12, decodeChannelHeader, decodeHeader, decodeSignatureHeader } from './headers.js';
import {
  BlockDataSchema,
  BlockHeaderSchema,
  BlockMetadataIndex,
  BlockMetadataSchema,
  BlockSchema,
  EnvelopeSchema,
  HeaderSchema,
  HeaderType,
  LastConfigSchema,
  MetadataSchema,
  OrdererBlockMetadataSchema,
  PayloadSchema,
  type Block,
  type BlockHeader,
  type ChannelHeader,
  type Envelope,
  type Metadata,
  type Payload,
  type SignatureHeader,
} from './gen/common/common_pb.js';
import { ConfigEnvelopeSchema, type ConfigEnvelope } from './gen/common/configtx_pb.js';

export { BlockMetadataIndex, HeaderType };

export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) {
    // one-shot: no Hash object (a catch-up hashes every block's data and header this way)
    const d = hash('sha256', parts[0]!, 'buffer');
    return new Uint8Array(d.buffer, d.byteOffset, d.length);
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * common.Block from its bytes. A block as orderers write it (blockscan.ts: the canonical shape,
 * which every orderer writes) is built from the scanner's views without the generic decoder: a
 * catch-up decodes every block, and the generic one, which walks the schema field by field, was
 * half of a verifier worker's decoding. Any other bytes go through the generic decoder, which
 * gives the message or the WireError. Both give bytes fields as views of `bytes`.
 */
export function decodeBlock(bytes: Uint8Array): Block {
  const s = scanBlock(bytes);
  if (!s) return decode(BlockSchema, bytes, 'common.Block');
  const header = create(BlockHeaderSchema, { number: s.number });
  header.previousHash = s.previousHash;
  header.dataHash = s.dataHash;
  return create(BlockSchema, {
    header,
    data: s.data && create(BlockDataSchema, { data: s.data }),
    metadata: s.metadata && create(BlockMetadataSchema, { metadata: s.metadata }),
  });
}

export function encodeBlock(block: Block): Uint8Array {
  return encode(BlockSchema, block);
}

/** DER SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash }. */
export function blockHeaderBytes(header: BlockHeader): Uint8Array {
  return headerDer(header.number, header.previousHash, header.dataHash);
}

export function blockHeaderHash(header: BlockHeader): Uint8Array {
  return headerHashOf(header.number, header.previousHash, header.dataHash);
}

/** blockHeaderHash of a header given by its fields (the commit path has them without a BlockHeader). */
export function headerHashOf(number: bigint, previousHash: Uint8Array, dataHash: Uint8Array): Uint8Array {
  const digest = hash('sha256', headerDer(number, previousHash, dataHash), 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}

/**
 * The DER header SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash }
 * (§2.8), written into one buffer: every block's hash goes through here.
 */
function headerDer(number: bigint, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  // INTEGER content: minimal big-endian, a leading 0 when the top bit is set
  let intLen = 1;
  for (let v = number >> 8n; v > 0n; v >>= 8n) intLen++;
  const topByte = Number((number >> BigInt(8 * (intLen - 1))) & 0xffn);
  const intContent = intLen + (topByte & 0x80 ? 1 : 0);
  const body = derTlvLength(intContent) + derTlvLength(previousHash.length) + derTlvLength(dataHash.length);
  const out = Buffer.allocUnsafe(derTlvLength(body));
  let o = derHeader(out, 0, 0x30, body);
  o = derHeader(out, o, 0x02, intContent);
  if (intContent > intLen) out[o++] = 0;
  for (let i = intLen - 1; i >= 0; i--) out[o++] = Number((number >> BigInt(8 * i)) & 0xffn);
  o = derHeader(out, o, 0x04, previousHash.length);
  out.set(previousHash, o);
  o += previousHash.length;
  o = derHeader(out, o, 0x04, dataHash.length);
  out.set(dataHash, o);
  return out;
}

/** Bytes of a TLV with `len` content bytes. */
function derTlvLength(len: number): number {
  if (len < 0x80) return 2 + len;
  let n = 0;
  for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
  return 2 + n + len;
}

/** Writes tag and DER length at o; returns the content offset. */
function derHeader(out: Buffer, o: number, tag: number, len: number): number {
  out[o++] = tag;
  if (len < 0x80) {
    out[o++] = len;
    return o;
  }
  let n = 0;
  for (let v = len; v > 0; v = Math.floor(v / 256)) n++;
  out[o++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) out[o++] = Math.floor(len / 256 ** i) & 0xff;
  return o;
}

/** SHA-256 over the concatenated transaction bytes, no separators. */
export function blockDataHash(data: readonly Uint8Array[]): Uint8Array {
  return sha256(...data);
}

export interface DecodedTx {
  readonly envelope: Envelope;
  readonly payload: Payload;
  readonly channelHeader: ChannelHeader;
  readonly signatureHeader: SignatureHeader;
}

/**
 * Decode a transaction envelope down to its headers; throws WireError on any malformed layer.
 * The two large layers (Envelope, Payload: a transaction's bulk is Payload.data) are read
 * without the generic decoder when their bytes are just field 1 then field 2, both
 * length-delimited (what every Fabric SDK writes); the headers by headers.ts's fast paths.
 */
export function decodeTx(envelopeBytes: Uint8Array): DecodedTx {
  let tx = decodedTxs.get(envelopeBytes);
  if (!tx) decodedTxs.set(envelopeBytes, (tx = decodeTxOnce(envelopeBytes)));
  return tx;
}

/**
 * decodeTx's results by envelope bytes object: a block's transactions are read by several checks
 * (its channel, the content checks, is it a config block, its transaction IDs), each of which
 * would otherwise decode them again; an entry lives as long as the bytes it was decoded from.
 * Callers treat the result as read-only.
 */
const decodedTxs = new WeakMap<Uint8Array, DecodedTx>();

function decodeTxOnce(envelopeBytes: Uint8Array): DecodedTx {
  const env = bytesFields12(envelopeBytes);
  const pay = env && bytesFields12(env[0]);
  const envelope: Envelope = env
    ? { $typeName: 'common.Envelope', payload: env[0], signature: env[1] }
    : decode(EnvelopeSchema, envelopeBytes, 'common.Envelope');
  const payload: Payload = pay
    ? { $typeName: 'common.Payload', header: decodeHeader(pay[0]), data: pay[1] }
    : boundedPayload(envelope.payload);
  if (!payload.header) throw new WireError('MALFORMED', 'transaction payload has no header');
  const channelHeader = decodeChannelHeader(payload.header.channelHeader);
  const signatureHeader = decodeSignatureHeader(payload.header.signatureHeader);
  return { envelope, payload, channelHeader, signatureHeader };
}

/**
 * A Payload through the generic decoder, with the rule of Go's protobuf (Fabric's) that
 * protobuf-es does not apply: a nested message, here the header, must decode within its own
 * length. protobuf-es checks a field's length against the whole buffer only, so a header whose
 * last field runs on into the payload's data decodes there and fails in Fabric (and on the fast
 * path above, which decodes the header from its own bytes). Found by the decodeTx property test.
 */
function boundedPayload(bytes: Uint8Array): Payload {
  const payload = decode(PayloadSchema, bytes, 'common.Payload');
  try {
    const r = new BinaryReader(bytes);
    while (r.pos < r.len) {
      const [no, wire] = r.tag();
      if (no === 1 && wire === WireType.LengthDelimited) decode(HeaderSchema, r.bytes(), 'common.Header');
      else r.skip(wire);
    }
  } catch (e) {
    if (e instanceof WireError) throw e;
    throw new WireError('MALFORMED', `malformed common.Payload: ${(e as Error).message}`, { cause: e });
  }
  return payload;
}

/** The channel of a block = channel_id of its first transaction's channel header (§2.8 step 2). */
export function blockChannelId(block: Block): string {
  const first = block.data?.data[0];
  if (!first) throw new WireError('MALFORMED', 'block has no transactions');
  return decodeTx(first).channelHeader.channelId;
}

/** metadata[SIGNATURES] as common.Metadata. */
export function blockSignaturesMetadata(block: Block): Metadata {
  const raw = block.metadata?.metadata[BlockMetadataIndex.SIGNATURES];
  if (raw === undefined) throw new WireError('MALFORMED', 'block has no SIGNATURES metadata');
  return decode(MetadataSchema, raw, 'SIGNATURES metadata');
}

/**
 * The last config block index: from the OrdererBlockMetadata in SIGNATURES (v2.x), falling back
 * to the deprecated LAST_CONFIG metadata entry.
 */
export function blockLastConfigIndex(block: Block): bigint | undefined {
  try {
    const sig = blockSignaturesMetadata(block);
    if (sig.value.length > 0) {
      const obm = decode(OrdererBlockMetadataSchema, sig.value);
      if (obm.lastConfig) return obm.lastConfig.index;
    }
  } catch {
    // fall through to LAST_CONFIG
  }
  const raw = block.metadata?.metadata[BlockMetadataIndex.LAST_CONFIG];
  if (!raw || raw.length === 0) return undefined;
  try {
    const md = decode(MetadataSchema, raw);
    return decode(LastConfigSchema, md.value).index;
  } catch {
    return undefined;
  }
}

export function isConfigBlock(block: Block): boolean {
  const first = block.data?.data[0];
  if (!first || (block.data?.data.length ?? 0) !== 1) return false;
  try {
    return decodeTx(first).channelHeader.type === HeaderType.CONFIG;
  } catch {
    return false;
  }
}

/** The ConfigEnvelope inside a config block. */
export function configEnvelopeOf(block: Block): ConfigEnvelope {
  const first = block.data?.data[0];
  if (!first) throw new WireError('MALFORMED', 'config block has no transactions');
  const tx = decodeTx(first);
  if (tx.channelHeader.type !== HeaderType.CONFIG) {
    throw new WireError(
      'NOT_CONFIG',
      `block ${block.header?.number ?? '?'} is not a config block (type ${tx.channelHeader.type})`,
    );
  }
  return decode(ConfigEnvelopeSchema, tx.payload.data, 'common.ConfigEnvelope');
}
