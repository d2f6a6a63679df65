/**
 * Ledger errors: one class, stable codes. CORRUPT errors name the block file and the byte
 * offset of the bad record so an operator can find it.
 */
import { GrapevineError } from '../base/errors.js';

export type LedgerErrorCode =
  | 'WRONG_NUMBER' // block number != ledger height
  | 'BAD_PREVIOUS_HASH' // previous_hash != hash of the last header
  | 'BAD_DATA_HASH' // header.data_hash != SHA-256 of the transactions
  | 'MALFORMED' // bytes that are not a block, or a block without header/data
  | 'TOO_LARGE' // block larger than maxBlockBytes
  | 'CLOSED' // store closed (or closing)
  | 'FAILED' // an earlier I/O failure left the store unusable until reopened
  | 'CORRUPT' // a block file or the index does not hold what was committed
  | 'LOCKED' // another process has the store open
  | 'IO'; // a file system operation failed

export class LedgerError extends GrapevineError {
  declare readonly code: LedgerErrorCode;
  /** Block file and byte offset of the damaged record, for CORRUPT errors. */
  readonly file: string | undefined;
  readonly offset: number | undefined;
  constructor(
    code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown; file?: string; offset?: number },
  ) {
    super(code, message, options);
    this.file = options?.file;
    this.offset = options?.offset;
  }
}

export function corrupt(file: string, offset: number, what: string): LedgerError {
  return new LedgerError('CORRUPT', `block file ${file} is corrupt at offset ${offset}: ${what}`, {
    file,
    offset,
  });
}

export function ioError(what: string, cause: unknown): LedgerError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new LedgerError('IO', `${what}: ${msg}`, { cause });
}
