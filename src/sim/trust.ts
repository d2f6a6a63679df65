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
import type { Clock } from '../base/time.js';
import { VerifyError } from '../base/errors.js';
import { checkEcdsa } from '../identity/ecdsa.js';
import type { IdentityValidator } from '../identity/store.js';
import { parseSerializedIdentity, pkiIdOf, wellFormedCert } from '../identity/x509identity.js';
import type { CertInfo } from '../identity/cert.js';
import type { SimOrg } from './identities.js';

interface TrustedOrg {
  readonly org: SimOrg;
  readonly ca: X509Certificate;
  /** The CA certificate's bytes as a map key. */
  readonly caKey: string;
}

/** A well-formed identity: its MSP ID, parsed certificate, and the CAs it was seen to chain to. */
interface Classified {
  readonly mspId: string;
  readonly cert: CertInfo;
  readonly chainedTo: Set<string>;
  /** Signatures by this identity that verified (as map keys) -> the data they signed. */
  readonly verified: Map<string, Uint8Array>;
}

// Process-wide memos: a simulation runs 100 nodes (each with its own SimTrust, re-created on
// every restart) in one process, and every one of them sees the same few hundred identities and
// the same flooded messages. All are keyed and compared by content (never by object), so bytes
// changed in place are looked up afresh; only successes are remembered (a signature that verified
// is a hit only for the very identity and data it verified over), so a forgery is checked every
// time.
const CACHE_LIMIT = 10_000;
const VERIFIED_LIMIT = 2_000;
/** Identity bytes -> parse and well-formedness result (pure functions of the bytes). */
const classified = new Map<string, Classified>();
/** Identity bytes -> PKI-ID. */
const pkiIds = new Map<string, Uint8Array>();

/** The identity classified last (a message's identity is looked up several times in a row). */
let last: { readonly bytes: Buffer; readonly c: Classified } | undefined;

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const bytesKey = (b: Uint8Array): string => view(b).toString('latin1');

export class SimTrust implements IdentityValidator {
  private readonly byMsp = new Map<string, TrustedOrg>();

  constructor(
    orgs: Iterable<SimOrg>,
    private readonly clock: Clock,
  ) {
    for (const org of orgs)
      this.byMsp.set(org.mspId, {
        org,
        ca: new X509Certificate(Buffer.from(org.caCertDer)),
        caKey: bytesKey(org.caCertDer),
      });
  }

  get mspIds(): string[] {
    return [...this.byMsp.keys()];
  }

  pkiIdOf(identity: Uint8Array): Uint8Array {
    const key = bytesKey(identity);
    let id = pkiIds.get(key);
    if (!id) {
      id = pkiIdOf(identity);
      if (pkiIds.size >= CACHE_LIMIT) pkiIds.clear();
      pkiIds.set(key, id);
    }
    return new Uint8Array(id);
  }

  validateIdentity(identity: Uint8Array): void {
    this.checkValidity(this.certOf(identity));
  }

  private checkValidity(cert: CertInfo): void {
    const now = this.clock.now();
    if (now < cert.notBefore.getTime())
      throw new VerifyError('NOT_YET_VALID', 'certificate is not yet valid');
    if (now > cert.notAfter.getTime()) throw new VerifyError('EXPIRED', 'certificate has expired');
  }

  expiration(identity: Uint8Array): Date {
    return this.certOf(identity).notAfter;
  }

  /** Fabric's Verify(identity, signature, message) for a trusted identity; throws VerifyError. */
  verify(identity: Uint8Array, signature: Uint8Array, data: Uint8Array): void {
    this.checkSignature(this.classify(identity), signature, data);
  }

  /** validateIdentity, then verify: one identity lookup. */
  verifyValid(identity: Uint8Array, signature: Uint8Array, data: Uint8Array): void {
    const c = this.classify(identity);
    this.checkValidity(c.cert);
    this.checkSignature(c, signature, data);
  }

  private checkSignature(c: Classified, signature: Uint8Array, data: Uint8Array): void {
    const key = bytesKey(signature);
    const signed = c.verified.get(key);
    if (signed && view(signed).equals(view(data))) return;
    checkEcdsa(c.cert.publicKey, data, signature);
    if (c.verified.size >= VERIFIED_LIMIT) c.verified.clear();
    c.verified.set(key, new Uint8Array(data));
  }

  private certOf(identity: Uint8Array): CertInfo {
    return this.classify(identity).cert;
  }

  /** The identity parsed, well-formed, of a trusted org and chained to its CA; else throws. */
  private classify(identity: Uint8Array): Classified {
    let c =
      last && last.bytes.length === identity.length && last.bytes.equals(view(identity)) ? last.c : undefined;
    const key = c ? '' : bytesKey(identity);
    c ??= classified.get(key);
    if (!c) {
      const { mspId, idBytes } = parseSerializedIdentity(identity);
      if (!this.byMsp.has(mspId))
        throw new VerifyError('UNKNOWN_MSP', `no trusted org has MSP ID ${JSON.stringify(mspId)}`);
      c = { mspId, cert: wellFormedCert(idBytes, mspId), chainedTo: new Set(), verified: new Map() };
      if (classified.size >= CACHE_LIMIT) classified.clear();
      classified.set(key, c);
    }
    if (last?.c !== c) last = { bytes: Buffer.from(identity), c };
    const trusted = this.byMsp.get(c.mspId);
    if (!trusted)
      throw new VerifyError('UNKNOWN_MSP', `no trusted org has MSP ID ${JSON.stringify(c.mspId)}`);
    if (!c.chainedTo.has(trusted.caKey)) {
      if (!c.cert.x509.checkIssued(trusted.ca) || !c.cert.x509.verify(trusted.ca.publicKey)) {
        throw new VerifyError('CHAIN', `certificate of ${c.mspId} identity does not chain to the org's CA`);
      }
      c.chainedTo.add(trusted.caKey);
    }
    return c;
  }
}
