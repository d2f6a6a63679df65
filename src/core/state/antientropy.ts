/**
 * Anti-entropy (PROTOCOL.md §9.2, §9.4): fill the gap between our ledger height and the
 * highest height channel peers advertise in StateInfo.
 *
 *   every checkInterval (and on poke(), e.g. when a gossiped block was too far ahead):
 *     H = our height, max = highest ledger_height of PeersOfChannel. If H < max:
 *     1. fast catch-up (catchup/), if configured and max - H >= catchup.minGap: stream from a
 *        Grapevine peer; whatever it leaves undone falls through to 2.
 *     2. if state.enabled: for prev = H while prev <= max - 1:
 *          next = min(max - 1, prev + batchSize)
 *          send RemoteStateRequest{prev, next} (fresh random nonce, CHAN_OR_ORG, channel) to a
 *          random channel peer with ledger_height >= next + 1 (it holds block `next`);
 *          wait responseTimeout for the response with that nonce; on timeout or an invalid
 *          response resend the same request to a newly chosen peer; after maxRetries + 1 sends
 *          give up the whole range. On success prev = highest seq received + 1.
 *   A response is accepted only while a request is outstanding, with its nonce; every payload
 *   must be one asked for ('not_requested' otherwise) and pass VerifyBlock ('bad_block'); one bad
 *   payload drops the whole response (nothing reaches the buffer). Good payloads are added
 *   with the blocking rule (buffer.ts).
 */
import type { ReceivedMessage, Transport } from '../link/types.js';
import type { Clock, Rng, TimerHandle } from '../../base/time.js';
import { pkiIdKey } from '../../base/pkiid.js';
import type { Logger } from '../../base/log.js';
import type { BufferedPayload, PushResult } from './buffer.js';
import type { StateConfig } from './config.js';
import type { StateDropReason } from './errors.js';
import { stateRequestMessage } from './messages.js';
import type { ChannelView, StatePeer } from './types.js';

export interface AntiEntropyDeps {
  readonly channel: string;
  readonly transport: Pick<Transport, 'send'>;
  readonly view: ChannelView;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly config: StateConfig;
  readonly logger: Logger;
  /** Next seq the state layer needs (the buffer's next: ledger height plus what waits to commit). */
  height(): bigint;
  /** Decode and VerifyBlock; throws (GrapevineError) when invalid. */
  verify(seq: bigint, bytes: Uint8Array): BufferedPayload;
  /** Blocking add. */
  add(p: BufferedPayload): Promise<PushResult>;
  /** Fast catch-up from H towards max; resolves once it has done what it can. */
  catchup?(from: bigint, max: bigint, peers: readonly StatePeer[]): Promise<void>;
  drop(reason: StateDropReason, detail: string, m?: ReceivedMessage): void;
  /** Requests sent, for metrics. */
  requested?(): void;
}

interface Pending {
  readonly nonce: bigint;
  readonly start: bigint;
  readonly end: bigint;
  /** Resolve with the highest seq added, or undefined (invalid: resend). */
  readonly settle: (highest: bigint | undefined) => void;
}

export class AntiEntropy {
  private timer?: TimerHandle;
  private running?: Promise<void>;
  private pending?: Pending;
  private stopped = false;

  constructor(private readonly d: AntiEntropyDeps) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.d.clock.setInterval(() => this.poke(), this.d.config.checkIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.pending?.settle(undefined);
    await this.running;
  }

  get inProgress(): boolean {
    return this.running !== undefined;
  }

