/**
 * SimTransport: the comm layer (PROTOCOL.md §3) over the simulated network; implements the same
 * `Transport` as the gRPC one and runs the same pure handshake (src/comm/handshake.ts).
 *
 *   send(env, peers): per peer, the stored connection, else one shared dial per peer (dial 3 s,
 *     Ping 2 s, stream, handshake within 2 s); then a non-blocking enqueue (overflow: drop+count).
 *     While the dial runs at most sendBuffSize messages wait for it (beyond: overflow).
 *     A failed dial, or a write error, reports the peer presumed dead (once per failure).
 *   dial result: an expected PKI-ID that differs -> same org: accept + identity switch; else
 *     "authentication failure". Then the connection store's dedup rule (conn.ts).
 *   accept: handshake as responder; probe=true -> close after authenticating; else register.
 *   receive: acks complete sendWithAck waiters; other messages go to every matching subscriber.
 *   sendWithAck: fresh nonce from the node's Rng, unsigned, blocking enqueue, per-peer timeout,
 *     returns once minAck succeeded or every peer answered/timed out.
 *   crash (network hook): everything is dropped without a word; stop(): closes everything.
 */
import { create } from '@bufbuild/protobuf';
import { commConfig, type CommConfig } from '../comm/config.js';
import {
  HandshakeError,
  buildConnEstablish,
  verifyConnEstablish,
  type HandshakeResult,
  type HandshakeVerifier,
} from '../core/link/handshake.js';
import { type AckResult, type ConnectionInfo, type ReceivedMessage, type RemotePeer, type Transport, type Unsubscribe } from '../core/link/types.js';
import { pkiIdKey, type PkiId } from '../base/pkiid.js';
import { type Clock, type Rng } from '../base/time.js';
import { errorMessage } from '../base/errors.js';
import { parseSerializedIdentity } from '../identity/x509identity.js';
import type { Metrics } from '../base/metrics.js';
import {
  GossipMessageSchema,
  GossipMessage_Tag as Tag,
  type Envelope,
  type GossipMessage,
} from '../wire/gen/gossip/message_pb.js';
import { decodeEnvelope, encodeEnvelope, unsignedGossip } from '../wire/gossip.js';
import type { Signer } from '../wire/signer.js';
import { SimConn, SimConnStore, type SimConnCounters } from './conn.js';
import type { SimNetwork, SimSocket } from './network.js';
import { METRICS } from '../base/metric-table.js';

export interface SimTransportOptions {
  readonly network: SimNetwork;
  readonly endpoint: string;
  readonly self: { readonly pkiId: PkiId; readonly signer: Signer };
  /** Identity store Put + signature check (see trust.ts / node.ts). */
  readonly verifier: HandshakeVerifier;
  /** Stored identity of a PKI-ID (identity store Get), for the identity-switch org check. */
  readonly identityOf?: (pkiId: PkiId) => Uint8Array | undefined;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics: Metrics;
  readonly config?: Partial<CommConfig>;
}

interface Subscriber {
  readonly predicate: (m: ReceivedMessage) => boolean;
  readonly handler: (m: ReceivedMessage) => void;
}

interface PendingDial {
  readonly promise: Promise<SimConn>;
  waiting: number;
}

export class SimTransport implements Transport {
  readonly selfPkiId: PkiId;
  readonly endpoint: string;
  readonly config: CommConfig;
  private readonly net: SimNetwork;
  private readonly selfKey: string;
  private readonly store: SimConnStore;
  private readonly dials = new Map<string, PendingDial>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly deadHandlers = new Set<(p: PkiId) => void>();
  private readonly switchHandlers = new Set<(p: PkiId) => void>();
  private readonly ackWaiters = new Map<string, (error: string | undefined) => void>();
  private readonly counters: SimConnCounters;
  private readonly unlisten: () => void;
  private stopped = false;

