/** Leader election (PROTOCOL.md §7): the public API for the service layer. */
export { LeaderElection, comparePkiIds } from './election.js';
export type { LeaderElectionOptions, ElectionPhase } from './election.js';
export { GossipElectionAdapter } from './adapter.js';
export type { ElectionGossip, GossipElectionAdapterOptions } from './adapter.js';
export { FixedLeadership, createChannelLeadership } from './leadership.js';
export type { ChannelLeadershipOptions } from './leadership.js';
export { electionConfig, leadershipMode, FABRIC_ELECTION_DEFAULTS } from './config.js';
export type { ElectionConfig, ElectionConfigInput, LeadershipMode } from './config.js';
export type * from './types.js';
