/**
 * Certificate revocation lists of an MSP. As Fabric's MSP does: a certificate is revoked when
 * a CRL whose AuthorityKeyIdentifier equals the SubjectKeyIdentifier of the certificate's
 * issuer lists its serial number, and that CRL's signature verifies with the issuer's key (a
 * CRL with a bad signature is ignored). Revocation dates are not consulted.
 * The CRL is read with the DER reader of asn1.ts (an X.509 library here cost every peer ~100 ms
 * and ~15 MiB at start-up).
 */
import { verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ConfigError } from '../base/errors.js';
import {
  TAG,
  bitStringBytes,
  children,
  expectTag,
  integerValue,
  oidValue,
  parseSingle,
  raw,
  readTlv,
  timeValue,
  type Tlv,
} from './asn1.js';
import { parseExtensions } from './cert.js';
import { pemDecode } from './pem.js';

export interface Crl {
  /** AuthorityKeyIdentifier (hex, lower case); undefined when the CRL has none. */
  readonly aki?: string;
  /** Revoked serial numbers. */
  readonly serials: ReadonlySet<bigint>;
  readonly tbs: Uint8Array;
  readonly sigAlgOid: string;
  readonly signature: Uint8Array;
}

const HASH_OF: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/** Parse a CRL given as PEM ("X509 CRL") or DER; throws ConfigError BAD_CRL. */
export function parseCrl(bytes: Uint8Array, where = 'CRL'): Crl {
  try {
    const der = pemDecode(bytes)?.block.der ?? bytes;
    const [tbsT, algT, sigT] = children(parseSingle(der, TAG.SEQUENCE, 'CertificateList'));
    expectTag(tbsT, TAG.SEQUENCE, 'TBSCertList');
    const sigAlgOid = oidValue(
      expectTag(children(expectTag(algT, TAG.SEQUENCE, 'AlgorithmIdentifier'))[0], TAG.OID, 'algorithm'),
    );
    const signature = bitStringBytes(expectTag(sigT, TAG.BIT_STRING, 'signature'));
    // TBSCertList: version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] crlExtensions?
    const tbs = children(tbsT);
    let i = 0;
    if (tbs[i]?.tag === TAG.INTEGER) i++; // version
    expectTag(tbs[i++], TAG.SEQUENCE, 'signature algorithm');
    expectTag(tbs[i++], TAG.SEQUENCE, 'issuer');
    const isTime = (t: Tlv | undefined): t is Tlv =>
      t?.tag === TAG.UTC_TIME || t?.tag === TAG.GENERALIZED_TIME;
    if (!isTime(tbs[i])) expectTag(tbs[i], TAG.UTC_TIME, 'thisUpdate');
    timeValue(tbs[i++]); // thisUpdate
    if (isTime(tbs[i])) timeValue(tbs[i++]); // nextUpdate
    const serials = new Set<bigint>();
    if (tbs[i]?.tag === TAG.SEQUENCE) {
      for (const entry of children(tbs[i++])) {
        const [serial] = children(expectTag(entry, TAG.SEQUENCE, 'revoked certificate'));
        serials.add(integerValue(expectTag(serial, TAG.INTEGER, 'revoked serial number')));
      }
    }
    let aki: string | undefined;
    if (tbs[i]?.tag === 0xa0) {
      const ext = parseExtensions(readTlv(tbs[i].buf, tbs[i].contentStart, tbs[i].end));
      if (ext.aki) aki = Buffer.from(ext.aki).toString('hex');
      i++;
    }
    if (i !== tbs.length)
      throw new ConfigError('BAD_CRL', `${where}: not a valid X.509 CRL: unexpected field in TBSCertList`);
    return { aki, serials, tbs: raw(tbsT), sigAlgOid, signature };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('BAD_CRL', `${where}: not a valid X.509 CRL: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Whether the CRL's signature verifies with `issuerKey`. */
export function crlSignedBy(crl: Crl, issuerKey: KeyObject): boolean {
  const hash = HASH_OF[crl.sigAlgOid];
  if (!hash) return false;
  try {
    return nodeVerify(hash, crl.tbs, issuerKey, crl.signature);
  } catch {
    return false;
  }
}

/**
 * Whether `serial`, issued by the CA with subject key identifier `issuerSki` and key
 * `issuerKey`, is revoked by one of `crls`.
 */
export function isRevoked(
  crls: readonly Crl[],
  serial: bigint,
  issuerSki: Uint8Array | undefined,
  issuerKey: KeyObject,
): boolean {
  if (!issuerSki) return false;
  const ski = Buffer.from(issuerSki).toString('hex');
  return crls.some((c) => c.aki === ski && c.serials.has(serial) && crlSignedBy(c, issuerKey));
}
