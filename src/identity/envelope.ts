/**
 * Envelope helpers the orderer's and the Deliver server's checks share (Fabric protoutil.ChannelHeader,
 * EnvelopeAsSignedData, crypto.ExpiresAt @v2.4.9). Every parse failure is a WireError.
 */
import { X509Certificate } from 'node:crypto';
import { WireError } from '../base/errors.js';
import type { SignedData } from './types.js';
import { parseSerializedIdentity } from './x509identity.js';
import { decode } from '../wire/codec.js';
import { decodeChannelHeader, decodeSignatureHeader } from '../wire/headers.js';
import {
  PayloadSchema,
  type ChannelHeader,
  type Envelope,
  type Payload,
  type SignatureHeader,
} from '../wire/gen/common/common_pb.js';

export interface ParsedEnvelope {
  readonly payload: Payload;
  readonly channelHeader: ChannelHeader;
}

/** Payload and channel header (protoutil.ChannelHeader). */
export function channelHeaderOf(env: Envelope): ParsedEnvelope {
  const payload = decode(PayloadSchema, env.payload, 'common.Payload');
  if (!payload.header) throw new WireError('MALFORMED', 'envelope must have a Header');
  const channelHeader = decodeChannelHeader(payload.header.channelHeader);
  return { payload, channelHeader };
}

export function signatureHeaderOf(payload: Payload): SignatureHeader {
  if (!payload.header) throw new WireError('MALFORMED', 'missing header');
  return decodeSignatureHeader(payload.header.signatureHeader);
}

/** SignedData{data = payload bytes, identity = creator, signature} (protoutil.EnvelopeAsSignedData). */
export function envelopeAsSignedData(env: Envelope): SignedData {
  const payload = decode(PayloadSchema, env.payload, 'common.Payload');
  if (!payload.header) throw new WireError('MALFORMED', 'missing header');
  const shdr = decodeSignatureHeader(payload.header.signatureHeader);
  return { data: env.payload, identity: shdr.creator, signature: env.signature };
}

/**
 * NotAfter of the X.509 certificate in a serialized identity, or undefined when it cannot be
 * read (Fabric's crypto.ExpiresAt returns the zero time then: "never expires" for the check).
 */
export function expiresAt(serializedIdentity: Uint8Array): Date | undefined {
  try {
    const { idBytes } = parseSerializedIdentity(serializedIdentity);
    const cert = new X509Certificate(Buffer.from(idBytes));
    const t = new Date(cert.validTo);
    return Number.isNaN(t.getTime()) ? undefined : t;
  } catch {
    return undefined;
  }
}
