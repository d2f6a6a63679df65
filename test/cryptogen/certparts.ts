/**
 * Test-side certificate inspection, independent of the generator: a small DER reader that splits
 * a certificate into its raw parts (so fields can be compared byte for byte with cryptogen's),
 * plus semantic fields read with @peculiar/x509.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface Tlv {
  tag: number;
  /** The whole element (tag, length, content). */
  raw: Buffer;
  content: Buffer;
}

export function readTlv(buf: Buffer, off = 0): Tlv & { end: number } {
  const tag = buf[off];
  let len = buf[off + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    hdr += n;
  }
  const end = off + hdr + len;
  if (end > buf.length) throw new Error('DER: truncated');
  return { tag, raw: buf.subarray(off, end), content: buf.subarray(off + hdr, end), end };
}

export function children(content: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 0; off < content.length;) {
    const t = readTlv(content, off);
    out.push(t);
    off = t.end;
  }
  return out;
}

export interface Ext {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface CertParts {
  version: Buffer;
  serial: Buffer;
  sigAlg: Buffer;
  issuer: Buffer;
  notBefore: Tlv;
  notAfter: Tlv;
  subject: Buffer;
  spkiAlg: Buffer;
  publicPoint: Buffer;
  extensions: Ext[];
  outerSigAlg: Buffer;
  signature: Buffer;
}

function oidString(b: Buffer): string {
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (const x of b.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export function pemToDer(pem: string | Buffer): Buffer {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem.toString());
  if (!m) throw new Error('not PEM');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

export function certParts(pem: string | Buffer): CertParts {
  const cert = children(readTlv(pemToDer(pem)).content);
  const tbs = children(cert[0].content);
  const spki = children(tbs[6].content);
  const extSeq = children(children(tbs[7].content)[0].content);
  const extensions = extSeq.map((e) => {
    const f = children(e.content);
    const critical = f.length === 3 && f[1].content[0] === 0xff;
    return { oid: oidString(f[0].content), critical, value: f[f.length - 1].content };
  });
  const validity = children(tbs[4].content);
  return {
    version: tbs[0].raw,
    serial: tbs[1].content,
    sigAlg: tbs[2].raw,
    issuer: tbs[3].raw,
    notBefore: validity[0],
    notAfter: validity[1],
    subject: tbs[5].raw,
    spkiAlg: spki[0].raw,
    publicPoint: spki[1].content.subarray(1),
    extensions,
    outerSigAlg: cert[1].raw,
    signature: cert[2].content.subarray(1),
  };
}

/** Semantic fields as the brief lists them, for readable assertion diffs. */
export function certFields(pem: string | Buffer) {
  const c = new x509.X509Certificate(pem.toString());
  const ku = c.getExtension(x509.KeyUsagesExtension);
  const eku = c.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    subject: c.subject,
    issuer: c.issuer,
    ous: c.subjectName.getField('OU'),
    sans: san ? san.names.items.map((n) => `${n.type}:${n.value}`) : [],
    keyUsage: ku?.usages,
    keyUsageCritical: ku?.critical,
    extKeyUsage: eku?.usages.map(String),
    ca: bc?.ca,
    pathLength: bc?.pathLength,
    basicConstraintsCritical: bc?.critical,
    signatureAlgorithm: JSON.stringify(c.signatureAlgorithm),
    publicKeyAlgorithm: c.publicKey.algorithm.name,
    validityMs: c.notAfter.getTime() - c.notBefore.getTime(),
  };
}

export function readPem(path: string): Buffer {
  return readFileSync(path);
}

/** Whether the PKCS#8 key file holds the private key of the certificate's public key. */
export function keyMatchesCert(keyPem: Buffer, certPem: Buffer): boolean {
  const cert = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return (
    cert.checkPrivateKey(key) &&
    Buffer.compare(pub, cert.publicKey.export({ format: 'der', type: 'spki' })) === 0
  );
}

export function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** ECDSA-Sig-Value {r, s}: minimal DER integers and s <= n/2. */
export function isLowSCanonical(sigDer: Buffer): boolean {
  const seq = readTlv(sigDer);
  if (seq.end !== sigDer.length) return false;
  const [r, s] = children(seq.content);
  for (const i of [r, s]) {
    const c = i.content;
    if (i.tag !== 0x02 || c.length === 0 || c[0] & 0x80) return false;
    if (c.length > 1 && c[0] === 0 && !(c[1] & 0x80)) return false;
  }
  return BigInt(`0x${s.content.toString('hex')}`) <= P256_N / 2n;
}
