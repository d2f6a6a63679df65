/**
 * CRC-32 (IEEE polynomial, as zlib's) for the record checksums. @node-rs/crc32 (SIMD, about 3x
 * zlib's speed on large inputs) when its native module loads and agrees with zlib on the check
 * value; otherwise node:zlib's. Both give identical values, so files written with either read
 * back with the other. Short inputs (record headers) go to zlib's, which has the smaller call cost.
 */
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32Raw } from 'node:zlib';

export type Crc32 = (data: Uint8Array) => number;

export const zlibCrc32: Crc32 = (data) => zlibCrc32Raw(data);

/** Inputs shorter than this go to zlib's. */
const NATIVE_MIN_BYTES = 256;

function loadNative(): Crc32 | undefined {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32?: (input: Uint8Array) => number };
    const f = mod.crc32;
    if (typeof f !== 'function') return undefined;
    const native: Crc32 = (data) => f(data) >>> 0;
    // the standard check value of CRC-32/ISO-HDLC
    return native(Buffer.from('123456789', 'latin1')) === 0xcbf43926 ? native : undefined;
  } catch {
    return undefined;
  }
}

/** The native implementation; undefined where it does not load. */
export const nativeCrc32: Crc32 | undefined = loadNative();

export const crc32: Crc32 = nativeCrc32
  ? (data) => (data.length < NATIVE_MIN_BYTES ? zlibCrc32Raw(data) : nativeCrc32(data))
  : zlibCrc32;
