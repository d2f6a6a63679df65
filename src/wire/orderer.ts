/**
 * Signed orderer-side envelopes: common.Payload with ChannelHeader and SignatureHeader,
 * signed by the creator (PROTOCOL.md §8.1), and SeekInfo helpers.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { randomBytes } from 'node:crypto';
import { encode } from './codec.js';
import {
  ChannelHeaderSchema,
  EnvelopeSchema,
  HeaderType,
  PayloadSchema,
  SignatureHeaderSchema,
  type Envelope,
} from './gen/common/common_pb.js';
import {
  SeekInfoSchema,
  SeekNewestSchema,
  SeekOldestSchema,
  SeekSpecifiedSchema,
  SeekInfo_SeekBehavior,
  SeekInfo_SeekErrorResponse,
  type SeekPosition,
} from './gen/orderer/ab_pb.js';
import type { Signer } from './signer.js';

export { SeekInfo_SeekBehavior as SeekBehavior, SeekInfo_SeekErrorResponse as SeekErrorResponse };

export const MAX_UINT64 = 0xffffffffffffffffn;

export interface EnvelopeOptions {
  type: HeaderType;
  channelId: string;
  data: Uint8Array;
  /** Milliseconds since the epoch for the channel header timestamp (seconds precision, nanos 0 as Fabric's deliver client). */
  nowMs: number;
  txId?: string;
  epoch?: bigint;
  tlsCertHash?: Uint8Array;
  /** 24 random bytes when omitted. */
  nonce?: Uint8Array;
  /** Keep sub-second precision in the timestamp (Fabric transactions do; the deliver client does not). */
  preciseTimestamp?: boolean;
}

/** Build Envelope{payload = Payload{header, data}, signature = sign(payload)}. */
export function signedEnvelope(opts: EnvelopeOptions, signer: Signer): Envelope {
  const ms = opts.preciseTimestamp ? opts.nowMs : Math.floor(opts.nowMs / 1000) * 1000;
  const channelHeader = encode(ChannelHeaderSchema, {
    type: opts.type,
    version: 0,
    timestamp: timestampFromMs(ms),
    channelId: opts.channelId,
    txId: opts.txId ?? '',
    epoch: opts.epoch ?? 0n,
    tlsCertHash: opts.tlsCertHash ?? new Uint8Array(),
  });
  const signatureHeader = encode(SignatureHeaderSchema, {
    creator: signer.serializedIdentity,
    nonce: opts.nonce ?? new Uint8Array(randomBytes(24)),
  });
  const payload = encode(PayloadSchema, { header: { channelHeader, signatureHeader }, data: opts.data });
  return create(EnvelopeSchema, { payload, signature: signer.sign(payload) });
}

export function seekSpecified(n: bigint): SeekPosition['Type'] {
  return { case: 'specified', value: create(SeekSpecifiedSchema, { number: n }) };
}

export function seekOldest(): SeekPosition['Type'] {
  return { case: 'oldest', value: create(SeekOldestSchema) };
}

export function seekNewest(): SeekPosition['Type'] {
  return { case: 'newest', value: create(SeekNewestSchema) };
}

export interface SeekOptions {
  start: SeekPosition['Type'];
  stop: SeekPosition['Type'];
  behavior?: SeekInfo_SeekBehavior;
  errorResponse?: SeekInfo_SeekErrorResponse;
}

export function encodeSeekInfo(o: SeekOptions): Uint8Array {
  return encode(SeekInfoSchema, {
    start: { Type: o.start },
    stop: { Type: o.stop },
    behavior: o.behavior ?? SeekInfo_SeekBehavior.BLOCK_UNTIL_READY,
    errorResponse: o.errorResponse ?? SeekInfo_SeekErrorResponse.STRICT,
  });
}

/** The deliver client's SeekInfo: Specified(height) .. Specified(2^64-1), BLOCK_UNTIL_READY, STRICT (§8.1). */
export function deliverSeekEnvelope(
  channelId: string,
  height: bigint,
  signer: Signer,
  nowMs: number,
  tlsCertHash?: Uint8Array,
): Envelope {
  const data = encodeSeekInfo({
    start: seekSpecified(height),
    stop: seekSpecified(MAX_UINT64),
  });
  return signedEnvelope({ type: HeaderType.DELIVER_SEEK_INFO, channelId, data, nowMs, tlsCertHash }, signer);
}
