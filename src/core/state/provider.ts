/**
 * The per-channel state provider (PROTOCOL.md §9, §10.2 step 4): the payload buffer, the commit
 * loop, anti-entropy (with fast catch-up first when configured), and serving RemoteStateRequests.
 *
 *   start(): onCommitted(ledger height) (StateInfo publishes it), commit loop, and when
 *     state.enabled: subscribe to state messages of this channel, serve requests, run
 *     anti-entropy; with a catch-up client, anti-entropy runs as well (catch-up only, unless
 *     enabled).
 *   addPayload(seq, bytes): orderer blocks (already verified by the deliver client), blocking
 *     unless nonBlockingCommitMode. acceptGossipBlock(seq, bytes): gossiped blocks (already
 *     verified by the channel), non-blocking; one refused as too far ahead pokes anti-entropy
 *     (at most once per responseTimeout).
 *   state messages: authorised (messages.ts) or dropped 'unauthorized'; requests -> serve.ts,
 *     responses -> antientropy.ts.
 *   Counters: grapevine_gossip_state_dropped_total{channel,reason}; gauges gossip_state_height,
 *   gossip_payload_buffer_size; histogram gossip_state_commit_duration (seconds).
 *   stop(): idempotent; timers, subscription, waiters and the commit loop released.
 */
import type { ReceivedMessage, Transport, Unsubscribe } from '../link/types.js';
import type { Clock, Rng, TimerHandle } from '../../base/time.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import { componentLogger, type Logger } from '../../base/log.js';
import type { Counter } from 'prom-client';
import { Metrics } from '../../base/metrics.js';
import { decodeBlock } from '../../wire/block.js';
import { channelName } from '../../wire/gossip.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import { AntiEntropy } from './antientropy.js';
import { PayloadBuffer, type BufferedPayload, type PushResult } from './buffer.js';
import { CatchupRunner } from './catchup/runner.js';
import { CommitLoop } from './commit.js';
import { FABRIC_STATE_DEFAULTS, type StateConfig } from './config.js';
import { StateError, type StateDropReason } from './errors.js';
import { isStateMessage, stateMessageRefusal } from './messages.js';
import { StateRequestServer } from './serve.js';
import type {
  CatchupSource,
  CatchupVerifierFactory,
  CatchupVerifierPool,
  ChannelView,
  PayloadSource,
  StateCrypto,
  StateLedger,
  StatePeer,
} from './types.js';
import { METRICS } from '../../base/metric-table.js';

export interface StateProviderOptions {
  readonly channel: string;
  readonly ledger: StateLedger;
  readonly crypto: StateCrypto;
  readonly transport: Transport;
  readonly view: ChannelView;
  readonly clock: Clock;
  readonly rng: Rng;
  /** Resolved (stateConfig(partial) fills defaults). Default FABRIC_STATE_DEFAULTS. */
  readonly config?: StateConfig;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Called with the ledger height at start and after every commit (node.updateLedgerHeight). */
  readonly onCommitted?: (height: bigint) => void;
  /** The commit loop stopped on a ledger failure (it waits for ledger.recover() when there is one). */
  readonly onFatal?: (err: unknown) => void;
  /** The ledger recovered and the commit loop runs again from `height`. */
  readonly onRecovered?: (height: bigint) => void;
  /** A block is next in order and verified, its append issued (not yet durable). */
  readonly onOrdered?: (seqNum: bigint, bytes: Uint8Array) => void;
  /** Refused appends voided what onOrdered offered from `height` on. */
  readonly onRewound?: (height: bigint) => void;
  /** Fast catch-up towards Grapevine peers (catchup/). */
  readonly catchup?: CatchupSource;
  /** Endpoint serving catch-up for a peer (default: its gossip endpoint). */
  readonly catchupEndpointOf?: (peer: StatePeer) => string;
  /**
   * Opens the pool that verifies catch-up and stream blocks off this thread (a peer passes
   * src/service/verify's workerVerifierPool). Without it they are verified inline.
   */
  readonly catchupVerifier?: CatchupVerifierFactory;
}

