/**
 * The Transport of a world (GrpcTransport in comm, SimTransport in sim): every call goes to the
 * world's Link, so both worlds share one implementation of each Transport method. A world only
 * builds its Link (with its LinkWorld) and adds its own start, diagnostics and stop.
 */
import type { PkiId } from '../../base/pkiid.js';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import type { ConnectionSummary, Link } from './link.js';
import type { RefusedHandshake } from './refused.js';
import type {
  AckResult,
  ConnectionInfo,
  ReceivedMessage,
  RemotePeer,
  Transport,
  Unsubscribe,
} from './types.js';

export abstract class LinkTransport implements Transport {
  abstract readonly selfPkiId: PkiId;
  protected abstract readonly link: Link;

  send(envelope: Envelope, ...peers: RemotePeer[]): void {
    this.link.send(envelope, ...peers);
  }

  sendWithAck(
    message: GossipMessage,
    timeoutMs: number,
    minAck: number,
    peers: RemotePeer[],
  ): Promise<AckResult[]> {
    return this.link.sendWithAck(message, timeoutMs, minAck, peers);
  }

  probe(peer: RemotePeer): Promise<void> {
    return this.link.probe(peer);
  }

  handshake(peer: RemotePeer): Promise<ConnectionInfo> {
    return this.link.handshake(peer);
  }

  subscribe(predicate: (m: ReceivedMessage) => boolean, handler: (m: ReceivedMessage) => void): Unsubscribe {
    return this.link.subscribe(predicate, handler);
  }

  onPresumedDead(handler: (pkiId: PkiId) => void): Unsubscribe {
    return this.link.onPresumedDead(handler);
  }

  onIdentitySwitch(handler: (oldPkiId: PkiId) => void): Unsubscribe {
    return this.link.onIdentitySwitch(handler);
  }

  closeConn(peer: RemotePeer): void {
    this.link.closeConn(peer);
  }

  connectedPeers(): PkiId[] {
    return this.link.connectedPeers();
  }

  /** Diagnostics: open connections with their direction. */
  connections(): ConnectionSummary[] {
    return this.link.connections();
  }

  /** Diagnostics: the record of refused handshakes, most recently refused first. */
  refusedHandshakes(): RefusedHandshake[] {
    return this.link.refusedHandshakes();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }
}
