/**
 * The production entry points: channel config parsing with the identity layer's X.509 MSPs, and
 * block-list verification with the identity layer's MessageCryptoService.
 */
import { VerifyError } from '../base/errors.js';
// the modules themselves, not identity/index.js: verifying blocks needs no MSP folders (and their YAML parser)
import { createMspManager } from '../identity/manager.js';
import { MessageCryptoService } from '../identity/mcs.js';
import { mspFromFabricConfig } from '../identity/msp.js';
import type { ChannelCryptoContext, LocalIdentity } from '../identity/types.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { parseChannelConfigWith, type MspFactory } from './parse.js';
import type { ChannelConfig } from './types.js';
import { verifyBlocksWith, type BlockInput, type BlockResult, type BlockVerifyDeps } from './verify.js';

export const x509MspFactory: MspFactory = {
  mspFromFabricConfig: (cfg) => mspFromFabricConfig(cfg),
  createMspManager: (msps) => createMspManager(msps),
};

/**
 * Parse the channel config in a config block (decoded or serialized). Throws WireError
 * (undecodable; NOT_CONFIG naming the block number for a non-config block) or ConfigError.
 */
export function parseChannelConfig(block: Block | Uint8Array): ChannelConfig {
  return parseChannelConfigWith(block, x509MspFactory);
}

/**
 * Offline verification has no local identity; MessageCryptoService.verifyBlock never uses it.
 * Anything that would (signing, verifying a local-MSP identity) fails with NO_LOCAL_IDENTITY.
 */
function noLocalIdentity(): LocalIdentity {
  const fail = (): never => {
    throw new VerifyError('NO_LOCAL_IDENTITY', 'offline block verification has no local identity');
  };
  const msp = {
    id: '\u0000no-local-msp',
    deserialize: fail,
    validate: fail,
    roleOf: fail,
    satisfiesPrincipal: fail,
    tlsRootCerts: [],
    tlsIntermediateCerts: [],
  };
  return {
    signer: { sign: fail, serializedIdentity: new Uint8Array() },
    msp,
    identity: undefined,
  } as unknown as LocalIdentity;
}

/** verifyBlock through a MessageCryptoService that knows just this one channel context. */
function mcsVerifyBlock(ctx: ChannelCryptoContext, seqNum: bigint, block: Block, now: Date): void {
  const channels = {
    get: (id: string) => (id === ctx.channelId ? ctx : undefined),
    all: () => [ctx],
  };
  new MessageCryptoService(noLocalIdentity(), channels, () => now).verifyBlock(ctx.channelId, seqNum, block);
}

export const mcsVerifyDeps: BlockVerifyDeps = {
  parse: (block) => parseChannelConfig(block),
  verifyBlock: mcsVerifyBlock,
};

/**
 * Verify blocks against the config in `configBlock` (PROTOCOL.md §2.8), one result per block in
 * list order with a one-line reason on failure. A CONFIG block in the list that verifies
 * replaces the config for the blocks after it. Throws (WireError / ConfigError) only when
 * `configBlock` itself is not a usable config block.
 */
export function verifyBlocks(configBlock: Uint8Array, blocks: BlockInput[], now: Date): BlockResult[] {
  return verifyBlocksWith(configBlock, blocks, now, mcsVerifyDeps);
}