/** Verifier workers unused this long are stopped (they start again on the next backlog). */
const POOL_IDLE_MS = 30_000;

export class StateProvider {
  readonly channel: string;
  readonly config: StateConfig;
  readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly buffer: PayloadBuffer;
  private readonly commit: CommitLoop;
  private readonly antiEntropy: AntiEntropy;
  private readonly server: StateRequestServer;
  private readonly catchup?: CatchupRunner;
  private pool?: CatchupVerifierPool;
  private poolUsedAt = 0;
  private poolFailedAt = -Infinity;
  private poolTimer?: TimerHandle;
  private signatureChecks?: Counter<string>;
  private unsubscribe?: Unsubscribe;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private stopping?: Promise<void>;
  private lastPoke = -Infinity;
  /** Why the commit loop is stopped, since when (ms); undefined while it runs. */
  private failure: { readonly reason: string; readonly since: number } | undefined;
  private readonly dropped;
  /** committedUpTo: verifications waiting until every block before theirs is committed. */
  private heightWaiters: { height: bigint; wake: () => void }[] = [];

  constructor(private readonly o: StateProviderOptions) {
    this.channel = o.channel;
    this.config = o.config ?? FABRIC_STATE_DEFAULTS;
    this.metrics = o.metrics ?? new Metrics();
    this.log = componentLogger('state', { channel: o.channel }, o.logger);
    const m = this.metrics;
    const channel = o.channel;
    this.dropped = m.counter(METRICS.grapevineGossipStateDroppedTotal);
    const height = m.gauge(METRICS.gossipStateHeight);
    const bufferSize = m.gauge(METRICS.gossipPayloadBufferSize);
    const duration = m.histogram(METRICS.gossipStateCommitDuration);
    const committed = m.counter(METRICS.grapevineStateCommittedTotal);
    const stopped = m.gauge(METRICS.grapevineStateCommitStopped);
    const recoveries = m.counter(METRICS.grapevineLedgerRecoveriesTotal);
    stopped.set({ channel }, 0);
    this.buffer = new PayloadBuffer(o.ledger.height(), this.config.blockBufferSize, (n) =>
      bufferSize.set({ channel }, n),
    );
    height.set({ channel }, Number(o.ledger.height()));
    this.commit = new CommitLoop({
      buffer: this.buffer,
      ledger: o.ledger,
      clock: o.clock,
      logger: this.log,
      maxInFlight: this.config.maxCommitsInFlight,
      maxBytesInFlight: this.config.maxCommitBytesInFlight,
      observeDuration: (s) => duration.observe({ channel }, s),
      onCommitted: (h, p) => {
        height.set({ channel }, Number(h));
        committed.inc({ channel, source: p.source });
        // one line per block at debug (Fabric logs "Committed block [n]" at info in kvledger):
        // when each block became durable, to the millisecond (bench/streams-failover.ts reads it)
        this.log.debug({ block: Number(h - 1n), source: p.source }, 'committed block');
        this.notifyHeight(h);
        this.releaseHeightWaiters(h);
      },
      onFatal: (e) => {
        this.failure = { reason: errorMessage(e), since: o.clock.now() };
        stopped.set({ channel }, 1);
        o.onFatal?.(e);
      },
      onRecovered: (h) => {
        this.failure = undefined;
        stopped.set({ channel }, 0);
        recoveries.inc({ channel });
        o.onRecovered?.(h);
      },
      ...(o.onOrdered ? { onIssued: (p: BufferedPayload) => o.onOrdered!(p.seqNum, p.bytes) } : {}),
      ...(o.onRewound ? { onRewound: o.onRewound } : {}),
      drop: (r, d) => this.drop(r, d),
    });
    const verify = (seq: bigint, bytes: Uint8Array) => this.verify(seq, bytes, 'state');
    const add = (p: BufferedPayload) => this.add(p, true);
    if (o.catchup) {
      const outcomes = m.counter(METRICS.grapevineCatchupStreamsTotal);
      const blocks = m.counter(METRICS.grapevineCatchupBlocksTotal);
      this.catchup = new CatchupRunner({
        channel,
        client: o.catchup,
        clock: o.clock,
        rng: o.rng,
        config: this.config.catchup,
        logger: this.log,
        height: () => this.missingFrom(),
        verify: (seq, bytes) => this.verifyOffThread(seq, bytes, 'catchup'),
        // (catch-up runs when far behind: the first block starts the workers)
        verifyAhead: () => this.verifyAhead(),
        add,
        drop: (r, d) => this.drop(r, d),
        endpointOf: o.catchupEndpointOf,
        count: (outcome, n) => {
          outcomes.inc({ channel, outcome });
          blocks.inc({ channel }, n);
        },
      });
    }
    const requests = m.counter(METRICS.grapevineGossipStateRequestsSentTotal);
    const catchup = this.catchup;
    this.antiEntropy = new AntiEntropy({
      channel,
      transport: o.transport,
      view: o.view,
      clock: o.clock,
      rng: o.rng,
      config: this.config,
      logger: this.log,
      height: () => this.missingFrom(),
      verify,
      add,
      catchup: catchup ? (_from, max, peers) => catchup.run(max, peers) : undefined,
      drop: (r, d, msg) => this.drop(r, d, msg),
      requested: () => requests.inc({ channel }),
    });
    const served = m.counter(METRICS.grapevineGossipStateBlocksServedTotal);
    this.server = new StateRequestServer({
      channel,
      ledger: o.ledger,
      batchSize: this.config.batchSize,
      channelSize: this.config.channelSize,
      logger: this.log,
      drop: (r, d, msg) => this.drop(r, d, msg),
      served: (n) => served.inc({ channel }, n),
    });
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.notifyHeight(this.o.ledger.height());
    this.commit.start();
    if (this.o.catchupVerifier) {
      // the workers run while there is a backlog to verify, closed after POOL_IDLE_MS idle; a
      // starting peer is usually behind, so they load now, while membership forms (a peer that
      // turns out up to date lets them go after POOL_IDLE_MS)
      this.poolTimer = this.o.clock.setInterval(() => this.closeIdlePool(), POOL_IDLE_MS / 2);
      this.openPool();
    }
    if (this.config.enabled) {
      this.unsubscribe = this.o.transport.subscribe(
        (m) => isStateMessage(m) && channelName(m.message) === this.channel,
        (m) => this.onStateMessage(m),
      );
    }
    if (this.config.enabled || (this.catchup && this.config.catchup.enabled)) this.antiEntropy.start();
  }

