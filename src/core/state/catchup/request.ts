/**
 * The fast catch-up request (service.ts): build it (client) and check it (server).
 *
 * Checks, in order: the envelope, payload, headers and SeekInfo decode, the header type is
 * DELIVER_SEEK_INFO, start and stop are Specified with start <= stop; the timestamp is within
 * maxClockSkew of our clock; with TLS, the caller presented a client certificate and the
 * channel header's tls_cert_hash is SHA-256 of it (binds the signed request to this mutual-TLS
 * session, as the orderer's Deliver does); the creator's signature over the payload satisfies the
 * channel's Readers policy (verifyByChannel).
 */
import { createHash } from 'node:crypto';
import { GrapevineError, errorMessage } from '../../../base/errors.js';
import { HeaderType } from '../../../wire/block.js';
import { decode } from '../../../wire/codec.js';
import {
  ChannelHeaderSchema,
  EnvelopeSchema,
  PayloadSchema,
  SignatureHeaderSchema,
} from '../../../wire/gen/common/common_pb.js';
import { SeekInfoSchema } from '../../../wire/gen/orderer/ab_pb.js';
import { encode } from '../../../wire/codec.js';
import { encodeSeekInfo, seekSpecified, signedEnvelope } from '../../../wire/orderer.js';
import type { Signer } from '../../../wire/signer.js';
import type { StateCrypto } from '../types.js';

export type CatchupRefusal = 'INVALID_ARGUMENT' | 'UNAUTHENTICATED' | 'PERMISSION_DENIED';

export class CatchupRequestError extends GrapevineError {
  declare readonly code: CatchupRefusal;
  constructor(code: CatchupRefusal, message: string) {
    super(code, message);
  }
}

export interface CatchupRequest {
  readonly channel: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly creator: Uint8Array;
}

export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

export function buildCatchupRequest(o: {
  channel: string;
  start: bigint;
  end: bigint;
  signer: Signer;
  nowMs: number;
  nonce: Uint8Array;
  /** SHA-256 of our TLS client certificate (DER), when dialling with TLS. */
  tlsCertHash?: Uint8Array;
}): Uint8Array {
  const data = encodeSeekInfo({ start: seekSpecified(o.start), stop: seekSpecified(o.end) });
  const env = signedEnvelope(
    {
      type: HeaderType.DELIVER_SEEK_INFO,
      channelId: o.channel,
      data,
      nowMs: o.nowMs,
      tlsCertHash: o.tlsCertHash,
      nonce: o.nonce,
    },
    o.signer,
  );
  return encode(EnvelopeSchema, env);
}

export interface VerifyContext {
  readonly crypto: StateCrypto;
  readonly nowMs: number;
  readonly maxClockSkewMs: number;
  /** The server runs TLS: a client certificate is required and bound. */
  readonly tls: boolean;
  /** DER of the certificate the caller presented, if any. */
  readonly clientCertDer?: Uint8Array;
}

function bad(what: string, e?: unknown): CatchupRequestError {
  return new CatchupRequestError('INVALID_ARGUMENT', e === undefined ? what : `${what}: ${errorMessage(e)}`);
}

export function verifyCatchupRequest(bytes: Uint8Array, ctx: VerifyContext): CatchupRequest {
  let env, payload, chdr, shdr, seek;
  try {
    env = decode(EnvelopeSchema, bytes, 'catch-up request');
    payload = decode(PayloadSchema, env.payload, 'catch-up request payload');
    if (!payload.header) throw bad('catch-up request has no header');
    chdr = decode(ChannelHeaderSchema, payload.header.channelHeader, 'catch-up channel header');
    shdr = decode(SignatureHeaderSchema, payload.header.signatureHeader, 'catch-up signature header');
    seek = decode(SeekInfoSchema, payload.data, 'catch-up SeekInfo');
  } catch (e) {
    if (e instanceof CatchupRequestError) throw e;
    throw bad('malformed catch-up request', e);
  }
  if (chdr.type !== HeaderType.DELIVER_SEEK_INFO) throw bad(`catch-up request header type ${chdr.type}`);
  const start = seek.start?.Type;
  const stop = seek.stop?.Type;
  if (start?.case !== 'specified' || stop?.case !== 'specified')
    throw bad('catch-up request start and stop must be Specified');
  if (start.value.number > stop.value.number)
    throw bad(`catch-up request start ${start.value.number} > stop ${stop.value.number}`);
  const ts = chdr.timestamp;
  const tsMs = ts ? Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6) : NaN;
  if (!(Math.abs(tsMs - ctx.nowMs) <= ctx.maxClockSkewMs)) {
    throw new CatchupRequestError(
      'PERMISSION_DENIED',
      'catch-up request timestamp is missing or too far from our clock',
    );
  }
  if (ctx.tls) {
    if (!ctx.clientCertDer)
      throw new CatchupRequestError('UNAUTHENTICATED', 'catch-up needs a TLS client certificate');
    if (!Buffer.from(sha256(ctx.clientCertDer)).equals(chdr.tlsCertHash)) {
      throw new CatchupRequestError(
        'UNAUTHENTICATED',
        'catch-up request tls_cert_hash does not match the client certificate',
      );
    }
  }
  if (shdr.creator.length === 0)
    throw new CatchupRequestError('PERMISSION_DENIED', 'catch-up request has no creator');
  try {
    ctx.crypto.verifyByChannel(chdr.channelId, shdr.creator, env.signature, env.payload);
  } catch (e) {
    throw new CatchupRequestError(
      'PERMISSION_DENIED',
      `catch-up requester may not read channel ${chdr.channelId}: ${errorMessage(e)}`,
    );
  }
  return {
    channel: chdr.channelId,
    start: start.value.number,
    end: stop.value.number,
    creator: shdr.creator,
  };
}
