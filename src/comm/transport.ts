/**
 * The real Transport (PROTOCOL.md §3) over @grpc/grpc-js: a gossip.Gossip server, a dialer,
 * one authenticated connection per PKI-ID, acks, demux, presumed-dead notifications.
 *
 *   send: per peer, use its connection or dial one (concurrent dials to a peer share one
 *     attempt; at most sendBuffSize sends wait for it), then enqueue without blocking.
 *     Dial failure or a write error -> presumed dead.
 *   inbound stream: handshake as responder; probe -> end the stream; else register it.
 *   received: acks resolve sendWithAck waiters; everything else goes to the subscribers.
 *   identity store purges close that peer's connection.
 *   stop (bounded): abort every dial, Ping and handshake in progress (Stopper), fail every ack
 *     waiter and blocked send, close every connection, channel, server session and socket; then
 *     wait at most stopGraceMs (real time) for work in progress to settle; release timers.
 */
import type * as grpc from '@grpc/grpc-js';
import { componentLogger, type Logger } from '../base/log.js';
import { Metrics } from '../base/metrics.js';
import { cryptoRng, realClock } from '../base/real-clock.js';
import { IdentityStore } from '../identity/store.js';
import type { Envelope, GossipMessage } from '../wire/gen/gossip/message_pb.js';
import { AckRegistry, withNonce } from './ack.js';
import { commConfig, type CommConfig } from './config.js';
import { Connection, type BadInputReason, type Received } from './connection.js';
import { CommCounters } from './counters.js';
import { ConnStore } from './connstore.js';
import { Demux } from './demux.js';
import { DialError, Dialer } from './dialer.js';
import { exchangeHandshake } from './exchange.js';
import { encodeFrame } from './frame.js';
import { HandshakeError, type HandshakeSelf, type HandshakeVerifier } from '../core/link/handshake.js';
import { GossipServer } from './server.js';
import { Stopper, settleWithin } from './stopper.js';
import type { GossipDuplex } from './stream.js';
import { ownLeaves, type CommTls } from './tls.js';
import { PresumedDead } from './presumed.js';
import { type CommCrypto, type CommIdentity, type AckResult, type ConnectionInfo, type ReceivedMessage, type RemotePeer, type Transport, type Unsubscribe } from '../core/link/types.js';
import { pkiIdKey, type PkiId } from '../base/pkiid.js';
import { type Clock, type Rng } from '../base/time.js';

export interface GrpcTransportOptions {
  readonly identity: CommIdentity;
  readonly crypto: CommCrypto;
  /** Omit for plaintext (Fabric with peer.tls.enabled=false). */
  readonly tls?: CommTls;
  /** host:port to listen on (port 0 = any free port). */
  readonly listenAddress: string;
  readonly config?: Partial<CommConfig>;
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Share the node's identity store; by default the transport owns one. */
  readonly identityStore?: IdentityStore;
  /**
   * More gRPC services served on the gossip server's port (same TLS, client certificate request
   * and limits), registered before it binds; e.g. Grapevine's catch-up stream. A Fabric peer
   * dialled for one of them answers UNIMPLEMENTED, as this server does for anything else.
   */
  readonly services?: readonly ExtraGrpcService[];
}

export interface ExtraGrpcService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export class GrpcTransport implements Transport {
  readonly selfPkiId: PkiId;
  readonly config: CommConfig;
  readonly metrics: Metrics;
  readonly identityStore: IdentityStore;
  /** host:port actually bound. */
  endpoint = '';
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly log: Logger;
  private readonly server: GossipServer;
  private readonly dialer: Dialer;
  private readonly conns: ConnStore;
  /** Every connection not yet closed, stored or retired. */
  private readonly live = new Set<Connection>();
  private readonly dials = new Map<string, { promise: Promise<Connection>; waiting: number }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly demux: Demux;
  private readonly acks: AckRegistry;
  private readonly dead: PresumedDead;
  private readonly switchHandlers = new Set<(old: PkiId) => void>();
  private readonly counters: CommCounters;
  private readonly verifier: HandshakeVerifier;
  private readonly ownsStore: boolean;
  private readonly serverLeaf?: Uint8Array;
  private readonly unsubscribePurge: Unsubscribe;
  private readonly self: HandshakeSelf;
  private readonly stopper = new Stopper();
  private stopping?: Promise<void>;

