/**
 * The gossip node's dispatcher for channel messages (PROTOCOL.md §1.5, §2.4, §2.10, §5.6).
 *
 *   every message: the tag must be legal for its type (tagError) -> else bad_tag.
 *   state_info: channel found by MAC(state_info.pki_id, channel) among joined channels -> that
 *     channel (which checks org, freshness and the Readers policy over the signature). No match:
 *     from a same-org connection, signed by the stored identity of pki_id -> node-level store
 *     (§5.6), re-gossiped when newer; else unknown_channel.
 *   state_info_pull_req: channel found by MAC(connection PKI-ID, channel) -> that channel.
 *   state_snapshot, data_msg, leadership_msg, block pull: channel by name -> that channel.
 * Anything refused is dropped: counted in grapevine_gossip_dropped_total{reason}, logged at debug, not forwarded.
 */
import type { ReceivedMessage } from '../link/types.js';
import type { GossipChannel } from '../channel/channel.js';
import { dropError, GossipDropError, type GossipDropReason } from '../channel/errors.js';
import { parseStateInfo } from '../channel/stateinfo.js';
import type { ForeignStateInfoStore } from '../channel/stores.js';
import type { GossipCrypto, MembershipView, PushItem } from '../channel/types.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import { PullMsgType, channelName, tagError } from '../../wire/gossip.js';
import type { Clock } from '../../base/time.js';

export interface ReceiveDeps {
  readonly ownOrg: string;
  readonly crypto: GossipCrypto;
  readonly identities: { get(pkiId: Uint8Array): Uint8Array | undefined };
  readonly membership: MembershipView;
  readonly foreign: ForeignStateInfoStore;
  readonly clock: Clock;
  channels(): Iterable<GossipChannel>;
  channel(name: string): GossipChannel | undefined;
  push(item: PushItem): void;
  drop(reason: GossipDropReason, detail: string, m?: ReceivedMessage): void;
}

const CASES = new Set(['dataMsg', 'stateInfo', 'stateSnapshot', 'stateInfoPullReq', 'leadershipMsg']);

/** The node's transport subscription predicate: channel messages and block pull messages. */
export function isChannelMessage(m: ReceivedMessage): boolean {
  const c = m.message.content;
  if (c.case && CASES.has(c.case)) return true;
  if (c.case === 'hello' || c.case === 'dataDig' || c.case === 'dataReq' || c.case === 'dataUpdate') {
    return c.value.msgType !== PullMsgType.IDENTITY_MSG;
  }
  return false;
}

export function receive(deps: ReceiveDeps, m: ReceivedMessage): void {
  try {
    dispatch(deps, m);
  } catch (e) {
    if (e instanceof GossipDropError) deps.drop(e.code, e.message, m);
    else if (e instanceof GrapevineError) deps.drop('malformed', `${e.code}: ${e.message}`, m);
    else deps.drop('malformed', `unexpected error: ${errorMessage(e)}`, m);
  }
}

function dispatch(deps: ReceiveDeps, m: ReceivedMessage): void {
  const bad = tagError(m.message);
  if (bad) throw dropError('bad_tag', bad);
  const c = m.message.content;
  switch (c.case) {
    case 'stateInfo':
      return stateInfo(deps, m);
    case 'stateInfoPullReq': {
      const mac = c.value.channelMAC;
      const ch = find(deps, (g) => g.matchesMac(m.conn.pkiId, mac));
      if (!ch) throw dropError('unknown_channel', 'StateInfoPullRequest MAC matches no joined channel');
      return ch.handleStateInfoPullRequest(m);
    }
    case 'stateSnapshot':
      return byName(deps, m).handleStateSnapshot(m);
    case 'dataMsg':
      return byName(deps, m).dissemination.handlePushedBlock(m);
    case 'leadershipMsg':
      return byName(deps, m).dissemination.handleLeadership(m);
    case 'hello':
    case 'dataDig':
    case 'dataReq':
    case 'dataUpdate':
      return byName(deps, m).dissemination.handleBlockPull(m);
    default:
      throw dropError('malformed', `not a channel message: ${c.case ?? 'none'}`);
  }
}

function byName(deps: ReceiveDeps, m: ReceivedMessage): GossipChannel {
  const name = channelName(m.message);
  const ch = deps.channel(name);
  if (!ch)
    throw dropError(
      'unknown_channel',
      `message of channel ${JSON.stringify(name)}, which we have not joined`,
    );
  return ch;
}

function find(deps: ReceiveDeps, pred: (g: GossipChannel) => boolean): GossipChannel | undefined {
  for (const g of deps.channels()) if (pred(g)) return g;
  return undefined;
}

function stateInfo(deps: ReceiveDeps, m: ReceivedMessage): void {
  const si = parseStateInfo(m.envelope, m.message);
  const ch = find(deps, (g) => g.matchesMac(si.pkiId, si.info.channelMAC));
  if (ch) return ch.handleStateInfo(m);
  // §5.6: a channel we have not joined
  if (deps.membership.orgOf(m.conn.pkiId) !== deps.ownOrg)
    throw dropError('unknown_channel', 'StateInfo of no joined channel from another org');
  const identity = deps.identities.get(si.pkiId);
  if (!identity) throw dropError('unknown_identity', 'StateInfo creator identity is unknown');
  if (m.envelope.signature.length === 0) throw dropError('unsigned', 'StateInfo is not signed');
  try {
    deps.crypto.verify(identity, m.envelope.signature, m.envelope.payload);
  } catch (e) {
    throw dropError('bad_signature', `StateInfo signature refused: ${errorMessage(e)}`, e);
  }
  deps.foreign.expire();
  if (deps.foreign.add(si) === 'added') {
    deps.push({ kind: 'stateInfo', envelope: m.envelope, creator: si.pkiId, from: m.conn.pkiId });
  } else {
    throw dropError('stale', 'StateInfo of an unjoined channel is not newer than the stored one');
  }
}
