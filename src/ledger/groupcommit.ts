/**
 * Group commit: which queued appends go into the next durable write (store.ts runs the loop).
 *
 * Appends queue in call order. Whenever no write is in flight, the store takes a batch from the
 * head of the queue and makes it durable with one writev (O_DSYNC, or one fdatasync); its index
 * entries follow behind (indexwriter.ts); whatever queues meanwhile waits for the next batch. Each append resolves only
 * after the write that covers it is durable. planBatch decides the batch:
 *   1. The head is checked against the committed tip (number = height, previous_hash = hash of
 *      the last header, then its data hash when already checked). Failing, it is rejected on its
 *      own, as a one-at-a-time append would be.
 *   2. The head rolls over to a new block file when its record does not fit in the current one.
 *   3. Following appends join while each chains onto the one before it, has a good data hash,
 *      fits in the current block file, and the batch stays within maxBatchBlocks and
 *      maxBatchBytes. The first that does not ends the batch and becomes the next head, checked
 *      again against the committed tip: every append gets exactly the outcome it would have had
 *      with appends running one at a time in call order.
 *   4. Data hashes: an append arriving while a write is in flight is checked on arrival (it
 *      waits anyway); the others here. Except a lone append not checked yet (the store was
 *      idle): it goes alone, its hash is checked while its write is in flight, and the write is
 *      undone on a mismatch. So a record failing the data-hash check can only ever be the very
 *      last record in the files, which is what recovery (recovery.ts) relies on.
 */
import { LedgerError } from './errors.js';
import { dataHashError, dataHashMatches, sameHash, type InspectedBlock } from './inspect.js';
import { RECORD_HEADER_BYTES } from './record.js';

export interface QueuedAppend {
  readonly ib: InspectedBlock;
  /** Result of the data-hash check; undefined until checked. */
  hashOk: boolean | undefined;
  readonly resolve: (height: bigint) => void;
  readonly reject: (e: unknown) => void;
}

export interface Tip {
  readonly height: bigint;
  readonly lastHash: Uint8Array | undefined;
}

export interface BatchLimits {
  readonly maxFileBytes: number;
  readonly maxBatchBlocks: number;
  readonly maxBatchBytes: number;
}

export type BatchPlan =
  | { readonly kind: 'reject'; readonly error: LedgerError }
  | {
      readonly kind: 'write';
      /** Appends taken from the head of the queue. */
      readonly count: number;
      /** Open the next block file before writing. */
      readonly rollOver: boolean;
      /** The single append's data hash is checked while its write is in flight. */
      readonly checkHashDuringWrite: boolean;
    };

/** The error a one-at-a-time append of ib onto tip would get from the chain checks. */
export function chainError(ib: InspectedBlock, tip: Tip): LedgerError | undefined {
  if (ib.number !== tip.height) {
    return new LedgerError('WRONG_NUMBER', `block ${ib.number} cannot be appended at height ${tip.height}`);
  }
  if (ib.number > 0n && !sameHash(ib.previousHash, tip.lastHash)) {
    return new LedgerError(
      'BAD_PREVIOUS_HASH',
      `block ${ib.number} previous_hash does not match the hash of block ${ib.number - 1n}`,
    );
  }
  return undefined;
}

export function recordBytes(ib: InspectedBlock): number {
  return RECORD_HEADER_BYTES + ib.bytes.length;
}

/** Decides the next batch; queue must not be empty. Checks data hashes not yet checked. */
export function planBatch(
  queue: readonly QueuedAppend[],
  tip: Tip,
  fileOffset: number,
  limits: BatchLimits,
): BatchPlan {
  const head = queue[0];
  const err = chainError(head.ib, tip);
  if (err) return { kind: 'reject', error: err };
  const headBytes = recordBytes(head.ib);
  const rollOver = fileOffset > 0 && fileOffset + headBytes > limits.maxFileBytes;
  if (head.hashOk === undefined && queue.length === 1)
    return { kind: 'write', count: 1, rollOver, checkHashDuringWrite: true };
  head.hashOk ??= dataHashMatches(head.ib);
  if (!head.hashOk) return { kind: 'reject', error: dataHashError(head.ib.number) };
  const start = rollOver ? 0 : fileOffset;
  let bytes = headBytes;
  let count = 1;
  let prev = head.ib;
  while (count < queue.length && count < limits.maxBatchBlocks) {
    const q = queue[count];
    const size = recordBytes(q.ib);
    if (bytes + size > limits.maxBatchBytes || start + bytes + size > limits.maxFileBytes) break;
    if (chainError(q.ib, { height: prev.number + 1n, lastHash: prev.headerHash })) break;
    q.hashOk ??= dataHashMatches(q.ib);
    if (!q.hashOk) break;
    bytes += size;
    count++;
    prev = q.ib;
  }
  return { kind: 'write', count, rollOver, checkHashDuringWrite: false };
}