  constructor(private readonly opts: SimTransportOptions) {
    this.net = opts.network;
    this.endpoint = opts.endpoint;
    this.selfPkiId = opts.self.pkiId;
    this.selfKey = pkiIdKey(opts.self.pkiId);
    this.config = commConfig(opts.config);
    this.store = new SimConnStore(this.selfKey, this.config.dedupWindowMs);
    const m = opts.metrics;
    this.counters = {
      sent: m.counter(METRICS.gossipCommMessagesSent),
      received: m.counter(METRICS.gossipCommMessagesReceived),
      overflow: m.counter(METRICS.gossipCommOverflowCount),
    };
    this.unlisten = this.net.listen(this.endpoint, (s) => void this.accept(s));
    this.net.onCrash(this.endpoint, () => this.crashed());
  }

  // ---- Transport --------------------------------------------------------------------------

  send(envelope: Envelope, ...peers: RemotePeer[]): void {
    if (this.stopped || peers.length === 0) return;
    const bytes = encodeEnvelope(envelope);
    for (const p of peers) {
      // connected: enqueue at once (what sendTo does without awaiting), no promise per peer
      const conn = p.pkiId && this.store.get(pkiIdKey(p.pkiId));
      if (conn && !conn.closed && !this.stopped) conn.send(bytes);
      else this.sendTo(p, bytes, false).catch(() => {});
    }
  }

  async sendWithAck(
    message: GossipMessage,
    timeoutMs: number,
    minAck: number,
    peers: RemotePeer[],
  ): Promise<AckResult[]> {
    if (peers.length === 0) return [];
    if (this.stopped)
      return peers.map((p) => ({ pkiId: p.pkiId ?? new Uint8Array(0), error: 'comm is stopping' }));
    const nonce = this.opts.rng.u64();
    const msg = create(GossipMessageSchema, { ...message, nonce });
    const bytes = encodeEnvelope(unsignedGossip(msg).envelope);
    return new Promise<AckResult[]>((resolve) => {
      const results: AckResult[] = [];
      let ok = 0;
      let resolved = false;
      const done = new Set<string>();
      // As Fabric's ackSendOperation: stop at the first result that makes ok >= minAck.
      const finish = (p: RemotePeer, key: string, error: string | undefined) => {
        if (resolved || done.has(key)) return;
        done.add(key);
        results.push(
          error === undefined ? { pkiId: p.pkiId! } : { pkiId: p.pkiId ?? new Uint8Array(0), error },
        );
        if (error === undefined) ok++;
        if (ok >= minAck || results.length === peers.length) {
          resolved = true;
          for (const k of waitKeys) this.ackWaiters.delete(k);
          for (const t of timers) this.opts.clock.clearTimer(t);
          resolve(results);
        }
      };
      const waitKeys: string[] = [];
      const timers = peers.map((p, i) => {
        const key = p.pkiId ? pkiIdKey(p.pkiId) : `#${i}`;
        const waitKey = `${nonce}/${key}`;
        waitKeys.push(waitKey);
        if (p.pkiId) this.ackWaiters.set(waitKey, (error) => finish(p, key, error));
        return this.opts.clock.setTimeout(() => finish(p, key, 'timed out waiting for ack'), timeoutMs);
      });
      peers.forEach((p, i) => {
        const key = p.pkiId ? pkiIdKey(p.pkiId) : `#${i}`;
        if (!p.pkiId) return finish(p, key, 'peer has no PKI-ID');
        this.sendTo(p, bytes, true).catch((e: unknown) => finish(p, key, errorMessage(e)));
      });
    });
  }

  async probe(peer: RemotePeer): Promise<void> {
    if (this.stopped) throw new Error('stopping');
    await this.net.dial(this.endpoint, peer.endpoint, this.config.dialTimeoutMs);
    await this.net.dial(this.endpoint, peer.endpoint, this.config.connTimeoutMs); // Ping
  }

  async handshake(peer: RemotePeer): Promise<ConnectionInfo> {
    if (this.stopped) throw new Error('stopping');
    await this.probe(peer);
    const socket = this.net.openStream(this.endpoint, peer.endpoint);
    try {
      const { result } = await this.runHandshake(socket, 'initiator', true);
      if (peer.pkiId && pkiIdKey(result.info.pkiId) !== pkiIdKey(peer.pkiId)) {
        throw new Error("PKI-ID of remote peer doesn't match expected PKI-ID");
      }
      return result.info;
    } finally {
      socket.close('probe done');
    }
  }

