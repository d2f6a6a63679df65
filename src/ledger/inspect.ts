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

/** Decodes (bytes) or encodes (Block) and checks the header and data hash. */
export function inspectBlock(input: Block | Uint8Array): InspectedBlock {
  let bytes: Uint8Array;
  let block: Block;
  try {
    if (input instanceof Uint8Array) {
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
  const data = block.data?.data ?? [];
  const dataHash = blockDataHash(data);
  if (!Buffer.from(dataHash).equals(Buffer.from(header.dataHash))) {
    throw new LedgerError('BAD_DATA_HASH', `block ${header.number}: header data_hash does not match its transactions`);
  }
  return {
    bytes,
    block,
    number: header.number,
    previousHash: header.previousHash,
    headerHash: blockHeaderHash(header),
    txIds: data.map(txIdOf),
  };
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
