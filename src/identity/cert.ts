/**
 * The parts of an X.509 certificate the MSP needs, read from its DER with our strict reader:
 * validity, subject OUs, SKI/AKI, CA flag, extended key usages and the signature (to check its
 * canonical encoding and to "sanitize" it to low-S as Fabric does before hashing or comparing
 * CA certificates). Signatures along a chain are checked with node:crypto's X509Certificate.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { VerifyError } from '../base/errors.js';
import {
  TAG,
  bitStringBytes,
  children,
  content,
  encodeTlv,
  expectTag,
  integerValue,
  oidValue,
  parseSingle,
  raw,
  readTlv,
  timeValue,
  type Tlv,
} from './asn1.js';
import { encodeEcdsaSignature, parseEcdsaSignature, curveOrder } from './ecdsa.js';

const OID_OU = '2.5.4.11';
const OID_SKI = '2.5.29.14';
const OID_AKI = '2.5.29.35';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_EKU = '2.5.29.37';
const ECDSA_SIG_OIDS = new Set([
  '1.2.840.10045.4.1',
  '1.2.840.10045.4.3.2',
  '1.2.840.10045.4.3.3',
  '1.2.840.10045.4.3.4',
]);

export interface CertInfo {
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
  readonly tbs: Uint8Array;
  readonly sigAlgRaw: Uint8Array;
  readonly sigAlgOid: string;
  readonly signature: Uint8Array;
  readonly serial: bigint;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectOUs: readonly string[];
  readonly isCA: boolean;
  readonly ski?: Uint8Array;
  readonly aki?: Uint8Array;
  /** Extended key usage OIDs; undefined when the extension is absent. */
  readonly ekus?: readonly string[];
  readonly publicKey: KeyObject;
}

export function isEcdsaSigned(c: CertInfo): boolean {
  return ECDSA_SIG_OIDS.has(c.sigAlgOid);
}

function ouValues(name: Tlv): string[] {
  const out: string[] = [];
  for (const rdn of children(expectTag(name, TAG.SEQUENCE, 'Name'))) {
    for (const atv of children(expectTag(rdn, TAG.SET, 'RDN'))) {
      const [oid, value] = children(expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'));
      if (oidValue(expectTag(oid, TAG.OID, 'attribute type')) === OID_OU && value) {
        out.push(Buffer.from(content(value)).toString(value.tag === 0x1e ? 'utf16le' : 'utf8'));
      }
    }
  }
  return out;
}

interface Extensions {
  isCA: boolean;
  ski?: Uint8Array;
  aki?: Uint8Array;
  ekus?: string[];
}

/** Extensions list (SEQUENCE OF Extension) → the ones we use. */
export function parseExtensions(list: Tlv): Extensions {
  const ext: Extensions = { isCA: false };
  for (const e of children(expectTag(list, TAG.SEQUENCE, 'Extensions'))) {
    const parts = children(expectTag(e, TAG.SEQUENCE, 'Extension'));
    const oid = oidValue(expectTag(parts[0], TAG.OID, 'extension id'));
    const value = parts[parts.length - 1];
    expectTag(value, TAG.OCTET_STRING, 'extension value');
    const inner = content(value);
    if (oid === OID_SKI) {
      ext.ski = content(parseSingle(inner, TAG.OCTET_STRING, 'SubjectKeyIdentifier'));
    } else if (oid === OID_AKI) {
      for (const c of children(parseSingle(inner, TAG.SEQUENCE, 'AuthorityKeyIdentifier'))) {
        if (c.tag === 0x80) ext.aki = content(c);
      }
    } else if (oid === OID_BASIC_CONSTRAINTS) {
      const bc = children(parseSingle(inner, TAG.SEQUENCE, 'BasicConstraints'));
      ext.isCA = bc.length > 0 && bc[0].tag === TAG.BOOLEAN && content(bc[0])[0] === 0xff;
    } else if (oid === OID_EKU) {
      ext.ekus = children(parseSingle(inner, TAG.SEQUENCE, 'ExtKeyUsage')).map((o) =>
        oidValue(expectTag(o, TAG.OID, 'EKU')),
      );
    }
  }
  return ext;
}

/**
 * Parsed certificates by their DER (base64), most recently used last. A channel config names the
 * same CA certificate many times (root, NodeOU certifiers, admins' chains) and each parse costs
 * ~0.3 ms in OpenSSL (key decoding): `block verify` parsed 7 certificates 38 times. Bounded: a
 * parse of a certificate not kept costs only that time again.
 */
const PARSED_CERTS = 256;
const parsed = new Map<string, CertInfo>();

/**
 * Parse a DER certificate; throws VerifyError (code BAD_CERT) naming the problem. The result is
 * shared between callers with the same DER (it is immutable and keeps its own copy of the bytes).
 */
export function parseCert(der: Uint8Array): CertInfo {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const hit = parsed.get(key);
  if (hit) {
    parsed.delete(key); // most recently used last
    parsed.set(key, hit);
    return hit;
  }
  const info = parseCertOnce(der.slice());
  if (parsed.size >= PARSED_CERTS) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, info);
  return info;
}

