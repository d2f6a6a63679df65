/**
 * Push routing of channel messages (PROTOCOL.md §5.7; Fabric's gossipBatch), for the node's
 * emitter. Each flush picks fresh random targets per message, never the peer it came from:
 *   block       -> propagatePeerNum random alive members, eligible, org in channel, same org
 *   leadership  -> all such members
 *   StateInfo   -> propagatePeerNum random alive members: of channel orgs when the channel is
 *                  known and the creator has an external endpoint, else of our org only
 * A message of a channel we no longer hold is dropped.
 */
import type { Transport } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';
import type { Rng } from '../../base/time.js';
import { pkiIdKey } from '../../base/pkiid.js';
import type { GossipChannel } from '../channel/channel.js';
import type { MembershipView, PushItem } from '../channel/types.js';
import { remotePeerOf } from '../discovery/endpoint.js';
import type { MemberInfo } from '../discovery/types.js';

export interface RouterDeps {
  readonly transport: Transport;
  readonly rng: Rng;
  readonly membership: MembershipView;
  readonly ownOrg: string;
  readonly propagatePeerNum: number;
  channel(name: string): GossipChannel | undefined;
}

export function routeBatch(deps: RouterDeps, batch: readonly PushItem[]): void {
  let alive: readonly MemberInfo[] | undefined;
  for (const item of batch) {
    const ch = item.channel === undefined ? undefined : deps.channel(item.channel);
    let targets: MemberInfo[];
    if (item.kind === 'stateInfo') {
      alive ??= deps.membership.aliveMembers();
      const exclude = new Set([item.from, item.creator].filter((x): x is PkiId => !!x).map(pkiIdKey));
      const pool = ch ? ch.stateInfoTargets(item, alive) : alive.filter((m) => m.mspId === deps.ownOrg);
      targets = deps.rng.sample(
        pool.filter((m) => !exclude.has(pkiIdKey(m.pkiId))),
        deps.propagatePeerNum,
      );
    } else {
      if (!ch) continue;
      targets = ch.dissemination.targets(item);
    }
    if (targets.length > 0) deps.transport.send(item.envelope, ...targets.map(remotePeerOf));
  }
}
