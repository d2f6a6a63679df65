/**
 * Verifying a list of blocks against a channel config (the offline form of what a peer does to
 * every block it receives, PROTOCOL.md §2.8), one result per block.
 *
 *   config := parse(configBlock)            (a bad config block throws: nothing can be verified)
 *   for each block, in list order:
 *     - undecodable / no header                         -> fail
 *     - byte-identical to the config block              -> ok ("trusted as given": a genesis
 *       block carries no orderer signatures, so it can only be trusted, not verified)
 *     - no orderer signature in metadata[SIGNATURES]    -> fail (says so; genesis blocks hinted)
 *     - the block verifier (identity's MessageCryptoService.verifyBlock with config's crypto
 *       context, seqNum = the block's own number) rejects -> fail with its reason
 *     - the previous list entry is block n-1 and previous_hash != its header hash -> fail
 *     - a CONFIG block: its config replaces `config` for the blocks after it (if it parses;
 *       otherwise fail and keep the old one)
 */
import { errorMessage } from '../base/errors.js';
import { blockHeaderHash, blockSignaturesMetadata, decodeBlock, isConfigBlock } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import type { ChannelCryptoContext } from '../identity/types.js';
import type { ChannelConfig } from './types.js';

export interface BlockInput {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface BlockResult {
  readonly name: string;
  readonly ok: boolean;
  readonly reason?: string;
}

export interface BlockVerifyDeps {
  /** Parse the config of a config block (throws a typed error). */
  parse(block: Block): ChannelConfig;
  /** Verify one block as §2.8 with the channel's crypto context; throws with a reason on failure. */
  verifyBlock(ctx: ChannelCryptoContext, seqNum: bigint, block: Block, now: Date): void;
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
  );
}

function signatureCount(block: Block): number {
  try {
    return blockSignaturesMetadata(block).signatures.length;
  } catch {
    return 0;
  }
}

export function verifyBlocksWith(
  configBlock: Uint8Array,
  blocks: readonly BlockInput[],
  now: Date,
  deps: BlockVerifyDeps,
): BlockResult[] {
  let config = deps.parse(decodeBlock(configBlock));
  const results: BlockResult[] = [];
  let prev: { number: bigint; hash: Uint8Array } | undefined;
  for (const { name, bytes } of blocks) {
    const fail = (reason: string): void => {
      results.push({ name, ok: false, reason: oneLine(reason) });
    };
    let block: Block;
    try {
      block = decodeBlock(bytes);
    } catch (e) {
      fail(`not a block: ${errorMessage(e)}`);
      prev = undefined;
      continue;
    }
    const header = block.header;
    if (!header) {
      fail('block has no header');
      prev = undefined;
      continue;
    }
    const n = header.number;
    const previous = prev;
    prev = { number: n, hash: blockHeaderHash(header) };
    if (equalBytes(bytes, configBlock)) {
      results.push({
        name,
        ok: true,
        reason: `block ${n} is the configuration block itself: trusted as given, not signature-checked`,
      });
      continue;
    }
    if (signatureCount(block) === 0) {
      const genesis =
        n === 0n && isConfigBlock(block)
          ? ' (a genesis block is unsigned: it can only be trusted as the config block)'
          : '';
      fail(`block ${n} carries no orderer signatures${genesis}`);
      continue;
    }
    try {
      deps.verifyBlock(config.cryptoContext(), n, block, now);
    } catch (e) {
      const msg = errorMessage(e);
      fail(new RegExp(`\\bblock ${n}\\b`).test(msg) ? msg : `block ${n}: ${msg}`);
      continue;
    }
    if (previous && previous.number + 1n === n && !equalBytes(previous.hash, header.previousHash)) {
      fail(
        `block ${n}: previous_hash does not match the header hash of block ${previous.number} listed before it`,
      );
      continue;
    }
    if (isConfigBlock(block)) {
      try {
        config = deps.parse(block);
      } catch (e) {
        fail(`block ${n} is a signed config block but its config is invalid: ${errorMessage(e)}`);
        continue;
      }
      results.push({
        name,
        ok: true,
        reason: `config block (sequence ${config.sequence}): used for the blocks after it`,
      });
      continue;
    }
    results.push({ name, ok: true });
  }
  return results;
}
