/**
 * Scalar conversions of configtx.yaml values, with configtxgen's (viper + mapstructure,
 * "weakly typed") semantics:
 * - uint32 fields take a number, a numeric string ("0x10" too) or a size "10 MB" / "512k"
 *   (digits, optional blanks, K|M|G case-insensitive, optional B; binary units);
 * - durations take a Go duration string ("1s", "1m30s", "500ms"); a bare integer counts
 *   nanoseconds, as Go's time.Duration does; they print back in Go's Duration.String() form;
 * - strings take strings, numbers and booleans; booleans take true/false and Go's
 *   strconv.ParseBool spellings.
 * Every failure is a ValueError carrying the message; the reader adds file and key.
 */

import { scanGoDuration } from '../channelconfig/duration.js';

export class ValueError extends Error {}

const MAX_U32 = 0xffffffffn;
const MAX_U64 = 0xffffffffffffffffn;

function integerOf(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ValueError(`expected an integer ${what}, got ${v}`);
    return BigInt(v);
  }
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    const s = v.trim();
    const m = /^([+-]?)(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)$/i.exec(s);
    if (!m) throw new ValueError(`expected an integer ${what}, got "${v}"`);
    let digits = m[2];
    // Go's ParseUint(s, 0, ...) reads a leading 0 as octal.
    if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`;
    const n = BigInt(digits);
    return m[1] === '-' ? -n : n;
  }
  throw new ValueError(`expected an integer ${what}, got ${describe(v)}`);
}

function unsigned(v: unknown, max: bigint, what: string): bigint {
  const n = integerOf(v, what);
  if (n < 0n) throw new ValueError(`${what} must not be negative, got ${n}`);
  if (n > max) throw new ValueError(`${what} ${n} overflows ${max === MAX_U32 ? 'uint32' : 'uint64'}`);
  return n;
}

/** "10 MB" -> 10485760, as configtxgen's byte-size hook (only for uint32 fields). */
export function parseByteSize(text: string): bigint | undefined {
  const m = /^([0-9]+)\s*([kmg])b?$/i.exec(text);
  if (!m) return undefined;
  const shift = { k: 10n, m: 20n, g: 30n }[m[2].toLowerCase() as 'k' | 'm' | 'g'];
  return BigInt(m[1]) << shift;
}

export function toUint32(v: unknown): number {
  if (typeof v === 'string' && v !== '') {
    const size = parseByteSize(v);
    if (size !== undefined) {
      if (size > MAX_U32) throw new ValueError(`size "${v}" overflows uint32`);
      return Number(size);
    }
    if (!/^\s*[+-]?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|[0-9]+)\s*$/i.test(v)) {
      throw new ValueError(`bad size or number "${v}" (expected e.g. 512, "10 MB", "512 KB")`);
    }
  }
  return Number(unsigned(v, MAX_U32, 'number'));
}

export function toUint64(v: unknown): bigint {
  return unsigned(v, MAX_U64, 'number');
}

/** Go `int` (64-bit): any integer in range. */
export function toInt(v: unknown): number {
  const n = integerOf(v, 'number');
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ValueError(`number ${n} is out of range`);
  }
  return Number(n);
}

export function toStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  throw new ValueError(`expected a string, got ${describe(v)}`);
}

export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v !== 0 && v !== 0n;
  if (typeof v === 'string') {
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False', ''].includes(v)) return false;
  }
  throw new ValueError(`expected a boolean, got ${describe(v)}`);
}

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(text: string): bigint {
  const r = scanGoDuration(text);
  if ('ns' in r) return r.ns;
  if (r.fault === 'empty') throw new ValueError(`invalid duration "${text}"`);
  if (r.fault === 'overflow') throw new ValueError(`invalid duration "${text}" (overflows)`);
  throw new ValueError(`invalid duration "${text}" (expected e.g. "2s", "500ms", "1m30s")`);
}

/** A duration value: a Go duration string, or an integer number of nanoseconds. */
export function toDurationNs(v: unknown): bigint {
  if (typeof v === 'string') return parseGoDuration(v.trim());
  return integerOf(v, 'duration');
}

function fraction(v: bigint, digits: number): string {
  // v has `digits` decimal places; trim trailing zeros and the dot.
  const s = v.toString().padStart(digits + 1, '0');
  const intPart = s.slice(0, s.length - digits);
  const frac = s.slice(s.length - digits).replace(/0+$/, '');
  return frac === '' ? intPart : `${intPart}.${frac}`;
}

/** Go's time.Duration.String(): "2s", "500ms", "1m30s", "1h0m0s", "1.5µs", "0s". */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const u = ns < 0n ? -ns : ns;
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${fraction(u, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${fraction(u, 6)}ms`;
  const hours = u / 3_600_000_000_000n;
  const minutes = (u / 60_000_000_000n) % 60n;
  const secs = fraction(u % 60_000_000_000n, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${secs}s`;
  if (minutes > 0n) return `${sign}${minutes}m${secs}s`;
  return `${sign}${secs}s`;
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map || typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}
