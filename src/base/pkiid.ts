/**
 * PKI-IDs (PROTOCOL.md §2.1): the 32-byte SHA-256 of a peer's serialized identity. Every layer
 * keys maps by `pkiIdKey` and compares with `samePkiId`; both are written once, here.
 */

/** Raw 32-byte PKI-ID. Maps key peers by `pkiIdKey` (hex). */
export type PkiId = Uint8Array;

/**
 * Memoised per Uint8Array instance: discovery hands out the same PKI-ID arrays again and again,
 * and hex-encoding them was a hot spot at 100 simulated peers.
 */
const keys = new WeakMap<Uint8Array, string>();

/** The hex map key of a PKI-ID (or of any id bytes, e.g. a pull item's digest). */
export function pkiIdKey(id: PkiId): string {
  let k = keys.get(id);
  if (k === undefined) {
    k = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
    keys.set(id, k);
  }
  return k;
}

/** Both present and byte-equal, without copying into Buffers (a hot path in discovery). */
export function samePkiId(a: PkiId | undefined, b: PkiId | undefined): boolean {
  if (!a || !b) return false;
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
