/**
 * A minimal strict DER reader: just enough to walk X.509 certificates and CRLs (validity,
 * subject OUs, extensions, signature) and ECDSA signatures, with Go encoding/asn1's
 * strictness (minimal lengths, minimal integers, single-byte tags).
 * Every failure is a VerifyError with code BAD_DER.
 */
import { VerifyError } from '../base/errors.js';

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte in `buf`. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
  readonly buf: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

function bad(msg: string): never {
  throw new VerifyError('BAD_DER', `malformed DER: ${msg}`);
}

/** Read one TLV at `offset`; the content must lie within `limit` (default: end of buf). */
export function readTlv(buf: Uint8Array, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) bad('truncated header');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) bad('multi-byte tags are not supported');
  let p = offset + 1;
  const first = buf[p++];
  let len: number;
  if (first < 0x80) {
    len = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) bad('indefinite length');
    if (n > 4) bad('length too large');
    if (p + n > limit) bad('truncated length');
    if (buf[p] === 0) bad('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
    if (len < 0x80) bad('non-minimal length');
  }
  if (p + len > limit) bad('truncated content');
  return { tag, start: offset, contentStart: p, end: p + len, buf };
}

export function content(t: Tlv): Uint8Array {
  return t.buf.subarray(t.contentStart, t.end);
}

/** The whole encoding (tag, length and content). */
export function raw(t: Tlv): Uint8Array {
  return t.buf.subarray(t.start, t.end);
}

/** The children of a constructed TLV (content must be fully consumed). */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = t.contentStart;
  while (p < t.end) {
    const c = readTlv(t.buf, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) bad(`expected ${what}`);
  return t;
}

/** A whole buffer that must be exactly one TLV of `tag`. */
export function parseSingle(buf: Uint8Array, tag: number, what: string): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) bad(`trailing bytes after ${what}`);
  return expectTag(t, tag, what);
}

/** INTEGER content as a signed bigint, rejecting empty and non-minimal encodings (as Go). */
export function integerValue(t: Tlv): bigint {
  const c = content(t);
  if (c.length === 0) bad('empty integer');
  if (c.length > 1 && ((c[0] === 0 && (c[1] & 0x80) === 0) || (c[0] === 0xff && (c[1] & 0x80) !== 0))) {
    bad('integer not minimally encoded');
  }
  let v = 0n;
  for (const b of c) v = (v << 8n) | BigInt(b);
  if (c[0] & 0x80) v -= 1n << BigInt(8 * c.length);
  return v;
}

export function oidValue(t: Tlv): string {
  const c = content(t);
  if (c.length === 0) bad('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < c.length; i++) {
    if (v === 0 && c[i] === 0x80) bad('non-minimal OID');
    v = v * 128 + (c[i] & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) bad('OID component too large');
    if ((c[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const a = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(a, v - 40 * a);
      } else parts.push(v);
      v = 0;
    } else if (i === c.length - 1) bad('truncated OID');
  }
  return parts.join('.');
}

/** BIT STRING content without the unused-bits byte (which must be 0 here). */
export function bitStringBytes(t: Tlv): Uint8Array {
  const c = content(t);
  if (c.length === 0 || c[0] !== 0) bad('bit string with unused bits');
  return c.subarray(1);
}

const DIGITS = /^\d+$/;

/** UTCTime (YYMMDDHHMMSSZ, YY < 50 → 20YY) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
export function timeValue(t: Tlv): Date {
  const s = Buffer.from(content(t)).toString('latin1');
  let year: number;
  let rest: string;
  if (t.tag === TAG.UTC_TIME) {
    if (s.length !== 13 || !s.endsWith('Z') || !DIGITS.test(s.slice(0, 12)))
      bad(`bad UTCTime ${JSON.stringify(s)}`);
    const yy = Number(s.slice(0, 2));
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = s.slice(2, 12);
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    if (s.length !== 15 || !s.endsWith('Z') || !DIGITS.test(s.slice(0, 14)))
      bad(`bad GeneralizedTime ${JSON.stringify(s)}`);
    year = Number(s.slice(0, 4));
    rest = s.slice(4, 14);
  } else {
    bad('expected a time');
  }
  const [mo, d, h, mi, se] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2)));
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  const date = new Date(ms);
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59)
    bad(`bad time ${s}`);
  return date;
}

// ---- encoding (what re-encoding a signature or a sanitized certificate needs) ----

export { encodeLength, encodeTlv } from '../wire/der.js';
