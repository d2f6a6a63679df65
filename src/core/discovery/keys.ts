/**
 * PKI-ID equality for discovery's hot paths (every alive message of a 100-peer network is
 * compared against every member several times): byte equality without copying into Buffers.
 */
import type { PkiId } from '../link/types.js';

/** Both present and byte-equal. */
export function samePkiId(a: PkiId | undefined, b: PkiId | undefined): boolean {
  if (!a || !b) return false;
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
