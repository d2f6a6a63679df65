/**
 * Pull engine configuration (PROTOCOL.md §6.4, §11): one typed place with Fabric's defaults.
 * Key names in comments are core.yaml's (`peer.gossip.*`). As Fabric's GetDurationOrDefault, a 0
 * for a timing or count means the default.
 */
import { ConfigError } from '../../base/errors.js';

export interface PullConfig {
  /** `peer.gossip.pullInterval` (ms): period of pull rounds. Fabric default 4 s. */
  readonly pullIntervalMs: number;
  /** `peer.gossip.pullPeerNum`: peers sent a Hello per round. Fabric default 3. */
  readonly pullPeerNum: number;
  /** `peer.gossip.digestWaitTime` (ms): digests are accepted this long after the Hellos. Fabric 1 s. */
  readonly digestWaitTimeMs: number;
  /** `peer.gossip.requestWaitTime` (ms): a responder remembers a Hello nonce this long. Fabric 1.5 s. */
  readonly requestWaitTimeMs: number;
  /** `peer.gossip.responseWaitTime` (ms): updates are accepted this long after the requests. Fabric 2 s. */
  readonly responseWaitTimeMs: number;
  /** Bound on held items (not in Fabric); adds beyond it are refused and counted. */
  readonly maxItems: number;
  /** Bound on remembered Hello nonces (not in Fabric); the oldest is forgotten beyond it. */
  readonly maxIncomingNonces: number;
  /** Bound on item ids taken from one digest/request/update message and learned per round (not in Fabric). */
  readonly maxDigestItems: number;
}

export const FABRIC_PULL_DEFAULTS: PullConfig = Object.freeze({
  pullIntervalMs: 4000,
  pullPeerNum: 3,
  digestWaitTimeMs: 1000,
  requestWaitTimeMs: 1500,
  responseWaitTimeMs: 2000,
  maxItems: 10_000,
  maxIncomingNonces: 10_000,
  maxDigestItems: 10_000,
});

/** Fabric defaults overridden by `input` (0 = default). Throws ConfigError naming the key. */
export function pullConfig(input: Partial<PullConfig> = {}): PullConfig {
  const out: Record<string, number> = { ...FABRIC_PULL_DEFAULTS };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in FABRIC_PULL_DEFAULTS))
      throw new ConfigError('UNKNOWN_KEY', `pull config: unknown key ${key}`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ConfigError(
        'BAD_VALUE',
        `pull config: ${key} must be a non-negative integer, got ${String(value)}`,
      );
    }
    if (value !== 0) out[key] = value;
  }
  return Object.freeze(out) as unknown as PullConfig;
}
