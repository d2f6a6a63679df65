/**
 * Who may learn what (PROTOCOL.md §4.8, §4.9). Pure functions over orgs and endpoints.
 *
 * Disclosure sieve, for remote peer R (org Or, external endpoint Er) and the alive message of
 * member X (org Ox, external endpoint Ex); an unknown org discloses nothing:
 *   disclose iff (Ox = Or or Ox = own) and (Ox = Or or (Ex != "" and Er != "")).
 * Envelope filter: the SecretEnvelope (internal endpoint) is removed unless Or = own org.
 * Alive push routing, for target T (org Ot, endpoint Et), the sender excluded:
 *   Ox unknown                  -> nobody;
 *   Ox = own, Ex = ""           -> only Ot = own;
 *   Ox = own, Ex != ""          -> anyone;
 *   Ox foreign                  -> Ot in {own, Ox} and Et != "";
 *   secret removed for every target not in our org.
 */
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';
import { stripSecret } from './alive.js';

export interface Party {
  readonly org: string | undefined;
  readonly endpoint: string;
}

/** The disclosure sieve (§4.8): may `member`'s alive message be shown to `remote`? */
export function discloses(ownOrg: string, remote: Party, member: Party): boolean {
  if (!remote.org || !member.org) return false;
  if (member.org === remote.org) return true;
  return member.org === ownOrg && member.endpoint !== '' && remote.endpoint !== '';
}

/** The envelope as `remoteOrg` may see it: secret removed unless it is our org (or unknown). */
export function envelopeFor(ownOrg: string, remoteOrg: string | undefined, envelope: Envelope): Envelope {
  return remoteOrg === ownOrg ? envelope : stripSecret(envelope);
}

/** Alive push routing (§4.9): may the alive message of `member` be pushed to `target`? */
export function aliveRoutable(ownOrg: string, member: Party, target: Party): boolean {
  if (!member.org) return false;
  if (member.org === ownOrg) {
    return member.endpoint !== '' || target.org === ownOrg;
  }
  return (target.org === ownOrg || target.org === member.org) && target.endpoint !== '';
}
