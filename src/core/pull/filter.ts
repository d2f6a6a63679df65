/**
 * The identity pull's egress rule (PROTOCOL.md §2.6; Fabric's sameOrgOrOurOrgPullFilter):
 *   requester of an unknown org       -> offer nothing;
 *   requester of our org              -> offer everything;
 *   requester of a foreign org        -> offer a PKI-ID only when its org is known, its member
 *                                        has a non-empty external endpoint, and its org is ours
 *                                        or the requester's.
 * Orgs are MSP IDs. "Member" includes ourselves (our own identity is offered to a foreign org
 * only when we have an external endpoint).
 */
import type { PkiId } from '../../base/pkiid.js';

export interface OrgView {
  /** Our org (MSP ID). */
  readonly selfOrg: string;
  /** Org of a serialized identity; undefined when it cannot be determined. */
  orgOfIdentity(identity: Uint8Array): string | undefined;
  /** Org of a peer by PKI-ID (through the identity store); undefined when unknown. */
  orgOfPeer(pkiId: PkiId): string | undefined;
  /** Whether discovery knows this peer (or ourselves) with a non-empty external endpoint. */
  hasExternalEndpoint(pkiId: PkiId): boolean;
}

/** The filter for one requester, given by its handshake identity. */
export function sameOrgOrOurOrgPullFilter(
  view: OrgView,
  requesterIdentity: Uint8Array,
): (pkiId: Uint8Array) => boolean {
  const requesterOrg = view.orgOfIdentity(requesterIdentity);
  if (!requesterOrg) return () => false;
  if (requesterOrg === view.selfOrg) return () => true;
  return (pkiId) => {
    const org = view.orgOfPeer(pkiId);
    if (!org) return false;
    if (!view.hasExternalEndpoint(pkiId)) return false;
    return org === view.selfOrg || org === requesterOrg;
  };
}
