/**
 * Which endpoint reaches a member (PROTOCOL.md §4.4, §4.8): its internal endpoint (learned from
 * the SecretEnvelope of its alive messages) when known, else its external one. Every place that
 * dials or sends to a member (discovery, channels, the gossip node's routing, state transfer, the
 * peer's status page) uses these two functions.
 */
import type { RemotePeer } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';

export interface Endpoints {
  /** '' or absent: not known. */
  readonly internalEndpoint?: string;
  readonly endpoint: string;
}

/** The endpoint to dial for a member: its internal endpoint when known, else its external one. */
export function preferredEndpoint(member: Endpoints): string {
  return member.internalEndpoint || member.endpoint;
}

/** The peer to send to: the member's PKI-ID at its preferred endpoint. */
export function remotePeerOf(
  member: Endpoints & { readonly pkiId: PkiId },
): RemotePeer & { readonly pkiId: PkiId } {
  return { pkiId: member.pkiId, endpoint: preferredEndpoint(member) };
}
