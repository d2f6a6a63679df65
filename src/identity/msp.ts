/**
 * A verifying X.509 MSP (Fabric's bccspmsp at MSP version 1.4.3, what v2.x channels use).
 *
 * deserialize: SerializedIdentity with our MSP ID, well-formed id_bytes (§2.1); cached (LRU).
 * validate:    the certificate chains (castore.ts), is not revoked, satisfies the
 *              OrganizationalUnitIdentifiers (if any: one OU with a matching certifiers id) and,
 *              with NodeOUs enabled, carries exactly one of the client/peer/admin/orderer OUs
 *              (certifiers id must match when the NodeOU names a certificate); then the leaf
 *              must be within NotBefore..NotAfter at `now` (stricter than Fabric, which leaves
 *              expiry to its callers). Time-independent results are cached per identity.
 * principals:  principal.ts.
 */
import { ConfigError, VerifyError } from '../base/errors.js';
import type { FabricMSPConfig, FabricOUIdentifier } from '../wire/gen/msp/msp_config_pb.js';
import type { MSPPrincipal } from '../wire/gen/msp/msp_principal_pb.js';
import { CaStore, certFromConfig, certifiersIdentifier, type CaCert } from './castore.js';
import { sanitizedDer } from './cert.js';
import { LruCache } from './lru.js';
import { satisfiesPrincipal } from './principal.js';
import type { Msp, MspIdentity, NodeRole } from './types.js';
import { X509Identity, parseSerializedIdentity, wellFormedCert } from './x509identity.js';

export interface OuIdentifier {
  readonly ou: string;
  /** Empty: any certification path. */
  readonly certifiers: Uint8Array;
}

export interface MspOptions {
  /** Bound of the deserialized-identity cache (default 1000). */
  readonly cacheSize?: number;
}

interface Validation {
  readonly error?: VerifyError;
  /** Sanitized DER of the leaf (for IDENTITY principals and admin checks). */
  readonly canonicalDer?: Uint8Array;
  /** Certifiers identifier of its chain (for OU checks and ORGANIZATION_UNIT principals). */
  readonly certifiers?: Uint8Array;
}

const ROLES: readonly NodeRole[] = ['client', 'peer', 'admin', 'orderer'];

export class X509Msp implements Msp {
  readonly id: string;
  readonly tlsRootCerts: readonly Uint8Array[];
  readonly tlsIntermediateCerts: readonly Uint8Array[];
  readonly cas: CaStore;
  /** NodeOU classification; undefined entries are not configured. */
  readonly nodeOUs: Partial<Record<NodeRole, OuIdentifier>>;
  readonly ouEnforcement: boolean;
  readonly ouIdentifiers: ReadonlyMap<string, readonly Uint8Array[]>;
  private readonly admins: Uint8Array[] = [];
  private readonly cache: LruCache<string, X509Identity>;
  private readonly validations = new WeakMap<X509Identity, Validation>();

