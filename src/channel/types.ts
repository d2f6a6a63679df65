/** What a channel needs from the node that hosts it, and the shapes it hands out. */
import type { Clock, PkiId, ReceivedMessage, Rng, Transport } from '../comm/types.js';
import type { MemberInfo } from '../discovery/types.js';
import type { Logger } from '../util/log.js';
import type { Metrics } from '../util/metrics.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import type { Envelope, LeadershipMessage, Payload, Properties } from '../wire/gen/gossip/message_pb.js';
import type { Signer } from '../wire/signer.js';
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
}

/** Block pull of one channel (the pull engineer's block puller behind an adapter). */
export interface ChannelBlockPull {
  /** A block we now hold enters the pull store. */
  add(seqNum: bigint, envelope: Envelope, message: import('../wire/gen/gossip/message_pb.js').GossipMessage): void;
  /** A block evicted or expired from the block store leaves the pull store. */
  remove(seqNum: bigint): void;
  /** A hello/digest/request/update of BLOCK_MSG for this channel (already checked by the channel). */
  handleMessage(m: ReceivedMessage): void;
  start(): void;
  stop(): void;
}

/** What the channel tells its block puller (so it can be built by the pull engineer's factory). */
export interface BlockPullHooks {
  readonly channel: string;
  /** Alive, eligible, same-org members (empty once we left). */
  membership(): readonly MemberInfo[];
  /** Our ledger height: digests below it are not wanted. */
  ledgerHeight(): bigint;
  /**
   * A solicited DataUpdate's blocks: verify all (throw to drop the whole update); returns the
   * new ones, which are stored and handed to the state layer (not forwarded).
   */
  acceptBlocks(items: readonly { readonly envelope: Envelope }[], from: ReceivedMessage): readonly { readonly envelope: Envelope }[];
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
}
