/**
 * The org (MSP ID) of each PKI-ID, as discovery answers it (orgOf): learned from the identity
 * store on first need and kept while the member is known (an org never changes for a PKI-ID,
 * which hashes the identity). Only answers are kept, never "unknown".
 *   get(pkiId): by hex key; `keepByRef` also keeps the answer by the byte array itself, for
 *     long-lived PKI-IDs (membership records') looked up on every routed alive message.
 *   forget(pkiId) / bounded: beyond `limit` entries everything is forgotten and re-learned.
 */
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';

export class OrgCache {
  private readonly byKey = new Map<string, string>();
  private byRef = new WeakMap<PkiId, string>();

  constructor(
    private readonly limit: number,
    /** The org from the identity store, undefined when unknown. */
    private readonly learn: (pkiId: PkiId) => string | undefined,
  ) {}

  /** A remembered answer for this very byte array, without computing its key. */
  known(pkiId: PkiId): string | undefined {
    return this.byRef.get(pkiId);
  }

  get(pkiId: PkiId, keepByRef = false): string | undefined {
    const known = this.byRef.get(pkiId);
    if (known !== undefined) return known;
    const key = pkiIdKey(pkiId);
    let org = this.byKey.get(key);
    if (!org) {
      org = this.learn(pkiId);
      if (!org) return undefined;
      if (this.byKey.size >= this.limit) this.forget();
      this.byKey.set(key, org);
    }
    if (keepByRef) this.byRef.set(pkiId, org);
    return org;
  }

  /** Forget one PKI-ID (all when undefined). */
  forget(pkiId?: PkiId): void {
    if (pkiId === undefined) this.byKey.clear();
    else this.byKey.delete(pkiIdKey(pkiId));
    this.byRef = new WeakMap();
  }
}
