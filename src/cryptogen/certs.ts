/**
 * Keys and certificates exactly as cryptogen (Go crypto/x509) makes them:
 *   - keys: ECDSA P-256, private key as PKCS#8 PEM ("PRIVATE KEY");
 *   - serial: uniform random in [0, 2^128), minimal DER INTEGER;
 *   - validity: notBefore = now rounded to the minute minus 5 minutes, notAfter = +3650 days;
 *   - names: C, ST, L, STREET, PostalCode, O, OU, CN in that order (Go's pkix order), each value a
 *     PrintableString when Go would pick one, else UTF8String; multi-valued RDNs sorted (DER SET OF);
 *   - extensions in Go's order: KeyUsage (critical), ExtKeyUsage (if any), BasicConstraints
 *     (critical), SubjectKeyId (CAs: SHA-256 of the public point), AuthorityKeyId (issued certs:
 *     the CA's SKI), SubjectAltName (DNS names, then IPs);
 *   - signature: ECDSA with SHA-256, normalised to low-S (as cryptogen's signer and Fabric's MSP).
 * Certificates are assembled with @peculiar/x509; extension values are DER we write here.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

type CryptoKey = webcrypto.CryptoKey;
x509.cryptoProvider.set(globalThis.crypto);
const subtle = webcrypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Order of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const VALIDITY_MS = 3650 * 24 * 3600 * 1000;

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Uncompressed public point 04 || X || Y. */
  publicPoint: Uint8Array;
  /** PKCS#8 PEM, as cryptogen writes priv_sk. */
  privateKeyPem: string;
}

export interface IssuedCert {
  der: Uint8Array;
  pem: string;
  /** Subject key identifier (set on CA certificates). */
  ski?: Uint8Array;
  subject: x509.Name;
}

export interface SubjectFields {
  country?: string;
  province?: string;
  locality?: string;
  streetAddress?: string;
  postalCode?: string;
  organization?: string;
  organizationalUnits?: string[];
  commonName: string;
}

/** Certificate authority: its certificate and key. */
export interface CertAuthority {
  cert: IssuedCert;
  keys: KeyPair;
}

export function toPem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const pair = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const publicPoint = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
  return { ...pair, publicPoint, privateKeyPem: toPem('PRIVATE KEY', pkcs8) };
}

/** cryptogen's SKI: SHA-256 of the uncompressed public point. */
export function subjectKeyId(publicPoint: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(publicPoint).digest());
}

/** Go's time.Round(time.Minute) then minus 5 minutes; notAfter 3650 days later. */
export function validityFor(now: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.round(now.getTime() / 60_000) * 60_000 - 5 * 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + VALIDITY_MS) };
}

// ---- DER for extension values ----

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...len, ...content]);
}

const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

export const KU_DIGITAL_SIGNATURE = 1 << 0;
export const KU_KEY_ENCIPHERMENT = 1 << 2;
export const KU_CERT_SIGN = 1 << 5;
export const KU_CRL_SIGN = 1 << 6;

/** Go's KeyUsage BIT STRING: bit i of the usage = bit (7 - i % 8) of byte i / 8, trailing zeros cut. */
function keyUsageDer(usage: number): Uint8Array {
  const bytes = [usage & 0xff, (usage >> 8) & 0xff].map((b) => {
    let r = 0;
    for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 0x80 >> i;
    return r;
  });
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop();
  const last = bytes[bytes.length - 1] ?? 0;
  let unused = 0;
  while (unused < 8 && last !== 0 && !(last & (1 << unused))) unused++;
  return tlv(0x03, Uint8Array.from([bytes.length ? unused : 0, ...bytes]));
}

export const EKU_SERVER_AUTH = '2b06010505070301';
export const EKU_CLIENT_AUTH = '2b06010505070302';

function extKeyUsageDer(oidsHex: string[]): Uint8Array {
  return tlv(0x30, cat(...oidsHex.map((o) => tlv(0x06, hex(o)))));
}

function ipBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) return undefined;
  const url = new URL(`http://[${ip}]/`).hostname.slice(1, -1); // canonical, "::ffff:a.b.c.d" -> hex form
  const [head, tail] = url.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, k) => {
    const v = parseInt(g, 16);
    out[2 * k] = v >> 8;
    out[2 * k + 1] = v & 0xff;
  });
  // Go writes IPv4-mapped IPv6 addresses as 4 bytes.
  if (out.subarray(0, 10).every((b) => b === 0) && out[10] === 0xff && out[11] === 0xff) return out.slice(12);
  return out;
}

/** GeneralNames: every DNS name, then every IP address (Go's order). */
function subjectAltNameDer(sans: string[]): Uint8Array {
  const dns: Uint8Array[] = [];
  const ips: Uint8Array[] = [];
  for (const s of sans) {
    const ip = ipBytes(s);
    if (ip) ips.push(tlv(0x87, ip));
    else dns.push(tlv(0x82, new Uint8Array(Buffer.from(s, 'utf8'))));
  }
  return tlv(0x30, cat(...dns, ...ips));
}

// ---- names ----

