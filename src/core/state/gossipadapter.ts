/**
 * Glue between a state provider and the gossip node (src/gossip/node.ts), through structural
 * types so either side can change shape behind them:
 *   channelViewOf(node, channel): PeersOfChannel (§5.5) with the StateInfo ledger height
 *     (Properties.ledger_height; 0 when a peer published none) and its preferred endpoint
 *     (internal when known, as Fabric's PreferredEndpoint).
 *   attachToGossipNode(node, provider): verified gossiped blocks of the channel go to
 *     acceptGossipBlock (non-blocking). Returns the unsubscribe function.
 *   The provider's onCommitted should call node.updateLedgerHeight(channel, height).
 */
import type { Unsubscribe } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';
import { preferredEndpoint } from '../discovery/endpoint.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { ChannelView, StatePeer } from './types.js';

export interface GossipPeerLike {
  readonly pkiId: PkiId;
  readonly endpoint: string;
  readonly internalEndpoint?: string;
  readonly properties?: { readonly ledgerHeight: bigint } | undefined;
}

export interface GossipNodeLike {
  peersOfChannel(channel: string): readonly GossipPeerLike[];
  onBlock(
    handler: (e: { channel: string; seqNum: bigint; payload: { data: Uint8Array }; block: Block }) => void,
  ): Unsubscribe;
}

export function channelViewOf(node: Pick<GossipNodeLike, 'peersOfChannel'>, channel: string): ChannelView {
  return {
    peersOfChannel: (): StatePeer[] =>
      node.peersOfChannel(channel).map((p) => ({
        pkiId: p.pkiId,
        endpoint: preferredEndpoint(p),
        ledgerHeight: p.properties?.ledgerHeight ?? 0n,
      })),
  };
}

/**
 * A gossiped block the state layer refused as too far ahead goes back to the channel
 * (`blockRefused`), which offers it again once the ledger height moved, instead of treating it as
 * delivered: push and pull would never bring it again (it is in their stores).
 */
export function attachToGossipNode(
  node: Pick<GossipNodeLike, 'onBlock'> & { blockRefused?(channel: string, seqNum: bigint): void },
  provider: {
    readonly channel: string;
    acceptGossipBlock(seq: bigint, bytes: Uint8Array, block?: Block): unknown;
  },
): Unsubscribe {
  return node.onBlock((e) => {
    if (e.channel !== provider.channel) return;
    const r = provider.acceptGossipBlock(e.seqNum, e.payload.data, e.block);
    if (r === 'too_far_ahead') node.blockRefused?.(e.channel, e.seqNum);
  });
}
