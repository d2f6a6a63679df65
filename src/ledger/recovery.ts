/**
 * Opening after a crash. Invariant kept by append: a block is written and fdatasync-ed to the
 * last block file before its index batch (entries + checkpoint) is written, so
 *   - every indexed block is durable in the files, and
 *   - the files may hold blocks past the checkpoint, plus at most a torn record at the very end.
 * Algorithm:
 *   1. Check the checkpoint against the files: the last indexed record must be where the index
 *      says and hash to the checkpoint hash; otherwise CORRUPT (committed data is damaged: we
 *      never lower the height in silence). An unreadable checkpoint means a damaged index: the
 *      caller wipes it and we start from block 0.
 *   2. Scan records from the checkpoint to the end of the last file, checking each record's
 *      checksum, block number and hash chain, and index them in batches.
 *   3. A bad record in the last file with no valid record after it is a torn tail: truncate.
 *      A bad record followed by a valid one, or in any earlier file, is CORRUPT (file, offset).
 *      So is the very last record when its block fails the data-hash check (append writes
 *      while it hashes and undoes the write on a mismatch; a crash can come before the undo).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { blockFileName, probeRecord, validRecordAfter } from './blockfiles.js';
import { RECORD_HEADER_BYTES } from './record.js';
import type { ResolvedOptions } from './config.js';
import { corrupt, ioError, LedgerError } from './errors.js';
import {
  blockKey,
  decodeLocation,
  indexBlocks,
  type Checkpoint,
  type IndexDb,
  type IndexedBlock,
} from './indexdb.js';
import { dataHashMatches, inspectBlock, parseBlock, sameHash } from './inspect.js';

export interface RecoveryReport {
  /** The index was missing, unreadable or damaged and was rebuilt from block 0. */
  rebuiltIndex: boolean;
  /** Why the index was rebuilt. */
  rebuildReason: string | undefined;
  /** Height the index checkpoint had on open. */
  checkpointHeight: bigint;
  /** Blocks found in the files past the checkpoint and indexed on open. */
  reindexedBlocks: number;
  /** Bytes cut from the end of the last file (torn tail), and which file. */
  truncatedBytes: number;
  truncatedFile: string | undefined;
}

export interface RecoveredState {
  readonly height: bigint;
  readonly lastHash: Uint8Array | undefined;
  readonly checkpoint: Checkpoint;
}

export const EMPTY_CHECKPOINT: Checkpoint = { height: 0n, file: 0, endOffset: 0, lastHash: undefined };

/** Step 1: the checkpoint's last block must be intact where the index says. */
export async function verifyCheckpoint(
  dir: string,
  db: IndexDb,
  cp: Checkpoint,
  files: number[],
  maxPayload: number,
): Promise<'ok' | 'index-damaged'> {
  if (cp.height === 0n) return 'ok';
  const loc = decodeLocation(await db.get(blockKey(cp.height - 1n)));
  if (!loc || loc.file !== cp.file || loc.offset + RECORD_HEADER_BYTES + loc.length !== cp.endOffset)
    return 'index-damaged';
  const name = join(dir, blockFileName(cp.file));
  if (cp.file >= files.length) {
    throw new LedgerError(
      'CORRUPT',
      `block file ${name} is missing but the index has ${cp.height} committed blocks in it`,
      { file: name, offset: 0 },
    );
  }
  await withFile(name, 'r', async (fh) => {
    const size = (await fh.stat()).size;
    if (size < cp.endOffset)
      throw corrupt(
        name,
        size,
        `file is shorter than the index says (committed block ${cp.height - 1n} ends at ${cp.endOffset})`,
      );
    const probe = await probeRecord(fh, loc.offset, size, maxPayload);
    if (!probe.ok) throw corrupt(name, loc.offset, `committed block ${cp.height - 1n}: ${probe.why}`);
    const ib = inspectOrCorrupt(probe.payload, name, loc.offset);
    if (ib.number !== cp.height - 1n || !sameHash(ib.headerHash, cp.lastHash)) {
      throw corrupt(
        name,
        loc.offset,
        `record is not committed block ${cp.height - 1n} named by the index checkpoint`,
      );
    }
  });
  return 'ok';
}

