/**
 * The block index in classic-level (LevelDB). Keys and values are binary:
 *   'b' | u64 BE block number        -> u32 file | u64 record offset | u32 payload length
 *   't' | u32 BE byte length of the tx id | tx id (UTF-8) | u64 BE block number | u32 BE tx
 *        index                       -> empty
 *   'c'                               -> checkpoint: u8 version | u64 height | u32 file |
 *                                        u64 end offset | 32-byte hash of the last header
 * Every occurrence of a tx id gets its own key, so indexing never reads before it writes (as
 * Fabric's block index); a lookup takes the lowest key of the id's range, which is its first
 * occurrence (lowest block, then lowest index). Each batch (blocks + checkpoint) is atomic, so
 * the checkpoint always names the last block the index holds. Writes are not synced: after a
 * crash the index may lag the block files, and recovery re-indexes from the checkpoint
 * (re-putting a tx key is harmless: the same key). Checkpoint version 2 marks this layout; an
 * index of version 1 (one 't' | tx id key per id) does not parse and is rebuilt on open.
 */
import { ClassicLevel } from 'classic-level';

export interface BlockLocation {
  readonly file: number;
  readonly offset: number;
  readonly length: number;
}

export interface Checkpoint {
  readonly height: bigint;
  /** File and end offset of the last indexed record (file 0, offset 0 when empty). */
  readonly file: number;
  readonly endOffset: number;
  readonly lastHash: Uint8Array | undefined;
}

export interface IndexedBlock {
  readonly number: bigint;
  readonly location: BlockLocation;
  readonly txIds: readonly string[];
}

const CHECKPOINT_KEY = Buffer.from('c');
/** Lowest height the store may ever open with: kept across index rebuilds. */
const FLOOR_KEY = Buffer.from('f');
const CHECKPOINT_VERSION = 2;

export function blockKey(n: bigint): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = 0x62; // 'b'
  k.writeBigUInt64BE(n, 1);
  return k;
}

/** 't' | u32 length | tx id: the prefix of every key of this tx id. */
function txPrefix(id: string): Buffer {
  const idBytes = Buffer.from(id, 'utf8');
  const k = Buffer.allocUnsafe(5 + idBytes.length);
  k[0] = 0x74; // 't'
  k.writeUInt32BE(idBytes.length, 1);
  idBytes.copy(k, 5);
  return k;
}

export function txKey(id: string, block: bigint, txIndex: number): Buffer {
  const prefix = txPrefix(id);
  const k = Buffer.allocUnsafe(prefix.length + 12);
  prefix.copy(k, 0);
  k.writeBigUInt64BE(block, prefix.length);
  k.writeUInt32BE(txIndex, prefix.length + 8);
  return k;
}

export function encodeLocation(l: BlockLocation): Buffer {
  const v = Buffer.allocUnsafe(16);
  v.writeUInt32BE(l.file, 0);
  v.writeBigUInt64BE(BigInt(l.offset), 4);
  v.writeUInt32BE(l.length, 12);
  return v;
}

export function decodeLocation(v: Uint8Array | undefined): BlockLocation | undefined {
  if (!v || v.length !== 16) return undefined;
  const b = Buffer.from(v.buffer, v.byteOffset, v.length);
  return { file: b.readUInt32BE(0), offset: Number(b.readBigUInt64BE(4)), length: b.readUInt32BE(12) };
}

export function encodeCheckpoint(c: Checkpoint): Buffer {
  const v = Buffer.alloc(1 + 8 + 4 + 8 + 32);
  v[0] = CHECKPOINT_VERSION;
  v.writeBigUInt64BE(c.height, 1);
  v.writeUInt32BE(c.file, 9);
  v.writeBigUInt64BE(BigInt(c.endOffset), 13);
  if (c.lastHash) Buffer.from(c.lastHash).copy(v, 21);
  return v;
}

/** undefined when the value is not a checkpoint of a known version. */
export function decodeCheckpoint(v: Uint8Array | undefined): Checkpoint | undefined {
  if (!v || v.length !== 53 || v[0] !== CHECKPOINT_VERSION) return undefined;
  const b = Buffer.from(v.buffer, v.byteOffset, v.length);
  const height = b.readBigUInt64BE(1);
  return {
    height,
    file: b.readUInt32BE(9),
    endOffset: Number(b.readBigUInt64BE(13)),
    lastHash: height > 0n ? new Uint8Array(b.subarray(21, 53)) : undefined,
  };
}

export type IndexDb = ClassicLevel<Buffer, Buffer>;

export function createIndexDb(path: string): IndexDb {
  return new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
}

/** Writes the entries of a run of consecutive blocks and the checkpoint after the last. */
/** Writes the entries of a run of consecutive blocks and the checkpoint after the last. */
export async function indexBlocks(
  db: IndexDb,
  blocks: readonly IndexedBlock[],
  checkpoint: Checkpoint,
): Promise<void> {
  const batch = db.batch();
  const empty = Buffer.alloc(0);
  for (const b of blocks) {
    batch.put(blockKey(b.number), encodeLocation(b.location));
    b.txIds.forEach((id, i) => {
      if (id !== '') batch.put(txKey(id, b.number, i), empty);
    });
  }
  batch.put(CHECKPOINT_KEY, encodeCheckpoint(checkpoint));
  await batch.write();
}

export async function readFloor(db: IndexDb): Promise<bigint> {
  const v = await db.get(FLOOR_KEY);
  return v && v.length === 8 ? Buffer.from(v.buffer, v.byteOffset, 8).readBigUInt64BE(0) : 0n;
}

export async function writeFloor(db: IndexDb, height: bigint): Promise<void> {
  const v = Buffer.allocUnsafe(8);
  v.writeBigUInt64BE(height, 0);
  await db.put(FLOOR_KEY, v);
}

export async function readCheckpoint(db: IndexDb): Promise<Uint8Array | undefined> {
  return db.get(CHECKPOINT_KEY);
}

/** Synchronous LevelDB lookup: a few microseconds, cheaper than a thread-pool round trip. */
export function lookupLocation(db: IndexDb, n: bigint): BlockLocation | undefined {
  return decodeLocation(db.getSync(blockKey(n)));
}

/** The first occurrence of a tx id in the index (lowest block, then lowest tx index). */
export async function lookupTx(
  db: IndexDb,
  id: string,
): Promise<{ number: bigint; txIndex: number } | undefined> {
  const prefix = txPrefix(id);
  const keys = await db
    .keys({ gte: prefix, lte: Buffer.concat([prefix, Buffer.alloc(12, 0xff)]), limit: 1 })
    .all();
  const k = keys[0];
  if (!k || k.length !== prefix.length + 12) return undefined;
  const b = Buffer.from(k.buffer, k.byteOffset, k.length);
  return { number: b.readBigUInt64BE(prefix.length), txIndex: b.readUInt32BE(prefix.length + 8) };
}