  constructor(cfg: FabricMSPConfig, opts: MspOptions = {}) {
    if (!cfg.name) throw new ConfigError('MSP_SETUP', 'MSP config has an empty name');
    this.id = cfg.name;
    this.cache = new LruCache(opts.cacheSize ?? 1000);
    const hashFn = cfg.cryptoConfig?.identityIdentifierHashFunction || 'SHA256';
    const family = cfg.cryptoConfig?.signatureHashFamily || 'SHA2';
    if (hashFn !== 'SHA256' || family !== 'SHA2') {
      throw new ConfigError(
        'MSP_SETUP',
        `MSP ${this.id}: only SHA2/SHA256 crypto config is supported (got ${family}/${hashFn})`,
      );
    }
    this.cas = new CaStore(this.id, cfg.rootCerts, cfg.intermediateCerts, cfg.revocationList);
    this.tlsRootCerts = cfg.tlsRootCerts;
    this.tlsIntermediateCerts = cfg.tlsIntermediateCerts;
    cfg.tlsRootCerts.forEach((b, i) => certFromConfig(b, `MSP ${this.id} tls_root_certs[${i}]`));
    cfg.tlsIntermediateCerts.forEach((b, i) =>
      certFromConfig(b, `MSP ${this.id} tls_intermediate_certs[${i}]`),
    );

    const ous = new Map<string, Uint8Array[]>();
    for (const o of cfg.organizationalUnitIdentifiers) {
      const list = ous.get(o.organizationalUnitIdentifier) ?? [];
      list.push(this.certifiersOf(o, 'organizational_unit_identifiers'));
      ous.set(o.organizationalUnitIdentifier, list);
    }
    this.ouIdentifiers = ous;

    const n = cfg.fabricNodeOus;
    const nodeOUs: Partial<Record<NodeRole, OuIdentifier>> = {};
    if (n) {
      const pick: Record<NodeRole, FabricOUIdentifier | undefined> = {
        client: n.clientOuIdentifier,
        peer: n.peerOuIdentifier,
        admin: n.adminOuIdentifier,
        orderer: n.ordererOuIdentifier,
      };
      for (const role of ROLES) {
        const o = pick[role];
        if (o)
          nodeOUs[role] = {
            ou: o.organizationalUnitIdentifier,
            certifiers: this.certifiersOf(o, `${role} NodeOU`),
          };
      }
    }
    this.nodeOUs = nodeOUs;
    this.ouEnforcement = !!n?.enable && Object.keys(nodeOUs).length > 0;

    for (const [i, pem] of cfg.admins.entries()) {
      const cert = certFromConfig(pem, `MSP ${this.id} admins[${i}]`);
      let chain: CaCert[];
      try {
        chain = this.cas.identityChain(cert);
      } catch (e) {
        throw new ConfigError('MSP_SETUP', `MSP ${this.id} admins[${i}]: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (this.ouEnforcement) {
        const has = (r: NodeRole) => this.nodeOUs[r] && cert.subjectOUs.includes(this.nodeOUs[r]!.ou);
        if (!has('client') && !has('admin')) {
          throw new ConfigError(
            'MSP_SETUP',
            `MSP ${this.id} admins[${i}]: admin certificate carries neither the client nor the admin OU`,
          );
        }
      }
      this.admins.push(sanitizedDer(cert, chain[1].info.publicKey));
    }
    if (this.admins.length === 0 && (!this.ouEnforcement || !this.nodeOUs.admin)) {
      throw new ConfigError(
        'MSP_SETUP',
        `MSP ${this.id}: administrators must be declared when no admin OU classification is set`,
      );
    }
  }

  private certifiersOf(o: FabricOUIdentifier, what: string): Uint8Array {
    if (o.certificate.length === 0) return new Uint8Array();
    const cert = certFromConfig(o.certificate, `MSP ${this.id} ${what} certificate`);
    const ca = this.cas.find(cert);
    if (!ca)
      throw new ConfigError(
        'MSP_SETUP',
        `MSP ${this.id} ${what}: certificate is not one of the MSP's root or intermediate certificates`,
      );
    return certifiersIdentifier(ca.isRoot ? [ca] : [ca, ...this.cas.uniqueChain(ca.info).slice(1)]);
  }

  deserialize(serialized: Uint8Array): X509Identity {
    const key = Buffer.from(serialized).toString('base64');
    const hit = this.cache.get(key);
    if (hit) return hit;
    const { mspId, idBytes } = parseSerializedIdentity(serialized);
    if (mspId !== this.id)
      throw new VerifyError('WRONG_MSP', `expected MSP ID ${this.id}, received ${JSON.stringify(mspId)}`);
    const id = new X509Identity(mspId, idBytes, serialized, wellFormedCert(idBytes, mspId));
    this.cache.set(key, id);
    return id;
  }

  /** Cache statistics of deserialized identities. */
  cacheStats(): ReturnType<LruCache<string, X509Identity>['stats']> {
    return this.cache.stats();
  }

  private own(identity: MspIdentity): X509Identity {
    if (identity.mspId !== this.id)
      throw new VerifyError(
        'WRONG_MSP',
        `identity of MSP ${identity.mspId} is not a member of MSP ${this.id}`,
      );
    return identity instanceof X509Identity ? identity : this.deserialize(identity.serialized);
  }

  private check(id: X509Identity): Validation {
    let v = this.validations.get(id);
    if (!v) {
      try {
        const chain = this.cas.identityChain(id.info);
        const certifiers = certifiersIdentifier(chain.slice(1));
        this.checkOUs(id, certifiers);
        v = { canonicalDer: sanitizedDer(id.info, chain[1].info.publicKey), certifiers };
      } catch (e) {
        v = {
          error: e instanceof VerifyError ? e : new VerifyError('CHAIN', (e as Error).message, { cause: e }),
        };
      }
      this.validations.set(id, v);
    }
    return v;
  }

  private checkOUs(id: X509Identity, certifiers: Uint8Array): void {
    const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b);
    if (this.ouIdentifiers.size > 0) {
      const ok = id.ous.some((ou) =>
        (this.ouIdentifiers.get(ou) ?? []).some((c) => c.length === 0 || eq(c, certifiers)),
      );
      if (!ok) {
        throw new VerifyError(
          'NODE_OU',
          id.ous.length === 0
            ? 'the identity certificate does not contain an Organizational Unit (OU)'
            : `none of the identity's organizational units [${id.ous.join(', ')}] are in MSP ${this.id}`,
        );
      }
    }
    if (!this.ouEnforcement) return;
    let count = 0;
    for (const ou of id.ous) {
      const node = ROLES.map((r) => this.nodeOUs[r]).find((n) => n?.ou === ou);
      if (!node) continue;
      if (node.certifiers.length > 0 && !eq(node.certifiers, certifiers)) {
        throw new VerifyError('NODE_OU', `certifiersIdentifier of OU ${ou} does not match, MSP ${this.id}`);
      }
      if (++count > 1) break;
    }
    if (count !== 1) {
      throw new VerifyError(
        'NODE_OU',
        `the identity must be a client, a peer, an orderer or an admin identity to be valid, not a combination of them. OUs: [${id.ous.join(', ')}], MSP: ${this.id}`,
      );
    }
  }

  validate(identity: MspIdentity, now: Date): void {
    const id = this.own(identity);
    const v = this.check(id);
    if (v.error) throw v.error;
    if (now.getTime() > id.info.notAfter.getTime()) {
      throw new VerifyError(
        'EXPIRED',
        `identity expired at ${id.info.notAfter.toISOString()} (now ${now.toISOString()})`,
      );
    }
    if (now.getTime() < id.info.notBefore.getTime()) {
      throw new VerifyError(
        'NOT_YET_VALID',
        `identity not valid before ${id.info.notBefore.toISOString()} (now ${now.toISOString()})`,
      );
    }
  }

  /** Sanitized DER of a valid identity's certificate (what Fabric compares). */
  canonicalDer(identity: MspIdentity): Uint8Array {
    const v = this.check(this.own(identity));
    if (v.error) throw v.error;
    return v.canonicalDer!;
  }

  roleOf(identity: MspIdentity): NodeRole | undefined {
    if (!this.ouEnforcement) return undefined;
    for (const ou of identity.ous) {
      const role = ROLES.find((r) => this.nodeOUs[r]?.ou === ou);
      if (role) return role;
    }
    return undefined;
  }

  /** Whether the identity carries the OU of a NodeOU role (NodeOUs must be enabled). */
  hasRole(identity: MspIdentity, role: NodeRole): boolean {
    const n = this.nodeOUs[role];
    return this.ouEnforcement && n !== undefined && identity.ous.includes(n.ou);
  }

  /** Whether the identity's certificate is one of the admincerts. */
  isListedAdmin(identity: MspIdentity): boolean {
    try {
      const der = Buffer.from(this.canonicalDer(identity));
      return this.admins.some((a) => der.equals(a));
    } catch {
      return false;
    }
  }

  /** Certifiers identifier of a valid identity (for ORGANIZATION_UNIT principals). */
  certifiersOfIdentity(identity: MspIdentity): Uint8Array {
    const v = this.check(this.own(identity));
    if (v.error) throw v.error;
    return v.certifiers!;
  }

  satisfiesPrincipal(identity: MspIdentity, principal: MSPPrincipal, now: Date): boolean {
    return satisfiesPrincipal(this, identity, principal, now);
  }
}

/** Build a verifying MSP from its FabricMSPConfig; throws ConfigError (code MSP_SETUP, BAD_CERT, BAD_CRL). */
export function mspFromFabricConfig(cfg: FabricMSPConfig, opts?: MspOptions): X509Msp {
  return new X509Msp(cfg, opts);
}
