/**
 * Where a streaming peer takes a channel's blocks from: the stream tree of its org, planned from
 * its own view, with no coordination beyond what gossip already carries.
 *
 *   members: the org's alive streaming peers in the channel (stream marker, core/stream/marker.ts),
 *     minus the ones this peer suspects (a stream to them failed lately), plus ourselves; each with
 *     the ledger height of its StateInfo (undefined when unknown) and its source role, if any.
 *   up to date: height >= the highest known height - lagBlocks (unknown: not up to date; we are
 *     always judged by our own height).
 *   rank: the PKI-ID's hex (PKI-IDs are SHA-256 hashes, so the order is stable and unbiased).
 *   root: among up-to-date members pulling from the orderer, a leader before an acting source,
 *     then by rank; when there is none, the first up-to-date member by rank (who then starts
 *     pulling). A new peer at height 0 is therefore never the source of peers far ahead.
 *   order: root, the other up-to-date members by rank, then the lagging ones by rank; member i
 *     (i >= 1) takes blocks from member floor((i - 1) / fanout): a tree of bounded fan-out and
 *     depth ~ log_fanout N, with lagging peers at the leaves. If that parent is below our height we
 *     go up the tree until one is not (the root at worst).
 * Parents always sit earlier in one order shared by every peer with the same view, so views that
 * agree give no cycle; views that differ for a moment are repaired by the follower's stall check.
 */
import { pkiIdKey, samePkiId, type PkiId } from '../../base/pkiid.js';
import type { SourceRole } from './marker.js';

export interface StreamMember {
  readonly pkiId: PkiId;
  /** Where its Deliver service answers (its gossip endpoint). */
  readonly endpoint: string;
  readonly height: bigint | undefined;
  readonly role: SourceRole | undefined;
}

export interface TreeView {
  readonly self: StreamMember & { readonly height: bigint };
  /** The other streaming members (suspects already left out). */
  readonly members: readonly StreamMember[];
  readonly fanout: number;
  readonly lagBlocks: number;
}

export type Plan =
  | { readonly kind: 'source'; readonly depth: 0 }
  | {
      readonly kind: 'upstream';
      readonly upstream: StreamMember;
      readonly root: StreamMember;
      /** Our hops from the root in the planned tree. */
      readonly depth: number;
    };

const ROLE_ORDER: Record<SourceRole, number> = { leader: 0, source: 1 };

function byRank(a: StreamMember, b: StreamMember): number {
  const x = pkiIdKey(a.pkiId);
  const y = pkiIdKey(b.pkiId);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function planUpstream(v: TreeView): Plan {
  const all = [v.self, ...v.members.filter((m) => !samePkiId(m.pkiId, v.self.pkiId))];
  let max = v.self.height;
  for (const m of all) if (m.height !== undefined && m.height > max) max = m.height;
  const upToDate = (m: StreamMember): boolean =>
    m.height !== undefined && m.height + BigInt(v.lagBlocks) >= max;
  const fresh = all.filter(upToDate).sort(byRank);
  const sources = fresh
    .filter((m) => m.role !== undefined)
    .sort((a, b) => ROLE_ORDER[a.role!] - ROLE_ORDER[b.role!] || byRank(a, b));
  // we are in `all`, so when nobody is up to date we are (our height is the max)
  const root = sources[0] ?? fresh[0] ?? v.self;
  if (samePkiId(root.pkiId, v.self.pkiId)) return { kind: 'source', depth: 0 };
  const lagging = all.filter((m) => !upToDate(m)).sort(byRank);
  const order = [root, ...fresh.filter((m) => m !== root), ...lagging];
  const i = order.findIndex((m) => samePkiId(m.pkiId, v.self.pkiId));
  const fanout = Math.max(1, v.fanout);
  let j = Math.floor((i - 1) / fanout);
  while (j > 0 && (order[j]!.height ?? -1n) < v.self.height) j = Math.floor((j - 1) / fanout);
  let depth = 1;
  for (let k = j; k > 0; k = Math.floor((k - 1) / fanout)) depth++;
  return { kind: 'upstream', upstream: order[j]!, root, depth };
}
