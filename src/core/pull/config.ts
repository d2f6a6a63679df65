/**
 * Pull engine configuration (PROTOCOL.md §6.4, §11): a slice of the config table
 * (src/config/table.ts gives each key's default, `fast` value and meaning) plus the engine's own
 * bounds.
 */
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';
import type { ProfileName } from '../../config/table.js';

export const PULL_SLICE = slice(
  'pull config',
  fields(
    'peer.gossip.pullInterval',
    'peer.gossip.pullPeerNum',
    'peer.gossip.digestWaitTime',
    'peer.gossip.requestWaitTime',
    'peer.gossip.responseWaitTime',
  ),
  {
    /** Bound on held items (not in Fabric); adds beyond it are refused and counted. */
    maxItems: 10_000,
    /** Bound on remembered Hello nonces (not in Fabric); the oldest is forgotten beyond it. */
    maxIncomingNonces: 10_000,
    /** Bound on item ids taken from one digest/request/update message and learned per round (not in Fabric). */
    maxDigestItems: 10_000,
  },
);

export type PullConfig = SliceConfig<typeof PULL_SLICE>;

export const FABRIC_PULL_DEFAULTS: PullConfig = Object.freeze(sliceDefaults(PULL_SLICE));

/** The defaults of `profile` overridden by `input` (0 = default). Throws ConfigError naming the key. */
export function pullConfig(input: Partial<PullConfig> = {}, profile: ProfileName = 'fabric'): PullConfig {
  return Object.freeze(resolveSlice(PULL_SLICE, input, profile));
}
