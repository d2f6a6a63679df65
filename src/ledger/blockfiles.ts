/**
 * Block files on disk: naming, listing, positional record reads, and a bounded pool of read
 * handles shared by concurrent readers (a handle is closed only when no read is using it).
 */
import { constants as fsConstants } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { corrupt, ioError, LedgerError } from './errors.js';
import { parseRecordHeader, payloadMatches, RECORD_HEADER_BYTES, RECORD_MAGIC } from './record.js';

const FILE_RE = /^blockfile_(\d{6,})$/;

export function blockFileName(n: number): string {
  return `blockfile_${String(n).padStart(6, '0')}`;
}

/** Numbers of the block files in dir, ascending; CORRUPT when the sequence has a gap. */
export async function listBlockFiles(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw ioError(`cannot list ledger folder ${dir}`, e);
  }
  const nums = names
    .map((n) => FILE_RE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  nums.forEach((n, i) => {
    if (n !== i)
      throw new LedgerError('CORRUPT', `ledger folder ${dir}: block file ${blockFileName(i)} is missing`);
  });
  return nums;
}

/** Reads exactly len bytes at pos; returns fewer only at end of file. */
export async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? buf : buf.subarray(0, got);
}

export type RecordProbe =
  | { readonly ok: true; readonly payload: Buffer; readonly end: number }
  | { readonly ok: false; readonly why: string };

/** Reads and checks the record at pos of a file of the given size. */
export async function probeRecord(
  fh: FileHandle,
  pos: number,
  size: number,
  maxPayload: number,
): Promise<RecordProbe> {
  if (size - pos < RECORD_HEADER_BYTES) return { ok: false, why: 'incomplete record header' };
  const header = parseRecordHeader(await readAt(fh, pos, RECORD_HEADER_BYTES));
  if (!header) return { ok: false, why: 'bad record header (magic or checksum)' };
  if (header.length > maxPayload) return { ok: false, why: `record length ${header.length} above the limit` };
  const end = pos + RECORD_HEADER_BYTES + header.length;
  if (end > size) return { ok: false, why: 'incomplete record (file ends inside it)' };
  const payload = await readAt(fh, pos + RECORD_HEADER_BYTES, header.length);
  if (!payloadMatches(header, payload)) return { ok: false, why: 'record checksum mismatch' };
  return { ok: true, payload, end };
}

/**
 * Is there a complete, valid record starting anywhere in (from, size)? Used to tell a torn tail
 * (nothing valid follows) from corruption in the middle (valid data follows the bad record).
 */
export async function validRecordAfter(
  fh: FileHandle,
  from: number,
  size: number,
  maxPayload: number,
): Promise<number | undefined> {
  const CHUNK = 1 << 20;
  for (let base = from + 1; base < size; base += CHUNK) {
    const chunk = await readAt(fh, base, Math.min(CHUNK + RECORD_MAGIC.length - 1, size - base));
    for (let i = chunk.indexOf(RECORD_MAGIC); i >= 0 && i < CHUNK; i = chunk.indexOf(RECORD_MAGIC, i + 1)) {
      const probe = await probeRecord(fh, base + i, size, maxPayload);
      if (probe.ok) return base + i;
    }
  }
  return undefined;
}

interface PooledHandle {
  readonly name: string;
  readonly opening: Promise<FileHandle>;
  /** Set once open, so later reads skip a promise hop. */
  fh: FileHandle | undefined;
  refs: number;
  evicted: boolean;
}

/** Read-only handles, at most `max` kept open (least recently used closed first). */
export class ReadHandlePool {
  private readonly handles = new Map<number, PooledHandle>();
  constructor(
    private readonly dir: string,
    private readonly max: number,
  ) {}

  /** Runs fn with a read handle of file n, keeping the handle open while fn runs. */
  async with<T>(n: number, fn: (fh: FileHandle, name: string) => Promise<T>): Promise<T> {
    const h = this.acquire(n);
    try {
      let fh = h.fh;
      if (!fh) {
        try {
          fh = await h.opening;
        } catch (e) {
          if (this.handles.get(n) === h) this.handles.delete(n);
          throw ioError(`cannot open block file ${h.name}`, e);
        }
      }
      return await fn(fh, h.name);
    } finally {
      h.refs--;
      if (h.evicted && h.refs === 0) await closeQuietly(h.opening);
    }
  }

  private acquire(n: number): PooledHandle {
    let h = this.handles.get(n);
    if (h) {
      if (this.handles.size > 1) {
        this.handles.delete(n); // re-insert: most recently used last
        this.handles.set(n, h);
      }
    } else {
      const name = join(this.dir, blockFileName(n));
      const opening = open(name, 'r');
      const entry: PooledHandle = { name, opening, fh: undefined, refs: 0, evicted: false };
      opening.then(
        (fh) => (entry.fh = fh),
        () => undefined,
      );
      h = entry;
      this.handles.set(n, h);
    }
    h.refs++;
    this.evict();
    return h;
  }

  private evict(): void {
    for (const [n, h] of this.handles) {
      if (this.handles.size <= this.max) break;
      this.handles.delete(n);
      h.evicted = true;
      if (h.refs === 0) void closeQuietly(h.opening);
    }
  }

  get size(): number {
    return this.handles.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((h) => closeQuietly(h.opening)));
  }
}

async function closeQuietly(fh: Promise<FileHandle>): Promise<void> {
  try {
    await (await fh).close();
  } catch {
    // already closed or never opened
  }
}

/** Reads the record at offset in file n and checks it against the index entry. */
export async function readRecord(
  pool: ReadHandlePool,
  n: number,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  return pool.with(n, async (fh, name) => {
    const buf = await readAt(fh, offset, RECORD_HEADER_BYTES + length);
    if (buf.length < RECORD_HEADER_BYTES + length)
      throw corrupt(name, offset, 'file ends inside an indexed record');
    const header = parseRecordHeader(buf);
    if (!header) throw corrupt(name, offset, 'bad record header (magic or checksum)');
    if (header.length !== length)
      throw corrupt(name, offset, `record length ${header.length}, index says ${length}`);
    const payload = buf.subarray(RECORD_HEADER_BYTES);
    if (!payloadMatches(header, payload)) throw corrupt(name, offset, 'record checksum mismatch');
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
  });
}

export interface Writer {
  fh: FileHandle;
  file: number;
  offset: number;
  /** Opened with O_DSYNC: every write is durable when it returns. */
  dsync: boolean;
}

/** Opens block file n for appending at its end, creating it (durably) if absent. */
export async function openWriter(dir: string, file: number): Promise<Writer> {
  const path = join(dir, blockFileName(file));
  const { O_RDWR, O_CREAT, O_EXCL, O_DSYNC } = fsConstants;
  const dsync = typeof O_DSYNC === 'number' && process.platform !== 'win32';
  const sync = dsync ? O_DSYNC : 0;
  try {
    let fh: FileHandle;
    try {
      fh = await open(path, O_RDWR | sync);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fh = await open(path, O_RDWR | O_CREAT | O_EXCL | sync);
      await fh.sync();
      await syncDir(dir);
    }
    return { fh, file, offset: (await fh.stat()).size, dsync };
  } catch (e) {
    throw ioError(`cannot open block file ${path} for writing`, e);
  }
}

/** Makes a new file's directory entry durable (best effort where directories cannot be synced). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // not supported on this platform
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