  private constructor(private readonly opts: GrpcTransportOptions) {
    this.config = commConfig(opts.config);
    this.clock = opts.clock ?? realClock;
    this.rng = opts.rng ?? cryptoRng;
    this.metrics = opts.metrics ?? new Metrics();
    this.selfPkiId = opts.identity.pkiId;
    const selfKey = pkiIdKey(this.selfPkiId);
    this.log = componentLogger('comm', { peer: selfKey.slice(0, 16) }, opts.logger);
    this.ownsStore = !opts.identityStore;
    this.identityStore =
      opts.identityStore ??
      new IdentityStore({
        self: { pkiId: this.selfPkiId, identity: opts.identity.signer.serializedIdentity },
        validator: opts.crypto,
        clock: this.clock,
        metrics: this.metrics,
      });
    this.unsubscribePurge = this.identityStore.onPurge((pkiId) =>
      this.conns.get(pkiIdKey(pkiId))?.close('identity purged'),
    );
    const m = this.metrics;
    const counters = (this.counters = new CommCounters(m));
    this.conns = new ConnStore(selfKey, this.config.dedupWindowMs, this.config.dedupWindowMs, (n) =>
      counters.setOpen(n),
    );
    this.demux = new Demux(this.log);
    this.acks = new AckRegistry(this.clock);
    this.dead = new PresumedDead(this.config.presumedDeadBuffer, m);
    this.verifier = {
      putIdentity: (pkiId, identity) => this.identityStore.put(pkiId, identity),
      verifySignature: (identity, sig, data) => opts.crypto.verifySignature(identity, sig, data),
    };
    const leaves = ownLeaves(opts.tls);
    this.serverLeaf = leaves.server;
    const self = (this.self = { pkiId: this.selfPkiId, signer: opts.identity.signer });
    this.dialer = new Dialer({
      cfg: this.config,
      tls: opts.tls,
      self,
      ownLeafDer: leaves.client,
      verifier: this.verifier,
      clock: this.clock,
      stopper: this.stopper,
    });
    this.server = new GossipServer(this.config, opts.tls, (duplex) => this.track(this.accept(duplex)));
    for (const s of opts.services ?? []) this.server.addService(s.definition, s.implementation);
  }

  /** Create the transport and start listening. */
  static async start(opts: GrpcTransportOptions): Promise<GrpcTransport> {
    const t = new GrpcTransport(opts);
    try {
      const port = await t.server.listen(opts.listenAddress);
      t.endpoint = `${opts.listenAddress.slice(0, opts.listenAddress.lastIndexOf(':'))}:${port}`;
    } catch (e) {
      await t.stop();
      throw e;
    }
    return t;
  }

  send(envelope: Envelope, ...peers: RemotePeer[]): void {
    if (this.stopping || peers.length === 0) return;
    const frame = encodeFrame(envelope);
    for (const peer of peers) {
      const conn = peer.pkiId && this.conns.get(pkiIdKey(peer.pkiId));
      if (conn) {
        conn.send(frame);
        continue;
      }
      const dial = this.connect(peer, true);
      if (!dial) continue;
      this.track(
        dial.then(
          (c) => c.send(frame),
          () => undefined,
        ),
      );
    }
  }

  async sendWithAck(
    message: GossipMessage,
    timeoutMs: number,
    minAck: number,
    peers: RemotePeer[],
  ): Promise<AckResult[]> {
    if (peers.length === 0) return [];
    const nonce = this.rng.u64();
    const frame = encodeFrame(withNonce(message, nonce));
    const results: AckResult[] = [];
    return new Promise((resolve) => {
      let successes = 0;
      let done = false;
      const record = (r: AckResult) => {
        if (done) return;
        results.push(r);
        if (!r.error) successes++;
        if (successes >= minAck || results.length === peers.length) {
          done = true;
          resolve(results.slice());
        }
      };
      for (const peer of peers) this.track(this.sendAndWaitAck(frame, nonce, peer, timeoutMs).then(record));
    });
  }