  /** Starts the verifier workers (if any) and resolves once they run; never rejects. */
  async verifierReady(): Promise<void> {
    await this.openPool()?.ready.catch(() => undefined);
  }

  /**
   * The verifier workers, started at start-up and again on need (a catch-up, a stream with a
   * backlog): a peer that keeps up verifies its live blocks inline and holds no worker thread. One that failed to
   * start is not tried again for POOL_IDLE_MS.
   */
  private openPool(): CatchupVerifierPool | undefined {
    const cv = this.o.catchupVerifier;
    if (this.pool || !cv || this.state !== 'running') return this.pool;
    if (this.o.clock.now() - this.poolFailedAt < POOL_IDLE_MS) return undefined;
    this.signatureChecks ??= this.metrics.counter(METRICS.grapevineCatchupSignatureChecksTotal);
    const pool = cv({
      channel: this.channel,
      workers: this.config.catchup.verifyWorkers,
      maxInFlight: this.config.catchup.maxVerifyInFlight,
      allSignatures: this.config.catchup.verifyAllSignatures,
      onBatch: (_blocks, checks) => this.signatureChecks?.inc({ channel: this.channel }, checks),
    });
    this.pool = pool;
    this.poolUsedAt = this.o.clock.now();
    pool.ready.catch((e: unknown) => {
      this.log.warn({ err: errorMessage(e) }, 'block verifier workers did not start; verifying inline');
      this.poolFailedAt = this.o.clock.now();
      if (this.pool === pool) this.pool = undefined;
      void pool.close();
    });
    return pool;
  }

