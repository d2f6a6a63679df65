/**
 * The election adapter over the gossip node (Fabric's election adapter, PROTOCOL.md §7.2), for one
 * channel:
 *   createMessage: LeadershipMessage{pki_id = ours, timestamp = {inc_num = ns when this adapter
 *     was created, seq_num = 1, 2, ...}, is_declaration}; the node wraps it in
 *     GossipMessage{CHAN_AND_ORG, channel, nonce 0}, signs it and pushes it to every eligible
 *     same-org member (§5.7).
 *   accept: the node's verified leadership messages of this channel (signature by the stored
 *     identity of pki_id, connection and creator in our org, newer PeerTime).
 *   peers: PeersOfChannel filtered to our org (self is never among them).
 */
import type { Unsubscribe } from '../link/types.js';
import type { Clock } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import type { ChannelPeer, LeadershipEvent } from '../channel/types.js';
import type { ElectionAdapter, ElectionMessage, ElectionPeer } from './types.js';

/** The part of GossipNode the adapter uses. */
export interface ElectionGossip {
  gossipLeadership(
    channel: string,
    msg: {
      readonly timestamp: { incNum: bigint; seqNum: bigint };
      readonly isDeclaration: boolean;
      readonly pkiId?: PkiId;
    },
  ): unknown;
  onLeadership(handler: (e: LeadershipEvent) => void): Unsubscribe;
  peersOfChannel(channel: string): readonly ChannelPeer[];
}

export interface GossipElectionAdapterOptions {
  readonly channel: string;
  readonly selfPkiId: PkiId;
  /** Our org (MSP ID). */
  readonly mspId: string;
  readonly clock: Clock;
}

export class GossipElectionAdapter implements ElectionAdapter {
  /** PeerTime inc_num: ns at creation (§7.2). */
  readonly incNum: bigint;
  private seqNum = 0n;

  constructor(
    private readonly gossipNode: ElectionGossip,
    private readonly opts: GossipElectionAdapterOptions,
  ) {
    this.incNum = opts.clock.nowNs();
  }

  createMessage(isDeclaration: boolean): ElectionMessage {
    this.seqNum++;
    return {
      pkiId: this.opts.selfPkiId,
      isDeclaration,
      timestamp: { incNum: this.incNum, seqNum: this.seqNum },
    };
  }

  gossip(msg: ElectionMessage): void {
    this.gossipNode.gossipLeadership(this.opts.channel, {
      pkiId: msg.pkiId,
      isDeclaration: msg.isDeclaration,
      timestamp: { incNum: msg.timestamp.incNum, seqNum: msg.timestamp.seqNum },
    });
  }

  accept(handler: (msg: ElectionMessage) => void): Unsubscribe {
    const channel = this.opts.channel;
    return this.gossipNode.onLeadership((e) => {
      if (e.channel !== channel) return;
      const m = e.message;
      handler({
        pkiId: m.pkiId,
        isDeclaration: m.isDeclaration,
        timestamp: { incNum: m.timestamp?.incNum ?? 0n, seqNum: m.timestamp?.seqNum ?? 0n },
      });
    });
  }

  peers(): readonly ElectionPeer[] {
    return this.gossipNode.peersOfChannel(this.opts.channel).filter((p) => p.mspId === this.opts.mspId);
  }
}