  subscribe(predicate: (m: ReceivedMessage) => boolean, handler: (m: ReceivedMessage) => void): Unsubscribe {
    const s = { predicate, handler };
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  onPresumedDead(handler: (pkiId: PkiId) => void): Unsubscribe {
    this.deadHandlers.add(handler);
    return () => this.deadHandlers.delete(handler);
  }

  onIdentitySwitch(handler: (oldPkiId: PkiId) => void): Unsubscribe {
    this.switchHandlers.add(handler);
    return () => this.switchHandlers.delete(handler);
  }

  closeConn(peer: RemotePeer): void {
    if (!peer.pkiId) return;
    this.store.get(pkiIdKey(peer.pkiId))?.close('closed by us');
  }

  connectedPeers(): PkiId[] {
    return this.store.all().map((c) => c.info.pkiId);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten();
    for (const c of this.store.all()) c.close('transport stopping');
    this.ackWaiters.clear();
    this.subscribers.clear();
  }

  /** Messages queued on the connection to `pkiId` (tests). */
  queued(pkiId: PkiId): number {
    return this.store.get(pkiIdKey(pkiId))?.queued ?? 0;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---- sending ----------------------------------------------------------------------------

  private async sendTo(peer: RemotePeer, bytes: Uint8Array, blocking: boolean): Promise<void> {
    const existing = peer.pkiId && this.store.get(pkiIdKey(peer.pkiId));
    const conn = existing && !existing.closed ? existing : await this.connection(peer, blocking);
    if (this.stopped) throw new Error('comm is stopping');
    if (blocking) return conn.sendBlocking(bytes);
    conn.send(bytes);
  }

  /** The one dial in flight to this peer (shared by every send waiting for it). */
  private connection(peer: RemotePeer, blocking: boolean): Promise<SimConn> {
    const key = peer.pkiId ? pkiIdKey(peer.pkiId) : `@${peer.endpoint}`;
    let pending = this.dials.get(key);
    if (!pending) {
      const promise = this.dial(peer).finally(() => this.dials.delete(key));
      pending = { promise, waiting: 0 };
      this.dials.set(key, pending);
      promise.catch((e: unknown) => {
        if (!this.stopped && peer.pkiId) this.presumedDead(peer.pkiId, `cannot connect: ${errorMessage(e)}`);
      });
    }
    if (!blocking && pending.waiting >= this.config.sendBuffSize) {
      this.counters.overflow.inc();
      return Promise.reject(new Error('too many messages waiting for the connection'));
    }
    pending.waiting++;
    return pending.promise;
  }

  private async dial(peer: RemotePeer): Promise<SimConn> {
    await this.probe(peer);
    if (this.stopped) throw new Error('comm is stopping');
    const socket = this.net.openStream(this.endpoint, peer.endpoint);
    let hs: { result: HandshakeResult; early: Uint8Array[] };
    try {
      hs = await this.runHandshake(socket, 'initiator', false);
    } catch (e) {
      socket.close('handshake failed');
      throw e;
    }
    const info = hs.result.info;
    if (this.stopped) {
      socket.close('comm is stopping');
      throw new Error('comm is stopping');
    }
    if (peer.pkiId && pkiIdKey(peer.pkiId) !== pkiIdKey(info.pkiId)) {
      const old = this.opts.identityOf?.(peer.pkiId);
      if (!old || orgOf(old) !== orgOf(info.identity)) {
        socket.close('authentication failure');
        throw new Error('authentication failure: remote endpoint claims to be a different peer');
      }
      for (const h of [...this.switchHandlers]) h(peer.pkiId);
    }
    return this.adopt(socket, 'out', info, hs.early);
  }

  private presumedDead(pkiId: PkiId, _why: string): void {
    this.opts.metrics.counter(METRICS.gossipCommPresumedDead).inc();
    this.store.get(pkiIdKey(pkiId))?.close('presumed dead');
    for (const h of [...this.deadHandlers]) h(pkiId);
  }

  // ---- handshake and connections ----------------------------------------------------------

  /** Send our ConnEstablish at once, read the first frame within connTimeout, verify it. */
  private runHandshake(
    socket: SimSocket,
    role: 'initiator' | 'responder',
    probe: boolean,
  ): Promise<{ result: HandshakeResult; early: Uint8Array[] }> {
    const clock = this.opts.clock;
    return new Promise((resolve, reject) => {
      let done = false;
      const early: Uint8Array[] = [];
      const fail = (e: HandshakeError) => {
        if (done) return;
        done = true;
        clock.clearTimer(timer);
        this.handshakeFailed(e.reason);
        reject(e);
      };
      const timer = clock.setTimeout(
        () => fail(new HandshakeError('TIMEOUT', `no ConnEstablish within ${this.config.connTimeoutMs} ms`)),
        this.config.connTimeoutMs,
      );
      socket.onClose = (why) =>
        fail(new HandshakeError('NOT_CONN', `stream closed before a ConnEstablish arrived: ${why}`));
      socket.onFrame = (bytes) => {
        if (done) return void early.push(bytes);
        try {
          const result = verifyConnEstablish(
            { envelope: decodeEnvelope(bytes), tlsEnabled: false, endpoint: socket.remote, role },
            this.opts.verifier,
          );
          done = true;
          clock.clearTimer(timer);
          resolve({ result, early });
        } catch (e) {
          fail(
            e instanceof HandshakeError
              ? e
              : new HandshakeError('NOT_CONN', `first message does not parse: ${errorMessage(e)}`),
          );
        }
      };
      const ours = encodeEnvelope(buildConnEstablish(this.opts.self, undefined, probe));
      socket.write(ours).catch(() => {});
    });
  }

  private handshakeFailed(reason: string): void {
    this.opts.metrics.counter(METRICS.gossipCommHandshakeFailures).inc({ reason });
  }

  private async accept(socket: SimSocket): Promise<void> {
    if (this.stopped) return socket.close('shutting down');
    let hs: { result: HandshakeResult; early: Uint8Array[] };
    try {
      hs = await this.runHandshake(socket, 'responder', false);
    } catch {
      socket.close('authentication failed');
      return;
    }
    if (hs.result.probe || this.stopped) {
      socket.close(hs.result.probe ? 'probed' : 'shutting down');
      return;
    }
    this.adopt(socket, 'in', hs.result.info, hs.early);
  }

  private adopt(
    socket: SimSocket,
    direction: 'in' | 'out',
    info: ConnectionInfo,
    early: Uint8Array[],
  ): SimConn {
    const conn = new SimConn(socket, direction, info, this.opts.clock.now(), this.config, this.counters, {
      onMessage: (c, envelope, message) => this.dispatch(c, envelope, message),
      onClosed: (c, _why, writeFailed) => {
        this.store.remove(c);
        if (writeFailed && !this.stopped) this.presumedDead(c.info.pkiId, 'write failed');
      },
      badInput: (reason) => this.opts.metrics.counter(METRICS.gossipCommBadInput).inc({ reason }),
    });
    const winner = this.store.register(conn, this.opts.clock.now());
    conn.start(early);
    return winner;
  }

  private dispatch(conn: SimConn, envelope: Envelope, message: GossipMessage): void {
    if (this.stopped) return;
    if (message.content.case === 'ack') {
      this.ackWaiters.get(`${message.nonce}/${conn.key}`)?.(message.content.value.error || undefined);
      return;
    }
    const received: ReceivedMessage = {
      envelope,
      message,
      conn: conn.info,
      respond: (env) => {
        conn.sendBlocking(encodeEnvelope(env)).catch(() => {});
      },
      ack: (error = '') => {
        const ack = unsignedGossip({
          nonce: message.nonce,
          tag: Tag.UNDEFINED,
          content: { case: 'ack', value: { error } },
        });
        conn.sendBlocking(encodeEnvelope(ack.envelope)).catch(() => {});
      },
    };
    for (const s of [...this.subscribers]) {
      try {
        if (s.predicate(received)) s.handler(received);
      } catch {
        // A subscriber's bug must not break delivery to the others.
      }
    }
  }

  /** The host crashed: this transport is gone; nothing is sent, nobody is told. */
  private crashed(): void {
    this.stopped = true;
    this.store.clear();
    this.subscribers.clear();
    this.deadHandlers.clear();
    this.switchHandlers.clear();
    this.ackWaiters.clear();
  }
}

function orgOf(identity: Uint8Array): string | undefined {
  try {
    return parseSerializedIdentity(identity).mspId;
  } catch {
    return undefined;
  }
}
