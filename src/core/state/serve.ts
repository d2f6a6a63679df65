/**
 * Serving RemoteStateRequests (PROTOCOL.md §9.3): authorised requests (messages.ts) are queued
 * (capacity channelSize; excess dropped 'queue_full') and served one at a time:
 *   refuse start > end or end - start > batchSize ('bad_request', no reply);
 *   end' = min(height - 1, end); read blocks start..end' inclusive (an unreadable block is
 *   skipped); reply with an unsigned RemoteStateResponse carrying the request's nonce, tag
 *   CHAN_OR_ORG and the channel, on the connection the request came on (even with no payloads,
 *   as Fabric does).
 */
import type { ReceivedMessage } from '../link/types.js';
import type { Logger } from '../../base/log.js';
import type { StateDropReason } from './errors.js';
import { stateResponseMessage } from './messages.js';
import type { StateLedger } from './types.js';

export interface RequestServerDeps {
  readonly channel: string;
  readonly ledger: StateLedger;
  readonly batchSize: number;
  readonly channelSize: number;
  readonly logger: Logger;
  drop(reason: StateDropReason, detail: string, m?: ReceivedMessage): void;
  /** Served requests (blocks sent), for metrics. */
  served?(blocks: number): void;
}

export class StateRequestServer {
  private readonly queue: ReceivedMessage[] = [];
  private pumping?: Promise<void>;
  private stopped = false;

  constructor(private readonly d: RequestServerDeps) {}

  get queued(): number {
    return this.queue.length;
  }

  /** An authorised RemoteStateRequest. */
  handle(m: ReceivedMessage): void {
    if (this.stopped) return;
    if (this.queue.length >= this.d.channelSize) {
      this.d.drop('queue_full', `state request queue full (${this.d.channelSize})`, m);
      return;
    }
    this.queue.push(m);
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await this.pumping;
  }

  private async pump(): Promise<void> {
    let m: ReceivedMessage | undefined;
    while (!this.stopped && (m = this.queue.shift())) await this.serve(m);
  }

  private async serve(m: ReceivedMessage): Promise<void> {
    if (m.message.content.case !== 'stateRequest') return;
    const { startSeqNum: start, endSeqNum: end } = m.message.content.value;
    if (start > end || end - start > BigInt(this.d.batchSize)) {
      this.d.drop('bad_request', `state request [${start}, ${end}] (batchSize ${this.d.batchSize})`, m);
      return;
    }
    const height = this.d.ledger.height();
    const last = height - 1n < end ? height - 1n : end;
    const payloads: { seqNum: bigint; data: Uint8Array }[] = [];
    for (let seq = start; seq <= last && !this.stopped; seq++) {
      try {
        const data = await this.d.ledger.getBlockBytes(seq);
        if (data) payloads.push({ seqNum: seq, data });
      } catch (e) {
        this.d.logger.debug(
          { seq: String(seq), err: (e as Error).message },
          'state request: block unreadable, skipped',
        );
      }
    }
    if (this.stopped) return;
    m.respond(stateResponseMessage(this.d.channel, m.message.nonce, payloads).envelope);
    this.d.served?.(payloads.length);
  }
}