/** Go's encoding/asn1 PrintableString alphabet (no '*', '&' or '@'). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function attr(value: string): x509.JsonAttributeObject {
  return PRINTABLE.test(value) ? { printableString: value } : { utf8String: value };
}

/** Sort values of one RDN as DER SET OF does: by encoded length, then string tag, then bytes. */
function derSetOrder(values: string[]): string[] {
  const key = (v: string) => ({
    len: Buffer.byteLength(v),
    tag: PRINTABLE.test(v) ? 0x13 : 0x0c,
    bytes: Buffer.from(v),
  });
  return [...values].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka.len - kb.len || ka.tag - kb.tag || Buffer.compare(ka.bytes, kb.bytes);
  });
}

export function buildName(f: SubjectFields): x509.Name {
  const rdns: x509.JsonNameParams = [];
  const add = (type: string, values: (string | undefined)[]) => {
    const vs = values.filter((v): v is string => v !== undefined && v !== '');
    if (vs.length > 0) rdns.push({ [type]: derSetOrder(vs).map(attr) });
  };
  add('C', [f.country]);
  add('ST', [f.province]);
  add('L', [f.locality]);
  add('2.5.4.9', [f.streetAddress]);
  add('2.5.4.17', [f.postalCode]);
  add('O', [f.organization]);
  add('OU', f.organizationalUnits ?? []);
  add('CN', [f.commonName]);
  return new x509.Name(rdns);
}

// ---- signing ----

function bytesToBigInt(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
}

/** WebCrypto with ECDSA signatures (raw r || s) normalised to low-S. */
const lowSCrypto: webcrypto.Crypto = new Proxy(webcrypto, {
  get(target, prop) {
    if (prop === 'subtle') {
      return new Proxy(subtle, {
        get(st, p) {
          if (p === 'sign') {
            return async (
              alg: webcrypto.AlgorithmIdentifier,
              key: CryptoKey,
              data: webcrypto.BufferSource,
            ) => {
              const sig = new Uint8Array(await st.sign(alg, key, data));
              const s = bytesToBigInt(sig.subarray(32));
              if (sig.length === 64 && s > P256_N / 2n)
                sig.set(Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex'), 32);
              return sig.buffer;
            };
          }
          const v = Reflect.get(st, p, st) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(st) : v;
        },
      });
    }
    const v = Reflect.get(target, prop, target) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  },
});

function randomSerialHex(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  if (b.every((x) => x === 0)) b[15] = 1;
  return Buffer.from(b).toString('hex');
}

interface CertParams {
  subject: x509.Name;
  issuer: x509.Name;
  publicKey: CryptoKey;
  signingKey: CryptoKey;
  now: Date;
  keyUsage: number;
  extKeyUsage: string[];
  isCA: boolean;
  ski?: Uint8Array;
  aki?: Uint8Array;
  sans?: string[];
}

async function issue(p: CertParams): Promise<Uint8Array> {
  const ext = (oid: string, critical: boolean, value: Uint8Array) => new x509.Extension(oid, critical, value);
  const extensions: x509.Extension[] = [ext('2.5.29.15', true, keyUsageDer(p.keyUsage))];
  if (p.extKeyUsage.length > 0) extensions.push(ext('2.5.29.37', false, extKeyUsageDer(p.extKeyUsage)));
  extensions.push(ext('2.5.29.19', true, p.isCA ? hex('30030101ff') : hex('3000')));
  if (p.ski) extensions.push(ext('2.5.29.14', false, tlv(0x04, p.ski)));
  if (p.aki) extensions.push(ext('2.5.29.35', false, tlv(0x30, tlv(0x80, p.aki))));
  if (p.sans && p.sans.length > 0) extensions.push(ext('2.5.29.17', false, subjectAltNameDer(p.sans)));
  const { notBefore, notAfter } = validityFor(p.now);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: p.subject,
      issuer: p.issuer,
      notBefore,
      notAfter,
      publicKey: p.publicKey,
      signingKey: p.signingKey,
      signingAlgorithm: SIGN,
      extensions,
    },
    lowSCrypto,
  );
  return new Uint8Array(cert.rawData);
}

/** A self-signed CA as cryptogen's NewCA: O = org domain, CN = name, SKI, CA key usages. */
export async function createCA(subject: SubjectFields, now: Date): Promise<CertAuthority> {
  const keys = await generateKeyPair();
  const name = buildName(subject);
  const ski = subjectKeyId(keys.publicPoint);
  const der = await issue({
    subject: name,
    issuer: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    now,
    keyUsage: KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_CERT_SIGN | KU_CRL_SIGN,
    extKeyUsage: [EKU_CLIENT_AUTH, EKU_SERVER_AUTH],
    isCA: true,
    ski,
  });
  return { keys, cert: { der, pem: toPem('CERTIFICATE', der), ski, subject: name } };
}

/** A certificate signed by `ca` for a fresh key (cryptogen's SignCertificate). */
export async function signCertificate(
  ca: CertAuthority,
  subject: SubjectFields,
  opts: { now: Date; keyUsage: number; extKeyUsage: string[]; sans?: string[] },
): Promise<{ keys: KeyPair; cert: IssuedCert }> {
  const keys = await generateKeyPair();
  const name = buildName(subject);
  const der = await issue({
    subject: name,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    now: opts.now,
    keyUsage: opts.keyUsage,
    extKeyUsage: opts.extKeyUsage,
    isCA: false,
    aki: ca.cert.ski,
    sans: opts.sans,
  });
  return { keys, cert: { der, pem: toPem('CERTIFICATE', der), subject: name } };
}
