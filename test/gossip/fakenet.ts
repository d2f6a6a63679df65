/**
 * A tiny in-memory network of fake Transports (test/helpers/fake-transport.ts) for pull tests:
 * every message is encoded, delivered after a per-message latency on the shared VirtualClock and
 * decoded again at the receiver, which gets a ReceivedMessage whose `respond` goes back the same
 * way. Every send is logged.
 */
import type { PkiId } from '../../src/base/pkiid.js';
import type { VirtualClock } from '../../src/sim/index.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { decodeEnvelope, encodeEnvelope, openEnvelope } from '../../src/wire/gossip.js';
import { FakeTransport } from '../helpers/fake-transport.js';

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
    const t = new FakeTransport({ selfPkiId: pkiId, endpoint, identity });
    t.onSend = (envelope, _message, peers) => {
      for (const p of peers) this.transmit(t, p.endpoint, envelope);
    };
    t.onRespond = (r) => this.transmit(t, r.to.endpoint, r.envelope);
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
        to.deliver(decodeEnvelope(bytes), from);
      },
      this.latency(from.endpoint, toEndpoint, message),
    );
  }
}

/** A deterministic 32-byte PKI-ID for test node `n`. */
export function testPkiId(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}