  private closeIdlePool(): void {
    const pool = this.pool;
    if (!pool || pool.pending > 0 || this.o.clock.now() - this.poolUsedAt < POOL_IDLE_MS) return;
    this.pool = undefined;
    void pool.close();
  }

  /** Run an anti-entropy round now (tests; start-up of a peer known to be behind). */
  syncNow(): Promise<void> {
    return this.state === 'running' ? this.antiEntropy.poke() : Promise.resolve();
  }

  /** Orderer blocks (§10.3 AddPayload): verified by the caller; blocking unless nonBlockingCommitMode. */
  addPayload(seqNum: bigint, bytes: Uint8Array): Promise<PushResult> {
    return this.addVerified({ seqNum, bytes, source: 'orderer' });
  }

  /** A block from gossip push or pull, already verified by the channel layer: non-blocking. */
  acceptGossipBlock(seqNum: bigint, bytes: Uint8Array, block?: Block): PushResult {
    if (this.state === 'stopped') return 'stopped';
    const r = this.buffer.tryPush({ seqNum, bytes, block, source: 'gossip' });
    if (r !== 'added' && r !== 'stopped') this.drop(r, `gossiped block ${seqNum} (next ${this.buffer.next})`);
    if (r === 'too_far_ahead' && this.state === 'running') this.pokeSoon();
    return r;
  }

  /** Why the commit loop is stopped on a ledger failure, and since when (clock ms); undefined: it runs. */
  commitFailure(): { readonly reason: string; readonly since: number } | undefined {
    return this.failure;
  }

  /** The ledger height (committed blocks). */
  height(): bigint {
    return this.o.ledger.height();
  }

  /** The next block the buffer waits for (ledger height plus any popped but not yet committed). */
  get next(): bigint {
    return this.buffer.next;
  }

  get bufferSize(): number {
    return this.buffer.size;
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.state = 'stopped';
    this.unsubscribe?.();
    if (this.poolTimer) this.o.clock.clearTimer(this.poolTimer);
    this.releaseHeightWaiters(-1n);
    this.stopping = (async () => {
      this.buffer.close();
      await Promise.all([this.antiEntropy.stop(), this.server.stop(), this.commit.stop()]);
      await this.pool?.close();
    })();
    return this.stopping;
  }

  private async add(p: BufferedPayload, blocking: boolean): Promise<PushResult> {
    if (this.state === 'stopped') return 'stopped';
    const r = blocking ? await this.buffer.pushBlocking(p) : this.buffer.tryPush(p);
    if (r !== 'added' && r !== 'stopped')
      this.drop(r, `${p.source} block ${p.seqNum} (next ${this.buffer.next})`);
    return r;
  }

  private verify(seq: bigint, bytes: Uint8Array, source: PayloadSource): BufferedPayload {
    let block: Block;
    try {
      block = decodeBlock(bytes);
    } catch (e) {
      throw new StateError('bad_block', `block ${seq} does not decode: ${errorMessage(e)}`, { cause: e });
    }
    try {
      this.o.crypto.verifyBlock(this.channel, seq, block);
    } catch (e) {
      const code = e instanceof GrapevineError ? `${e.code}: ` : '';
      throw new StateError('bad_block', `block ${seq} fails verification: ${code}${errorMessage(e)}`, {
        cause: e,
      });
    }
    return { seqNum: seq, bytes, block, source };
  }

  /**
   * Stream blocks (core/stream): verified like catch-up blocks (verifyOffThread), then added
   * with addVerified in stream order.
   */
  verifyStreamed(seq: bigint, bytes: Uint8Array, backlog = 0): Promise<BufferedPayload> {
    // a live block (nothing waits behind it) is verified inline: one signature, no thread hop,
    // and it does not keep idle workers alive
    return backlog > 0
      ? this.verifyOffThread(seq, bytes, 'stream')
      : Promise.resolve().then(() => this.verify(seq, bytes, 'stream'));
  }

  /** Blocks a pipelined source may have in verification ahead of the one it adds (0: none). */
  verifyAhead(): number {
    return this.pool && this.pool.size > 0 ? this.config.catchup.maxVerifyInFlight : 0;
  }