  private async sendAndWaitAck(
    frame: Buffer,
    nonce: bigint,
    peer: RemotePeer,
    timeoutMs: number,
  ): Promise<AckResult> {
    const fallback = peer.pkiId ?? new Uint8Array(0);
    if (this.stopping) return { pkiId: fallback, error: 'comm stopped' };
    let conn: Connection;
    try {
      conn = await (this.connect(peer, false) ?? Promise.reject(new Error('comm stopped')));
    } catch (e) {
      return { pkiId: fallback, error: `cannot connect: ${(e as Error).message}` };
    }
    const waiter = this.acks.expect(nonce, conn.key, timeoutMs);
    conn.sendWaiting(frame, (e) => {
      if (!e) return;
      waiter.cancel(`send failed: ${e.message}`);
      this.dead.report(conn.info.pkiId);
    });
    const error = await waiter.promise;
    return error === undefined ? { pkiId: conn.info.pkiId } : { pkiId: conn.info.pkiId, error };
  }

  async probe(peer: RemotePeer): Promise<void> {
    if (this.stopping) throw new DialError('STOPPED', 'comm is stopping');
    await this.track(this.dialer.probe(peer.endpoint));
  }

  async handshake(peer: RemotePeer): Promise<ConnectionInfo> {
    if (this.stopping) throw new DialError('STOPPED', 'comm is stopping');
    const { duplex, result } = await this.track(this.countFailures(this.dialer.dial(peer.endpoint, true)));
    duplex.close();
    if (peer.pkiId && !Buffer.from(peer.pkiId).equals(Buffer.from(result.info.pkiId))) {
      throw new HandshakeError(
        'IDENTITY_REJECTED',
        `${peer.endpoint}: PKI-ID of remote peer does not match the expected PKI-ID`,
      );
    }
    return result.info;
  }

  subscribe(predicate: (m: ReceivedMessage) => boolean, handler: (m: ReceivedMessage) => void): Unsubscribe {
    return this.demux.subscribe(predicate, handler);
  }

  onPresumedDead(handler: (pkiId: PkiId) => void): Unsubscribe {
    return this.dead.subscribe(handler);
  }

  onIdentitySwitch(handler: (oldPkiId: PkiId) => void): Unsubscribe {
    this.switchHandlers.add(handler);
    return () => this.switchHandlers.delete(handler);
  }

  closeConn(peer: RemotePeer): void {
    if (peer.pkiId) this.conns.get(pkiIdKey(peer.pkiId))?.close('closed locally');
  }

  connectedPeers(): PkiId[] {
    return this.conns.all().map((c) => c.info.pkiId);
  }

  /** Diagnostics: open connections with their direction. */
  connections(): { pkiId: PkiId; direction: 'in' | 'out'; endpoint: string; queued: number }[] {
    return this.conns.all().map((c) => ({
      pkiId: c.info.pkiId,
      direction: c.direction,
      endpoint: c.info.endpoint,
      queued: c.queued,
    }));
  }

  /** Diagnostics (tests): accepted sockets and dialed gRPC clients not yet closed; stop() leaves none. */
  openHandles(): { sockets: number; clients: number } {
    return { sockets: this.server.openSockets, clients: this.dialer.openClients };
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // Everything that waits on the network fails now, then everything open is closed.
    this.stopper.stop(new DialError('STOPPED', 'comm is stopping'));
    this.acks.failAll('comm stopped');
    this.dialer.closeAll();
    for (const c of [...this.live]) c.close('comm stopped');
    const grace = this.config.stopGraceMs;
    const [, settled] = await Promise.all([this.server.stop(grace), settleWithin(this.inflight, grace)]);
    if (!settled) {
      this.log.warn(
        { pending: this.inflight.size },
        `comm stop: work still pending after ${grace} ms; stopping anyway`,
      );
    }
    for (const c of [...this.live]) c.close('comm stopped');
    this.dialer.closeAll();
    this.demux.clear();
    this.dead.stop();
    this.unsubscribePurge();
    if (this.ownsStore) this.identityStore.stop();
  }

