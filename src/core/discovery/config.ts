/**
 * Discovery configuration (PROTOCOL.md §4.2, §11): a slice of the config table
 * (src/config/table.ts gives each key's default, `fast` value and meaning) plus discovery's own
 * bounds. Derived defaults follow Fabric: aliveExpirationTimeout = 5 x aliveTimeInterval,
 * reconnectInterval = aliveExpirationTimeout.
 */
import { ConfigError } from '../../base/errors.js';
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';
import type { ProfileName } from '../../config/table.js';

export { isHostPort, portOf } from '../../config/table.js';

export const DISCOVERY_SLICE = slice(
  'discovery config',
  fields(
    /** Internal endpoint host:port (else peer.address), sent only in secrets. */
    'peer.gossip.endpoint',
    'peer.gossip.externalEndpoint',
    'peer.gossip.bootstrap',
    'peer.gossip.aliveTimeInterval',
    'peer.gossip.aliveExpirationTimeout',
    'peer.gossip.reconnectInterval',
    'peer.gossip.msgExpirationFactor',
    'peer.gossip.publishCertPeriod',
    /** Membership sync period. */
    'peer.gossip.pullInterval',
    /** Peers asked per membership sync. */
    'peer.gossip.pullPeerNum',
    /** Fanout of alive messages. */
    'peer.gossip.propagatePeerNum',
    'peer.gossip.maxConnectionAttempts',
  ),
  {
    /** Wait for a MembershipResponse to a bootstrap/anchor request (Fabric: 5 s, fixed). */
    membershipResponseTimeoutMs: 5000,
    /** Bound on known members, alive and dead (not in Fabric); new members beyond it are refused. */
    maxMembers: 10_000,
    /** Bound on the alive message store (not in Fabric); the oldest entry is evicted beyond it. */
    maxAliveStore: 10_000,
  },
);

export type DiscoveryConfig = SliceConfig<typeof DISCOVERY_SLICE>;
export type DiscoveryConfigInput = Partial<DiscoveryConfig>;

/** Fabric's derived defaults filled in where `c` has none (a `fast` default counts as one); endpoint '' when unset. */
function withDerived(c: Partial<DiscoveryConfig>): DiscoveryConfig {
  const expiration = c.aliveExpirationTimeoutMs || 5 * (c.aliveTimeIntervalMs as number);
  const reconnect = c.reconnectIntervalMs || expiration;
  return {
    ...c,
    endpoint: c.endpoint ?? '',
    aliveExpirationTimeoutMs: expiration,
    reconnectIntervalMs: reconnect,
  } as DiscoveryConfig;
}

/** Fabric v2.4.9's defaults (core.yaml sample values); endpoint empty. */
export const FABRIC_DISCOVERY_DEFAULTS: DiscoveryConfig = Object.freeze(
  withDerived(sliceDefaults(DISCOVERY_SLICE)),
);

/**
 * The defaults of `profile` overridden by `input` (0 = default), derived defaults as Fabric.
 * The endpoint is required. Throws ConfigError naming the key.
 */
export function discoveryConfig(
  input: DiscoveryConfigInput = {},
  profile: ProfileName = 'fabric',
): DiscoveryConfig {
  const out = withDerived(resolveSlice(DISCOVERY_SLICE, input, profile));
  if (out.endpoint === '')
    throw new ConfigError(
      'MISSING',
      'discovery config: endpoint (peer.gossip.endpoint or peer.address) is required',
    );
  return Object.freeze(out);
}
