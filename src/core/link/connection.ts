/**
 * One authenticated gossip connection (PROTOCOL.md §3.5, §3.6), in both worlds: a LinkStream
 * after the handshake, with a bounded send queue drained by one writer and a bounded receive
 * queue.
 *
 *   send(frame): enqueue without blocking; the writer writes while the stream accepts and waits
 *     for its drain otherwise; a full queue (sendBuffSize) drops the frame and counts an
 *     overflow; the connection stays up. A frame over maxSendMsgSize, or a write that throws, is
 *     a write error: the connection closes and the peer is presumed dead.
 *   sendWaiting(frame, done) / sendBlocking(frame): wait for room (respond, sendWithAck); at
 *     most maxBlockedSends wait; a close rejects every waiter at once.
 *   reader: each frame is size-checked and decoded once (envelope, then GossipMessage); bytes
 *     that are not an Envelope, or a payload that is not a GossipMessage, close the connection
 *     (Fabric does the same); a message with no known content is dropped. Decoded messages go to
 *     a queue of recvBuffSize handed to the transport on the next turn of the event loop; a full
 *     queue pauses reading (back-pressure).
 *   A stream error or end closes the connection; a write error also means "presumed dead".
 * Hot path: no closure, promise or copy per message; metrics are added once per batch.
 */
import type { Counter } from 'prom-client';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { ackEnvelope } from './ack.js';
import type { LinkConfig } from './config.js';
import type { EarlyInput } from './exchange.js';
import { encodeFrame } from './frame.js';
import { readInboundFrame, type BadInputReason } from './inbound.js';
import type { LinkSink, LinkStream } from './stream.js';
import { pkiIdKey } from '../../base/pkiid.js';
import type { Clock, TimerHandle } from '../../base/time.js';
import type { ConnectionInfo, ReceivedMessage } from './types.js';

export interface ConnectionHooks {
  onMessage(m: Received): void;
  onClosed(conn: Connection, why: string, writeFailed: boolean): void;
  badInput(reason: BadInputReason): void;
}

export type { BadInputReason };

export interface ConnectionCounters {
  readonly sent: Counter<string>;
  readonly received: Counter<string>;
  readonly overflow: Counter<string>;
}

export class ConnectionClosedError extends Error {
  readonly code = 'CONN_CLOSED';
}

/** What a connection needs of its world: time (retire grace) and a deferred run (receive batches). */
export interface ConnectionEnv {
  readonly clock: Clock;
  readonly defer: (fn: () => void) => void;
}

/** A send waiting for room; `done` learns the outcome (an error when it was never queued). */
interface Waiter {
  readonly frame: Uint8Array;
  readonly done?: (error?: Error) => void;
}

/** A received message; respond/ack are methods (no closures per message) writing to its connection. */
export class Received implements ReceivedMessage {
  readonly conn: ConnectionInfo;
  readonly #via: Connection;

  constructor(
    readonly envelope: Envelope,
    readonly message: GossipMessage,
    via: Connection,
  ) {
    this.conn = via.info;
    this.#via = via;
  }

  /** The connection it arrived on (acks are matched per connection). */
  get via(): Connection {
    return this.#via;
  }

  respond(envelope: Envelope): void {
    this.#via.sendWaiting(encodeFrame(envelope));
  }

  ack(error?: string): void {
    this.respond(ackEnvelope(this.message.nonce, error));
  }
}

let nextConnId = 1;
const EMPTY_FRAME = new Uint8Array(0);

export class Connection {
  readonly id = nextConnId++;
  readonly key: string;
  readonly direction: 'in' | 'out';
  readonly establishedAt: number;
  private queue: Uint8Array[] = [];
  private head = 0;
  private readonly waiters: Waiter[] = [];
  private writeBlocked = false;
  private recvQueue: Received[] = [];
  private recvSpare: Received[] = [];
  /** Messages received (or sent) and not yet added to the counters. */
  private unreported = 0;
  private drainScheduled = false;
  private paused = false;
  private closedFlag = false;
  private retired = false;
  private halfClosed = false;
  private retireTimer?: TimerHandle;