  /** Obtain a connection to `peer`, sharing one dial per peer; undefined when stopping or too many wait. */
  private connect(peer: RemotePeer, bounded: boolean): Promise<Connection> | undefined {
    if (this.stopping) return undefined;
    const key = peer.pkiId ? pkiIdKey(peer.pkiId) : `endpoint:${peer.endpoint}`;
    const existing = peer.pkiId && this.conns.get(key);
    if (existing) return Promise.resolve(existing);
    let dial = this.dials.get(key);
    if (!dial) {
      const promise = this.dialAndRegister(peer).finally(() => this.dials.delete(key));
      dial = { promise, waiting: 0 };
      this.dials.set(key, dial);
      promise.catch(() => peer.pkiId && this.dead.report(peer.pkiId));
    }
    if (bounded) {
      if (dial.waiting >= this.config.sendBuffSize) {
        this.counters.conn.overflow.inc();
        return undefined;
      }
      dial.waiting++;
    }
    return dial.promise;
  }

  private async dialAndRegister(peer: RemotePeer): Promise<Connection> {
    let duplex: GossipDuplex;
    let info: ConnectionInfo;
    try {
      ({
        duplex,
        result: { info },
      } = await this.countFailures(this.dialer.dial(peer.endpoint, false)));
    } catch (e) {
      const appeared = peer.pkiId && this.conns.get(pkiIdKey(peer.pkiId));
      if (appeared) return appeared;
      if (this.log.isLevelEnabled('debug'))
        this.log.debug({ endpoint: peer.endpoint, err: (e as Error).message }, 'dial failed');
      throw e;
    }
    if (peer.pkiId && !Buffer.from(peer.pkiId).equals(Buffer.from(info.pkiId))) {
      const old = this.identityStore.get(peer.pkiId);
      const oldOrg = old && this.opts.crypto.orgOf(old);
      if (!oldOrg || oldOrg !== this.opts.crypto.orgOf(info.identity)) {
        duplex.close();
        throw new HandshakeError(
          'IDENTITY_REJECTED',
          `${peer.endpoint} claims to be a different peer than expected: authentication failure`,
        );
      }
      this.log.info({ endpoint: peer.endpoint }, 'peer changed its PKI-ID');
      for (const h of [...this.switchHandlers]) h(peer.pkiId);
    }
    return this.adopt(duplex, info);
  }

  private async accept(duplex: GossipDuplex): Promise<void> {
    try {
      const { info, probe } = await this.countFailures(
        exchangeHandshake(duplex, {
          self: this.self,
          ownLeafDer: this.serverLeaf,
          tlsEnabled: this.opts.tls !== undefined,
          verifier: this.verifier,
          clock: this.clock,
          timeoutMs: this.config.connTimeoutMs,
          probe: false,
          stopper: this.stopper,
        }),
      );
      if (probe) {
        if (this.log.isLevelEnabled('debug')) this.log.debug({ endpoint: info.endpoint }, 'probed us');
        duplex.close();
        return;
      }
      this.adopt(duplex, info);
    } catch (e) {
      duplex.close();
      if (this.log.isLevelEnabled('debug'))
        this.log.debug({ endpoint: duplex.peer(), err: (e as Error).message }, 'inbound handshake failed');
    }
  }

  private adopt(duplex: GossipDuplex, info: ConnectionInfo): Connection {
    if (this.stopping) {
      duplex.close();
      throw new DialError('STOPPED', 'comm is stopping');
    }
    const conn = new Connection(duplex, info, this.config, this.counters.conn, this.hooks, this.clock.now());
    this.live.add(conn);
    conn.start();
    return this.conns.register(conn, this.clock.now());
  }

  private readonly hooks = {
    onMessage: (m: Received): void => {
      if (m.message.content.case === 'ack') {
        if (!this.acks.deliver(m.message, m.via.key)) this.badInput('unexpected_ack');
        return;
      }
      this.demux.dispatch(m);
    },
    onClosed: (conn: Connection, why: string, writeFailed: boolean): void => {
      this.live.delete(conn);
      this.conns.remove(conn);
      if (this.log.isLevelEnabled('debug'))
        this.log.debug({ peer: conn.key.slice(0, 16), why }, 'connection closed');
      if (writeFailed) this.dead.report(conn.info.pkiId);
    },
    badInput: (reason: BadInputReason): void => this.badInput(reason),
  };

  private badInput(reason: BadInputReason | 'unexpected_ack'): void {
    this.counters.badInput(reason);
  }

  private async countFailures<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof HandshakeError) this.counters.handshakeFailure(e.reason);
      throw e;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const forget = () => this.inflight.delete(p);
    p.then(forget, forget);
    return p;
  }
}