  /** A verified block (from the orderer, or a stream's by verifyStreamed): blocking (flow control) unless nonBlockingCommitMode. */
  addVerified(p: BufferedPayload): Promise<PushResult> {
    return this.add(p, !this.config.nonBlockingCommitMode);
  }

  /**
   * Catch-up and stream blocks: in the worker pool once it runs (starting it when asked), else (or
   * when its workers die) inline. A block the workers refuse is judged again inline once every block before it
   * is committed: it may have been verified ahead of a config block that changes the orderer's
   * keys or policy (the workers used the config committed when its verification started), and
   * must then be judged by the config it follows. Callers take results in order, so the blocks
   * before it are already in the buffer and the wait ends.
   */
  private async verifyOffThread(
    seq: bigint,
    bytes: Uint8Array,
    source: PayloadSource,
  ): Promise<BufferedPayload> {
    const pool = this.openPool();
    if (pool) this.poolUsedAt = this.o.clock.now();
    // until a worker runs this thread verifies (a worker takes a while to load its code)
    if (!pool || pool.size === 0) return this.verify(seq, bytes, source);
    try {
      const v = await pool.verify(seq, bytes);
      return { seqNum: seq, bytes: v.bytes, facts: v.facts, source };
    } catch (e) {
      // the workers died (or did not start): this thread verifies
      if (e instanceof StateError && e.code === 'CATCHUP_FAILED') return this.verify(seq, bytes, source);
      if (!(e instanceof StateError && e.code === 'bad_block')) throw e;
      if (!(await this.committedUpTo(seq))) throw e;
      return this.verify(seq, bytes, source); // the pool copies, our bytes are intact
    }
  }

  /** Resolves true once the ledger holds every block below `height`, false if we stop first. */
  private committedUpTo(height: bigint): Promise<boolean> {
    if (this.state === 'stopped') return Promise.resolve(false);
    if (this.o.ledger.height() >= height) return Promise.resolve(true);
    return new Promise((resolve) =>
      this.heightWaiters.push({ height, wake: () => resolve(this.state !== 'stopped') }),
    );
  }

  private releaseHeightWaiters(h: bigint): void {
    if (this.heightWaiters.length === 0) return;
    const waiting = this.heightWaiters;
    this.heightWaiters = [];
    for (const w of waiting) {
      if (w.height <= h || this.state === 'stopped') w.wake();
      else this.heightWaiters.push(w);
    }
  }

  private onStateMessage(m: ReceivedMessage): void {
    if (this.state !== 'running') return;
    const refusal = stateMessageRefusal(this.o.crypto, this.channel, m);
    if (refusal) return this.drop('unauthorized', refusal, m);
    if (m.message.content.case === 'stateRequest') this.server.handle(m);
    else this.antiEntropy.handleResponse(m);
  }

  private pokeSoon(): void {
    if (!this.config.enabled && !(this.catchup && this.config.catchup.enabled)) return;
    const now = this.o.clock.now();
    if (now - this.lastPoke < this.config.responseTimeoutMs) return;
    this.lastPoke = now;
    void this.antiEntropy.poke();
  }

  /**
   * The first block neither committed, taken by the commit loop nor waiting in the buffer: where
   * anti-entropy and catch-up continue (buffer.next alone would ask again for the blocks a
   * stream just added that the commit loop has not popped yet). The buffer holds at most
   * 2 x blockBufferSize blocks, so the walk is short.
   */
  private missingFrom(): bigint {
    let n = this.buffer.next;
    while (this.buffer.has(n)) n++;
    return n;
  }

  private notifyHeight(h: bigint): void {
    try {
      this.o.onCommitted?.(h);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'onCommitted handler threw');
    }
  }

  private drop(reason: StateDropReason, detail: string, m?: ReceivedMessage): void {
    this.dropped.inc({ channel: this.channel, reason });
    this.log.debug(
      { reason, from: m ? pkiIdKey(m.conn.pkiId).slice(0, 16) : undefined, detail },
      'state input dropped',
    );
  }
}
