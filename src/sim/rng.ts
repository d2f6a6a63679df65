/**
 * Seeded randomness for the simulation: xoshiro128** (Blackman & Vigna) over four 32-bit words,
 * seeded through splitmix32 so any 32-bit seed gives a well-mixed state.
 *
 * `fork(label)` derives an independent stream from this stream's seed and a label (FNV-1a of the
 * label mixed into the seed), without consuming numbers from the parent: adding a node, or a
 * component drawing more numbers, never shifts the streams of the others.
 */
import type { Rng } from '../base/time.js';

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class SeededRng implements Rng {
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    const mix = splitmix32(this.seed);
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** An independent deterministic stream named `label` (e.g. a node's endpoint). */
  fork(label: string): SeededRng {
    const h = fnv1a(label);
    const mixed = splitmix32((this.seed ^ Math.imul(h, 0x9e3779b1)) >>> 0)() ^ h;
    return new SeededRng(mixed >>> 0);
  }

  /** Next uniform 32-bit unsigned integer. */
  next32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  int(n: number): number {
    if (!(n > 1)) return 0;
    if (n <= 2 ** 32) {
      // Rejection sampling: no modulo bias.
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const x = this.next32();
        if (x < limit) return x % n;
      }
    }
    return Math.floor(this.float() * n);
  }

  float(): number {
    // 53 random bits.
    const hi = this.next32() >>> 5;
    const lo = this.next32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  u64(): bigint {
    return (BigInt(this.next32()) << 32n) | BigInt(this.next32());
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let x = this.next32();
      for (let j = i; j < Math.min(n, i + 4); j++) {
        out[j] = x & 0xff;
        x >>>= 8;
      }
    }
    return out;
  }

  sample<T>(items: readonly T[], k: number): T[] {
    const copy = items.slice();
    const n = Math.min(Math.max(0, k), copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.int(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && (p >= 1 || this.float() < p);
  }
}