  constructor(
    private readonly stream: LinkStream,
    readonly info: ConnectionInfo,
    private readonly cfg: LinkConfig,
    private readonly counters: ConnectionCounters,
    private readonly hooks: ConnectionHooks,
    private readonly env: ConnectionEnv,
  ) {
    this.key = pkiIdKey(info.pkiId);
    this.direction = stream.direction;
    this.establishedAt = env.clock.now();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Frames waiting in the send queue (not yet handed to the stream). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Take over the stream: replay what arrived after the handshake frame, then read on (the
   * stream was paused after the handshake frame).
   */
  start(early?: EarlyInput): void {
    this.stream.attach(this.sink);
    if (early) {
      for (const f of early.frames) this.onData(f);
      if (early.closed !== undefined) this.close(early.closed);
    }
    if (!this.closedFlag) this.stream.resume();
  }

  /**
   * No new sends; what is queued is still written, then a dialled stream is half-closed; frames
   * keep being read until the remote ends the stream, or `graceMs` passes. Used for the loser of
   * a duplicate connection, so nothing either side already sent on it is lost.
   */
  retire(graceMs: number): void {
    if (this.closedFlag || this.retired) return;
    if (graceMs <= 0) return this.close('retired duplicate connection');
    this.retired = true;
    this.retireTimer = this.env.clock.setTimeout(() => this.close('retired duplicate connection'), graceMs);
    this.maybeHalfClose();
  }

  private maybeHalfClose(): void {
    if (!this.retired || this.halfClosed || this.closedFlag || this.queued > 0 || this.waiters.length > 0)
      return;
    if (this.direction !== 'out') return; // the server end waits for the client's half-close, then ends
    this.halfClosed = true;
    try {
      this.stream.end();
    } catch {
      this.close('half-close failed');
    }
  }

  /** Non-blocking enqueue; false when the queue was full and the frame was dropped. */
  send(frame: Uint8Array): boolean {
    if (this.closedFlag || this.retired) return false;
    if (this.queued >= this.cfg.sendBuffSize) {
      this.counters.overflow.inc();
      return false;
    }
    this.queue.push(frame);
    this.pump();
    return true;
  }

  /**
   * Enqueue, waiting for room when the queue is full. `done` is called once: without an error
   * when the frame was queued, with a ConnectionClosedError when the connection closed first or
   * too many sends already wait (then the frame is dropped and counted as an overflow).
   */
  sendWaiting(frame: Uint8Array, done?: (error?: Error) => void): void {
    if (this.closedFlag || this.retired) {
      done?.(new ConnectionClosedError('connection closed'));
      return;
    }
    if (this.queued < this.cfg.sendBuffSize && this.waiters.length === 0) {
      this.queue.push(frame);
      this.pump();
      done?.();
      return;
    }
    if (this.waiters.length >= this.cfg.maxBlockedSends) {
      this.counters.overflow.inc();
      done?.(new ConnectionClosedError('too many blocked sends on this connection'));
      return;
    }
    this.waiters.push({ frame, done });
  }

  /** sendWaiting as a promise: resolves once queued, rejects when the connection closes first. */
  sendBlocking(frame: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.sendWaiting(frame, (e) => (e ? reject(e) : resolve())));
  }

  close(why = 'closed', writeFailed = false): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.retireTimer) this.env.clock.clearTimer(this.retireTimer);
    this.retireTimer = undefined;
    this.queue = [];
    this.head = 0;
    this.recvQueue.length = 0;
    this.reportReceived();
    const err = new ConnectionClosedError(`connection closed: ${why}`);
    for (const w of this.waiters.splice(0)) w.done?.(err);
    this.stream.close(why);
    this.hooks.onClosed(this, why, writeFailed && !this.retired);
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false;
    this.pump();
  };

  private readonly sink: LinkSink = {
    onFrame: (frame) => this.onData(frame),
    onDrain: this.onDrain,
    onClose: (why) => this.close(why),
  };

  private pump(): void {
    let written = 0;
    while (!this.writeBlocked && !this.closedFlag) {
      if (this.head >= this.queue.length) {
        const w = this.waiters.shift();
        if (!w) break;
        this.queue.push(w.frame);
        w.done?.();
      }
      const frame = this.queue[this.head];
      this.queue[this.head++] = EMPTY_FRAME;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (frame.length > this.cfg.maxSendMsgSize) {
        if (written > 0) this.counters.sent.inc(written);
        this.close(
          `message of ${frame.length} bytes exceeds maxSendMsgSize ${this.cfg.maxSendMsgSize}`,
          true,
        );
        return;
      }
      let ok: boolean;
      try {
        ok = this.stream.write(frame);
      } catch (e) {
        if (written > 0) this.counters.sent.inc(written);
        this.close(`write failed: ${(e as Error).message}`, true);
        return;
      }
      written++;
      if (!ok) this.writeBlocked = true;
    }
    if (written > 0) this.counters.sent.inc(written);
    // Room freed: admit blocked senders.
    while (this.waiters.length > 0 && this.queued < this.cfg.sendBuffSize && !this.closedFlag) {
      const w = this.waiters.shift()!;
      this.queue.push(w.frame);
      w.done?.();
    }
    this.maybeHalfClose();
  }

  private reportReceived(): void {
    if (this.unreported > 0) this.counters.received.inc(this.unreported);
    this.unreported = 0;
  }

  private readonly onData = (frame: Uint8Array): void => {
    if (this.closedFlag) return;
    const inbound = readInboundFrame(frame, this.cfg.maxRecvMsgSize);
    if (!inbound.ok) {
      this.hooks.badInput(inbound.reason);
      if (inbound.close) this.close(inbound.close);
      return;
    }
    const { envelope, message } = inbound;
    this.unreported++;
    this.recvQueue.push(new Received(envelope, message, this));
    if (this.recvQueue.length >= this.cfg.recvBuffSize && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      this.env.defer(this.drain);
    }
  };

  private readonly drain = (): void => {
    this.drainScheduled = false;
    if (this.closedFlag) return;
    this.reportReceived();
    // Swap the queues: what arrives while handlers run waits for the next turn.
    const batch = this.recvQueue;
    this.recvQueue = this.recvSpare;
    this.recvSpare = batch;
    for (let i = 0; i < batch.length && !this.closedFlag; i++) this.hooks.onMessage(batch[i]);
    batch.length = 0;
    if (this.paused && !this.closedFlag) {
      this.paused = false;
      this.stream.resume();
    }
  };
}
