/** What a channel needs from the node that hosts it, and the shapes it hands out. */
import type { ReceivedMessage, Transport } from '../link/types.js';
import type { Clock, Rng } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import type { MemberInfo } from '../discovery/types.js';
import type { Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type {
  Envelope,
  GossipMessage,
  LeadershipMessage,
  Payload,
  Properties,
} from '../../wire/gen/gossip/message_pb.js';
import type { GrapevineError } from '../../base/errors.js';
import type { Signer } from '../../wire/signer.js';
import type { ChannelGossipConfig } from './config.js';

/** The identity layer's checks the gossip node needs (MessageCryptoService satisfies it). */
export interface GossipCrypto {
  /** §2.4 Verify: throws when the signature or identity is invalid. */
  verify(identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void;
  /** Readers policy of `channel` over the signature; throws when refused. */
  verifyByChannel(channel: string, identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void;
  /** §2.8; throws when the block is invalid for the channel. */
  verifyBlock(channel: string, seqNum: bigint, block: Block): void;
}

/** Discovery's view as a channel uses it. */
export interface MembershipView {
  aliveMembers(): readonly MemberInfo[];
  lookup(pkiId: PkiId): MemberInfo | undefined;
  orgOf(pkiId: PkiId): string | undefined;
}

/** A message queued for push (§5.7 routes it by kind). */
export interface PushItem {
  readonly kind: 'block' | 'stateInfo' | 'leadership';
  readonly envelope: Envelope;
  /** Channel name; undefined for a StateInfo of a channel we have not joined (§5.6). */
  readonly channel?: string;
  /** The creator (StateInfo: its pki_id). */
  readonly creator?: PkiId;
  /** The peer it came from (never sent back there). */
  readonly from?: PkiId;
}

export type BlockSource = 'push' | 'pull' | 'local';

/** A block handed to the state layer. */
export interface BlockEvent {
  readonly channel: string;
  readonly seqNum: bigint;
  readonly payload: Payload;
  readonly block: Block;
  readonly source: BlockSource;
}

/** A verified LeadershipMessage handed to the election. */
export interface LeadershipEvent {
  readonly channel: string;
  readonly message: LeadershipMessage;
  readonly envelope: Envelope;
  /** The connection it came on. */
  readonly from: PkiId;
}

/** A channel member as PeersOfChannel reports it (§5.5). */
export interface ChannelPeer {
  readonly pkiId: PkiId;
  readonly endpoint: string;
  readonly internalEndpoint: string;
  readonly mspId: string | undefined;
  readonly properties: Properties | undefined;
  /** Member.metadata of its alive message (Grapevine's stream marker; empty from Fabric peers). */
  readonly metadata: Uint8Array;
}

/** Block pull of one channel (the pull engine behind the block puller, src/gossip/pull/block-puller.ts). */
export interface ChannelBlockPull {
  /** A block the block store accepted (pushed or ours) enters the pull store. */
  add(seqNum: bigint, envelope: Envelope, message: GossipMessage): void;
  /** A block evicted or expired from the block store leaves the pull store. */
  remove(seqNum: bigint): void;
  /** A hello/digest/request/update of BLOCK_MSG for this channel (already checked by the channel). */
  handleMessage(m: ReceivedMessage): void;
  start(): void;
  stop(): void;
}

/** The block message store as the block puller uses it (§6.3; BlockMessageStore). */
export interface BlockStoreView {
  /** Would a block with this seq_num be added (not a duplicate, not too far behind)? */
  checkValid(seqNum: bigint): boolean;
  /** Add it; false when refused. */
  add(seqNum: bigint, envelope: Envelope, message: GossipMessage): boolean;
}

/** A block pulled, verified and stored: handed to the state layer, never forwarded. */
export interface PulledBlock {
  readonly seqNum: bigint;
  /** Serialized common.Block (Payload.data). */
  readonly data: Uint8Array;
  /** What verifyBlock returned (the decoded block). */
  readonly block: Block;
  readonly envelope: Envelope;
  readonly message: GossipMessage;
}

/** What the channel gives its block puller (§6.4). */
export interface BlockPullHooks {
  readonly channel: string;
  /** The channel's block message store: duplicates/too-old blocks are skipped, new ones added. */
  readonly store: BlockStoreView;
  /** Alive, eligible, same-org members with their preferred endpoints (empty once we left). */
  membership(): readonly { readonly pkiId: PkiId; readonly endpoint: string }[];
  /** Our ledger height: digests below it are not wanted. */
  ledgerHeight(): bigint;
  /** VerifyBlock(channel, seqNum, block) (§2.8): returns the decoded block; throws when invalid. */
  verifyBlock(seqNum: bigint, data: Uint8Array, message: GossipMessage): Block;
  /** A pulled block was stored. */
  onBlock(b: PulledBlock): void;
  /** A whole DataUpdate was refused (`err.code`: not_block | wrong_channel | verify_failed). */
  onRejected?(err: GrapevineError, from: ReceivedMessage): void;
}

export interface ChannelHost {
  readonly selfPkiId: PkiId;
  readonly ownOrg: string;
  /** Our external endpoint (empty: invisible outside the org). */
  readonly externalEndpoint: string;
  readonly signer: Signer;
  readonly crypto: GossipCrypto;
  readonly identities: { get(pkiId: PkiId): Uint8Array | undefined };
  readonly membership: MembershipView;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly config: ChannelGossipConfig;
  readonly metrics?: Metrics;
  readonly logger: Logger;
  push(item: PushItem): void;
  deliverBlock(e: BlockEvent): void;
  deliverLeadership(e: LeadershipEvent): void;
  /** Count and log a dropped message. */
  drop(reason: import('./errors.js').GossipDropReason, detail: string, m?: ReceivedMessage): void;
  /** Build the channel's block puller (undefined: no block pull). */
  createBlockPull?(hooks: BlockPullHooks): ChannelBlockPull | undefined;
  /**
   * Whether block push and block pull rounds go to this member. Grapevine peers that stream
   * blocks among themselves (core/stream) leave each other out; absent: every member (Fabric).
   */
  blockGossipPeer?(m: MemberInfo): boolean;
  /** Grapevine block streams: StateInfo traffic throttled (StateInfoThrottle); absent: Fabric's. */
  stateInfoThrottle?(): StateInfoThrottle | undefined;
}

/**
 * How a Grapevine peer that streams blocks keeps its StateInfo traffic down (Fabric peers keep
 * Fabric's rules; they see fewer, never malformed, StateInfos from us):
 *   heightStep: a new ledger height is published only when it enters the next multiple of
 *     heightStep (peers in step then publish the same heights, so they stay "up to date" to each
 *     other in the stream tree whenever lagBlocks >= 2 x heightStep); a height that did not move
 *     for a whole publishStateInfoInterval is published exactly (an idle channel converges);
 *   pullEvery: the StateInfo pull (snapshot request) runs on every tick of
 *     requestStateInfoInterval for the first 3 ticks and whenever the StateInfo cache
 *     changed size since the last tick (membership still forming), else on every pullEvery-th.
 */
export interface StateInfoThrottle {
  readonly heightStep: number;
  readonly pullEvery: number;
}
