/**
 * X.509 identities as Fabric puts them on the wire (PROTOCOL.md §2.1, §2.2):
 * - serialized identity = msp.SerializedIdentity { mspid, id_bytes = PEM of the certificate as
 *   Go's pem.EncodeToMemory writes it };
 * - PKI-ID = SHA-256(mspid bytes ‖ id_bytes), over the bytes as received;
 * - well-formed = exactly one PEM block, nothing after it, type CERTIFICATE or empty, a
 *   parseable certificate whose ECDSA signature is canonical DER.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { VerifyError } from '../base/errors.js';
import { decode, encode } from '../wire/codec.js';
import { SerializedIdentitySchema } from '../wire/gen/msp/identities_pb.js';
import { hasCanonicalSignature, parseCert, type CertInfo } from './cert.js';
import { checkEcdsa } from './ecdsa.js';
import { pemDecode, pemEncode } from './pem.js';
import type { MspIdentity } from './types.js';

const utf8 = new TextEncoder();

/** Go-style PEM of a DER certificate (what Fabric puts in id_bytes). */
export function certToPem(der: Uint8Array): Uint8Array {
  return pemEncode('CERTIFICATE', der);
}

/** msp.SerializedIdentity bytes. `certPem` is used exactly as given. */
export function serializeIdentity(mspId: string, certPem: Uint8Array): Uint8Array {
  return encode(SerializedIdentitySchema, { mspid: mspId, idBytes: certPem });
}

/** Decode msp.SerializedIdentity; throws VerifyError NOT_WELL_FORMED. */
export function parseSerializedIdentity(serialized: Uint8Array): { mspId: string; idBytes: Uint8Array } {
  try {
    const sid = decode(SerializedIdentitySchema, serialized, 'msp.SerializedIdentity');
    return { mspId: sid.mspid, idBytes: sid.idBytes };
  } catch (e) {
    throw new VerifyError('NOT_WELL_FORMED', `could not decode SerializedIdentity: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** SHA-256(mspid ‖ id_bytes) of a serialized identity, bytes as received. */
export function pkiIdOf(serialized: Uint8Array): Uint8Array {
  const { mspId, idBytes } = parseSerializedIdentity(serialized);
  return pkiIdFromParts(mspId, idBytes);
}

export function pkiIdFromParts(mspId: string, idBytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(utf8.encode(mspId)).update(idBytes).digest());
}

/**
 * The certificate of well-formed id_bytes (§2.1); throws VerifyError NOT_WELL_FORMED naming
 * the problem.
 */
export function wellFormedCert(idBytes: Uint8Array, mspId: string): CertInfo {
  const decoded = pemDecode(idBytes);
  if (!decoded)
    throw new VerifyError(
      'NOT_WELL_FORMED',
      `identity of MSP ${mspId}: PEM decoding resulted in an empty block`,
    );
  if (decoded.rest.length > 0)
    throw new VerifyError(
      'NOT_WELL_FORMED',
      `identity of MSP ${mspId} has trailing bytes after its PEM block`,
    );
  const { type, der } = decoded.block;
  if (type !== 'CERTIFICATE' && type !== '') {
    throw new VerifyError(
      'NOT_WELL_FORMED',
      `identity of MSP ${mspId}: PEM type is ${type}, should be CERTIFICATE or missing`,
    );
  }
  let cert: CertInfo;
  try {
    cert = parseCert(der);
  } catch (e) {
    throw new VerifyError('NOT_WELL_FORMED', `identity of MSP ${mspId}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!hasCanonicalSignature(cert)) {
    throw new VerifyError(
      'NOT_WELL_FORMED',
      `identity of MSP ${mspId} has a non-canonical certificate signature`,
    );
  }
  return cert;
}

/** An MspIdentity over a parsed certificate. */
export class X509Identity implements MspIdentity {
  readonly pkiId: Uint8Array;
  readonly cert;
  readonly expiresAt: Date;
  readonly ous: readonly string[];

  constructor(
    readonly mspId: string,
    readonly idBytes: Uint8Array,
    readonly serialized: Uint8Array,
    readonly info: CertInfo,
  ) {
    this.pkiId = pkiIdFromParts(mspId, idBytes);
    this.cert = info.x509;
    this.expiresAt = info.notAfter;
    this.ous = info.subjectOUs;
  }

  get publicKey(): KeyObject {
    return this.info.publicKey;
  }

  /** Throws VerifyError (BAD_SIGNATURE, HIGH_S, BAD_KEY) unless the signature verifies. */
  checkSignature(data: Uint8Array, signature: Uint8Array): void {
    checkEcdsa(this.info.publicKey, data, signature);
  }

  verify(data: Uint8Array, signature: Uint8Array): boolean {
    try {
      this.checkSignature(data, signature);
      return true;
    } catch {
      return false;
    }
  }
}

/** Parse a serialized identity (any MSP) into an X509Identity, checking well-formedness. */
export function identityFromSerialized(serialized: Uint8Array): X509Identity {
  const { mspId, idBytes } = parseSerializedIdentity(serialized);
  return new X509Identity(mspId, idBytes, serialized, wellFormedCert(idBytes, mspId));
}
