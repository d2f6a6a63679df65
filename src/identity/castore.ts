/**
 * The CA side of an X.509 MSP: root and intermediate certificates and their CRLs, and the
 * validation chain of a certificate, as Fabric's MSP computes it:
 * - a chain runs leaf → intermediates → root; every parent is a CA that issued (name, AKI)
 *   and signed its child, every certificate is within its validity at (leaf NotBefore + 1 s)
 *   (Fabric deliberately ignores expiry here; the caller checks the leaf against `now`), and
 *   no certificate carries extended key usages that exclude server auth (Go's default);
 * - exactly one chain must exist, and the leaf's issuer must be a leaf of the CA tree (not a
 *   CA that itself issued one of the MSP's intermediates);
 * - CA certificates are kept "sanitized" (ECDSA signature re-encoded low-S), and the
 *   certifiers identifier of a chain is SHA-256 of the concatenated DER of chain[1..].
 */
import { createHash } from 'node:crypto';
import { ConfigError, VerifyError } from '../base/errors.js';
import { isEcdsaSigned, parseCert, sanitizedDer, type CertInfo } from './cert.js';
import { isRevoked, parseCrl, type Crl } from './crl.js';
import { pemDecode } from './pem.js';

export interface CaCert {
  readonly info: CertInfo;
  /** DER with a low-S signature (what Fabric hashes and compares). */
  readonly der: Uint8Array;
  readonly isRoot: boolean;
}

const SERVER_AUTH_OK = new Set([
  '1.3.6.1.5.5.7.3.1',
  '2.5.29.37.0',
  '1.3.6.1.4.1.311.10.3.3',
  '2.16.840.1.113730.4.1',
]);
const MAX_DEPTH = 8;

/** Parse the first PEM block (or DER) of a config item as a certificate; ConfigError naming `where`. */
export function certFromConfig(bytes: Uint8Array, where: string): CertInfo {
  const der = pemDecode(bytes)?.block.der ?? bytes;
  try {
    return parseCert(der);
  } catch (e) {
    throw new ConfigError('BAD_CERT', `${where}: ${(e as Error).message}`, { cause: e });
  }
}

export class CaStore {
  readonly roots: CaCert[] = [];
  readonly intermediates: CaCert[] = [];
  readonly crls: Crl[];
  /** base64 of sanitized DER of CAs that issued one of the intermediates. */
  private readonly internal = new Set<string>();

