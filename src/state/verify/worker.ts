/**
 * A block-verifier worker thread (pool.ts runs it). Algorithm:
 *   1. On start: import the verifier module named in workerData and call its
 *      createBlockVerifier(init); post {ready} (or {initError}).
 *   2. For each batch {ids, seqs, ends, blocks}: for each block (a view into the batch's
 *      buffer): decode it once (failure -> bad), run verifyBlock(channel, seq, block) (any throw
 *      -> bad, with its code), then compute the ledger facts of the same decoded block (number,
 *      previous hash, header hash, tx ids, data hash checked).
 *   3. Post one reply per batch (VerifyResults: the hashes of all good blocks in one transferred
 *      buffer); the block bytes stay here (the main thread kept its own).
 * Nothing here touches the ledger: the main thread commits only blocks this worker called good.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GrapevineError, errorMessage } from '../../errors.js';
import { blockFacts } from '../../ledger/inspect.js';
import { decodeBlock } from '../../wire/block.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { VerifyBatch, VerifyReply, VerifyResults, WorkerInit } from './pool.js';

/** What a verifier module's createBlockVerifier returns. */
export interface WorkerBlockVerifier {
  verifyBlock(channel: string, seqNum: bigint, block: Block): void;
  /** verifyBlock checks header.data_hash against the data (MessageCryptoService does, §2.8). */
  readonly checksDataHash?: boolean;
}

const { module, init, channel } = workerData as WorkerInit;
const port = parentPort!;

interface Good {
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly txIds: string[];
  readonly dataHashChecked: boolean;
}

/** The facts of a good block, or the reason it is bad. */
function run(v: WorkerBlockVerifier, seq: bigint, bytes: Uint8Array): Good | string {
  let block: Block;
  try {
    block = decodeBlock(bytes);
  } catch (e) {
    return `block ${seq} does not decode: ${errorMessage(e)}`;
  }
  try {
    v.verifyBlock(channel, seq, block);
    const f = blockFacts(block, v.checksDataHash ? true : undefined);
    return {
      number: f.number,
      previousHash: f.previousHash,
      headerHash: f.headerHash,
      txIds: f.txIds as string[],
      dataHashChecked: f.dataHashChecked,
    };
  } catch (e) {
    const code = e instanceof GrapevineError ? `${e.code}: ` : '';
    return `block ${seq} fails verification: ${code}${errorMessage(e)}`;
  }
}

function runBatch(v: WorkerBlockVerifier, b: VerifyBatch): VerifyResults {
  const reasons: string[] = [];
  const good: Good[] = [];
  let start = 0;
  let hashBytes = 0;
  for (let i = 0; i < b.ids.length; i++) {
    const r = run(v, b.seqs[i], new Uint8Array(b.blocks, start, b.ends[i] - start));
    start = b.ends[i];
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
  };
}

try {
  const mod = (await import(module)) as { createBlockVerifier?: (init: unknown) => unknown };
  if (typeof mod.createBlockVerifier !== 'function')
    throw new Error(`${module} exports no createBlockVerifier`);
  const v = (await mod.createBlockVerifier(init)) as WorkerBlockVerifier;
  port.on('message', (batch: VerifyBatch) => {
    const results = runBatch(v, batch);
    port.postMessage({ results } satisfies VerifyReply, [results.hashes.buffer as ArrayBuffer]);
  });
  port.postMessage({ ready: true } satisfies VerifyReply);
} catch (e) {
  port.postMessage({ initError: errorMessage(e) } satisfies VerifyReply);
}
