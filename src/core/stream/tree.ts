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
  /**
   * It refused us lately as full (it serves its fan-out of stream children: children.ts): live,
   * it keeps its position and may be the root, but we take another member with room meanwhile.
   */
  readonly full?: boolean;
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

/** The tree as `v` sees it: the order O, the root, the top (first live member of O). */
function layout(v: TreeView) {
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
  const top = order.find(live)!;
  const fanout = Math.max(1, v.fanout);
  const parent = (i: number): number => Math.floor((i - 1) / fanout);
  return { self, order, root, top, live, upToDate, fanout, parent };
}

export function planUpstream(v: TreeView): Plan {
  const { self, order, root, top, live, upToDate, fanout, parent } = layout(v);
  if (root === self) return { kind: 'source', depth: 0 };
  // every other member descends from the top: nobody else may take it (no cycle)
  if (top === self) return { kind: 'upstream', upstream: root, root, depth: 1 };
  // an up-to-date parent streams live blocks even if its published height (StateInfo, seconds
  // old) is below ours; only a lagging parent below us would keep us waiting
  const usable = (m: StreamMember): boolean => live(m) && (upToDate(m) || (m.height ?? -1n) >= v.self.height);
  const me = order.indexOf(self);
  const hops = (p: number): number => {
    if (order[p] === root) return 0;
    let d = order[0] !== root ? 1 : 0;
    for (let k = p; k > 0; k = parent(k)) d++;
    return d;
  };
  let j = parent(me);
  while (j > 0 && !usable(order[j]!)) j = parent(j);
  const chosen = j === 0 && !usable(order[0]!) ? root : order[j]!;
  const planned = {
    kind: 'upstream',
    upstream: chosen,
    root,
    depth: hops(order.indexOf(chosen)) + 1,
  } as const;
  if (chosen.full !== true) return planned;
  // it refused us as full (children.ts): the views that placed its children lag ours; take a
  // member before us in O (every edge then still goes from a later to an earlier position, so
  // the refused do not form cycles), the one with room in the planned tree first, then the
  // shallowest, until the mark expires
  const room = (p: number): number => {
    let kids = 0;
    for (let c = fanout * p + 1; c <= fanout * p + fanout && c < order.length; c++) kids++;
    if (order[p] === root && p !== 0) kids++; // the top streams from the root
    return fanout - kids;
  };
  let best: number | undefined;
  const rootAt = order.indexOf(root);
  for (let p = 0; p < order.length; p++) {
    const m = order[p]!;
    if ((p >= me && p !== rootAt) || m.full === true || !usable(m)) continue;
    if (
      best === undefined ||
      Math.sign(room(p)) > Math.sign(room(best)) ||
      (Math.sign(room(p)) === Math.sign(room(best)) && hops(p) < hops(best))
    )
      best = p;
  }
  if (best === undefined) return planned; // no room anywhere: wait for it (follower.ts)
  return { kind: 'upstream', upstream: order[best]!, root, depth: hops(best) + 1 };
}

/**
 * Whether `child` streams from us in our plan of the tree (the upstream's side of planUpstream,
 * in our view; children.ts gives planned children a place first): its parent position, past
 * members we suspect, is ours, or we are the root and it is the top or its chain ran out.
 */
export function isPlannedChild(v: TreeView, child: PkiId): boolean {
  const { self, order, root, top, live, parent } = layout(v);
  const c = order.findIndex((m) => samePkiId(m.pkiId, child));
  if (c < 0 || order[c] === self || order[c] === root) return false;
  if (order[c] === top) return self === root;
  let j = parent(c);
  while (j > 0 && !live(order[j]!)) j = parent(j);
  if (j === 0 && !live(order[0]!)) return self === root;
  return order[j] === self;
}
