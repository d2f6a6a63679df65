/**
 * The gossip comm link (PROTOCOL.md §3), written once for both worlds: it implements the
 * Transport over a LinkWorld (stream.ts) that only opens and accepts streams of frames. The
 * real world (src/comm/transport.ts) gives it gRPC+TLS streams, the simulation
 * (src/sim/transport.ts) SimNetwork sockets; everything below is the same code in both.
 *
 * Algorithm:
 *   send(env, peers): encode once; per peer, its stored connection, else the one dial in flight
 *     to that peer (shared; at most sendBuffSize sends wait for it, beyond: overflow, counted);
 *     then a non-blocking enqueue (full queue: drop + count). A failed dial -> presumed dead.
 *   dial: world.open (connect, Ping, stream; aborted at stop) -> handshake as initiator
 *     (exchange.ts) -> the expected PKI-ID differs? same org as the identity stored for it:
 *     accept and tell the identity-switch subscribers; else HandshakeError IDENTITY_REJECTED.
 *     -> adopt.
 *   accept(stream): handshake as responder; probe=true -> end the stream; else adopt.
 *   adopt: a Connection (connection.ts) replays frames that came early, then the store's
 *     de-duplication rule (connstore.ts) keeps one connection per PKI-ID.
 *   received: an Ack resolves its sendWithAck waiter (ack.ts; none waiting: bad input
 *     'unexpected_ack'); anything else goes to every matching subscriber (demux.ts).
 *   sendWithAck: fresh nonce from the Rng, unsigned, blocking enqueue, one timer per peer;
 *     resolves at the first result giving minAck successes, or when every peer answered.
 *   probe = world.ping; handshake(peer) = a probe=true handshake, the stream then closed; an
 *     expected PKI-ID that differs -> IDENTITY_REJECTED.
 *   A write error (or oversized frame) closes the connection and reports presumed dead
 *     (presumed.ts: bounded, delivered on a microtask).
 *   Handshake failures count grapevine_gossip_comm_handshake_failures_total{reason}; counters.ts has the rest.
 *   Every refused handshake (inbound, outbound, and a dial that reached another identity than the
 *     one expected) goes to a bounded record (refused.ts: remote, reason, count, first/last time,
 *     certificate subject and expiry, claimed vs expected PKI-ID) and is logged at warn at most
 *     once a minute per remote and reason.
 *   stop (idempotent): abort every dial and handshake in progress (Stopper), fail every ack
 *     waiter, close every connection; world.stopAccepting; wait for work in progress at most
 *     stopGraceMs (world.settle decides whose time); close what appeared meanwhile; release.
 *   abandon (a simulated crash): everything is dropped without a word, nothing resolves.
 * No I/O: time through the Clock, randomness through the Rng, both required.
 */
