/**
 * The Transport seam (ARCHITECTURE.md §1): everything above comm talks to peers only through
 * this interface, and both the real gRPC transport (src/comm) and the simulated one (src/sim)
 * implement it with the same comm-level behaviour (PROTOCOL.md §3).
 */
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import type { PkiId } from '../../base/pkiid.js';
import type { IdentityValidator } from '../../identity/store.js';
import type { Signer } from '../../wire/signer.js';

/** A peer to reach: its endpoint, and its PKI-ID when known (checked after the handshake, §3.1). */
export interface RemotePeer {
  readonly endpoint: string;
  readonly pkiId?: PkiId;
}

/** What the handshake authenticated about the remote end of a connection (§3.2 step 6). */
export interface ConnectionInfo {
  readonly pkiId: PkiId;
  /** The remote's serialized identity (msp.SerializedIdentity). */
  readonly identity: Uint8Array;
  /** Remote socket address as seen locally. */
  readonly endpoint: string;
  /** The remote's signed ConnEstablish (payload and signature); authorises state transfer (§9.4). */
  readonly auth: { readonly signedData: Uint8Array; readonly signature: Uint8Array };
}

/** A message received on an authenticated connection. `envelope` is exactly what arrived. */
export interface ReceivedMessage {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  readonly conn: ConnectionInfo;
  /** Send an (unsigned) reply on the connection this came on; blocking enqueue (§3.9). */
  respond(envelope: Envelope): void;
  /** Send an Acknowledgement for this message's nonce (§3.8); `error` empty = success. */
  ack(error?: string): void;
}

export interface AckResult {
  readonly pkiId: PkiId;
  /** Undefined on success; otherwise why (timeout, remote error text, connection failure). */
  readonly error?: string;
}

export type Unsubscribe = () => void;

export interface Transport {
  readonly selfPkiId: PkiId;
  /** Fire-and-forget (§3.5): connect if needed, enqueue without blocking; overflow drops and counts. */
  send(envelope: Envelope, ...peers: RemotePeer[]): void;
  /**
   * §3.8: stamp a fresh random nonce on `message`, send it unsigned to every peer with blocking
   * enqueue, and resolve when `minAck` acks arrived or every peer answered or timed out.
   */
  sendWithAck(
    message: GossipMessage,
    timeoutMs: number,
    minAck: number,
    peers: RemotePeer[],
  ): Promise<AckResult[]>;
  /** Dial + Ping, no stream (§3.7). Rejects when unreachable. */
  probe(peer: RemotePeer): Promise<void>;
  /** A probe=true handshake (§3.2): learn and authenticate the remote identity without keeping a connection. */
  handshake(peer: RemotePeer): Promise<ConnectionInfo>;
  /** Every received message (except conn/empty/ack) matching `predicate` is passed to `handler`. */
  subscribe(predicate: (m: ReceivedMessage) => boolean, handler: (m: ReceivedMessage) => void): Unsubscribe;
  /** A send to this peer failed, or no connection could be made (§3.7). */
  onPresumedDead(handler: (pkiId: PkiId) => void): Unsubscribe;
  /** A dial to an expected PKI-ID reached a different identity of the same org (§3.1 step 5). */
  onIdentitySwitch(handler: (oldPkiId: PkiId) => void): Unsubscribe;
  /** Close the connection to this peer, if any. */
  closeConn(peer: RemotePeer): void;
  /** PKI-IDs with an open connection. */
  connectedPeers(): PkiId[];
  /** Close everything and wait for it; idempotent. */
  stop(): Promise<void>;
}

/** Message a handshake-free in-process test needs to describe an incoming envelope. */
export type { Envelope, GossipMessage };

/**
 * What the link needs from the identity layer: the identity store's validator (§2.5), "verify a
 * signature with this identity" (§2.4, the handshake's step 5) and org-of-identity (the identity
 * switch, §3.1 step 5). src/comm/identity.ts builds one from the channel orgs' MSPs.
 */
export interface CommCrypto extends IdentityValidator {
  /** §2.4 for the handshake: the identity's key verifies `signature` over `data`. */
  verifySignature(identity: Uint8Array, signature: Uint8Array, data: Uint8Array): boolean;
  /** The org (MSP ID) of an identity, or undefined when it does not parse. */
  orgOf(identity: Uint8Array): string | undefined;
}

/** Our PKI-ID and signer (src/comm/identity.ts loads it from a cryptogen MSP folder). */
export interface CommIdentity {
  readonly pkiId: PkiId;
  readonly mspId: string;
  readonly signer: Signer;
}
