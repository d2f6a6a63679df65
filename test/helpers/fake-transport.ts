/**
 * The one scriptable fake of the Transport seam (src/core/link/types.ts) for unit tests: the
 * network is the test.
 *
 * - Records: every send() per peer (`sent`), every reply made through a delivered message's
 *   respond() (`responses`), sendWithAck calls (`ackCalls`), probes, handshakes, closeConn.
 * - Delivers: `deliver(envelope, from)` hands a ReceivedMessage to the subscribers (and returns
 *   what they responded); `received(envelope, from)` builds one without delivering it.
 * - Scripts: `ackWith` answers sendWithAck (default: no acks), `reachable` says which endpoints
 *   answer probe/handshake and as whom, `connected` is what connectedPeers() reports.
 * - Raises: `presumeDead(pkiId)` and `switchIdentity(pkiId)` call the registered handlers.
 * - Wires: `onSend` / `onRespond` see each envelope leaving (a fake network forwards them, see
 *   test/gossip/fakenet.ts); `onAuthenticated` sees each remote the transport authenticated (the
 *   real transports register it in the identity store there).
 */
import type {
  AckResult,
  ConnectionInfo,
  ReceivedMessage,
  RemotePeer,
  Transport,
  Unsubscribe,
} from '../../src/core/link/types.js';
import { samePkiId, type PkiId } from '../../src/base/pkiid.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { openEnvelope } from '../../src/wire/gossip.js';

/** A peer known by name (a sim identity fits); its endpoint is `<name>:7051`. */
export interface NamedPeer {
  readonly pkiId: PkiId;
  readonly serialized: Uint8Array;
  readonly name: string;
}

/** Where a delivered message comes from. */
export type From = ConnectionInfo | NamedPeer | FakeTransport;

export interface Sent {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  readonly to: RemotePeer;
}

export interface Response {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  /** The connection the answered message came on. */
  readonly to: ConnectionInfo;
}

export interface AckCall {
  readonly message: GossipMessage;
  readonly timeoutMs: number;
  readonly minAck: number;
  readonly peers: readonly RemotePeer[];
}

export interface FakeTransportOptions {
  /** Default: 32 zero bytes. */
  readonly selfPkiId?: PkiId;
  /** Our endpoint as others see it (`conn`). Default 'self:7051'. */
  readonly endpoint?: string;
  /** Our serialized identity as others see it (`conn`). Default one byte. */
  readonly identity?: Uint8Array;
  /** The transport authenticated this remote: a handshake, or the connection of a delivered message. */
  readonly onAuthenticated?: (conn: ConnectionInfo) => void;
}

const NO_AUTH = { signedData: new Uint8Array(0), signature: new Uint8Array(0) };

/** The ConnectionInfo of a handshake with `p` (endpoint `<name>:7051` unless given). */
export function connInfo(p: NamedPeer, endpoint = `${p.name}:7051`): ConnectionInfo {
  return { pkiId: p.pkiId, identity: p.serialized, endpoint, auth: NO_AUTH };
}

function connOf(from: From): ConnectionInfo {
  if (from instanceof FakeTransport) return from.conn;
  if ('auth' in from) return from;
  return connInfo(from);
}

export class FakeTransport implements Transport {
  readonly selfPkiId: PkiId;
  readonly endpoint: string;
  readonly identity: Uint8Array;
  readonly sent: Sent[] = [];
  readonly responses: Response[] = [];
  readonly ackCalls: AckCall[] = [];
  readonly probed: RemotePeer[] = [];
  readonly handshakes: RemotePeer[] = [];
  readonly closed: RemotePeer[] = [];
  /** Endpoint -> who answers there: probe and handshake succeed, elsewhere they fail. */
  readonly reachable = new Map<string, ConnectionInfo | NamedPeer>();
  /** What connectedPeers() reports. */
  connected: PkiId[] = [];
  /** How sendWithAck answers (default: no acks at all). */
  ackWith: (call: AckCall) => AckResult[] | Promise<AckResult[]> = () => [];
  /** Sees every send() after it is recorded. */
  onSend?: (envelope: Envelope, message: GossipMessage, to: RemotePeer[]) => void;
  /** Sees every respond() after it is recorded. */
  onRespond?: (r: Response) => void;
  stopped = false;
  private readonly onAuthenticated?: (conn: ConnectionInfo) => void;
  private readonly subs = new Set<{ p: (m: ReceivedMessage) => boolean; h: (m: ReceivedMessage) => void }>();
  private readonly deadHandlers = new Set<(p: PkiId) => void>();
  private readonly switchHandlers = new Set<(p: PkiId) => void>();

