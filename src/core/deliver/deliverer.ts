/**
 * The per-channel deliverer (Fabric blocksprovider.Deliverer @v2.4.9, PROTOCOL.md §8): pulls
 * blocks from a random orderer endpoint and hands them to the state layer and to gossip.
 *
 * loop until stopped:
 *   if failureCounter > 0: step = backoff.next(); if the total backoff exceeded
 *     reconnectTotalTimeThreshold: an elected leader stops and calls onYield(); a static leader
 *     warns. Sleep step.sleepMs (stop interrupts it).
 *   H = ledger height; envelope = signed SeekInfo Specified(H)..Specified(2^64-1), BLOCK_UNTIL_READY;
 *   endpoint = uniformly random; connect and send the envelope (failure: count it, loop);
 *   receive until: the endpoint is refreshed (disconnect, no failure), stop, the stream ends
 *   (failure), or a response fails processing (failure). Every processed block resets the counter.
 * processing: a status (any, SUCCESS included) is a failure; a block must decode, have a header,
 *   pass verifyBlock(channel, number, block), then addPayload(number, bytes) (blocking, the
 *   state layer), then gossip(number, bytes) unless blockGossipEnabled is false. The bytes are
 *   the block exactly as the orderer sent it.
 * No I/O here: the connector, clock and rng are injected (see grpc.ts for the real connector).
 * Metrics (metrics.ts): every block handed on, the endpoint connected to, and why each session
 *   ended (stop excepted).
 */
import type { Logger } from 'pino';
import type { Clock, Rng, TimerHandle } from '../../base/time.js';
import { errorMessage } from '../../base/errors.js';
import { silentLogger } from '../../base/log.js';
import { decodeBlock } from '../../wire/block.js';
import { Status, type Block } from '../../wire/gen/common/common_pb.js';
import { ReconnectBackoff } from './backoff.js';
import type { ConnectionSource, Endpoint } from './endpoints.js';
import { parseDeliverResponse } from '../../wire/deliver-frames.js';
import type { DelivererMetrics, DisconnectReason } from './metrics.js';

/** One open Deliver stream. */
export interface DeliverStream {
  /** The next DeliverResponse frame; undefined once the stream ended (error or close). */
  recv(): Promise<Uint8Array | undefined>;
  /** Cancel the stream and release the connection; idempotent. */
  close(): void;
  /** Frames received and not read yet (a backlog: the reader is behind the stream). */
  queued?(): number;
}

export interface DeliverConnector {
  /** Dial `endpoint`, open Deliver and send `seekEnvelope` (a serialized common.Envelope). */
  connect(endpoint: Endpoint, seekEnvelope: Uint8Array): Promise<DeliverStream>;
}

export interface DelivererOptions {
  readonly channelId: string;
  readonly clock: Clock;
  readonly rng: Pick<Rng, 'int'>;
  readonly logger?: Logger;
  readonly source: ConnectionSource;
  readonly connector: DeliverConnector;
  /** Current ledger height (>= 1 for a joined channel). */
  ledgerHeight(): bigint | Promise<bigint>;
  /** The signed SeekInfo envelope for a seek from `height` (see seekEnvelope in client.ts). */
  seekEnvelope(height: bigint): Uint8Array;
  /** VerifyBlock (§2.8); throws on failure. */
  verifyBlock(seqNum: bigint, block: Block): void;
  /** Hand the block to the state layer; may block (backpressure); rejects on failure. */
  addPayload(seqNum: bigint, blockBytes: Uint8Array): Promise<void>;
  /** Gossip the block (DataMessage) to the channel. */
  gossip?(seqNum: bigint, blockBytes: Uint8Array): void;
  readonly blockGossipEnabled: boolean;
  /** Elected leader: give up after reconnectTotalTimeThreshold and call onYield(). */
  readonly yieldLeadership: boolean;
  onYield?(): void;
  readonly maxRetryDelayMs: number;
  readonly maxRetryDurationMs: number;
  readonly metrics?: DelivererMetrics;
}

/** Why processing a response failed. */
interface Failure {
  readonly reason: DisconnectReason;
  readonly message: string;
}

export interface DelivererStats {
  blocksReceived: number;
  connects: number;
  failures: number;
  refreshes: number;
}

const STOPPED = Symbol('stopped');

export class Deliverer {
  readonly backoff: ReconnectBackoff;
  readonly stats: DelivererStats = { blocksReceived: 0, connects: 0, failures: 0, refreshes: 0 };
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly stopListeners = new Set<() => void>();
  private readonly log: Logger;
  private current: DeliverStream | undefined;
  /** Set when the deliverer gave up (yielded); the loop has ended. */
  yielded = false;

  constructor(private readonly opts: DelivererOptions) {
    this.backoff = new ReconnectBackoff(opts.maxRetryDelayMs, opts.maxRetryDurationMs);
    this.log = opts.logger ?? silentLogger;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.running ??= this.loop().catch((e: unknown) => {
      this.log.error({ err: errorMessage(e) }, 'deliverer failed');
    });
  }

