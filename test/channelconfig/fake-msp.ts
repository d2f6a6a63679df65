/**
 * A fake identity layer for policy unit tests: an identity is the UTF-8 text
 * "mspId|name|role|notAfterMs", a signature over data is SHA-256("sig" | name | data), and a
 * principal is satisfied when the MSP ID matches, the identity is unexpired at `now` and
 * (unless MEMBER) the role matches. Deserializing text "bad..." fails.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { VerifyError } from '../../src/base/errors.js';
import type { MSPPrincipal } from '../../src/wire/gen/msp/msp_principal_pb.js';
import {
  MSPPrincipal_Classification,
  MSPRoleSchema,
  MSPRole_MSPRoleType,
} from '../../src/wire/gen/msp/msp_principal_pb.js';
import { decode } from '../../src/wire/codec.js';
import type { FabricMSPConfig } from '../../src/wire/gen/msp/msp_config_pb.js';
import type { Msp, MspIdentity, MspManager, NodeRole, SignedData } from '../../src/identity/types.js';
import type { MspFactory } from '../../src/channelconfig/index.js';

const ROLE: Record<NodeRole, MSPRole_MSPRoleType> = {
  client: MSPRole_MSPRoleType.CLIENT,
  peer: MSPRole_MSPRoleType.PEER,
  admin: MSPRole_MSPRoleType.ADMIN,
  orderer: MSPRole_MSPRoleType.ORDERER,
};

export const FAR_FUTURE = Date.UTC(2100, 0, 1);

export function fakeIdentityBytes(
  mspId: string,
  name: string,
  role: NodeRole,
  notAfterMs = FAR_FUTURE,
): Uint8Array {
  return new TextEncoder().encode(`${mspId}|${name}|${role}|${notAfterMs}`);
}

function fakeSig(name: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('sig').update(name).update(data).digest());
}

/** SignedData by the fake identity. */
export function fakeSigned(
  mspId: string,
  name: string,
  role: NodeRole,
  data: Uint8Array,
  notAfterMs = FAR_FUTURE,
): SignedData {
  return { data, identity: fakeIdentityBytes(mspId, name, role, notAfterMs), signature: fakeSig(name, data) };
}

class FakeIdentity implements MspIdentity {
  readonly cert: X509Certificate;
  readonly pkiId: Uint8Array;
  readonly expiresAt: Date;
  readonly ous: readonly string[] = [];
  constructor(
    readonly mspId: string,
    readonly name: string,
    readonly role: NodeRole,
    notAfter: number,
    readonly serialized: Uint8Array,
  ) {
    this.cert = { raw: Buffer.from(`${mspId}/${name}`) } as unknown as X509Certificate;
    this.pkiId = new Uint8Array(createHash('sha256').update(serialized).digest());
    this.expiresAt = new Date(notAfter);
  }
  get idBytes(): Uint8Array {
    return this.serialized;
  }
  verify(data: Uint8Array, signature: Uint8Array): boolean {
    return Buffer.from(fakeSig(this.name, data)).equals(Buffer.from(signature));
  }
}

export class FakeMsp implements Msp {
  readonly tlsRootCerts: readonly Uint8Array[];
  readonly tlsIntermediateCerts: readonly Uint8Array[] = [];
  /** Number of satisfiesPrincipal calls (to check memoisation). */
  calls = 0;
  constructor(
    readonly id: string,
    tlsRoot: Uint8Array = new TextEncoder().encode(`tlsca-${id}`),
  ) {
    this.tlsRootCerts = [tlsRoot];
  }
  deserialize(serialized: Uint8Array): MspIdentity {
    const parts = new TextDecoder().decode(serialized).split('|');
    if (parts.length !== 4 || parts[0] !== this.id || !(parts[2] in ROLE)) {
      throw new VerifyError('NOT_WELL_FORMED', 'fake identity malformed');
    }
    return new FakeIdentity(parts[0], parts[1], parts[2] as NodeRole, Number(parts[3]), serialized);
  }
  validate(identity: MspIdentity, now?: Date): void {
    if ((now ?? new Date()).getTime() > identity.expiresAt.getTime())
      throw new VerifyError('EXPIRED', 'expired');
  }
  roleOf(identity: MspIdentity): NodeRole | undefined {
    return (identity as FakeIdentity).role;
  }
  satisfiesPrincipal(identity: MspIdentity, principal: MSPPrincipal, now?: Date): boolean {
    this.calls++;
    if (principal.principalClassification !== MSPPrincipal_Classification.ROLE) return false;
    const r = decode(MSPRoleSchema, principal.principal);
    if (r.mspIdentifier !== this.id) return false;
    try {
      this.validate(identity, now);
    } catch {
      return false;
    }
    return r.role === MSPRole_MSPRoleType.MEMBER || ROLE[(identity as FakeIdentity).role] === r.role;
  }
}

export class FakeMspManager implements MspManager {
  readonly msps: ReadonlyMap<string, Msp>;
  constructor(msps: Iterable<Msp>) {
    this.msps = new Map([...msps].map((m) => [m.id, m]));
  }
  deserialize(serialized: Uint8Array): { msp: Msp; identity: MspIdentity } {
    const mspId = new TextDecoder().decode(serialized).split('|')[0];
    const msp = this.msps.get(mspId);
    if (!msp) throw new VerifyError('UNKNOWN_MSP', `unknown MSP ${mspId}`);
    return { msp, identity: msp.deserialize(serialized) };
  }
}

export const fakeFactory: MspFactory = {
  mspFromFabricConfig: (cfg: FabricMSPConfig) => new FakeMsp(cfg.name, cfg.tlsRootCerts[0]),
  createMspManager: (msps) => new FakeMspManager(msps),
};