  constructor(
    mspId: string,
    rootPems: readonly Uint8Array[],
    intermediatePems: readonly Uint8Array[],
    crlBytes: readonly Uint8Array[],
  ) {
    if (rootPems.length === 0)
      throw new ConfigError('MSP_SETUP', `MSP ${mspId}: expected at least one root CA certificate`);
    this.crls = crlBytes.map((b, i) => parseCrl(b, `MSP ${mspId} revocation_list[${i}]`));
    const roots = rootPems.map((b, i) => certFromConfig(b, `MSP ${mspId} root_certs[${i}]`));
    const inters = intermediatePems.map((b, i) => certFromConfig(b, `MSP ${mspId} intermediate_certs[${i}]`));
    for (const [i, c] of [...roots, ...inters].entries()) {
      const where = i < roots.length ? `root_certs[${i}]` : `intermediate_certs[${i - roots.length}]`;
      if (!c.isCA)
        throw new ConfigError(
          'MSP_SETUP',
          `MSP ${mspId} ${where}: certificate is not a CA (serial ${c.serial.toString(16)})`,
        );
      if (!c.ski)
        throw new ConfigError(
          'MSP_SETUP',
          `MSP ${mspId} ${where}: CA certificate has no Subject Key Identifier`,
        );
    }
    for (const c of roots) {
      const selfSigned = isEcdsaSigned(c) && c.x509.checkIssued(c.x509) && c.x509.verify(c.publicKey);
      this.roots.push({ info: c, der: selfSigned ? sanitizedDer(c, c.publicKey) : c.der, isRoot: true });
    }
    // Intermediates are stored as given first (chain search needs them), then sanitized.
    const raw = inters.map((info) => ({ info, der: info.der, isRoot: false }));
    this.intermediates.push(...raw);
    for (const [i, ca] of raw.entries()) {
      let chain: CaCert[];
      try {
        chain = this.uniqueChain(ca.info);
      } catch (e) {
        throw new ConfigError('MSP_SETUP', `MSP ${mspId} intermediate_certs[${i}]: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (this.revokedIn(ca.info, chain[1])) {
        throw new ConfigError(
          'MSP_SETUP',
          `MSP ${mspId} intermediate_certs[${i}]: the certificate has been revoked`,
        );
      }
      this.intermediates[i] = {
        info: ca.info,
        der: sanitizedDer(ca.info, chain[1].info.publicKey),
        isRoot: false,
      };
    }
    for (const ca of this.intermediates) {
      for (const parent of this.uniqueChain(ca.info).slice(1)) this.internal.add(key(parent.der));
    }
  }

  /** Find the root or intermediate equal to a certificate (compared after sanitizing). */
  find(cert: CertInfo): CaCert | undefined {
    const d = Buffer.from(cert.der);
    return [...this.roots, ...this.intermediates].find((c) => d.equals(c.der) || d.equals(c.info.der));
  }

  /**
   * The single validation chain [cert, ..., root] of `cert` (for a root itself: [root]).
   * Throws VerifyError CHAIN.
   */
  uniqueChain(cert: CertInfo): CaCert[] {
    const leaf: CaCert = { info: cert, der: cert.der, isRoot: false };
    const self = this.roots.find((r) => Buffer.from(r.info.der).equals(cert.der));
    if (self) return [self];
    const at = new Date(cert.notBefore.getTime() + 1000);
    if (!validAt(cert, at))
      throw new VerifyError(
        'CHAIN',
        'the supplied identity is not valid: certificate has expired or is not yet valid',
      );
    if (!ekuOk(cert))
      throw new VerifyError(
        'CHAIN',
        'the supplied identity is not valid: certificate specifies an incompatible key usage',
      );
    const chains: CaCert[][] = [];
    const walk = (path: CaCert[]) => {
      if (chains.length > 1 || path.length > MAX_DEPTH) return;
      const child = path[path.length - 1].info;
      for (const parent of [...this.roots, ...this.intermediates]) {
        if (path.some((p) => p.info === parent.info)) continue;
        if (!issued(parent.info, child) || !validAt(parent.info, at) || !ekuOk(parent.info)) continue;
        if (parent.isRoot) chains.push([...path, parent]);
        else walk([...path, parent]);
      }
    };
    walk([leaf]);
    if (chains.length === 0) {
      throw new VerifyError(
        'CHAIN',
        'the supplied identity is not valid: certificate signed by unknown authority',
      );
    }
    if (chains.length > 1)
      throw new VerifyError(
        'CHAIN',
        `this MSP only supports a single validation chain, got ${chains.length}`,
      );
    return chains[0];
  }

  /** Chain of an identity certificate: unique, length ≥ 2, issuer a leaf CA, not revoked. */
  identityChain(cert: CertInfo): CaCert[] {
    if (cert.isCA) {
      throw new VerifyError(
        'CHAIN',
        'an X.509 certificate with Basic Constraint CA=true cannot be used as an identity',
      );
    }
    const chain = this.uniqueChain(cert);
    if (chain.length < 2)
      throw new VerifyError('CHAIN', `expected a chain of length at least 2, got ${chain.length}`);
    if (this.internal.has(key(chain[1].der))) {
      throw new VerifyError(
        'CHAIN',
        'invalid validation chain: the parent certificate should be a leaf of the certification tree',
      );
    }
    if (this.revokedIn(cert, chain[1])) throw new VerifyError('REVOKED', 'the certificate has been revoked');
    return chain;
  }

  private revokedIn(cert: CertInfo, issuer: CaCert): boolean {
    return isRevoked(this.crls, cert.serial, issuer.info.ski, issuer.info.publicKey);
  }
}

/** SHA-256 over the concatenated (sanitized) DER of the certificates. */
export function certifiersIdentifier(chain: readonly CaCert[]): Uint8Array {
  const h = createHash('sha256');
  for (const c of chain) h.update(c.der);
  return new Uint8Array(h.digest());
}

function key(der: Uint8Array): string {
  return Buffer.from(der).toString('base64');
}

function validAt(c: CertInfo, at: Date): boolean {
  return c.notBefore.getTime() <= at.getTime() && at.getTime() <= c.notAfter.getTime();
}

function ekuOk(c: CertInfo): boolean {
  return !c.ekus || c.ekus.length === 0 || c.ekus.some((o) => SERVER_AUTH_OK.has(o));
}

function issued(parent: CertInfo, child: CertInfo): boolean {
  if (!parent.isCA) return false;
  try {
    return child.x509.checkIssued(parent.x509) && child.x509.verify(parent.publicKey);
  } catch {
    return false;
  }
}