function parseCertOnce(der: Uint8Array): CertInfo {
  try {
    const top = parseSingle(der, TAG.SEQUENCE, 'Certificate');
    const [tbsT, algT, sigT] = children(top);
    expectTag(tbsT, TAG.SEQUENCE, 'TBSCertificate');
    const alg = children(expectTag(algT, TAG.SEQUENCE, 'AlgorithmIdentifier'));
    const sigAlgOid = oidValue(expectTag(alg[0], TAG.OID, 'signature algorithm'));
    const signature = bitStringBytes(expectTag(sigT, TAG.BIT_STRING, 'signature'));
    const tbs = children(tbsT);
    let i = 0;
    if (tbs[i]?.tag === 0xa0) i++; // [0] version
    const serial = integerValue(expectTag(tbs[i++], TAG.INTEGER, 'serial number'));
    i++; // signature algorithm
    i++; // issuer
    const validity = children(expectTag(tbs[i++], TAG.SEQUENCE, 'Validity'));
    if (validity.length !== 2) throw new VerifyError('BAD_DER', 'malformed DER: Validity');
    const subject = tbs[i++];
    i++; // subjectPublicKeyInfo
    let ext: Extensions = { isCA: false };
    for (; i < tbs.length; i++) {
      if (tbs[i].tag === 0xa3) ext = parseExtensions(readTlv(tbs[i].buf, tbs[i].contentStart, tbs[i].end));
    }
    const x509 = new X509Certificate(der);
    return {
      der,
      x509,
      tbs: raw(tbsT),
      sigAlgRaw: raw(algT),
      sigAlgOid,
      signature,
      serial,
      notBefore: timeValue(validity[0]),
      notAfter: timeValue(validity[1]),
      subjectOUs: ouValues(subject),
      isCA: ext.isCA,
      ski: ext.ski,
      aki: ext.aki,
      ekus: ext.ekus,
      publicKey: x509.publicKey,
    };
  } catch (e) {
    if (e instanceof VerifyError && e.code === 'BAD_CERT') throw e;
    throw new VerifyError('BAD_CERT', `not a valid X.509 certificate: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Whether the certificate's ECDSA signature is in canonical DER form (re-encodes identically),
 * as Fabric's IsWellFormed requires of identities.
 */
export function hasCanonicalSignature(c: CertInfo): boolean {
  if (!isEcdsaSigned(c)) return true;
  try {
    const { r, s } = parseEcdsaSignature(c.signature);
    return Buffer.from(encodeEcdsaSignature(r, s)).equals(c.signature);
  } catch {
    return false;
  }
}

/**
 * Fabric's sanitizeCert: an ECDSA-signed certificate is re-encoded with its signature in
 * canonical low-S form (s := n − s when s > n/2, n = order of the signer's curve). Returns the
 * DER unchanged when nothing changes.
 */
export function sanitizedDer(c: CertInfo, signerKey: KeyObject): Uint8Array {
  if (!isEcdsaSigned(c)) return c.der;
  const n = curveOrder(signerKey);
  if (n === undefined) return c.der;
  let sig: Uint8Array;
  try {
    const { r, s } = parseEcdsaSignature(c.signature);
    sig = encodeEcdsaSignature(r, s > n >> 1n ? n - s : s);
  } catch {
    return c.der;
  }
  if (Buffer.from(sig).equals(c.signature)) return c.der;
  const bits = new Uint8Array(sig.length + 1);
  bits.set(sig, 1);
  return encodeTlv(TAG.SEQUENCE, Buffer.concat([c.tbs, c.sigAlgRaw, encodeTlv(TAG.BIT_STRING, bits)]));
}