  /** Stop at once (closes the stream, interrupts a sleep); resolves when the loop ended. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const l of [...this.stopListeners]) l();
      this.current?.close();
    }
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    const { opts, log } = this;
    while (!this.stopped) {
      const step = this.backoff.next();
      if (step) {
        if (step.exceeded) {
          if (opts.yieldLeadership) {
            log.warn(
              { totalMs: this.backoff.totalMs, limitMs: opts.maxRetryDurationMs },
              'attempted to retry block delivery for more than peer.deliveryclient.reconnectTotalTimeThreshold, giving up',
            );
            this.yielded = true;
            this.stopped = true;
            opts.onYield?.();
            return;
          }
          log.warn({}, 'peer is a static leader, ignoring peer.deliveryclient.reconnectTotalTimeThreshold');
        }
        log.warn({ sleepMs: step.sleepMs }, 'disconnected from ordering service; reconnecting after backoff');
        await this.sleep(step.sleepMs);
        if (this.stopped) return;
      }
      await this.session();
    }
  }

  /** One connection: connect, then receive until refresh, stop or failure. */
  private async session(): Promise<void> {
    const { opts, log } = this;
    let endpoint: Endpoint;
    let stream: DeliverStream;
    let height: bigint;
    try {
      height = await opts.ledgerHeight();
      const envelope = opts.seekEnvelope(height);
      endpoint = opts.source.randomEndpoint(opts.rng);
      stream = await opts.connector.connect(endpoint, envelope);
    } catch (e) {
      log.warn({ err: errorMessage(e) }, 'could not connect to ordering service');
      opts.metrics?.disconnected(undefined, 'connect_failed');
      this.fail();
      return;
    }
    if (this.stopped) {
      stream.close();
      return;
    }
    this.current = stream;
    this.stats.connects++;
    opts.metrics?.connected(endpoint.address);
    let ended: DisconnectReason | 'stopped' = 'stopped';
    log.info(
      { orderer: endpoint.address, nextBlock: String(height) },
      'pulling next blocks from ordering service',
    );
    let refreshed = false;
    const unsubscribe = endpoint.onRefresh(() => {
      refreshed = true;
      stream.close();
    });
    try {
      for (;;) {
        const frame = await stream.recv();
        if (this.stopped) return;
        if (refreshed) {
          ended = 'endpoints_refreshed';
          this.stats.refreshes++;
          log.info(
            { orderer: endpoint.address },
            'ordering endpoints refreshed; reconnecting with the updated endpoints',
          );
          return;
        }
        if (frame === undefined) {
          ended = 'stream_ended';
          log.warn({ orderer: endpoint.address }, 'orderer hung up without sending status');
          this.fail();
          return;
        }
        const err = await this.process(frame);
        if (this.stopped) return;
        if (err !== undefined) {
          ended = err.reason;
          log.warn(
            { orderer: endpoint.address, err: err.message },
            'got error while attempting to receive blocks',
          );
          this.fail();
          return;
        }
        this.backoff.success();
      }
    } finally {
      unsubscribe();
      this.current = undefined;
      stream.close();
      opts.metrics?.disconnected(endpoint.address, this.stopped ? 'stopped' : ended);
    }
  }

  /** Process one DeliverResponse; returns why it failed, or undefined. */
  private async process(frame: Uint8Array): Promise<Failure | undefined> {
    const { opts } = this;
    const bad = (reason: DisconnectReason, message: string): Failure => ({ reason, message });
    let res;
    try {
      res = parseDeliverResponse(frame);
    } catch (e) {
      return bad('bad_block', errorMessage(e));
    }
    if (res.case === 'status') {
      return bad(
        'bad_status',
        res.status === Status.SUCCESS
          ? 'received success for a seek that should never complete'
          : `received bad status ${Status[res.status] ?? res.status} from orderer`,
      );
    }
    if (res.case !== 'block') return bad('bad_block', 'unknown message type');
    let block: Block;
    try {
      block = decodeBlock(res.block);
    } catch (e) {
      return bad('bad_block', `block from orderer could not be decoded: ${errorMessage(e)}`);
    }
    if (!block.header) return bad('bad_block', 'block from orderer has no header');
    const seq = block.header.number;
    try {
      opts.verifyBlock(seq, block);
    } catch (e) {
      return bad('verify_failed', `block from orderer could not be verified: ${errorMessage(e)}`);
    }
    const bytes = res.block;
    try {
      // stop() does not wait for a state layer that is blocking
      if ((await this.interruptible(opts.addPayload(seq, bytes))) === STOPPED) return undefined;
    } catch (e) {
      return bad('add_payload_failed', `could not add block as payload: ${errorMessage(e)}`);
    }
    this.stats.blocksReceived++;
    opts.metrics?.blockReceived();
    if (opts.blockGossipEnabled) opts.gossip?.(seq, bytes);
    return undefined;
  }

  private fail(): void {
    this.stats.failures++;
    this.backoff.failure();
  }

  /** Resolves with p's value, or with STOPPED as soon as stop() is called (no listener left behind). */
  private interruptible<T>(p: Promise<T>): Promise<T | typeof STOPPED> {
    if (this.stopped) return Promise.resolve(STOPPED);
    return new Promise((resolve, reject) => {
      const onStop = (): void => resolve(STOPPED);
      this.stopListeners.add(onStop);
      p.then(
        (v) => {
          this.stopListeners.delete(onStop);
          resolve(v);
        },
        (e: unknown) => {
          this.stopListeners.delete(onStop);
          reject(e);
        },
      );
    });
  }

  private async sleep(ms: number): Promise<void> {
    const { clock } = this.opts;
    let handle: TimerHandle | undefined;
    const timer = new Promise<void>((resolve) => (handle = clock.setTimeout(resolve, ms)));
    try {
      await this.interruptible(timer);
    } finally {
      if (handle) clock.clearTimer(handle);
    }
  }
}
