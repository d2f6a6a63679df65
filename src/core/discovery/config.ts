/**
 * Discovery configuration (PROTOCOL.md §4.2, §11): one typed place, Fabric's defaults.
 * Key names in comments are core.yaml's (`peer.gossip.*`). As Fabric's GetDurationOrDefault,
 * a 0 for a timing or count means the default.
 */
import { ConfigError } from '../../base/errors.js';

export interface DiscoveryConfig {
  /** `peer.gossip.endpoint` (else `peer.address`): internal endpoint host:port, sent only in secrets. */
  readonly endpoint: string;
  /** `peer.gossip.externalEndpoint`: endpoint advertised to other orgs; empty = invisible outside the org. */
  readonly externalEndpoint: string;
  /** `peer.gossip.bootstrap`: same-org peers contacted at start. */
  readonly bootstrap: readonly string[];
  /** `peer.gossip.aliveTimeInterval` (ms): period of our alive messages. */
  readonly aliveTimeIntervalMs: number;
  /** `peer.gossip.aliveExpirationTimeout` (ms): alive -> dead; checked every /10. Default 5 x aliveTimeInterval. */
  readonly aliveExpirationTimeoutMs: number;
  /** `peer.gossip.reconnectInterval` (ms): dead-member probes, bootstrap/anchor retries. Default aliveExpirationTimeout. */
  readonly reconnectIntervalMs: number;
  /** `peer.gossip.msgExpirationFactor`: alive message store TTL = factor x aliveExpirationTimeout. */
  readonly msgExpirationFactor: number;
  /** `peer.gossip.publishCertPeriod` (ms): our alive messages carry our identity this long after start. */
  readonly publishCertPeriodMs: number;
  /** `peer.gossip.pullInterval` (ms): membership sync period. */
  readonly pullIntervalMs: number;
  /** `peer.gossip.pullPeerNum`: peers asked per membership sync. */
  readonly pullPeerNum: number;
  /** `peer.gossip.propagatePeerNum`: fanout of alive messages. */
  readonly propagatePeerNum: number;
  /** `peer.gossip.maxConnectionAttempts`: bootstrap/anchor attempts. */
  readonly maxConnectionAttempts: number;
  /** Wait for a MembershipResponse to a bootstrap/anchor request (Fabric: 5 s, fixed). */
  readonly membershipResponseTimeoutMs: number;
  /** Bound on known members, alive and dead (not in Fabric); new members beyond it are refused. */
  readonly maxMembers: number;
  /** Bound on the alive message store (not in Fabric); the oldest entry is evicted beyond it. */
  readonly maxAliveStore: number;
}

export type DiscoveryConfigInput = Partial<DiscoveryConfig>;

const BASE = {
  endpoint: '',
  externalEndpoint: '',
  bootstrap: [] as readonly string[],
  aliveTimeIntervalMs: 5000,
  msgExpirationFactor: 20,
  publishCertPeriodMs: 10_000,
  pullIntervalMs: 4000,
  pullPeerNum: 3,
  propagatePeerNum: 3,
  maxConnectionAttempts: 120,
  membershipResponseTimeoutMs: 5000,
  maxMembers: 10_000,
  maxAliveStore: 10_000,
};

/** Fabric v2.4.9's defaults (core.yaml sample values). */
export const FABRIC_DISCOVERY_DEFAULTS: DiscoveryConfig = Object.freeze({
  ...BASE,
  aliveExpirationTimeoutMs: 25_000,
  reconnectIntervalMs: 25_000,
});

const NUMERIC = [
  'aliveTimeIntervalMs',
  'aliveExpirationTimeoutMs',
  'reconnectIntervalMs',
  'msgExpirationFactor',
  'publishCertPeriodMs',
  'pullIntervalMs',
  'pullPeerNum',
  'propagatePeerNum',
  'maxConnectionAttempts',
  'membershipResponseTimeoutMs',
  'maxMembers',
  'maxAliveStore',
] as const;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

/** Whether `s` is `host:port` with a port in 1..65535. */
export function isHostPort(s: string): boolean {
  const m = HOST_PORT.exec(s);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

/** The port of a host:port string, or undefined. */
export function portOf(s: string): string | undefined {
  return HOST_PORT.exec(s)?.[2];
}

/**
 * Fabric defaults overridden by `input`; derived defaults follow Fabric (aliveExpirationTimeout =
 * 5 x aliveTimeInterval, reconnectInterval = aliveExpirationTimeout). Throws ConfigError naming the key.
 */
export function discoveryConfig(input: DiscoveryConfigInput = {}): DiscoveryConfig {
  const known = new Set(Object.keys(FABRIC_DISCOVERY_DEFAULTS));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new ConfigError('UNKNOWN_KEY', `discovery config: unknown key ${key}`);
  }
  const out: Record<string, unknown> = { ...BASE };
  for (const key of NUMERIC) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ConfigError(
        'BAD_VALUE',
        `discovery config: ${key} must be a non-negative integer, got ${String(v)}`,
      );
    }
    if (v !== 0) out[key] = v;
  }
  const alive = out.aliveTimeIntervalMs as number;
  out.aliveExpirationTimeoutMs = input.aliveExpirationTimeoutMs || 5 * alive;
  out.reconnectIntervalMs = input.reconnectIntervalMs || (out.aliveExpirationTimeoutMs as number);
  for (const key of ['endpoint', 'externalEndpoint'] as const) {
    const v = input[key] ?? '';
    if (typeof v !== 'string' || (v !== '' && !isHostPort(v))) {
      throw new ConfigError(
        'BAD_VALUE',
        `discovery config: ${key} must be host:port, got ${JSON.stringify(v)}`,
      );
    }
    out[key] = v;
  }
  const bootstrap = input.bootstrap ?? [];
  for (const b of bootstrap) {
    if (typeof b !== 'string' || !isHostPort(b)) {
      throw new ConfigError(
        'BAD_VALUE',
        `discovery config: bootstrap entry must be host:port, got ${JSON.stringify(b)}`,
      );
    }
  }
  out.bootstrap = Object.freeze([...bootstrap]);
  if (out.endpoint === '')
    throw new ConfigError(
      'MISSING',
      'discovery config: endpoint (peer.gossip.endpoint or peer.address) is required',
    );
  return Object.freeze(out) as unknown as DiscoveryConfig;
}
