/**
 * What the store needs to know about a block before it commits or re-indexes it: its number,
 * the hash of its header (for the chain), its data-hash consistency and its transaction ids
 * (channel header tx_id of each envelope; an envelope that does not decode has no id).
 */
import { WireError } from '../errors.js';
import { blockDataHash, blockHeaderHash, decodeBlock, decodeTx, encodeBlock } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { LedgerError } from './errors.js';

export interface InspectedBlock {
  readonly bytes: Uint8Array;
  readonly block: Block;
  readonly number: bigint;
  readonly previousHash: Uint8Array;
  readonly headerHash: Uint8Array;
  readonly txIds: string[];
}

/**
 * Decodes (bytes; or takes `decoded`, which must be decodeBlock(bytes)) or encodes (Block) and
 * checks the header; the data hash is checked separately.
 */
export function parseBlock(input: Block | Uint8Array, decoded?: Block): InspectedBlock {
  let bytes: Uint8Array;
  let block: Block;
  try {
    if (input instanceof Uint8Array && decoded) {
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
  return {
    bytes,
    block,
    number: header.number,
    previousHash: header.previousHash,
    headerHash: blockHeaderHash(header),
    txIds: (block.data?.data ?? []).map(txIdOf),
  };
}

/** header.data_hash == SHA-256 of the concatenated transactions (§2.8 step 4). */
export function dataHashMatches(ib: InspectedBlock): boolean {
  return sameHash(blockDataHash(ib.block.data?.data ?? []), ib.block.header?.dataHash);
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
  try {
    return decodeTx(envelope).channelHeader.txId;
  } catch {
    return '';
  }
}

export function sameHash(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return Buffer.from(a ?? []).equals(Buffer.from(b ?? []));
}
