/**
 * Which identities a simulated node accepts: the orgs of its (virtual) channels.
 *
 * `SimTrust` stands in for the channel MSPs until the sim nodes run real channel configs: an
 * identity is valid when its MSP ID names a trusted org, its id_bytes are well-formed (§2.1,
 * the identity layer's own check), its certificate chains to that org's CA and is within its
 * validity period at the node's virtual time. Signatures are checked as Fabric does (DER, low-S,
 * SHA-256) by the identity layer's `checkEcdsa`. It implements the identity store's
 * `IdentityValidator`, so the handshake runs through the real IdentityStore and the real
 * `verifyConnEstablish`.
 */
import { X509Certificate } from 'node:crypto';
import type { Clock } from '../comm/types.js';
import { VerifyError } from '../errors.js';
import { checkEcdsa } from '../identity/ecdsa.js';
import type { IdentityValidator } from '../identity/store.js';
import { parseSerializedIdentity, pkiIdOf, wellFormedCert } from '../identity/x509identity.js';
import type { CertInfo } from '../identity/cert.js';
import type { SimOrg } from './identities.js';

interface TrustedOrg {
  readonly org: SimOrg;
  readonly ca: X509Certificate;
}

const CACHE_LIMIT = 10_000;

export class SimTrust implements IdentityValidator {
  private readonly byMsp = new Map<string, TrustedOrg>();
  /** Parsed and chain-checked certificates by serialized identity (validity is re-checked). */
  private readonly chained = new Map<string, CertInfo>();

  constructor(
    orgs: Iterable<SimOrg>,
    private readonly clock: Clock,
  ) {
    for (const org of orgs) this.byMsp.set(org.mspId, { org, ca: new X509Certificate(Buffer.from(org.caCertDer)) });
  }

  get mspIds(): string[] {
    return [...this.byMsp.keys()];
  }

  pkiIdOf(identity: Uint8Array): Uint8Array {
    return pkiIdOf(identity);
  }

  validateIdentity(identity: Uint8Array): void {
    const cert = this.certOf(identity);
    const now = this.clock.now();
    if (now < cert.notBefore.getTime()) throw new VerifyError('NOT_YET_VALID', 'certificate is not yet valid');
    if (now > cert.notAfter.getTime()) throw new VerifyError('EXPIRED', 'certificate has expired');
  }

  expiration(identity: Uint8Array): Date {
    return this.certOf(identity).notAfter;
  }

  /** Fabric's Verify(identity, signature, message) for a trusted identity; throws VerifyError. */
  verify(identity: Uint8Array, signature: Uint8Array, data: Uint8Array): void {
    checkEcdsa(this.certOf(identity).publicKey, data, signature);
  }

  private certOf(identity: Uint8Array): CertInfo {
    const key = Buffer.from(identity).toString('base64');
    const hit = this.chained.get(key);
    if (hit) return hit;
    const { mspId, idBytes } = parseSerializedIdentity(identity);
    const trusted = this.byMsp.get(mspId);
    if (!trusted) throw new VerifyError('UNKNOWN_MSP', `no trusted org has MSP ID ${JSON.stringify(mspId)}`);
    const cert = wellFormedCert(idBytes, mspId);
    if (!cert.x509.checkIssued(trusted.ca) || !cert.x509.verify(trusted.ca.publicKey)) {
      throw new VerifyError('CHAIN', `certificate of ${mspId} identity does not chain to the org's CA`);
    }
    if (this.chained.size >= CACHE_LIMIT) this.chained.clear();
    this.chained.set(key, cert);
    return cert;
  }
}
