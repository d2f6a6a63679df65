/**
 * MSPPrincipal matching of an X.509 MSP (Fabric's satisfiesPrincipal at MSP version 1.4.3):
 * - ROLE (MSP ID must be ours): MEMBER = valid; CLIENT/PEER/ORDERER = valid and carries that
 *   NodeOU (NodeOUs must be enabled); ADMIN = valid and listed in admincerts or (NodeOUs)
 *   carries the admin OU.
 * - IDENTITY: the principal deserializes with this MSP, has the same (sanitized) certificate
 *   and is valid.
 * - ORGANIZATION_UNIT (MSP ID must be ours): valid and one of its OUs has that name and the
 *   same certifiers identifier.
 * - ANONYMITY: NOMINAL is satisfied by any X.509 identity (not validated, as Fabric); ANONYMOUS never.
 * - COMBINED: non-empty and every sub-principal satisfied.
 * A principal that does not decode is not satisfied.
 */
import { fromBinary } from '@bufbuild/protobuf';
import {
  CombinedPrincipalSchema,
  MSPIdentityAnonymitySchema,
  MSPIdentityAnonymity_MSPIdentityAnonymityType as Anonymity,
  MSPPrincipal_Classification as Classification,
  MSPRoleSchema,
  MSPRole_MSPRoleType as Role,
  OrganizationUnitSchema,
  type MSPPrincipal,
} from '../wire/gen/msp/msp_principal_pb.js';
import type { MspIdentity } from './types.js';
import type { X509Msp } from './msp.js';

const MAX_NESTING = 16;

function valid(msp: X509Msp, id: MspIdentity, now: Date): boolean {
  try {
    msp.validate(id, now);
    return true;
  } catch {
    return false;
  }
}

function satisfies(msp: X509Msp, id: MspIdentity, p: MSPPrincipal, now: Date, depth: number): boolean {
  if (depth > MAX_NESTING) return false;
  switch (p.principalClassification) {
    case Classification.ROLE: {
      const role = fromBinary(MSPRoleSchema, p.principal);
      if (role.mspIdentifier !== msp.id || id.mspId !== msp.id || !valid(msp, id, now)) return false;
      switch (role.role) {
        case Role.MEMBER:
          return true;
        case Role.ADMIN:
          return msp.isListedAdmin(id) || msp.hasRole(id, 'admin');
        case Role.CLIENT:
          return msp.hasRole(id, 'client');
        case Role.PEER:
          return msp.hasRole(id, 'peer');
        case Role.ORDERER:
          return msp.hasRole(id, 'orderer');
        default:
          return false;
      }
    }
    case Classification.IDENTITY: {
      const other = msp.deserialize(p.principal);
      if (!valid(msp, id, now) || !valid(msp, other, now)) return false;
      return Buffer.from(msp.canonicalDer(id)).equals(msp.canonicalDer(other));
    }
    case Classification.ORGANIZATION_UNIT: {
      const ou = fromBinary(OrganizationUnitSchema, p.principal);
      if (ou.mspIdentifier !== msp.id || id.mspId !== msp.id || !valid(msp, id, now)) return false;
      if (!id.ous.includes(ou.organizationalUnitIdentifier)) return false;
      return Buffer.from(msp.certifiersOfIdentity(id)).equals(ou.certifiersIdentifier);
    }
    case Classification.ANONYMITY:
      return fromBinary(MSPIdentityAnonymitySchema, p.principal).anonymityType === Anonymity.NOMINAL;
    case Classification.COMBINED: {
      const list = fromBinary(CombinedPrincipalSchema, p.principal).principals;
      return list.length > 0 && list.every((sub) => satisfies(msp, id, sub, now, depth + 1));
    }
    default:
      return false;
  }
}

export function satisfiesPrincipal(
  msp: X509Msp,
  identity: MspIdentity,
  principal: MSPPrincipal,
  now: Date,
): boolean {
  try {
    return satisfies(msp, identity, principal, now, 0);
  } catch {
    return false;
  }
}
