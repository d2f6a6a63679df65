/**
 * Deterministic ECDSA P-256 / SHA-256 signing (RFC 6979 nonces), for simulated nodes.
 *
 * Why: node:crypto picks a random nonce per signature, so signature bytes (and DER lengths, hence
 * message sizes and serialization delays) would differ between two runs of the same seed. With
 * RFC 6979 the signature is a function of (key, message), so a seeded run replays byte for byte.
 * Output is what Fabric produces and checks (PROTOCOL.md §2.3): DER SEQUENCE{r, s} with low-S;
 * any ECDSA verifier (node:crypto included) accepts it.
 *
 * Speed: k·G uses a fixed-base table of 4-bit windows (64 × 15 affine points, built once), so a
 * signature costs 64 mixed additions in Jacobian coordinates plus two inversions.
 * This is test tooling: it is not constant-time and must never sign with production keys.
 */
import { createECDH, createHash, createHmac, createPublicKey, type KeyObject } from 'node:crypto';
import { derSequence, derUnsignedInteger } from '../wire/der.js';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;
const HALF_N = N >> 1n;

type Affine = readonly [bigint, bigint];
/** Jacobian (X, Y, Z); Z = 0 is the point at infinity. */
type Jacobian = [bigint, bigint, bigint];

const mod = (a: bigint, m: bigint): bigint => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function inv(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function double([x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return [0n, 1n, 0n];
  const yy = (y * y) % P;
  const s = (4n * x * yy) % P;
  const zz = (z * z) % P;
  const m = mod(3n * (x - zz) * (x + zz), P); // a = -3
  const x3 = mod(m * m - 2n * s, P);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, P);
  const z3 = (2n * y * z) % P;
  return [x3, y3, z3];
}

function addMixed(a: Jacobian, [qx, qy]: Affine): Jacobian {
  const [x1, y1, z1] = a;
  if (z1 === 0n) return [qx, qy, 1n];
  const zz = (z1 * z1) % P;
  const u2 = (qx * zz) % P;
  const s2 = (qy * zz * z1) % P;
  const h = mod(u2 - x1, P);
  const r = mod(s2 - y1, P);
  if (h === 0n) return r === 0n ? double(a) : [0n, 1n, 0n];
  const hh = (h * h) % P;
  const hhh = (hh * h) % P;
  const v = (x1 * hh) % P;
  const x3 = mod(r * r - hhh - 2n * v, P);
  const y3 = mod(r * (v - x3) - y1 * hhh, P);
  const z3 = (z1 * h) % P;
  return [x3, y3, z3];
}

function toAffine([x, y, z]: Jacobian): Affine {
  const zi = inv(z, P);
  const zi2 = (zi * zi) % P;
  return [(x * zi2) % P, (y * zi2 * zi) % P];
}

let table: Affine[][] | undefined;

/** table[i][j-1] = j · 16^i · G for i in 0..63, j in 1..15. */
function baseTable(): Affine[][] {
  if (table) return table;
  const t: Affine[][] = [];
  let base: Affine = [GX, GY];
  for (let i = 0; i < 64; i++) {
    const row: Affine[] = [base];
    let acc: Jacobian = [base[0], base[1], 1n];
    for (let j = 2; j <= 15; j++) {
      acc = addMixed(acc, base);
      row.push(toAffine(acc));
    }
    t.push(row);
    base = toAffine(addMixed([row[14][0], row[14][1], 1n], row[0])); // 16·base = 15·base + base
  }
  table = t;
  return t;
}

function mulG(k: bigint): Affine {
  const t = baseTable();
  let acc: Jacobian = [0n, 1n, 0n];
  for (let i = 0; i < 64; i++) {
    const nib = Number((k >> BigInt(4 * i)) & 0xfn);
    if (nib !== 0) acc = addMixed(acc, t[i][nib - 1]);
  }
  return toAffine(acc);
}

const toBytes32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const toBig = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));

/** RFC 6979 §3.2 nonce for private key `d` and message digest `h` (SHA-256, qlen = 256). */
function* rfc6979Nonces(d: bigint, h: Uint8Array): Generator<bigint> {
  const x = toBytes32(d);
  const h1 = toBytes32(mod(toBig(h), N));
  const hmac = (key: Buffer, ...parts: Uint8Array[]): Buffer => {
    const m = createHmac('sha256', key);
    for (const p of parts) m.update(p);
    return m.digest();
  };
  let v: Buffer = Buffer.alloc(32, 1);
  let k: Buffer = Buffer.alloc(32, 0);
  k = hmac(k, v, Uint8Array.of(0), x, h1);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(1), x, h1);
  v = hmac(k, v);
  for (;;) {
    v = hmac(k, v);
    const cand = toBig(v);
    if (cand >= 1n && cand < N) yield cand;
    k = hmac(k, v, Uint8Array.of(0));
    v = hmac(k, v);
  }
}

/** Raw (r, s) with low-S over a SHA-256 digest. */
export function signDigest(d: bigint, digest: Uint8Array): { r: bigint; s: bigint } {
  const z = mod(toBig(digest), N);
  for (const k of rfc6979Nonces(d, digest)) {
    const r = mod(mulG(k)[0], N);
    if (r === 0n) continue;
    let s = mod(inv(k, N) * (z + r * d), N);
    if (s === 0n) continue;
    if (s > HALF_N) s = N - s;
    return { r, s };
  }
  throw new Error('unreachable');
}

/** A deterministic P-256 key: private scalar, uncompressed public point, node KeyObject for verifying. */
export class DeterministicP256Key {
  readonly d: bigint;
  /** Uncompressed SEC1 point (0x04 ‖ X ‖ Y). */
  readonly publicPoint: Uint8Array;
  readonly publicKey: KeyObject;

  /** The scalar is derived from `seed` (any bytes) by hashing, reduced into [1, n-1]. */
  static fromSeed(seed: string | Uint8Array): DeterministicP256Key {
    const digest = createHash('sha512').update(seed).digest();
    return new DeterministicP256Key(mod(toBig(digest), N - 1n) + 1n);
  }

  constructor(d: bigint) {
    if (d <= 0n || d >= N) throw new RangeError('P-256 private scalar out of range');
    this.d = d;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(toBytes32(d));
    this.publicPoint = new Uint8Array(ecdh.getPublicKey());
    this.publicKey = createPublicKey({ key: this.jwk(false), format: 'jwk' });
  }

  /** JWK of the key; with `withPrivate` includes `d`. */
  jwk(withPrivate: boolean): { kty: 'EC'; crv: 'P-256'; x: string; y: string; d?: string } {
    const p = Buffer.from(this.publicPoint);
    const b64 = (b: Buffer) => b.toString('base64url');
    const out: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d?: string } = {
      kty: 'EC',
      crv: 'P-256',
      x: b64(p.subarray(1, 33)),
      y: b64(p.subarray(33, 65)),
    };
    if (withPrivate) out.d = b64(toBytes32(this.d));
    return out;
  }

  /** DER ECDSA signature with low-S over SHA-256(data). */
  sign(data: Uint8Array): Uint8Array {
    const { r, s } = signDigest(this.d, createHash('sha256').update(data).digest());
    return derSequence(derUnsignedInteger(r), derUnsignedInteger(s));
  }

  /** IEEE P1363 r ‖ s (what WebCrypto's ECDSA sign returns) over SHA-256(data). */
  signRaw(data: Uint8Array): Uint8Array {
    const { r, s } = signDigest(this.d, createHash('sha256').update(data).digest());
    return new Uint8Array(Buffer.concat([toBytes32(r), toBytes32(s)]));
  }
}
