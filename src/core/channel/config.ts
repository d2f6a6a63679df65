/**
 * Channel gossip configuration (PROTOCOL.md §5, §6, §11): one typed place with Fabric's defaults.
 * Key names in comments are core.yaml's (`peer.gossip.*`). As Fabric's GetDurationOrDefault, a 0
 * for a timing or count means the default. Derived values follow Fabric's formulas.
 */
import { ConfigError } from '../../base/errors.js';

export interface ChannelGossipConfig {
  /** `peer.gossip.publishStateInfoInterval` (ms): StateInfo publication check. Fabric 4 s. */
  readonly publishStateInfoIntervalMs: number;
  /** `peer.gossip.requestStateInfoInterval` (ms): StateInfoPullRequest period. Fabric 4 s. */
  readonly requestStateInfoIntervalMs: number;
  /** `peer.gossip.pullInterval` (ms): block pull period; cache upkeep every 5x, block TTL 100x. Fabric 4 s. */
  readonly pullIntervalMs: number;
  /** `peer.gossip.pullPeerNum`: peers per StateInfo request (and block pull). Fabric 3. */
  readonly pullPeerNum: number;
  /** `peer.gossip.propagatePeerNum`: push fanout. Fabric 3. */
  readonly propagatePeerNum: number;
  /** `peer.gossip.maxBlockCountToStore`: block store window (§6.3). Fabric 10. */
  readonly maxBlockCountToStore: number;
  /** `peer.gossip.election.leaderAliveThreshold` (ms): leadership store TTL is 10x. Fabric 10 s. */
  readonly leaderAliveThresholdMs: number;
  /** Push blocks at all (blocks still enter the pull store when off). Not in Fabric; tests and benches. */
  readonly pushBlocks: boolean;
  /** Bound on cached StateInfos per channel (not in Fabric); new PKI-IDs beyond it are refused. */
  readonly maxStateInfos: number;
  /** Bound on the node-level store of StateInfos of channels not joined (§5.6). */
  readonly maxForeignStateInfos: number;
  /** Bound on blocks remembered as handed over to the state layer per channel (not in Fabric; the block store is bounded by maxBlockCountToStore). */
  readonly maxSeenBlocks: number;
  /** Bound on joined channels. */
  readonly maxChannels: number;
}

export type ChannelGossipConfigInput = Partial<ChannelGossipConfig>;

export const FABRIC_CHANNEL_DEFAULTS: ChannelGossipConfig = Object.freeze({
  publishStateInfoIntervalMs: 4000,
  requestStateInfoIntervalMs: 4000,
  pullIntervalMs: 4000,
  pullPeerNum: 3,
  propagatePeerNum: 3,
  maxBlockCountToStore: 10,
  leaderAliveThresholdMs: 10_000,
  pushBlocks: true,
  maxStateInfos: 10_000,
  maxForeignStateInfos: 10_000,
  maxSeenBlocks: 10_000,
  maxChannels: 1000,
});

/** Fabric defaults overridden by `input` (0 = default). Throws ConfigError naming the key. */
export function channelGossipConfig(input: ChannelGossipConfigInput = {}): ChannelGossipConfig {
  const out: Record<string, number | boolean> = { ...FABRIC_CHANNEL_DEFAULTS };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in FABRIC_CHANNEL_DEFAULTS))
      throw new ConfigError('UNKNOWN_KEY', `channel gossip config: unknown key ${key}`);
    if (value === undefined) continue;
    if (key === 'pushBlocks') {
      if (typeof value !== 'boolean')
        throw new ConfigError(
          'BAD_VALUE',
          `channel gossip config: pushBlocks must be a boolean, got ${String(value)}`,
        );
      out[key] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ConfigError(
        'BAD_VALUE',
        `channel gossip config: ${key} must be a non-negative integer, got ${String(value)}`,
      );
    }
    if (value !== 0) out[key] = value;
  }
  return Object.freeze(out) as unknown as ChannelGossipConfig;
}

/** Block message store TTL (§6.3): pullInterval x 100. */
export const blockTtlMs = (c: ChannelGossipConfig): number => c.pullIntervalMs * 100;
/** StateInfo cache upkeep period (§5.3): pullInterval x 5. */
export const stateInfoCleanMs = (c: ChannelGossipConfig): number => c.pullIntervalMs * 5;
/** Node-level StateInfo store TTL (§5.6): publishStateInfoInterval x 100. */
export const foreignStateInfoTtlMs = (c: ChannelGossipConfig): number => c.publishStateInfoIntervalMs * 100;
/** Leadership message store TTL (§7.2): leaderAliveThreshold x 10. */
export const leadershipTtlMs = (c: ChannelGossipConfig): number => c.leaderAliveThresholdMs * 10;
