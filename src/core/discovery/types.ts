/** Discovery's public shapes: members, events, what it needs from the identity layer. */
import type { PkiId } from '../../base/pkiid.js';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';

/** (inc_num, seq_num) of an AliveMessage (§4.1). */
export interface PeerTime {
  readonly incNum: bigint;
  readonly seqNum: bigint;
}

export type MemberState = 'alive' | 'dead';

/** What discovery knows about one peer. */
export interface MemberInfo {
  readonly pkiId: PkiId;
  /** External endpoint (Member.endpoint); empty when the peer has none. */
  readonly endpoint: string;
  /** Internal endpoint learned from a SecretEnvelope (§4.4); empty when unknown. */
  readonly internalEndpoint: string;
  /** The org (MSP ID) of its identity, when the identity store has it. */
  readonly mspId: string | undefined;
  readonly state: MemberState;
  /** Timestamp of the last alive message accepted for it. */
  readonly lastAlive: PeerTime;
  /** Local clock ms when that message was accepted (dead members: when last seen alive). */
  readonly lastSeenMs: number;
  /** The last accepted alive message, as received (secret included when it had one). */
  readonly envelope: Envelope;
  /** Member.metadata of that message (empty from Fabric peers). */
  readonly metadata: Uint8Array;
}

/** Our own membership data (§4.1). */
export interface SelfInfo {
  readonly pkiId: PkiId;
  readonly endpoint: string;
  readonly internalEndpoint: string;
  readonly mspId: string;
}

export type MembershipEvent =
  | { readonly kind: 'alive'; readonly member: MemberInfo }
  | { readonly kind: 'dead'; readonly member: MemberInfo }
  | { readonly kind: 'removed'; readonly pkiId: PkiId; readonly reason: 'expired' | 'identity-switch' };

/** What discovery needs from the identity layer (MessageCryptoService satisfies `verify`). */
export interface DiscoveryCrypto {
  /** §2.4 Verify(identity, signature, message): throws, or returns false, when invalid. */
  verify(identity: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean | void;
  /** The org (MSP ID) of a serialized identity; default: its `mspid` field. */
  orgOf?(identity: Uint8Array): string | undefined;
}

/** Why a discovery message was dropped (label of `grapevine_gossip_discovery_dropped_total{reason}`). */
export type DropReason =
  | 'malformed'
  | 'bad_tag'
  | 'stale'
  | 'unsigned'
  | 'identity_rejected'
  | 'unknown_identity'
  | 'bad_signature'
  | 'pki_id_mismatch'
  | 'self'
  | 'members_full';

/** A decoded alive message with the envelope it came in (never re-encoded). */
export interface AliveEnvelope {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  readonly pkiId: PkiId;
  readonly endpoint: string;
  /** Member.metadata (empty from Fabric peers; Grapevine's stream marker, core/stream/marker.ts). */
  readonly metadata: Uint8Array;
  readonly time: PeerTime;
}
