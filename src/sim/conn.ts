/**
 * One authenticated simulated gossip connection (PROTOCOL.md §3.5, §3.6), the sim twin of
 * src/comm/connection.ts:
 *   send(bytes): enqueue without blocking; a full queue (sendBuffSize) drops and counts an
 *     overflow, the connection stays up. One writer drains the queue; a write takes the link's
 *     serialization time, so a flood faster than the link overflows the queue.
 *   sendBlocking(bytes): waits for room (respond, sendWithAck); at most maxBlockedSends wait.
 *   A message over maxSendMsgSize, or a write on a failed stream, is a write error: the
 *     connection closes and the peer is presumed dead (Fabric's disconnect-on-error).
 *   receive: size check, Envelope decode, GossipMessage decode; bad bytes close the connection;
 *     `conn`/`empty`/no-content messages are counted and dropped.
 * Unlike the real one there is no receive queue: handlers run synchronously on delivery.
 */
import type { Counter } from 'prom-client';
import type { CommConfig } from '../comm/config.js';
import { type ConnectionInfo } from '../core/link/types.js';
import { pkiIdKey } from '../base/pkiid.js';
import { ConnStore } from '../comm/connstore.js';
import { readInboundFrame, type BadInputReason } from '../comm/inbound.js';
import type { Envelope, GossipMessage } from '../wire/gen/gossip/message_pb.js';
import type { SimSocket } from './network.js';

export type SimBadInput = BadInputReason;

export interface SimConnHooks {
  onMessage(conn: SimConn, envelope: Envelope, message: GossipMessage): void;
  onClosed(conn: SimConn, why: string, writeFailed: boolean): void;
  badInput(reason: SimBadInput): void;
}

export interface SimConnCounters {
  readonly sent: Counter<string>;
  readonly received: Counter<string>;
  readonly overflow: Counter<string>;
}

interface Waiter {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export class SimConnClosedError extends Error {
  readonly code = 'CONN_CLOSED';
}

export class SimConn {
  readonly key: string;
  private readonly queue: Uint8Array[] = [];
  private readonly waiters: Waiter[] = [];
  private writing = false;
  private closedFlag = false;

  constructor(
    private readonly socket: SimSocket,
    readonly direction: 'in' | 'out',
    readonly info: ConnectionInfo,
    readonly establishedAt: number,
    private readonly cfg: CommConfig,
    private readonly counters: SimConnCounters,
    private readonly hooks: SimConnHooks,
  ) {
    this.key = pkiIdKey(info.pkiId);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Take over the socket; `early` are frames that arrived right after the handshake frame. */
  start(early: Uint8Array[]): void {
    this.socket.onFrame = (bytes) => this.onFrame(bytes);
    this.socket.onClose = (reason) => this.close(`stream closed: ${reason}`);
    for (const b of early) this.onFrame(b);
    if (this.socket.closed) this.close('stream closed during the handshake');
  }

  send(bytes: Uint8Array): boolean {
    if (this.closedFlag) return false;
    if (this.queue.length >= this.cfg.sendBuffSize) {
      this.counters.overflow.inc();
      return false;
    }
    this.queue.push(bytes);
    this.pump();
    return true;
  }

  sendBlocking(bytes: Uint8Array): Promise<void> {
    if (this.closedFlag) return Promise.reject(new SimConnClosedError('connection closed'));
    if (this.queue.length < this.cfg.sendBuffSize && this.waiters.length === 0) {
      this.queue.push(bytes);
      this.pump();
      return Promise.resolve();
    }
    if (this.waiters.length >= this.cfg.maxBlockedSends) {
      this.counters.overflow.inc();
      return Promise.reject(new SimConnClosedError('too many blocked sends on this connection'));
    }
    return new Promise((resolve, reject) => this.waiters.push({ bytes, resolve, reject }));
  }

  /** The losing side of a duplicate (ConnStore): the sim closes it at once, without grace. */
  retire(_graceMs: number): void {
    this.close('retired duplicate connection');
  }

  close(why = 'closed', writeFailed = false): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.queue.length = 0;
    const err = new SimConnClosedError(`connection closed: ${why}`);
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.socket.close(why);
    this.hooks.onClosed(this, why, writeFailed);
  }

  private pump(): void {
    if (this.writing || this.closedFlag) return;
    const bytes = this.queue.shift();
    this.admitWaiters();
    if (!bytes) return;
    if (bytes.length > this.cfg.maxSendMsgSize) {
      this.close(`message of ${bytes.length} bytes exceeds maxSendMsgSize ${this.cfg.maxSendMsgSize}`, true);
      return;
    }
    this.writing = true;
    this.socket.write(bytes).then(
      () => {
        this.writing = false;
        if (this.closedFlag) return;
        this.counters.sent.inc();
        this.pump();
      },
      (e: Error) => {
        this.writing = false;
        this.close(`write failed: ${e.message}`, true);
      },
    );
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.queue.length < this.cfg.sendBuffSize) {
      const w = this.waiters.shift()!;
      this.queue.push(w.bytes);
      w.resolve();
    }
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.closedFlag) return;
    const inbound = readInboundFrame(bytes, this.cfg.maxRecvMsgSize);
    if (!inbound.ok) {
      this.hooks.badInput(inbound.reason);
      if (inbound.close) this.close(inbound.close);
      return;
    }
    const { envelope, message } = inbound;
    this.counters.received.inc();
    this.hooks.onMessage(this, envelope, message);
  }
}

/**
 * Connections by remote PKI-ID with the real transport's store and dedup rule
 * (src/comm/connstore.ts). The sim has no retire grace: a losing connection closes at once.
 */
export class SimConnStore extends ConnStore<SimConn> {
  constructor(selfKey: string, dedupWindowMs: number) {
    super(selfKey, dedupWindowMs, 0);
  }
}
