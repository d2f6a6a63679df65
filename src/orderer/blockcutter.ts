/**
 * Block cutter (Fabric orderer/common/blockcutter @v2.4.9): groups ordered envelopes into batches.
 *
 * size(msg) = len(payload) + len(signature).
 * ordered(msg):
 *   - size > PreferredMaxBytes: cut the pending batch (if any), then emit [msg] alone; pending false.
 *   - pending + size > PreferredMaxBytes: cut the pending batch first.
 *   - append msg; if the batch now holds MaxMessageCount messages, cut it.
 *   - returns the batches cut (0, 1 or 2) and whether a batch is left pending (the caller arms
 *     the BatchTimeout timer when a pending batch starts and cuts it when the timer fires).
 * Messages above AbsoluteMaxBytes never reach the cutter (Broadcast refuses them).
 */
import type { BatchSizeInfo } from '../channelconfig/types.js';

export interface OrderedMessage {
  /** The serialized common.Envelope, exactly as received. */
  readonly bytes: Uint8Array;
  /** len(payload) + len(signature), as Fabric measures it. */
  readonly size: number;
}

export interface CutResult {
  readonly batches: OrderedMessage[][];
  readonly pending: boolean;
}

export class BlockCutter {
  private pendingBatch: OrderedMessage[] = [];
  private pendingBytes = 0;

  constructor(private batchSize: BatchSizeInfo) {}

  /** A config update changes BatchSize for the messages that follow. */
  setBatchSize(batchSize: BatchSizeInfo): void {
    this.batchSize = batchSize;
  }

  get pendingCount(): number {
    return this.pendingBatch.length;
  }

  ordered(msg: OrderedMessage): CutResult {
    const batches: OrderedMessage[][] = [];
    const { preferredMaxBytes, maxMessageCount } = this.batchSize;
    if (msg.size > preferredMaxBytes) {
      if (this.pendingBatch.length > 0) batches.push(this.cut());
      batches.push([msg]);
      return { batches, pending: false };
    }
    if (this.pendingBytes + msg.size > preferredMaxBytes) batches.push(this.cut());
    this.pendingBatch.push(msg);
    this.pendingBytes += msg.size;
    let pending = true;
    if (this.pendingBatch.length >= maxMessageCount) {
      batches.push(this.cut());
      pending = false;
    }
    return { batches, pending };
  }

  /** Return the pending batch (possibly empty) and start a new one. */
  cut(): OrderedMessage[] {
    const batch = this.pendingBatch;
    this.pendingBatch = [];
    this.pendingBytes = 0;
    return batch;
  }
}
