/**
 * What discovery sends, as pure functions over the membership table (PROTOCOL.md §4.5, §4.9):
 *   sievedResponse: the alive and dead envelopes `remote` may see (§4.8 sieve), secrets removed
 *     for a foreign requester, our own alive last; undefined when we may not disclose ourselves.
 *   aliveTargets: fresh random targets for one alive message among the alive members, the
 *     sender and the originator excluded, split into our org (secret kept) and others (stripped).
 */
import type { RemotePeer } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';
import type { Rng } from '../../base/time.js';
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';
import { aliveRoutable, discloses, envelopeFor, type Party } from './disclosure.js';
import { samePkiId as same } from '../../base/pkiid.js';
import { remotePeerOf } from './endpoint.js';
import type { MemberRecord } from './membership.js';

export interface OrgView {
  readonly ownOrg: string;
  readonly orgOf: (pkiId: PkiId) => string | undefined;
}

export function sievedResponse(
  view: OrgView,
  remote: Party,
  self: { readonly endpoint: string; readonly alive: () => Envelope },
  alive: readonly MemberRecord[],
  dead: readonly MemberRecord[],
): { alive: Envelope[]; dead: Envelope[] } | undefined {
  if (!discloses(view.ownOrg, remote, { org: view.ownOrg, endpoint: self.endpoint })) return undefined;
  const sieve = (rs: readonly MemberRecord[]): Envelope[] =>
    rs
      .filter((r) => discloses(view.ownOrg, remote, { org: view.orgOf(r.pkiId), endpoint: r.endpoint }))
      .map((r) => envelopeFor(view.ownOrg, remote.org, r.envelope));
  return { alive: [...sieve(alive), envelopeFor(view.ownOrg, remote.org, self.alive())], dead: sieve(dead) };
}

export interface AliveItem {
  readonly envelope: Envelope;
  readonly pkiId: PkiId;
  readonly endpoint: string;
  /** The peer it came from (never sent back there). */
  readonly from?: PkiId;
}

/**
 * The alive members for one emitter flush, each org looked up at most once per flush (at first
 * need) however many alive messages the batch routes.
 */
export class Roster {
  private readonly orgs: (string | undefined | null)[];

  constructor(
    private readonly view: OrgView,
    readonly records: readonly MemberRecord[],
  ) {
    this.orgs = new Array<null>(records.length).fill(null);
  }

  orgAt(i: number): string | undefined {
    let org = this.orgs[i];
    if (org === null) {
      org = this.view.orgOf(this.records[i]!.pkiId);
      this.orgs[i] = org;
    }
    return org;
  }
}

export function aliveTargets(
  view: OrgView,
  item: AliveItem,
  roster: Roster,
  rng: Rng,
  fanout: number,
): { inOrg: RemotePeer[]; outside: RemotePeer[] } {
  const member = { org: view.orgOf(item.pkiId), endpoint: item.endpoint };
  const candidates: number[] = [];
  const records = roster.records;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (same(r.pkiId, item.from) || same(r.pkiId, item.pkiId)) continue;
    if (aliveRoutable(view.ownOrg, member, { org: roster.orgAt(i), endpoint: r.endpoint }))
      candidates.push(i);
  }
  const inOrg: RemotePeer[] = [];
  const outside: RemotePeer[] = [];
  for (const i of rng.sample(candidates, fanout))
    (roster.orgAt(i) === view.ownOrg ? inOrg : outside).push(remotePeerOf(records[i]!));
  return { inOrg, outside };
}