/** Steps 2 and 3. Returns the recovered tip; fills report.reindexedBlocks and truncation. */
export async function scanFromCheckpoint(
  dir: string,
  db: IndexDb,
  cp: Checkpoint,
  files: number[],
  opts: ResolvedOptions,
  report: RecoveryReport,
): Promise<RecoveredState> {
  let height = cp.height;
  let lastHash = cp.lastHash;
  let checkpoint = cp;
  let pending: IndexedBlock[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    await indexBlocks(db, pending, checkpoint);
    report.reindexedBlocks += pending.length;
    pending = [];
  };
  for (let f = cp.file; f < files.length; f++) {
    const name = join(dir, blockFileName(f));
    const last = f === files.length - 1;
    await withFile(name, 'r+', async (fh) => {
      const size = (await fh.stat()).size;
      let pos = f === cp.file ? cp.endOffset : 0;
      while (pos < size) {
        const probe = await probeRecord(fh, pos, size, opts.maxBlockBytes);
        if (!probe.ok) {
          if (!last) throw corrupt(name, pos, `${probe.why} (not the last block file)`);
          const next = await validRecordAfter(fh, pos, size, opts.maxBlockBytes);
          if (next !== undefined)
            throw corrupt(name, pos, `${probe.why}; a valid record follows at offset ${next}`);
          await truncateTail(fh, name, pos);
          report.truncatedBytes = size - pos;
          report.truncatedFile = name;
          opts.logger?.warn(
            { file: name, offset: pos, bytes: size - pos, why: probe.why },
            'ledger: truncated torn tail',
          );
          return;
        }
        const ib = inspectOrCorrupt(probe.payload, name, pos, false);
        if (ib.number !== height)
          throw corrupt(name, pos, `holds block ${ib.number}, expected block ${height}`);
        if (height > 0n && !sameHash(ib.previousHash, lastHash)) {
          throw corrupt(
            name,
            pos,
            `block ${height} previous_hash does not match the hash of block ${height - 1n}`,
          );
        }
        if (!dataHashMatches(ib)) {
          // append writes a block while it checks the data hash, and undoes the write if the
          // check fails; a crash before the undo leaves such a block, never acknowledged, last.
          if (!last || probe.end !== size)
            throw corrupt(name, pos, `block ${height}: data_hash does not match its transactions`);
          await truncateTail(fh, name, pos);
          report.truncatedBytes = size - pos;
          report.truncatedFile = name;
          opts.logger?.warn(
            { file: name, offset: pos, block: String(height) },
            'ledger: removed a rejected block (bad data hash) left by a crash',
          );
          return;
        }
        pending.push({
          number: ib.number,
          location: { file: f, offset: pos, length: probe.payload.length },
          txIds: ib.txIds,
        });
        height++;
        lastHash = ib.headerHash;
        checkpoint = { height, file: f, endOffset: probe.end, lastHash };
        pos = probe.end;
        if (pending.length >= opts.reindexBatchBlocks) await flush();
      }
    });
  }
  await flush();
  return { height, lastHash, checkpoint };
}

function inspectOrCorrupt(payload: Uint8Array, name: string, pos: number, checkDataHash = true) {
  try {
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
    return checkDataHash ? inspectBlock(bytes) : parseBlock(bytes);
  } catch (e) {
    throw corrupt(name, pos, `record holds no valid block (${(e as Error).message})`);
  }
}

async function truncateTail(fh: FileHandle, name: string, pos: number): Promise<void> {
  try {
    await fh.truncate(pos);
    await fh.datasync();
  } catch (e) {
    throw ioError(`cannot truncate torn tail of ${name} at ${pos}`, e);
  }
}

async function withFile<T>(name: string, flags: string, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(name, flags);
  } catch (e) {
    throw ioError(`cannot open block file ${name}`, e);
  }
  try {
    return await fn(fh);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
