/**
 * The signature set a policy is evaluated over (Fabric's SignatureSetToValidIdentities).
 *
 * Algorithm, for each SignedData in order:
 *   1. deserialize the identity with the channel's MspManager; failure -> dropped;
 *   2. key = MSP ID + SHA-256(certificate DER); a key already accepted -> dropped (duplicate),
 *      a key seen only with a bad signature so far is NOT a duplicate (Fabric marks a key only
 *      after its signature verified);
 *   3. verify the signature over `data` with the identity's key; failure -> dropped;
 *   4. accept.
 * Validation against the MSP (chain, expiry, CRL, NodeOUs) is not done here: as in Fabric it is
 * part of each principal check (Msp.satisfiesPrincipal), so it runs with the evaluation's `now`.
 * The set is computed once per top-level evaluation and shared by every sub-policy (the result
 * depends only on the signed data and the MSPs), and principal checks are memoised per identity.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../base/errors.js';
import type { MSPPrincipal } from '../wire/gen/msp/msp_principal_pb.js';
import type { Msp, MspIdentity, MspManager, SignedData } from '../identity/types.js';

export interface AcceptedSigner {
  /** Index of the SignedData this signer came from. */
  readonly index: number;
  readonly msp: Msp;
  readonly identity: MspIdentity;
}

export class SignatureSet {
  private accepted: AcceptedSigner[] | undefined;
  private readonly dropped: string[] = [];
  private readonly memo = new Map<string, boolean>();

  constructor(
    readonly signed: readonly SignedData[],
    private readonly msps: MspManager,
    readonly now: Date,
  ) {}

  /** The valid, de-duplicated signers, in signature-set order. */
  signers(): readonly AcceptedSigner[] {
    if (this.accepted) return this.accepted;
    const accepted: AcceptedSigner[] = [];
    const keys = new Set<string>();
    this.signed.forEach((sd, index) => {
      let msp: Msp;
      let identity: MspIdentity;
      try {
        ({ msp, identity } = this.msps.deserialize(sd.identity));
      } catch (e) {
        this.dropped.push(`#${index}: identity not usable (${errorMessage(e)})`);
        return;
      }
      const key = `${identity.mspId}\u0000${certDigest(identity)}`;
      if (keys.has(key)) {
        this.dropped.push(`#${index}: duplicate of an earlier signer of ${identity.mspId}`);
        return;
      }
      if (!safeVerify(identity, sd)) {
        this.dropped.push(`#${index}: invalid signature by ${identity.mspId}`);
        return;
      }
      keys.add(key);
      accepted.push({ index, msp, identity });
    });
    this.accepted = accepted;
    return accepted;
  }

  /** Whether signer `i` of signers() satisfies the principal (memoised within this set). */
  satisfies(i: number, principal: MSPPrincipal): boolean {
    const signer = this.signers()[i];
    if (!signer) return false;
    const key = `${i}/${principal.principalClassification}/${Buffer.from(principal.principal).toString('hex')}`;
    const cached = this.memo.get(key);
    if (cached !== undefined) return cached;
    let ok: boolean;
    try {
      ok = signer.msp.satisfiesPrincipal(signer.identity, principal, this.now) === true;
    } catch {
      ok = false;
    }
    this.memo.set(key, ok);
    return ok;
  }

  /** One line on what was dropped and why (for error reasons). */
  describe(): string {
    const n = this.signers().length;
    const base = `${n} of ${this.signed.length} signature(s) valid`;
    if (this.dropped.length === 0) return base;
    const shown = this.dropped.slice(0, 3).join('; ');
    const more = this.dropped.length > 3 ? `; +${this.dropped.length - 3} more` : '';
    return `${base}: ${shown}${more}`;
  }
}

function safeVerify(identity: MspIdentity, sd: SignedData): boolean {
  try {
    return identity.verify(sd.data, sd.signature) === true;
  } catch {
    return false;
  }
}

function certDigest(identity: MspIdentity): string {
  try {
    return createHash('sha256').update(identity.cert.raw).digest('hex');
  } catch {
    return createHash('sha256').update(identity.idBytes).digest('hex');
  }
}
