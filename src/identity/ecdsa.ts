/**
 * ECDSA as Fabric's software BCCSP does it (PROTOCOL.md §2.3):
 * - sign: SHA-256 digest, ECDSA, then s := n − s when s > n/2, DER SEQUENCE { r, s }.
 * - verify: the signature must parse as DER SEQUENCE { INTEGER r, INTEGER s } (minimal
 *   encodings; like Go's asn1, bytes after s or after the sequence are ignored), r > 0, s > 0,
 *   s ≤ n/2 ("Invalid S"), then a plain ECDSA check of SHA-256(message).
 * Parsed public keys are kept in a bounded LRU keyed by the key's DER (SPKI).
 */
import { createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { VerifyError } from '../base/errors.js';
import { TAG, encodeTlv, expectTag, integerValue, readTlv } from './asn1.js';
import { derUnsignedInteger } from '../wire/der.js';
import { LruCache } from './lru.js';

const ORDERS: Record<string, bigint> = {
  prime256v1: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  secp384r1:
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  secp521r1:
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

/** The order n of an EC key's curve (undefined for other key types). */
export function curveOrder(key: KeyObject): bigint | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  return ORDERS[key.asymmetricKeyDetails?.namedCurve ?? ''];
}

/** Parse DER SEQUENCE { r, s } as Go's asn1.Unmarshal does; throws VerifyError BAD_SIGNATURE. */
export function parseEcdsaSignature(sig: Uint8Array): { r: bigint; s: bigint } {
  try {
    const seq = expectTag(readTlv(sig, 0), TAG.SEQUENCE, 'ECDSA signature sequence');
    const items: ReturnType<typeof readTlv>[] = [];
    let p = seq.contentStart;
    while (items.length < 2 && p < seq.end) {
      const t = readTlv(sig, p, seq.end);
      items.push(t);
      p = t.end;
    }
    const r = integerValue(expectTag(items[0], TAG.INTEGER, 'r'));
    const s = integerValue(expectTag(items[1], TAG.INTEGER, 's'));
    return { r, s };
  } catch (e) {
    throw new VerifyError(
      'BAD_SIGNATURE',
      `signature is not a DER ECDSA signature: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

export function encodeEcdsaSignature(r: bigint, s: bigint): Uint8Array {
  if (r < 0n || s < 0n) throw new VerifyError('BAD_SIGNATURE', 'negative signature value');
  return encodeTlv(TAG.SEQUENCE, Buffer.concat([derUnsignedInteger(r), derUnsignedInteger(s)]));
}

function toFixed(v: bigint, len: number): Buffer {
  const hex = v.toString(16).padStart(len * 2, '0');
  return Buffer.from(hex, 'hex');
}

/** Sign SHA-256(data): DER, low-S. */
export function signEcdsa(key: KeyObject, data: Uint8Array): Uint8Array {
  const n = curveOrder(key);
  if (n === undefined) throw new VerifyError('BAD_KEY', 'signing key is not an EC key on a supported curve');
  const p1363 = nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  const half = p1363.length / 2;
  const r = BigInt('0x' + p1363.subarray(0, half).toString('hex'));
  let s = BigInt('0x' + p1363.subarray(half).toString('hex'));
  if (s > n >> 1n) s = n - s;
  return encodeEcdsaSignature(r, s);
}

/**
 * Check an ECDSA signature over SHA-256(data). Throws VerifyError: BAD_SIGNATURE (not DER,
 * r/s ≤ 0 or ≥ n, does not verify), HIGH_S (s > n/2), BAD_KEY (not an EC key).
 */
export function checkEcdsa(key: KeyObject, data: Uint8Array, signature: Uint8Array): void {
  const n = curveOrder(key);
  if (n === undefined) throw new VerifyError('BAD_KEY', 'public key is not an EC key on a supported curve');
  const { r, s } = parseEcdsaSignature(signature);
  if (r <= 0n) throw new VerifyError('BAD_SIGNATURE', 'signature r must be larger than zero');
  if (s <= 0n) throw new VerifyError('BAD_SIGNATURE', 'signature s must be larger than zero');
  if (s > n >> 1n) throw new VerifyError('HIGH_S', 'invalid S: must be smaller than half the curve order');
  if (r >= n) throw new VerifyError('BAD_SIGNATURE', 'signature r out of range');
  const size = (n.toString(16).length + 1) >> 1;
  const p1363 = Buffer.concat([toFixed(r, size), toFixed(s, size)]);
  let ok: boolean;
  try {
    ok = nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, p1363);
  } catch (e) {
    throw new VerifyError('BAD_SIGNATURE', `signature check failed: ${(e as Error).message}`, { cause: e });
  }
  if (!ok) throw new VerifyError('BAD_SIGNATURE', 'signature does not verify');
}

/** Boolean form of checkEcdsa. */
export function verifyEcdsa(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    checkEcdsa(key, data, signature);
    return true;
  } catch {
    return false;
  }
}

export interface VerifierStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

/**
 * Verifies signatures by public key bytes (SPKI DER), keeping parsed keys in a bounded LRU.
 */
export class EcdsaVerifier {
  private readonly keys: LruCache<string, KeyObject>;

  constructor(cacheSize = 1024) {
    this.keys = new LruCache(cacheSize);
  }

  /** The parsed key for SPKI DER bytes; throws VerifyError BAD_KEY. */
  key(spki: Uint8Array): KeyObject {
    const id = Buffer.from(spki).toString('base64');
    let k = this.keys.get(id);
    if (!k) {
      try {
        k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      } catch (e) {
        throw new VerifyError('BAD_KEY', `unparseable public key: ${(e as Error).message}`, { cause: e });
      }
      this.keys.set(id, k);
    }
    return k;
  }

  verify(spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
    try {
      checkEcdsa(this.key(spki), data, signature);
      return true;
    } catch {
      return false;
    }
  }

  stats(): VerifierStats {
    return this.keys.stats();
  }
}