  /** Run a check now unless one is running. Resolves when that run ends. */
  poke(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.sync()
      .catch((e: unknown) => this.d.logger.warn({ err: (e as Error)?.message }, 'anti-entropy round failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** An authorised RemoteStateResponse for our channel. */
  handleResponse(m: ReceivedMessage): void {
    const p = this.pending;
    if (m.message.content.case !== 'stateResponse') return;
    if (!p || !this.running || m.message.nonce !== p.nonce) {
      this.d.drop(
        'unsolicited',
        `state response with nonce ${m.message.nonce} while ${p ? `waiting for ${p.nonce}` : 'no request is outstanding'}`,
        m,
      );
      return;
    }
    const payloads = m.message.content.value.payloads;
    if (payloads.length === 0) {
      this.d.drop('empty_response', 'state response without payloads', m);
      return p.settle(undefined);
    }
    const verified: BufferedPayload[] = [];
    for (const pl of payloads) {
      if (pl.seqNum < p.start || pl.seqNum > p.end) {
        this.d.drop(
          'not_requested',
          `state response carries block ${pl.seqNum}, asked for [${p.start}, ${p.end}]`,
          m,
        );
        return p.settle(undefined);
      }
      try {
        verified.push(this.d.verify(pl.seqNum, pl.data));
      } catch (e) {
        this.d.drop('bad_block', `state response block ${pl.seqNum}: ${(e as Error).message}`, m);
        return p.settle(undefined);
      }
    }
    this.pending = undefined;
    void this.addAll(verified).then(p.settle, () => p.settle(undefined));
  }

  private async addAll(payloads: BufferedPayload[]): Promise<bigint | undefined> {
    let highest: bigint | undefined;
    for (const p of payloads) {
      if (this.stopped) return undefined;
      const r = await this.d.add(p);
      if (r === 'stopped') return undefined;
      if (highest === undefined || p.seqNum > highest) highest = p.seqNum;
    }
    return highest;
  }

  private maxHeight(peers: readonly StatePeer[]): bigint {
    let max = 0n;
    for (const p of peers) if (p.ledgerHeight > max) max = p.ledgerHeight;
    return max;
  }

  private async sync(): Promise<void> {
    const peers = this.d.view.peersOfChannel();
    const max = this.maxHeight(peers);
    if (this.d.height() >= max) return;
    const cu = this.d.config.catchup;
    if (this.d.catchup && cu.enabled && max - this.d.height() >= BigInt(cu.minGap)) {
      await this.d.catchup(this.d.height(), max, peers);
      if (this.stopped || this.d.height() >= max) return;
    }
    if (!this.d.config.enabled) return;
    await this.requestRange(this.d.height(), max - 1n);
  }

  private async requestRange(start: bigint, end: bigint): Promise<void> {
    const { config } = this.d;
    for (let prev = start; prev <= end && !this.stopped;) {
      const next = end < prev + BigInt(config.batchSize) ? end : prev + BigInt(config.batchSize);
      const nonce = this.d.rng.u64();
      const msg = stateRequestMessage(this.d.channel, prev, next, nonce).envelope;
      let highest: bigint | undefined;
      for (let tries = 0; highest === undefined && tries <= config.maxRetries && !this.stopped; tries++) {
        const holders = this.d.view.peersOfChannel().filter((p) => p.ledgerHeight >= next + 1n);
        if (holders.length === 0) {
          this.d.logger.debug({ next: String(next) }, 'no channel peer holds the blocks asked for');
          return;
        }
        const peer = holders[this.d.rng.int(holders.length)];
        this.d.transport.send(msg, { endpoint: peer.endpoint, pkiId: peer.pkiId });
        this.d.requested?.();
        this.d.logger.debug(
          { start: String(prev), end: String(next), to: pkiIdKey(peer.pkiId).slice(0, 16) },
          'state request sent',
        );
        highest = await this.awaitResponse(nonce, prev, next);
      }
      if (highest === undefined) {
        this.d.logger.warn(
          { start: String(prev), end: String(next) },
          `no valid state response after ${config.maxRetries + 1} requests; giving up this round`,
        );
        return;
      }
      prev = highest + 1n;
    }
  }

  private awaitResponse(nonce: bigint, start: bigint, end: bigint): Promise<bigint | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const settle = (v: bigint | undefined) => {
        if (done) return;
        done = true;
        this.d.clock.clearTimer(timer);
        if (this.pending?.nonce === nonce) this.pending = undefined;
        resolve(v);
      };
      // The timer covers the wait for the response only; once its payloads are being added
      // (pending cleared) the blocking adds decide when it ends.
      const timer = this.d.clock.setTimeout(() => {
        if (this.pending?.nonce === nonce) settle(undefined);
      }, this.d.config.responseTimeoutMs);
      this.pending = { nonce, start, end, settle };
    });
  }
}
