/**
 * Leader election configuration (PROTOCOL.md §7.1, §11): one typed place with Fabric's code
 * defaults. Key names are core.yaml's. As Fabric's GetDurationOrDefault, a duration of 0 means the
 * default. `fabric` is Fabric's exact timing; `fast` divides every timer by 10 (tests and
 * all-Grapevine networks only: mixed networks must share Fabric's timing).
 *
 * Modes (§7.1): useLeaderElection -> dynamic election; orgLeader -> static leader (deliver from
 * the orderer from channel init, never yields); neither -> never connect to the orderer; both ->
 * ConfigError (Fabric panics at channel initialisation).
 */
import { ConfigError } from '../../base/errors.js';

export interface ElectionConfig {
  /** `peer.gossip.useLeaderElection`: dynamic election per channel. Code default false. */
  readonly useLeaderElection: boolean;
  /** `peer.gossip.orgLeader`: static org leader. Code default false (sample core.yaml: true). */
  readonly orgLeader: boolean;
  /** `peer.gossip.election.startupGracePeriod` (ms): longest wait for a stable membership. 15 s. */
  readonly startupGracePeriodMs: number;
  /** `peer.gossip.election.membershipSampleInterval` (ms): membership sampling period at start. 1 s. */
  readonly membershipSampleIntervalMs: number;
  /**
   * `peer.gossip.election.leaderAliveThreshold` (ms): a follower's wait for a declaration; the
   * leader declares every half of it; yielding lasts 6x. 10 s. The channel's leadership message
   * store keeps 10x (src/channel/config.ts `leaderAliveThresholdMs`): give both the same value.
   */
  readonly leaderAliveThresholdMs: number;
  /** `peer.gossip.election.leaderElectionDuration` (ms): proposal -> decision wait. 5 s. */
  readonly leaderElectionDurationMs: number;
}

export type ElectionConfigInput = Partial<ElectionConfig>;

export type LeadershipMode = 'dynamic' | 'static' | 'none';

export const FABRIC_ELECTION_DEFAULTS: ElectionConfig = Object.freeze({
  useLeaderElection: false,
  orgLeader: false,
  startupGracePeriodMs: 15_000,
  membershipSampleIntervalMs: 1000,
  leaderAliveThresholdMs: 10_000,
  leaderElectionDurationMs: 5000,
});

/** Every timer divided by 10. */
export const FAST_ELECTION_TIMERS = Object.freeze({
  startupGracePeriodMs: 1500,
  membershipSampleIntervalMs: 100,
  leaderAliveThresholdMs: 1000,
  leaderElectionDurationMs: 500,
});

const KEY: Record<keyof ElectionConfig, string> = {
  useLeaderElection: 'peer.gossip.useLeaderElection',
  orgLeader: 'peer.gossip.orgLeader',
  startupGracePeriodMs: 'peer.gossip.election.startupGracePeriod',
  membershipSampleIntervalMs: 'peer.gossip.election.membershipSampleInterval',
  leaderAliveThresholdMs: 'peer.gossip.election.leaderAliveThreshold',
  leaderElectionDurationMs: 'peer.gossip.election.leaderElectionDuration',
};

/** Fabric defaults (or the fast timers) overridden by `input`; throws ConfigError naming the key. */
export function electionConfig(
  input: ElectionConfigInput = {},
  profile: 'fabric' | 'fast' = 'fabric',
): ElectionConfig {
  if (input === null || typeof input !== 'object')
    throw new ConfigError('BAD_VALUE', 'election config must be an object');
  const out: Record<string, number | boolean> = {
    ...FABRIC_ELECTION_DEFAULTS,
    ...(profile === 'fast' ? FAST_ELECTION_TIMERS : {}),
  };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in FABRIC_ELECTION_DEFAULTS))
      throw new ConfigError('UNKNOWN_KEY', `election config: unknown key ${key}`);
    if (value === undefined) continue;
    const name = KEY[key as keyof ElectionConfig];
    if (key === 'useLeaderElection' || key === 'orgLeader') {
      if (typeof value !== 'boolean')
        throw new ConfigError('BAD_VALUE', `${name} must be true or false, got ${String(value)}`);
      out[key] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ConfigError(
        'BAD_VALUE',
        `${name} must be a non-negative whole number of milliseconds, got ${String(value)}`,
      );
    }
    if (value !== 0) out[key] = value;
  }
  const cfg = Object.freeze(out) as unknown as ElectionConfig;
  if (cfg.leaderAliveThresholdMs < 2)
    throw new ConfigError(
      'BAD_VALUE',
      `${KEY.leaderAliveThresholdMs} must be at least 2 ms (the leader declares every half of it)`,
    );
  leadershipMode(cfg);
  return cfg;
}

/** §7.1; both flags set is a ConfigError (Fabric panics), never a crash. */
export function leadershipMode(cfg: Pick<ElectionConfig, 'useLeaderElection' | 'orgLeader'>): LeadershipMode {
  if (cfg.useLeaderElection && cfg.orgLeader) {
    throw new ConfigError(
      'LEADER_MODE_CONFLICT',
      `${KEY.useLeaderElection} and ${KEY.orgLeader} are both true: a peer is either elected leader dynamically or is its org's static leader, not both; set one of them to false`,
    );
  }
  if (cfg.useLeaderElection) return 'dynamic';
  return cfg.orgLeader ? 'static' : 'none';
}
