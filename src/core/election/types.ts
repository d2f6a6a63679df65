/** The election's seam to the gossip layer (Fabric's LeaderElectionAdapter) and its public shape. */
import type { Unsubscribe } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';

/** The PeerTime of a LeadershipMessage (§7.2): inc_num = ns at adapter creation, seq_num from 1. */
export interface ElectionTime {
  readonly incNum: bigint;
  readonly seqNum: bigint;
}

/** A LeadershipMessage as the election sees it; `isDeclaration=false` is a proposal. */
export interface ElectionMessage {
  readonly pkiId: PkiId;
  readonly isDeclaration: boolean;
  readonly timestamp: ElectionTime;
}

export interface ElectionPeer {
  readonly pkiId: PkiId;
}

/**
 * What the election needs from gossip, for one channel. Received messages are already checked by
 * the gossip node (signature by the stored identity, same org, newer PeerTime, §7.2).
 */
export interface ElectionAdapter {
  /** Sign and push to every eligible same-org channel member. */
  gossip(msg: ElectionMessage): void;
  /** Verified leadership messages of this channel. */
  accept(handler: (msg: ElectionMessage) => void): Unsubscribe;
  /** A fresh message from us: next seq_num, same inc_num. */
  createMessage(isDeclaration: boolean): ElectionMessage;
  /** Election peers: PeersOfChannel filtered to our org (self excluded). */
  peers(): readonly ElectionPeer[];
}

/** Called with true when we become leader (start delivering from the orderer), false when we stop. */
export type LeadershipCallback = (isLeader: boolean) => void;

/** One channel's leadership, whatever the mode (dynamic, static, none). */
export interface Leadership {
  readonly mode: 'dynamic' | 'static' | 'none';
  start(): void;
  /** Idempotent; releases every timer and subscription; does not call the callback. */
  stop(): void;
  /** §7.3 step 7 (dynamic only; a static leader never yields). */
  yield(): void;
  isLeader(): boolean;
}