  constructor(o: FakeTransportOptions = {}) {
    this.selfPkiId = o.selfPkiId ?? new Uint8Array(32);
    this.endpoint = o.endpoint ?? 'self:7051';
    this.identity = o.identity ?? new Uint8Array([1]);
    this.onAuthenticated = o.onAuthenticated;
  }

  /** This transport as the remote end of a connection sees it. */
  get conn(): ConnectionInfo {
    return { pkiId: this.selfPkiId, identity: this.identity, endpoint: this.endpoint, auth: NO_AUTH };
  }

  // --- Transport ---

  send(envelope: Envelope, ...peers: RemotePeer[]): void {
    const { message } = openEnvelope(envelope);
    for (const to of peers) this.sent.push({ envelope, message, to });
    this.onSend?.(envelope, message, peers);
  }

  async sendWithAck(
    message: GossipMessage,
    timeoutMs: number,
    minAck: number,
    peers: RemotePeer[],
  ): Promise<AckResult[]> {
    const call = { message, timeoutMs, minAck, peers };
    this.ackCalls.push(call);
    return this.ackWith(call);
  }

  async probe(peer: RemotePeer): Promise<void> {
    this.probed.push(peer);
    if (!this.reachable.has(peer.endpoint)) throw new Error('unreachable');
  }

  async handshake(peer: RemotePeer): Promise<ConnectionInfo> {
    this.handshakes.push(peer);
    const who = this.reachable.get(peer.endpoint);
    if (!who) throw new Error('connection refused');
    const conn = 'auth' in who ? who : connInfo(who, peer.endpoint);
    this.onAuthenticated?.(conn);
    return conn;
  }

  subscribe(p: (m: ReceivedMessage) => boolean, h: (m: ReceivedMessage) => void): Unsubscribe {
    const s = { p, h };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  onPresumedDead(h: (p: PkiId) => void): Unsubscribe {
    this.deadHandlers.add(h);
    return () => this.deadHandlers.delete(h);
  }

  onIdentitySwitch(h: (p: PkiId) => void): Unsubscribe {
    this.switchHandlers.add(h);
    return () => this.switchHandlers.delete(h);
  }

  closeConn(peer: RemotePeer): void {
    this.closed.push(peer);
  }

  connectedPeers(): PkiId[] {
    return [...this.connected];
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  // --- the test's side ---

  /** Subscriptions currently registered. */
  get subscribers(): number {
    return this.subs.size;
  }

  /** The ReceivedMessage `envelope` makes when it arrives from `from` (not delivered). */
  received(envelope: Envelope, from: From): ReceivedMessage {
    return this.receivedInto(envelope, from, []);
  }

  /**
   * Hand `envelope` to every matching subscriber as received from `from` on an authenticated
   * connection. Returns the envelopes responded to it: now, and later (the array fills as
   * asynchronous handlers respond).
   */
  deliver(envelope: Envelope, from: From): Envelope[] {
    const replies: Envelope[] = [];
    const m = this.receivedInto(envelope, from, replies);
    this.onAuthenticated?.(m.conn);
    for (const s of [...this.subs]) if (s.p(m)) s.h(m);
    return replies;
  }

  private receivedInto(envelope: Envelope, from: From, replies: Envelope[]): ReceivedMessage {
    const conn = connOf(from);
    return {
      envelope,
      message: openEnvelope(envelope).message,
      conn,
      respond: (e: Envelope) => {
        const r = { envelope: e, message: openEnvelope(e).message, to: conn };
        replies.push(e);
        this.responses.push(r);
        this.onRespond?.(r);
      },
      ack: () => {},
    };
  }

  /** Report `pkiId` presumed dead to the onPresumedDead handlers. */
  presumeDead(pkiId: PkiId): void {
    for (const h of [...this.deadHandlers]) h(pkiId);
  }

  /** Report an identity switch of `oldPkiId` to the onIdentitySwitch handlers. */
  switchIdentity(oldPkiId: PkiId): void {
    for (const h of [...this.switchHandlers]) h(oldPkiId);
  }

  /** Sends of one content kind, optionally only those to `to`. */
  ofKind(kind: GossipMessage['content']['case'], to?: { readonly pkiId: PkiId }): Sent[] {
    return this.sent.filter(
      (s) => s.message.content.case === kind && (!to || samePkiId(s.to.pkiId, to.pkiId)),
    );
  }
}
