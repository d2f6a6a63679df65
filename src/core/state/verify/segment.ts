/**
 * Segment verification of catch-up blocks: one orderer-signature check per run of chained
 * blocks instead of one per block. It is the rule Fabric v2's orderers use to replicate a chain
 * from each other (orderer/common/cluster VerifyBlocks); the peer's gossip path keeps checking
 * every block (MessageCryptoService.verifyBlock).
 *
 *   Every block passes the content checks (all of verifyBlock but the signatures: number,
 *   channel, metadata, data hash, well-formedness), done by the caller before this runs.
 *   A run is a maximal stretch of consecutive numbers in which each block's previous_hash is
 *   the header hash of the block before it. In a run, in order: each config block's signatures
 *   are checked under the config in effect, and its own config is in effect after it; then the
 *   last block's signatures (unless it was a config block, already checked). The last block's
 *   signature authenticates its header, whose previous_hash authenticates the header before it,
 *   and so on back to the start of the run; each header's data_hash authenticates that block's
 *   transactions. What it does not authenticate is the metadata of the blocks before the last
 *   (their own orderer signatures, last-config index): catchup.verifyAllSignatures checks them.
 *   If the last block's signatures fail, the run is checked again block by block, so the good
 *   prefix still passes and the first bad block gets its own reason.
 *   After a bad block, nothing later in the batch passes (the caller stops at the first bad one).
 */
import { GrapevineError, errorMessage } from '../../../base/errors.js';

/** A block that passed its content checks. */
export interface SegmentBlock<S> {
  readonly seq: bigint;
  readonly previousHash: Uint8Array;
  readonly headerHash: Uint8Array;
  /** Whatever the signature check needs (e.g. the block's SignedData set). */
  readonly signed: S;
}

/** A block that failed before this (it does not decode, or its content checks failed). */
export interface FailedBlock {
  readonly seq: bigint;
  readonly reason: string;
}

function failed(x: SegmentBlock<unknown> | FailedBlock): x is FailedBlock {
  return (x as FailedBlock).reason !== undefined;
}

export interface SegmentRules<S, C> {
  /** Throws when b's orderer signatures do not satisfy the block validation policy under ctx. */
  checkSignatures(b: SegmentBlock<S>, ctx: C): void;
  /** The config a config block puts in effect for the blocks after it; undefined when not one. Throws when unusable. */
  configOf(b: SegmentBlock<S>): C | undefined;
}

/** How a block that failed verification is reported. */
export function failureReason(seq: bigint, e: unknown): string {
  const code = e instanceof GrapevineError ? `${e.code}: ` : '';
  return `block ${seq} fails verification: ${code}${errorMessage(e)}`;
}

export interface SegmentStats {
  /** Signature checks made. */
  signatureChecks: number;
}

/**
 * Reasons ('' = good) for each entry, in order (a FailedBlock keeps its own). `ctx` is the config
 * in effect before the first block.
 */
export function verifySegment<S, C>(
  items: readonly (SegmentBlock<S> | FailedBlock)[],
  ctx: C,
  rules: SegmentRules<S, C>,
  stats?: SegmentStats,
): string[] {
  const out: string[] = [];
  let badSeq: bigint | undefined;
  let i = 0;
  while (i < items.length) {
    const head = items[i];
    if (badSeq !== undefined) {
      out.push(`not verified: block ${badSeq} before it failed`);
      i++;
      continue;
    }
    if (failed(head)) {
      out.push(head.reason);
      badSeq = head.seq;
      i++;
      continue;
    }
    let end = i + 1;
    for (; end < items.length; end++) {
      const b = items[end];
      const prev = items[end - 1] as SegmentBlock<S>;
      if (failed(b) || b.seq !== prev.seq + 1n || !sameBytes(b.previousHash, prev.headerHash)) break;
    }
    const run = items.slice(i, end) as SegmentBlock<S>[];
    const r = verifyRun(run, ctx, rules, stats);
    out.push(...r.reasons);
    ctx = r.ctx;
    if (r.bad !== undefined) badSeq = r.bad;
    i = end;
  }
  return out;
}

interface RunResult<C> {
  readonly reasons: string[];
  readonly ctx: C;
  readonly bad?: bigint;
}

function verifyRun<S, C>(
  run: readonly SegmentBlock<S>[],
  start: C,
  rules: SegmentRules<S, C>,
  stats?: SegmentStats,
): RunResult<C> {
  let ctx = start;
  let lastChecked = false;
  for (let k = 0; k < run.length; k++) {
    const b = run[k];
    let next: C | undefined;
    try {
      next = rules.configOf(b);
      if (next !== undefined) {
        check(b, ctx, rules, stats);
        lastChecked = k === run.length - 1;
      }
    } catch {
      return oneByOne(run, start, rules, stats); // words the failure exactly
    }
    if (next !== undefined) ctx = next;
  }
  if (!lastChecked) {
    try {
      check(run[run.length - 1], ctx, rules, stats);
    } catch {
      return oneByOne(run, start, rules, stats);
    }
  }
  return { reasons: run.map(() => ''), ctx };
}

/** Every block's signatures, in order, under the config in effect; stops at the first failure. */
function oneByOne<S, C>(
  run: readonly SegmentBlock<S>[],
  start: C,
  rules: SegmentRules<S, C>,
  stats?: SegmentStats,
): RunResult<C> {
  let ctx = start;
  const reasons: string[] = [];
  for (const b of run) {
    try {
      check(b, ctx, rules, stats);
      ctx = rules.configOf(b) ?? ctx;
      reasons.push('');
    } catch (e) {
      reasons.push(failureReason(b.seq, e));
      while (reasons.length < run.length) reasons.push(`not verified: block ${b.seq} before it failed`);
      return { reasons, ctx, bad: b.seq };
    }
  }
  return { reasons, ctx };
}

function check<S, C>(b: SegmentBlock<S>, ctx: C, rules: SegmentRules<S, C>, stats?: SegmentStats): void {
  if (stats) stats.signatureChecks++;
  rules.checkSignatures(b, ctx);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