import type { Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { AckRegistry, withNonce } from './ack.js';
import type { LinkConfig } from './config.js';
import { Connection, type BadInputReason, type ConnectionEnv, type Received } from './connection.js';
import { ConnStore } from './connstore.js';
import { CommCounters } from './counters.js';
import { Demux } from './demux.js';
import { exchangeHandshake, type EarlyInput, type Exchanged } from './exchange.js';
import { encodeFrame } from './frame.js';
import { HandshakeError, type HandshakeSelf, type HandshakeVerifier } from './handshake.js';
import { PresumedDead } from './presumed.js';
import { RefusedHandshakes, describeRefusal, type Refusal, type RefusedHandshake } from './refused.js';
import { Stopper } from './stopper.js';
import { DialError, stoppedError, type LinkStream, type LinkWorld } from './stream.js';
import { pkiIdKey, samePkiId, type PkiId } from '../../base/pkiid.js';
import type { Clock, Rng } from '../../base/time.js';
import type {
  AckResult,
  ConnectionInfo,
  ReceivedMessage,
  RemotePeer,
  Transport,
  Unsubscribe,
} from './types.js';

export interface LinkOptions {
  readonly self: HandshakeSelf;
  /** Identity store Put + signature check (the handshake's steps 3 and 5). */
  readonly verifier: HandshakeVerifier;
  /** Identity store Get: the identity stored for a PKI-ID (identity-switch org check). */
  readonly identityOf: (pkiId: PkiId) => Uint8Array | undefined;
  /** The org (MSP ID) of a serialized identity; undefined when unknown. */
  readonly orgOf: (identity: Uint8Array) => string | undefined;
  /** Our side runs TLS: the handshake binds the TLS certificate hash. */
  readonly tlsEnabled: boolean;
  readonly world: LinkWorld;
  readonly config: LinkConfig;
  /** How long a retired duplicate connection is still read from; 0 = closed at once. */
  readonly retireGraceMs: number;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics: Metrics;
  readonly logger?: Logger;
  /** Shared with the world's dialer, so a stop aborts its steps too; by default the link's own. */
  readonly stopper?: Stopper;
  /** Bounds of the record of refused handshakes (./refused.ts); its defaults otherwise. */
  readonly refused?: { readonly max?: number; readonly logEveryMs?: number };
}

export interface ConnectionSummary {
  readonly pkiId: PkiId;
  readonly direction: 'in' | 'out';
  readonly endpoint: string;
  readonly queued: number;
}

export class Link implements Transport {
  readonly selfPkiId: PkiId;
  readonly stopper: Stopper;
  private readonly world: LinkWorld;
  private readonly cfg: LinkConfig;
  private readonly clock: Clock;
  private readonly log?: Logger;
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
  private readonly env: ConnectionEnv;
  private readonly refused: RefusedHandshakes;
  private stopping?: Promise<void>;

  constructor(private readonly opts: LinkOptions) {
    this.selfPkiId = opts.self.pkiId;
    this.world = opts.world;
    this.cfg = opts.config;
    this.clock = opts.clock;
    this.log = opts.logger;
    this.stopper = opts.stopper ?? new Stopper();
    const counters = (this.counters = new CommCounters(opts.metrics));
    this.conns = new ConnStore(pkiIdKey(this.selfPkiId), this.cfg.dedupWindowMs, opts.retireGraceMs, (n) =>
      counters.setOpen(n),
    );
    this.demux = new Demux(opts.logger);
    this.acks = new AckRegistry(this.clock);
    this.dead = new PresumedDead(this.cfg.presumedDeadBuffer, opts.metrics);
    this.env = { clock: this.clock, defer: opts.world.defer };
    this.refused = new RefusedHandshakes(this.clock, opts.metrics, opts.refused);
  }

  get isStopped(): boolean {
    return this.stopping !== undefined;
  }

  // ---- Transport ----------------------------------------------------------------------------

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
    const nonce = this.opts.rng.u64();
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
    frame: Uint8Array,
    nonce: bigint,
    peer: RemotePeer,
    timeoutMs: number,
  ): Promise<AckResult> {
    const fallback = peer.pkiId ?? new Uint8Array(0);
    if (this.stopping) return { pkiId: fallback, error: 'comm stopped' };
    let conn: Connection;
    try {
      conn = await (this.connect(peer, false) ?? Promise.reject(stoppedError()));
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
    if (this.stopping) throw stoppedError();
    await this.track(this.stoppable(this.world.ping(peer.endpoint)));
  }

  async handshake(peer: RemotePeer): Promise<ConnectionInfo> {
    if (this.stopping) throw stoppedError();
    const { stream, result } = await this.track(
      this.countFailures(this.dial(peer.endpoint, true, peer.pkiId)),
    );
    const tlsCertDer = stream.remoteCertDer();
    stream.close('probe done');
    if (peer.pkiId && !samePkiId(peer.pkiId, result.info.pkiId)) {
      const e = new HandshakeError(
        'IDENTITY_REJECTED',
        `${peer.endpoint}: PKI-ID of remote peer does not match the expected PKI-ID`,
      );
      this.refuse(e, {
        direction: 'out',
        endpoint: peer.endpoint,
        expectedPkiId: peer.pkiId,
        claimedPkiId: result.info.pkiId,
        identity: result.info.identity,
        ...(tlsCertDer ? { tlsCertDer } : {}),
      });
      throw e;
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
  connections(): ConnectionSummary[] {
    return this.conns.all().map((c) => ({
      pkiId: c.info.pkiId,
      direction: c.direction,
      endpoint: c.info.endpoint,
      queued: c.queued,
    }));
  }

  /** Diagnostics: the record of refused handshakes, most recently refused first (./refused.ts). */
  refusedHandshakes(): RefusedHandshake[] {
    return this.refused.list();
  }

  /** Frames queued on the connection to `pkiId`. */
  queued(pkiId: PkiId): number {
    return this.conns.get(pkiIdKey(pkiId))?.queued ?? 0;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * The host is gone (a simulated crash): its sockets vanished with it. Nothing is sent, no
   * subscriber is told, no waiter resolves; the link is stopped.
   */
  abandon(): void {
    this.stopping ??= Promise.resolve();
    this.stopper.stop(stoppedError());
    this.acks.dropAll();
    this.conns.clear();
    this.live.clear();
    this.demux.clear();
    this.dead.stop();
    this.switchHandlers.clear();
  }

  // ---- inbound --------------------------------------------------------------------------

  /** A stream the world accepted (direction 'in'): authenticate it, then keep or end it. */
  accept(stream: LinkStream): void {
    if (this.stopping) {
      stream.close('comm stopped');
      return;
    }
    this.track(this.acceptStream(stream));
  }

  private async acceptStream(stream: LinkStream): Promise<void> {
    try {
      const { info, probe, early } = await this.countFailures(this.exchange(stream, false));
      stream.authenticated?.();
      if (probe) {
        if (this.log?.isLevelEnabled('debug')) this.log.debug({ endpoint: info.endpoint }, 'probed us');
        stream.close('probed');
        return;
      }
      this.adopt(stream, info, early);
    } catch (e) {
      const tlsCertDer = stream.remoteCertDer();
      stream.close('authentication failed');
      if (e instanceof HandshakeError)
        this.refuse(e, {
          direction: 'in',
          endpoint: stream.remoteEndpoint,
          ...(tlsCertDer ? { tlsCertDer } : {}),
        });
      if (this.log?.isLevelEnabled('debug'))
        this.log.debug(
          { endpoint: stream.remoteEndpoint, err: (e as Error).message },
          'inbound handshake failed',
        );
    }
  }

  // ---- internals ------------------------------------------------------------------------

  private async doStop(): Promise<void> {
    // Everything that waits on the network fails now, then everything open is closed.
    this.stopper.stop(stoppedError());
    this.acks.failAll('comm stopped');
    this.world.stopAccepting();
    for (const c of [...this.live]) c.close('comm stopped');
    const grace = this.cfg.stopGraceMs;
    const settled = await this.world.settle(this.inflight, grace);
    if (!settled) {
      this.log?.warn(
        { pending: this.inflight.size },
        `comm stop: work still pending after ${grace} ms; stopping anyway`,
      );
    }
    for (const c of [...this.live]) c.close('comm stopped');
    this.world.released();
    this.demux.clear();
    this.dead.stop();
  }

  /** `p`, unless the link stops first (then STOPPED at once; a stream that arrives later is closed). */
  private stoppable<T>(p: Promise<T>, late?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const forget = this.stopper.onStop((e) => {
        if (done) return;
        done = true;
        reject(e);
      });
      p.then(
        (v) => {
          forget();
          if (!done) {
            done = true;
            resolve(v);
          } else {
            late?.(v);
          }
        },
        (e: unknown) => {
          forget();
          if (!done) {
            done = true;
            reject(e as Error);
          }
        },
      );
    });
  }

  private exchange(stream: LinkStream, probe: boolean): Promise<Exchanged> {
    return exchangeHandshake(stream, {
      self: this.opts.self,
      tlsEnabled: this.opts.tlsEnabled,
      verifier: this.opts.verifier,
      clock: this.clock,
      timeoutMs: this.cfg.connTimeoutMs,
      probe,
      stopper: this.stopper,
    });
  }

  /**
   * world.open + handshake as initiator; the stream is closed when the handshake fails, and the
   * refusal recorded (`expected`: the PKI-ID dialled for).
   */
  private async dial(
    endpoint: string,
    probe: boolean,
    expected?: PkiId,
  ): Promise<{ stream: LinkStream; result: Exchanged }> {
    const stream = await this.stoppable(this.world.open(endpoint, probe), (s) => s.close('comm stopped'));
    try {
      return { stream, result: await this.exchange(stream, probe) };
    } catch (e) {
      const tlsCertDer = stream.remoteCertDer();
      stream.close('handshake failed');
      if (e instanceof HandshakeError)
        this.refuse(e, {
          direction: 'out',
          endpoint,
          ...(expected ? { expectedPkiId: expected } : {}),
          ...(tlsCertDer ? { tlsCertDer } : {}),
        });
      throw e;
    }
  }

  /**
   * Record a refused handshake (./refused.ts) and log it at warn (debug when the remote presented
   * no identity), at most once a minute per (remote, reason, claimed PKI-ID) with how many were not
   * logged: a peer retrying with an expired certificate does not flood the log.
   */
  private refuse(e: HandshakeError, r: Omit<Refusal, 'reason' | 'error'>): void {
    if (this.stopping) return;
    const remote = e.remote;
    const { log, suppressed, entry } = this.refused.record({
      ...r,
      reason: e.reason,
      error: e.message,
      ...(remote && !r.claimedPkiId ? { claimedPkiId: remote.pkiId } : {}),
      ...(remote && !r.identity ? { identity: remote.identity } : {}),
    });
    if (!log || !this.log) return;
    // a remote that presented no identity (a scanner, a flood: TIMEOUT, NOT_CONN) names nobody an
    // operator could act on: debug, so an attack leaves the default log quiet; its count is in /status
    const level = entry.cert || entry.claimedPkiId ? 'warn' : 'debug';
    this.log[level](
      {
        direction: entry.direction,
        endpoint: entry.endpoint,
        reason: entry.reason,
        ...(entry.cert
          ? { subject: entry.cert.subject, notAfter: new Date(entry.cert.notAfterMs).toISOString() }
          : {}),
        ...(entry.claimedPkiId ? { claimedPkiId: entry.claimedPkiId.slice(0, 16) } : {}),
        ...(entry.expectedPkiId ? { expectedPkiId: entry.expectedPkiId.slice(0, 16) } : {}),
        refused: entry.count,
        ...(suppressed > 0 ? { notLogged: suppressed } : {}),
      },
      `${describeRefusal(entry)}${suppressed > 0 ? ` (${suppressed} more since the last line)` : ''}; such lines are logged at most once a minute per remote and reason`,
    );
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
      if (dial.waiting >= this.cfg.sendBuffSize) {
        this.counters.conn.overflow.inc();
        return undefined;
      }
      dial.waiting++;
    }
    return dial.promise;
  }

  private async dialAndRegister(peer: RemotePeer): Promise<Connection> {
    let stream: LinkStream;
    let result: Exchanged;
    try {
      ({ stream, result } = await this.countFailures(this.dial(peer.endpoint, false, peer.pkiId)));
    } catch (e) {
      const appeared = peer.pkiId && this.conns.get(pkiIdKey(peer.pkiId));
      if (appeared) return appeared;
      if (this.log?.isLevelEnabled('debug'))
        this.log.debug({ endpoint: peer.endpoint, err: (e as Error).message }, 'dial failed');
      throw e;
    }
    const info = result.info;
    if (peer.pkiId && !samePkiId(peer.pkiId, info.pkiId)) {
      const old = this.opts.identityOf(peer.pkiId);
      const oldOrg = old && this.opts.orgOf(old);
      if (!oldOrg || oldOrg !== this.opts.orgOf(info.identity)) {
        const tlsCertDer = stream.remoteCertDer();
        stream.close('authentication failure');
        const e = new HandshakeError(
          'IDENTITY_REJECTED',
          `${peer.endpoint} claims to be a different peer than expected: authentication failure`,
        );
        this.refuse(e, {
          direction: 'out',
          endpoint: peer.endpoint,
          expectedPkiId: peer.pkiId,
          claimedPkiId: info.pkiId,
          identity: info.identity,
          ...(tlsCertDer ? { tlsCertDer } : {}),
        });
        throw e;
      }
      this.log?.info({ endpoint: peer.endpoint }, 'peer changed its PKI-ID');
      for (const h of [...this.switchHandlers]) h(peer.pkiId);
    }
    return this.adopt(stream, info, result.early);
  }

  private adopt(stream: LinkStream, info: ConnectionInfo, early: EarlyInput): Connection {
    if (this.stopping) {
      stream.close('comm stopped');
      throw stoppedError();
    }
    const conn = new Connection(stream, info, this.cfg, this.counters.conn, this.hooks, this.env);
    this.live.add(conn);
    conn.start(early);
    if (conn.closed) return conn;
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
      if (this.log?.isLevelEnabled('debug'))
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

export { DialError };
