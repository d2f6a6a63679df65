/**
 * Channel gossip configuration (PROTOCOL.md §5, §6, §11): a slice of the config table
 * (src/config/table.ts gives each key's default, `fast` value and meaning) plus the channel's own
 * bounds. Derived values follow Fabric's formulas.
 */
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';
import type { ProfileName } from '../../config/table.js';

export const CHANNEL_SLICE = slice(
  'channel gossip config',
  fields(
    'peer.gossip.publishStateInfoInterval',
    'peer.gossip.requestStateInfoInterval',
    /** Block pull period; cache upkeep every 5x, block TTL 100x. */
    'peer.gossip.pullInterval',
    'peer.gossip.pullPeerNum',
    'peer.gossip.propagatePeerNum',
    'peer.gossip.maxBlockCountToStore',
    /** The leadership message store keeps 10x. */
    'peer.gossip.election.leaderAliveThreshold',
  ),
  {
    /** Push blocks at all (blocks still enter the pull store when off). Not in Fabric; tests and benches. */
    pushBlocks: true,
    /** Bound on cached StateInfos per channel (not in Fabric); new PKI-IDs beyond it are refused. */
    maxStateInfos: 10_000,
    /** Bound on the node-level store of StateInfos of channels not joined (§5.6). */
    maxForeignStateInfos: 10_000,
    /** Bound on blocks remembered as handed over to the state layer per channel (not in Fabric; the block store is bounded by maxBlockCountToStore). */
    maxSeenBlocks: 10_000,
    /** Bound on joined channels. */
    maxChannels: 1000,
  },
);

export type ChannelGossipConfig = SliceConfig<typeof CHANNEL_SLICE>;
export type ChannelGossipConfigInput = Partial<ChannelGossipConfig>;

export const FABRIC_CHANNEL_DEFAULTS: ChannelGossipConfig = Object.freeze(sliceDefaults(CHANNEL_SLICE));

/**
 * The defaults of `profile` overridden by `input` (0 = default). Throws ConfigError naming the key.
 * Under `fast` the leadership store keeps Fabric's leaderAliveThreshold unless given (as it always
 * has for a node built from a partial config; the peer's loader gives the election's value).
 */
export function channelGossipConfig(
  input: ChannelGossipConfigInput = {},
  profile: ProfileName = 'fabric',
): ChannelGossipConfig {
  const out = resolveSlice(CHANNEL_SLICE, input, profile);
  const leaderAliveThresholdMs =
    input.leaderAliveThresholdMs || FABRIC_CHANNEL_DEFAULTS.leaderAliveThresholdMs;
  return Object.freeze({ ...out, leaderAliveThresholdMs });
}

/** Block message store TTL (§6.3): pullInterval x 100. */
export const blockTtlMs = (c: ChannelGossipConfig): number => c.pullIntervalMs * 100;
/** StateInfo cache upkeep period (§5.3): pullInterval x 5. */
export const stateInfoCleanMs = (c: ChannelGossipConfig): number => c.pullIntervalMs * 5;
/** Node-level StateInfo store TTL (§5.6): publishStateInfoInterval x 100. */
export const foreignStateInfoTtlMs = (c: ChannelGossipConfig): number => c.publishStateInfoIntervalMs * 100;
/** Leadership message store TTL (§7.2): leaderAliveThreshold x 10. */
export const leadershipTtlMs = (c: ChannelGossipConfig): number => c.leaderAliveThresholdMs * 10;
