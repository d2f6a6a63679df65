/**
 * The production entry points: channel config parsing with the identity layer's X.509 MSPs.
 */
import { createMspManager, mspFromFabricConfig } from '../identity/index.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { parseChannelConfigWith, type MspFactory } from './parse.js';
import type { ChannelConfig } from './types.js';

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
