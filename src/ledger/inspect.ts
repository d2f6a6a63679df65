/**
 * What the store needs to know about a block before it commits or re-indexes it: its number,
 * the hash of its header (for the chain), its data-hash consistency and its transaction ids
 * (channel header tx_id of each envelope; an envelope that does not decode has no id).
 */
import { webcrypto } from 'node:crypto';
import { WireError } from '../base/errors.js';
import { blockDataHash, decodeBlock, decodeTx, encodeBlock, headerHashOf } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { scanBlock } from '../wire/blockscan.js';
import { LedgerError } from './errors.js';
import { fastTxId } from './txid.js';

export interface InspectedBlock {
  readonly bytes: Uint8Array;
  /**
   * The transactions and header.data_hash, for the data-hash check here; absent when the caller
   * gave BlockFacts (the block was decoded elsewhere, e.g. a worker).
   */
  readonly data?: readonly Uint8Array[];
  readonly dataHash?: Uint8Array;
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly txIds: readonly string[];
  /** The data hash already checked by whoever computed the facts. */
  readonly dataHashChecked?: boolean;
}

/**
 * What the store needs of a block, computed by a caller that already decoded and checked it
 * (the catch-up verifier workers): header number and previous_hash, SHA-256 of the DER header,
 * the tx ids (as txIdOf: '' for an envelope without one), and dataHashChecked = header.data_hash
 * was found equal to the hash of the data. They must be exactly the facts of the bytes appended.
 */
export interface BlockFacts {
  readonly kind: 'facts';
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly txIds: readonly string[];
  readonly dataHashChecked: boolean;
}

/** The facts of a decoded block (data hash checked here unless `dataHashChecked` says done). */
export function blockFacts(block: Block, dataHashChecked?: boolean): BlockFacts {
  const header = block.header;
  if (!header) throw new LedgerError('MALFORMED', 'block has no header');
  const data = block.data?.data ?? [];
  return {
    kind: 'facts',
    number: header.number,
    previousHash: header.previousHash,
    headerHash: headerHashOf(header.number, header.previousHash, header.dataHash),
    txIds: data.map(txIdOf),
    dataHashChecked: dataHashChecked ?? sameHash(blockDataHash(data), header.dataHash),
  };
}

function isFacts(x: Block | BlockFacts | undefined): x is BlockFacts {
  return x !== undefined && (x as BlockFacts).kind === 'facts';
}

/**
 * Reads the header and transactions of the block (bytes: scanBlock, or the generic decoder for
 * a shape it does not read; or takes `decoded`, which must be decodeBlock(bytes), or its
 * BlockFacts; a Block is encoded); the data hash is checked separately (dataHashMatches).
 */
export function parseBlock(input: Block | Uint8Array, decoded?: Block | BlockFacts): InspectedBlock {
  if (input instanceof Uint8Array && isFacts(decoded)) {
    return {
      bytes: input,
      number: decoded.number,
      previousHash: decoded.previousHash,
      headerHash: decoded.headerHash,
      txIds: decoded.txIds,
      dataHashChecked: decoded.dataHashChecked,
    };
  }
  if (input instanceof Uint8Array && !decoded) {
    const s = scanBlock(input);
    if (s) return inspected(input, s.number, s.previousHash, s.dataHash, s.data ?? []);
  }
  let bytes: Uint8Array;
  let block: Block;
  try {
    if (input instanceof Uint8Array && decoded && !isFacts(decoded)) {
      bytes = input;
      block = decoded;
    } else if (input instanceof Uint8Array) {
      bytes = input;
      block = decodeBlock(input);
    } else {
      block = input;
      bytes = encodeBlock(input);
    }
  } catch (e) {
    if (e instanceof WireError) throw new LedgerError('MALFORMED', `not a block: ${e.message}`, { cause: e });
    throw new LedgerError('MALFORMED', `block does not encode: ${(e as Error).message}`, { cause: e });
  }
  const header = block.header;
  if (!header) throw new LedgerError('MALFORMED', 'block has no header');
  return inspected(bytes, header.number, header.previousHash, header.dataHash, block.data?.data ?? []);
}

function inspected(
  bytes: Uint8Array,
  number: bigint,
  previousHash: Uint8Array,
  dataHash: Uint8Array,
  data: readonly Uint8Array[],
): InspectedBlock {
  let txIds: readonly string[] | undefined;
  let headerHash: Uint8Array | undefined;
  return {
    bytes,
    data,
    dataHash,
    number,
    previousHash,
    // both computed on first use: for a lone append the store asks while its write is in
    // flight (the first CPU work after waiting on the disk runs several times slower than hot)
    get headerHash() {
      return (headerHash ??= headerHashOf(number, previousHash, dataHash));
    },
    get txIds() {
      return (txIds ??= data.map(txIdOf));
    },
  };
}

/** header.data_hash == SHA-256 of the concatenated transactions (§2.8 step 4). */
export function dataHashMatches(ib: InspectedBlock): boolean {
  if (!ib.data) return ib.dataHashChecked === true;
  return sameHash(blockDataHash(ib.data), ib.dataHash);
}

/** Blocks with at least this many data bytes have their data hash computed on the thread pool. */
export const ASYNC_HASH_BYTES = 128 * 1024;
/** Largest data hashed through the reusable scratch buffer (larger data: hashed here). */
const MAX_SCRATCH_BYTES = 16 * 1024 * 1024;
let scratch = new Uint8Array(0);

/**
 * dataHashMatches for a block whose write is about to start. Large data is hashed on the libuv
 * thread pool (WebCrypto digest, which copies its input when called), so the SHA-256 overlaps
 * the record's checksum and write instead of holding the main thread; several transactions are
 * first laid end to end in a reused scratch buffer (a fresh 1 MB allocation costs more than the
 * hash). Small blocks are hashed here at once.
 */
export function dataHashMatchesSoon(ib: InspectedBlock): boolean | Promise<boolean> {
  const data = ib.data;
  if (!data) return dataHashMatches(ib);
  let total = 0;
  for (const d of data) total += d.length;
  if (total < ASYNC_HASH_BYTES || total > MAX_SCRATCH_BYTES) return dataHashMatches(ib);
  let input = data[0];
  if (data.length > 1) {
    if (scratch.length < total) scratch = new Uint8Array(total);
    let o = 0;
    for (const d of data) {
      scratch.set(d, o);
      o += d.length;
    }
    input = scratch.subarray(0, total);
  }
  const want = ib.dataHash;
  try {
    return webcrypto.subtle.digest('SHA-256', input).then(
      (d) => sameHash(new Uint8Array(d), want),
      () => dataHashMatches(ib),
    );
  } catch {
    return dataHashMatches(ib);
  }
}

export function dataHashError(n: bigint): LedgerError {
  return new LedgerError('BAD_DATA_HASH', `block ${n}: header data_hash does not match its transactions`);
}

/** parseBlock and the data hash check. */
export function inspectBlock(input: Block | Uint8Array): InspectedBlock {
  const ib = parseBlock(input);
  if (!dataHashMatches(ib)) throw dataHashError(ib.number);
  return ib;
}

function txIdOf(envelope: Uint8Array): string {
  const fast = fastTxId(envelope);
  if (fast !== undefined) return fast;
  try {
    return decodeTx(envelope).channelHeader.txId;
  } catch {
    return '';
  }
}

const EMPTY = Buffer.alloc(0);

export function sameHash(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  // views, not copies (Buffer.from(Uint8Array) copies): this runs for every block appended
  const view = (x: Uint8Array | undefined) => (x ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : EMPTY);
  return view(a).equals(view(b));
}
