/**
 * A block-verifier worker thread (pool.ts runs it). Algorithm:
 *   1. On start: import the verifier module named in workerData and call its
 *      createBlockVerifier(init); post {ready} (or {initError}).
 *   2. For each batch {ids, seqs, ends, blocks}: for each block (a view into the batch's
 *      buffer): decode it once (failure -> bad), run verifyBlock(channel, seq, block) (any throw
 *      -> bad, with its code), then compute the ledger facts of the same decoded block (number,
 *      previous hash, header hash, tx ids, data hash checked).
 *      Segment mode (the verifier offers `segments` and WorkerInit.allSignatures is not set):
 *      each block gets the content checks (all of verifyBlock but the orderer signatures) and
 *      its facts, then segment.ts decides the signatures over the batch's chained runs.
 *   3. Post one reply per batch (VerifyResults: the hashes of all good blocks in one transferred
 *      buffer); the block bytes stay here (the main thread kept its own).
 * Nothing here touches the ledger: the main thread commits only blocks this worker called good.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../base/errors.js';
import { blockFacts } from '../../ledger/inspect.js';
import { decodeBlock } from '../../wire/block.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { VerifyBatch, VerifyReply, VerifyResults, WorkerInit } from './pool.js';
import {
  failureReason,
  verifySegment,
  type FailedBlock,
  type SegmentBlock,
  type SegmentRules,
  type SegmentStats,
} from '../../core/state/verify/segment.js';

/** What a verifier module's createBlockVerifier returns. */
export interface WorkerBlockVerifier {
  verifyBlock(channel: string, seqNum: bigint, block: Block): void;
  /** verifyBlock checks header.data_hash against the data (MessageCryptoService does, §2.8). */
  readonly checksDataHash?: boolean;
  /** Segment verification (segment.ts), when the verifier can split its checks. */
  readonly segments?: WorkerSegmentVerifier<unknown, unknown>;
}

/** A verifier's checks split for segment.ts: S = a block's signature input, C = a channel config. */
export interface WorkerSegmentVerifier<S, C> extends SegmentRules<S, C> {
  /** The committed config, read at the start of each batch. */
  current(): C;
  /** verifyBlock without the orderer signatures (data hash included); throws when bad. */
  checkContent(channel: string, seqNum: bigint, block: Block): S;
}

const { module, init, channel, allSignatures } = workerData as WorkerInit;
const port = parentPort!;

interface Good {
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly txIds: string[];
  readonly dataHashChecked: boolean;
}

/**
 * check(seq, block) for each job of the batch, its block decoded once from a view into the
 * batch's buffer; a block that does not decode gets its reason instead.
 */
function eachDecoded<T>(b: VerifyBatch, check: (seq: bigint, block: Block) => T): (T | string)[] {
  const out: (T | string)[] = [];
  let start = 0;
  for (let i = 0; i < b.ids.length; i++) {
    const seq = b.seqs[i];
    const bytes = new Uint8Array(b.blocks, start, b.ends[i] - start);
    start = b.ends[i];
    let block: Block;
    try {
      block = decodeBlock(bytes);
    } catch (e) {
      out.push(`block ${seq} does not decode: ${errorMessage(e)}`);
      continue;
    }
    out.push(check(seq, block));
  }
  return out;
}

function goodOf(block: Block, dataHashChecked: boolean): Good {
  const f = blockFacts(block, dataHashChecked ? true : undefined);
  return {
    number: f.number,
    previousHash: f.previousHash,
    headerHash: f.headerHash,
    txIds: f.txIds as string[],
    dataHashChecked: f.dataHashChecked,
  };
}

/** Every block checked alone: the facts of a good block, or the reason it is bad. */
function blockByBlock(v: WorkerBlockVerifier, b: VerifyBatch): (Good | string)[] {
  return eachDecoded(b, (seq, block) => {
    try {
      v.verifyBlock(channel, seq, block);
      return goodOf(block, v.checksDataHash === true);
    } catch (e) {
      return failureReason(seq, e);
    }
  });
}

/** Segment mode: content checks and facts per block, then the signatures per chained run. */
function segmentBatch(
  seg: WorkerSegmentVerifier<unknown, unknown>,
  b: VerifyBatch,
  stats: SegmentStats,
): (Good | string)[] {
  const checked = eachDecoded(b, (seq, block) => {
    try {
      return { signed: seg.checkContent(channel, seq, block), good: goodOf(block, true) };
    } catch (e) {
      return failureReason(seq, e);
    }
  });
  const items = checked.map((c, i): SegmentBlock<unknown> | FailedBlock =>
    typeof c === 'string'
      ? { seq: b.seqs[i], reason: c }
      : {
          seq: b.seqs[i],
          previousHash: c.good.previousHash,
          headerHash: c.good.headerHash,
          signed: c.signed,
        },
  );
  const reasons = verifySegment(items, seg.current(), seg, stats);
  return reasons.map((r, i) => (r === '' ? (checked[i] as { good: Good }).good : r));
}

function runBatch(v: WorkerBlockVerifier, b: VerifyBatch): VerifyResults {
  // orderer-signature checks made: one per block verified alone, one per run in segment mode
  const stats: SegmentStats = { signatureChecks: 0 };
  let outcomes: (Good | string)[];
  if (v.segments && !allSignatures) outcomes = segmentBatch(v.segments, b, stats);
  else {
    outcomes = blockByBlock(v, b);
    stats.signatureChecks = b.ids.length;
  }
  const reasons: string[] = [];
  const good: Good[] = [];
  let hashBytes = 0;
  for (const r of outcomes) {
    if (typeof r === 'string') reasons.push(r);
    else {
      reasons.push('');
      good.push(r);
      hashBytes += r.previousHash.length + r.headerHash.length;
    }
  }
  // fresh bytes: a view into the batch's buffer would make postMessage clone all of it
  const hashes = new Uint8Array(hashBytes);
  let o = 0;
  for (const g of good) {
    hashes.set(g.previousHash, o);
    o += g.previousHash.length;
    hashes.set(g.headerHash, o);
    o += g.headerHash.length;
  }
  return {
    ids: b.ids,
    reasons,
    numbers: good.map((g) => g.number),
    prevLengths: good.map((g) => g.previousHash.length),
    hashes,
    txIds: good.map((g) => g.txIds),
    dataHashChecked: good.map((g) => g.dataHashChecked),
    signatureChecks: stats.signatureChecks,
  };
}

try {
  const mod = (await import(module)) as { createBlockVerifier?: (init: unknown) => unknown };
  if (typeof mod.createBlockVerifier !== 'function')
    throw new Error(`${module} exports no createBlockVerifier`);
  const v = (await mod.createBlockVerifier(init)) as WorkerBlockVerifier;
  port.on('message', (batch: VerifyBatch) => {
    const results = runBatch(v, batch);
    // the batch's buffer goes back for reuse: nothing in results refers to it
    port.postMessage({ results, spent: batch.blocks } satisfies VerifyReply, [
      results.hashes.buffer as ArrayBuffer,
      batch.blocks,
    ]);
  });
  port.postMessage({ ready: true } satisfies VerifyReply);
} catch (e) {
  port.postMessage({ initError: errorMessage(e) } satisfies VerifyReply);
}
