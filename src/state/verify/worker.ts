/**
 * A block-verifier worker thread (pool.ts runs it). Algorithm:
 *   1. On start: import the verifier module named in workerData and call its
 *      createBlockVerifier(init); post {ready} (or {initError}).
 *   2. For each batch of jobs {id, seq, bytes}: decode the block (failure -> bad), run
 *      verifyBlock(channel, seq, block) (any throw -> bad, with its code), then compute the
 *      ledger facts (number, previous hash, header hash, tx ids, data hash checked).
 *   3. Post one reply per batch; the block bytes go back to the main thread transferred (no copy).
 * Nothing here touches the ledger: the main thread commits only blocks this worker called good.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GrapevineError, errorMessage } from '../../errors.js';
import { blockFacts } from '../../ledger/inspect.js';
import { decodeBlock } from '../../wire/block.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { VerifyJob, VerifyReply, VerifyResult, WorkerInit } from './pool.js';

/** What a verifier module's createBlockVerifier returns. */
export interface WorkerBlockVerifier {
  verifyBlock(channel: string, seqNum: bigint, block: Block): void;
  /** verifyBlock checks header.data_hash against the data (MessageCryptoService does, §2.8). */
  readonly checksDataHash?: boolean;
}

const { module, init, channel } = workerData as WorkerInit;
const port = parentPort!;

function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function run(v: WorkerBlockVerifier, job: VerifyJob): VerifyResult {
  const { id, seq, bytes } = job;
  let block: Block;
  try {
    block = decodeBlock(bytes);
  } catch (e) {
    return { id, ok: false, bytes, reason: `block ${seq} does not decode: ${errorMessage(e)}` };
  }
  try {
    v.verifyBlock(channel, seq, block);
    const f = blockFacts(block, v.checksDataHash ? true : undefined);
    return {
      id,
      ok: true,
      bytes,
      number: f.number,
      // fresh copies: a view into the block would make postMessage clone the whole buffer
      hashes: concat2(f.previousHash, f.headerHash),
      prevLength: f.previousHash.length,
      txIds: f.txIds as string[],
      dataHashChecked: f.dataHashChecked,
    };
  } catch (e) {
    const code = e instanceof GrapevineError ? `${e.code}: ` : '';
    return { id, ok: false, bytes, reason: `block ${seq} fails verification: ${code}${errorMessage(e)}` };
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return copy(b);
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

try {
  const mod = (await import(module)) as { createBlockVerifier?: (init: unknown) => unknown };
  if (typeof mod.createBlockVerifier !== 'function')
    throw new Error(`${module} exports no createBlockVerifier`);
  const v = (await mod.createBlockVerifier(init)) as WorkerBlockVerifier;
  port.on('message', (jobs: VerifyJob[]) => {
    const results = jobs.map((j) => run(v, j));
    const transfer: ArrayBuffer[] = [];
    for (const r of results) {
      if (r.bytes.buffer instanceof ArrayBuffer && !transfer.includes(r.bytes.buffer))
        transfer.push(r.bytes.buffer);
      if (r.ok) transfer.push(r.hashes.buffer as ArrayBuffer);
    }
    port.postMessage({ results } satisfies VerifyReply, transfer);
  });
  port.postMessage({ ready: true } satisfies VerifyReply);
} catch (e) {
  port.postMessage({ initError: errorMessage(e) } satisfies VerifyReply);
}
