/**
 * Map keys of PKI-IDs, memoised per Uint8Array instance (discovery hands out the same PKI-ID
 * arrays again and again; hex-encoding them was a hot spot at 100 simulated peers).
 */
import { pkiIdKey, type PkiId } from '../link/types.js';

const keys = new WeakMap<Uint8Array, string>();

export function keyOf(id: PkiId): string {
  let k = keys.get(id);
  if (k === undefined) {
    k = pkiIdKey(id);
    keys.set(id, k);
  }
  return k;
}
