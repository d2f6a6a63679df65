/**
 * The gossip node's configuration (PROTOCOL.md §11): the parts, each a slice of the config table
 * (src/config/table.ts). `fabric` is Fabric's exact defaults; `fast` shortens the timers (the
 * table's `fast` column) for tests and all-Grapevine networks (never for mixed networks).
 */
import {
  channelGossipConfig,
  type ChannelGossipConfig,
  type ChannelGossipConfigInput,
} from '../channel/config.js';
import { discoveryConfig, type DiscoveryConfig, type DiscoveryConfigInput } from '../discovery/config.js';
import { ConfigError } from '../../base/errors.js';
import type { ProfileName } from '../../config/table.js';
import { FABRIC_EMITTER_DEFAULTS, type EmitterConfig } from '../link/emitter.js';
import { pullConfig, type PullConfig } from '../pull/config.js';

export interface GossipNodeConfig {
  readonly discovery: DiscoveryConfig;
  readonly channel: ChannelGossipConfig;
  /** The channel-message emitter (§6.1). */
  readonly emitter: EmitterConfig;
  /** Block pull and identity pull rounds (§6.4, §2.6). */
  readonly pull: PullConfig;
  /** Run the identity pull (§2.6). Default true. */
  readonly identityPull: boolean;
}

export interface GossipNodeConfigInput {
  readonly discovery: DiscoveryConfigInput;
  readonly channel?: ChannelGossipConfigInput;
  readonly emitter?: Partial<EmitterConfig>;
  readonly pull?: Partial<PullConfig>;
  readonly identityPull?: boolean;
}

export function gossipNodeConfig(
  input: GossipNodeConfigInput,
  profile: ProfileName = 'fabric',
): GossipNodeConfig {
  if (!input || typeof input !== 'object' || !input.discovery)
    throw new ConfigError('MISSING', 'gossip config: discovery (with endpoint) is required');
  const emitter = { ...FABRIC_EMITTER_DEFAULTS, ...(input.emitter ?? {}) };
  for (const [k, v] of Object.entries(emitter)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new ConfigError('BAD_VALUE', `gossip config: emitter.${k} must be a non-negative integer`);
  }
  const identityPull = input.identityPull ?? true;
  if (typeof identityPull !== 'boolean')
    throw new ConfigError('BAD_VALUE', 'gossip config: identityPull must be a boolean');
  return Object.freeze({
    discovery: discoveryConfig(input.discovery, profile),
    channel: channelGossipConfig(input.channel ?? {}, profile),
    emitter: Object.freeze(emitter),
    pull: pullConfig(input.pull ?? {}, profile),
    identityPull,
  });
}
