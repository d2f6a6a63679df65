/**
 * Where a streaming peer takes a channel's blocks from: the stream tree of its org, planned from
 * its own view, with no coordination beyond what gossip already carries.
 *
 *   members: the org's alive streaming peers in the channel (stream marker, core/stream/marker.ts),
 *     plus ourselves; each with the ledger height of its StateInfo (undefined when unknown), its
 *     source role, if any, and whether we suspect it (a stream to it failed lately).
 *   up to date: height >= the highest known height - lagBlocks (unknown: not up to date; we are
 *     always judged by our own height).
 *   rank: the PKI-ID's hex (PKI-IDs are SHA-256 hashes, so the order is stable and unbiased;
 *     Fabric's election also picks the lowest PKI-ID, so the leader is usually first).
 *   order O: the up-to-date members by rank (an up-to-date leader first: every view reads its role
 *     from its marker, so this too is the same everywhere), then the lagging ones by rank, suspects included
 *     (they stay as holes, so that peers which suspect different members still agree on every
 *     position). Member i >= 1 takes blocks from member floor((i - 1) / fanout); a suspect parent,
 *     or a lagging one below our height, is skipped for its own parent (an up-to-date parent is
 *     kept even when its known height is below ours: StateInfo heights are seconds old while
 *     blocks stream live, and skipping on them sent every follower to the root). A tree of bounded fan-out and depth
 *     ~ log_fanout N, with lagging peers at the leaves.
 *   root (the source, pulling from the orderer): among live, up-to-date members with a source
 *     role, a leader before an acting source, then by rank; when there is none, the first live
 *     up-to-date member of O (who then starts pulling). A new peer at height 0 is therefore never
 *     the source of peers far ahead. The root takes no upstream; the first live member of O, when
 *     it is not the root, streams from the root; so does whoever's parent chain runs out.
 * Every other edge goes from a later to an earlier position of O, so views that agree on O give
 * no cycle whatever they suspect; views that differ for a moment are repaired by the follower's
 * stall check. Changing the root (fail-over) changes no position.
 */
import { pkiIdKey, samePkiId, type PkiId } from '../../base/pkiid.js';
import type { SourceRole } from './marker.js';

export interface StreamMember {
  readonly pkiId: PkiId;
  /** Where its Deliver service answers (its gossip endpoint). */
  readonly endpoint: string;
  readonly height: bigint | undefined;
  readonly role: SourceRole | undefined;
  /** We suspect it (a stream to it failed lately): never chosen, but it keeps its position. */
  readonly suspect?: boolean;
}

export interface TreeView {
  readonly self: StreamMember & { readonly height: bigint };
  /** The other streaming members. */
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
  const self: StreamMember = { ...v.self, suspect: false };
  const all = [self, ...v.members.filter((m) => !samePkiId(m.pkiId, v.self.pkiId))];
  const live = (m: StreamMember): boolean => m.suspect !== true;
  let max = v.self.height;
  for (const m of all) if (live(m) && m.height !== undefined && m.height > max) max = m.height;
  const upToDate = (m: StreamMember): boolean =>
    m.height !== undefined && m.height + BigInt(v.lagBlocks) >= max;
  // an up-to-date leader heads the order: its role comes from its own marker, the same in every
  // view (suspected or not), so this moves no position between views, and the usual root then
  // sits at position 0 instead of feeding the first member from outside (one hop less)
  const leaderFirst = (a: StreamMember, b: StreamMember): number =>
    Number(b.role === 'leader') - Number(a.role === 'leader') || byRank(a, b);
  const order = [...all.filter(upToDate).sort(leaderFirst), ...all.filter((m) => !upToDate(m)).sort(byRank)];
  const sources = all
    .filter((m) => live(m) && m.role !== undefined && upToDate(m))
    .sort((a, b) => ROLE_ORDER[a.role!] - ROLE_ORDER[b.role!] || byRank(a, b));
  // we are live and in `all`: when nobody is up to date we are (our height is the max)
  const root = sources[0] ?? order.find((m) => live(m) && upToDate(m)) ?? self;
  if (root === self) return { kind: 'source', depth: 0 };
  const top = order.find(live)!;
  if (top === self) return { kind: 'upstream', upstream: root, root, depth: 1 };
  const fanout = Math.max(1, v.fanout);
  const parent = (i: number): number => Math.floor((i - 1) / fanout);
  // an up-to-date parent streams live blocks even if its published height (StateInfo, seconds
  // old) is below ours; only a lagging parent below us would keep us waiting
  const usable = (m: StreamMember): boolean => live(m) && (upToDate(m) || (m.height ?? -1n) >= v.self.height);
  let j = parent(order.indexOf(self));
  while (j > 0 && !usable(order[j]!)) j = parent(j);
  const upstream = j === 0 && !usable(order[0]!) ? root : order[j]!;
  let depth = 1;
  for (let k = j; k > 0; k = parent(k)) depth++;
  if (upstream === root) depth = 1;
  else if (order[0] !== root) depth++;
  return { kind: 'upstream', upstream, root, depth };
}
