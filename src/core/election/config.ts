/**
 * Leader election configuration (PROTOCOL.md §7.1, §11): a slice of the config table
 * (src/config/table.ts gives each key's default, `fast` value, check and meaning). As Fabric's
 * GetDurationOrDefault, a duration of 0 means the default. `fabric` is Fabric's exact timing;
 * `fast` divides every timer by 10 (tests and all-Grapevine networks only: mixed networks must
 * share Fabric's timing).
 *
 * Modes (§7.1): useLeaderElection -> dynamic election; orgLeader -> static leader (deliver from
 * the orderer from channel init, never yields); neither -> never connect to the orderer; both ->
 * ConfigError (Fabric panics at channel initialisation).
 */
import { ConfigError } from '../../base/errors.js';
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';
import type { ProfileName } from '../../config/table.js';

export const ELECTION_SLICE = slice(
  'election config',
  fields(
    'peer.gossip.useLeaderElection',
    'peer.gossip.orgLeader',
    'peer.gossip.election.startupGracePeriod',
    'peer.gossip.election.membershipSampleInterval',
    /**
     * A follower's wait for a declaration; the leader declares every half of it; yielding lasts
     * 6x. The channel's leadership message store keeps 10x (channel config's field of the same
     * key).
     */
    'peer.gossip.election.leaderAliveThreshold',
    'peer.gossip.election.leaderElectionDuration',
  ),
  {},
);

export type ElectionConfig = SliceConfig<typeof ELECTION_SLICE>;
export type ElectionConfigInput = Partial<ElectionConfig>;

export type LeadershipMode = 'dynamic' | 'static' | 'none';

export const FABRIC_ELECTION_DEFAULTS: ElectionConfig = Object.freeze(sliceDefaults(ELECTION_SLICE));

/** The defaults of `profile` overridden by `input` (0 = default); throws ConfigError naming the key. */
export function electionConfig(
  input: ElectionConfigInput = {},
  profile: ProfileName = 'fabric',
): ElectionConfig {
  const cfg = Object.freeze(resolveSlice(ELECTION_SLICE, input, profile));
  leadershipMode(cfg);
  return cfg;
}

/** §7.1; both flags set is a ConfigError (Fabric panics), never a crash. */
export function leadershipMode(cfg: Pick<ElectionConfig, 'useLeaderElection' | 'orgLeader'>): LeadershipMode {
  if (cfg.useLeaderElection && cfg.orgLeader) {
    throw new ConfigError(
      'LEADER_MODE_CONFLICT',
      `${ELECTION_SLICE.fields.useLeaderElection} and ${ELECTION_SLICE.fields.orgLeader} are both true: a peer is either elected leader dynamically or is its org's static leader, not both; set one of them to false`,
    );
  }
  if (cfg.useLeaderElection) return 'dynamic';
  return cfg.orgLeader ? 'static' : 'none';
}
