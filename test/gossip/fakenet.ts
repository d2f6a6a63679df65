/**
 * A tiny in-memory Transport for pull tests: every message is encoded, delivered after a
 * per-message latency on the shared VirtualClock and decoded again at the receiver, which gets
 * a ReceivedMessage whose `respond` goes back the same way. Every send is logged.
 */
import type { AckResult, ConnectionInfo, ReceivedMessage, RemotePeer, Transport, Unsubscribe } from '../../src/core/link/types.js';
import type { PkiId } from '../../src/base/pkiid.js';
import type { VirtualClock } from '../../src/sim/index.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { decodeEnvelope, encodeEnvelope, openEnvelope } from '../../src/wire/gossip.js';

export interface Sent {
  readonly from: string;
  readonly to: string;
  readonly at: number;
  readonly envelope: Envelope;
  readonly message: GossipMessage;
}

export type Latency = (from: string, to: string, msg: GossipMessage) => number;

export class FakeNet {
  readonly nodes = new Map<string, FakeTransport>();
  readonly log: Sent[] = [];
  latency: Latency = () => 1;
  /** Return false to lose a message. */
  deliverIf: (s: Sent) => boolean = () => true;

  constructor(readonly clock: VirtualClock) {}

  node(endpoint: string, pkiId: PkiId, identity: Uint8Array = new Uint8Array([1])): FakeTransport {
    const t = new FakeTransport(this, endpoint, pkiId, identity);
    this.nodes.set(endpoint, t);
    return t;
  }

  /** Messages of one content case, optionally between two endpoints. */
  sent(kind: GossipMessage['content']['case'], from?: string, to?: string): Sent[] {
    return this.log.filter(
      (s) => s.message.content.case === kind && (!from || s.from === from) && (!to || s.to === to),
    );
  }

  transmit(from: FakeTransport, toEndpoint: string, envelope: Envelope): void {
    const bytes = encodeEnvelope(envelope);
    const { message } = openEnvelope(envelope);
    const entry: Sent = { from: from.endpoint, to: toEndpoint, at: this.clock.now(), envelope, message };
    this.log.push(entry);
    if (!this.deliverIf(entry)) return;
    this.clock.setTimeout(
      () => {
        const to = this.nodes.get(toEndpoint);
        if (!to || to.stopped) return;
        const env = decodeEnvelope(bytes);
        to.receive(env, openEnvelope(env).message, from);
      },
      this.latency(from.endpoint, toEndpoint, message),
    );
  }
}

export class FakeTransport implements Transport {
  stopped = false;
  private readonly subs = new Set<{ p: (m: ReceivedMessage) => boolean; h: (m: ReceivedMessage) => void }>();

  constructor(
    private readonly net: FakeNet,
    readonly endpoint: string,
    readonly selfPkiId: PkiId,
    readonly identity: Uint8Array,
  ) {}

  get conn(): ConnectionInfo {
    return {
      pkiId: this.selfPkiId,
      identity: this.identity,
      endpoint: this.endpoint,
      auth: { signedData: new Uint8Array(0), signature: new Uint8Array(0) },
    };
  }

  send(envelope: Envelope, ...peers: RemotePeer[]): void {
    for (const p of peers) this.net.transmit(this, p.endpoint, envelope);
  }

  /** Build the ReceivedMessage `from` would hand us for `envelope` (for injecting messages). */
  received(envelope: Envelope, from: FakeTransport): ReceivedMessage {
    const message = openEnvelope(envelope).message;
    return {
      envelope,
      message,
      conn: from.conn,
      respond: (env: Envelope) => this.net.transmit(this, from.endpoint, env),
      ack: () => undefined,
    };
  }

  receive(envelope: Envelope, message: GossipMessage, from: FakeTransport): void {
    const m: ReceivedMessage = {
      envelope,
      message,
      conn: from.conn,
      respond: (env: Envelope) => this.net.transmit(this, from.endpoint, env),
      ack: () => undefined,
    };
    for (const s of [...this.subs]) if (s.p(m)) s.h(m);
  }

  subscribe(p: (m: ReceivedMessage) => boolean, h: (m: ReceivedMessage) => void): Unsubscribe {
    const s = { p, h };
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  get subscribers(): number {
    return this.subs.size;
  }

  sendWithAck(): Promise<AckResult[]> {
    throw new Error('not used');
  }
  probe(): Promise<void> {
    throw new Error('not used');
  }
  handshake(): Promise<ConnectionInfo> {
    throw new Error('not used');
  }
  onPresumedDead(): Unsubscribe {
    return () => undefined;
  }
  onIdentitySwitch(): Unsubscribe {
    return () => undefined;
  }
  closeConn(): void {}
  connectedPeers(): PkiId[] {
    return [];
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

/** A deterministic 32-byte PKI-ID for test node `n`. */
export function testPkiId(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}
