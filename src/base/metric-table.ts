/**
 * Every metric Grapevine registers, in one table: name, type, help, label names (and buckets for
 * a histogram that sets them). `Metrics` (./metrics.ts) registers only entries of this table, so a
 * registry never exposes a name that is not here; docs/metrics.md is generated from it
 * (`npm run gen:metrics-doc`) and test/base/metric-table.test.ts fails when the two differ.
 *
 * Names follow Fabric's where Fabric has one (gossip_comm_messages_sent, gossip_state_height,
 * the orderer's broadcast_* and deliver_*, ...); Grapevine's own gossip metrics keep the
 * gossip_ prefix and the catch-up and deliver client ones the grapevine_ prefix. Every series also
 * carries the registry's default labels (`peer` on a peer).
 *
 * An entry's key is its name in camelCase (gossip_channel_map_full: gossipChannelMapFull).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One row of the table; `L` is the union of its label names. */
export interface MetricDef<T extends MetricType = MetricType, L extends string = string> {
  readonly name: string;
  readonly type: T;
  readonly help: string;
  readonly labels: readonly L[];
  /** Histogram buckets (seconds), when not prom-client's defaults. */
  readonly buckets?: readonly number[];
}
export type CounterDef<L extends string = string> = MetricDef<'counter', L>;
export type GaugeDef<L extends string = string> = MetricDef<'gauge', L>;
export type HistogramDef<L extends string = string> = MetricDef<'histogram', L>;

function counter<L extends string = never>(
  name: string,
  help: string,
  labels: readonly L[] = [],
): CounterDef<L> {
  return { name, type: 'counter', help, labels };
}
function gauge<L extends string = never>(name: string, help: string, labels: readonly L[] = []): GaugeDef<L> {
  return { name, type: 'gauge', help, labels };
}
function histogram<L extends string = never>(
  name: string,
  help: string,
  labels: readonly L[] = [],
  buckets?: readonly number[],
): HistogramDef<L> {
  return { name, type: 'histogram', help, labels, ...(buckets ? { buckets } : {}) };
}

const PULL = ['pull', 'channel'] as const;

/** gossip comm (src/comm, src/sim transport); the first three are Fabric's. */
const COMM = {
  gossipCommMessagesSent: counter('gossip_comm_messages_sent', 'Number of messages sent'),
  gossipCommMessagesReceived: counter('gossip_comm_messages_received', 'Number of messages received'),
  gossipCommOverflowCount: counter('gossip_comm_overflow_count', 'Number of outgoing queue buffer overflows'),
  gossipCommConnsOpen: gauge('gossip_comm_conns_open', 'Open gossip connections'),
  gossipCommHandshakeFailures: counter(
    'gossip_comm_handshake_failures',
    'Failed gossip handshakes by reason',
    ['reason'],
  ),
  gossipCommBadInput: counter('gossip_comm_bad_input', 'Received frames dropped or refused, by reason', [
    'reason',
  ]),
  gossipCommPresumedDead: counter('gossip_comm_presumed_dead', 'Peers reported presumed dead'),
  gossipCommPresumedDeadDropped: counter(
    'gossip_comm_presumed_dead_dropped',
    'Presumed-dead reports dropped (backlog full)',
  ),
  gossipEmitterDropped: counter(
    'gossip_emitter_dropped',
    'Items dropped because the emitter buffer was full',
    ['emitter'],
  ),
  gossipEmitterRouteErrors: counter('gossip_emitter_route_errors', 'Emitter flushes whose routing threw', [
    'emitter',
  ]),
} as const;

/** The identity store and identity pull. */
const IDENTITY = {
  gossipIdentityStoreRejected: counter(
    'gossip_identity_store_rejected',
    'Identities refused by the identity store',
    ['reason'],
  ),
  gossipIdentityStorePurged: counter(
    'gossip_identity_store_purged',
    'Identities removed from the identity store',
    ['reason'],
  ),
  gossipIdentityStoreSize: gauge('gossip_identity_store_size', 'Identities in the identity store'),
  gossipIdentityPullRejected: counter(
    'gossip_identity_pull_rejected',
    'Identity DataUpdates dropped, by reason',
    ['reason'],
  ),
  gossipIdentityPullPutRefused: counter(
    'gossip_identity_pull_put_refused',
    'Pulled identities the identity store refused',
    ['reason'],
  ),
} as const;

/** Discovery (membership, alive store, bootstrap/anchor connector). */
const DISCOVERY = {
  gossipDiscoveryDropped: counter('gossip_discovery_dropped', 'Discovery messages dropped, by reason', [
    'reason',
  ]),
  gossipDiscoveryRequestsRefused: counter(
    'gossip_discovery_requests_refused',
    'MembershipRequests answered by closing the connection',
  ),
  gossipDiscoveryConnectAttempts: counter(
    'gossip_discovery_connect_attempts',
    'Bootstrap/anchor connection steps by kind and result',
    ['kind', 'result'],
  ),
  gossipDiscoveryMembers: gauge('gossip_discovery_members', 'Known members by state', ['state']),
  gossipDiscoveryMembersFull: counter(
    'gossip_discovery_members_full',
    'New members refused because the membership table was full',
  ),
  gossipDiscoveryAliveStoreEvicted: counter(
    'gossip_discovery_alive_store_evicted',
    'Alive messages evicted because the store was full',
  ),
  gossipDiscoveryAliveStoreSize: gauge(
    'gossip_discovery_alive_store_size',
    'Messages in the alive message store',
  ),
} as const;

/** The gossip node and its channels (blocks pushed and pulled, StateInfo, the block store). */
const CHANNEL = {
  gossipDropped: counter('gossip_dropped', 'Channel messages dropped by the gossip node, by reason', [
    'reason',
  ]),
  gossipChannels: gauge('gossip_channels', 'Joined channels'),
  gossipChannelMapFull: counter(
    'gossip_channel_map_full',
    'Entries refused because a bounded channel map was full',
    ['map'],
  ),
  gossipMembershipTotalPeersKnown: gauge('gossip_membership_total_peers_known', 'Peers known per channel', [
    'channel',
  ]),
  gossipChannelStateInfoCached: gauge(
    'gossip_channel_state_info_cached',
    'StateInfo messages cached per channel',
    ['channel'],
  ),
  gossipChannelStateInfoStale: counter(
    'gossip_channel_state_info_stale',
    'StateInfo messages not newer than the cached one (or our own)',
    ['channel'],
  ),
  gossipBlocksReceived: counter('gossip_blocks_received', 'Verified new blocks received, by source', [
    'channel',
    'source',
  ]),
  gossipBlocksDuplicate: counter(
    'gossip_blocks_duplicate',
    'Blocks received that the block store already had (or too old)',
    ['channel', 'source'],
  ),
  gossipBlockStoreRefused: counter(
    'gossip_block_store_refused',
    'Blocks the block message store refused (duplicate or too old)',
    ['channel'],
  ),
  gossipBlockStoreRemoved: counter(
    'gossip_block_store_removed',
    'Blocks removed from the block message store',
    ['channel', 'reason'],
  ),
  gossipBlockStoreSize: gauge('gossip_block_store_size', 'Unexpired blocks in the block message store', [
    'channel',
  ]),
  gossipBlockPullRejected: counter(
    'gossip_block_pull_rejected',
    'Block DataUpdates dropped for a block that failed verification',
    ['channel'],
  ),
} as const;

/** Pull engines (block and identity pull), labelled by pull instance and channel. */
const PULL_ENGINE = {
  gossipPullRounds: counter('gossip_pull_rounds', 'Pull rounds started', PULL),
  gossipPullMessagesReceived: counter('gossip_pull_messages_received', 'Pull messages received', [
    ...PULL,
    'type',
  ]),
  gossipPullMessagesSent: counter('gossip_pull_messages_sent', 'Pull messages sent', [...PULL, 'type']),
  gossipPullItemsPulled: counter('gossip_pull_items_pulled', 'Items added from pull updates', PULL),
  gossipPullDropped: counter('gossip_pull_dropped', 'Pull messages or items dropped, by reason', [
    ...PULL,
    'reason',
  ]),
  gossipPullItems: gauge('gossip_pull_items', 'Items held by a pull instance', PULL),
  gossipPullNonces: gauge('gossip_pull_nonces', 'Pull nonces remembered', [...PULL, 'side']),
} as const;

/** Leader election; gossip_leader_election_leader is Fabric's. */
const ELECTION = {
  gossipLeaderElectionLeader: gauge('gossip_leader_election_leader', 'Peer is leader (1) or follower (0)', [
    'channel',
  ]),
  gossipLeaderElectionDropped: counter(
    'gossip_leader_election_dropped',
    'Leadership messages dropped by the election: sender not an election peer',
    ['channel'],
  ),
} as const;

/** State transfer (payload buffer, commit, anti-entropy) and catch-up; the first three are Fabric's. */
const STATE = {
  gossipStateHeight: gauge('gossip_state_height', 'Ledger height of the channel', ['channel']),
  gossipPayloadBufferSize: gauge('gossip_payload_buffer_size', 'Payloads waiting in the state buffer', [
    'channel',
  ]),
  gossipStateCommitDuration: histogram('gossip_state_commit_duration', 'Time to commit a block, seconds', [
    'channel',
  ]),
  gossipStateDropped: counter('gossip_state_dropped', 'State transfer inputs dropped, by reason', [
    'channel',
    'reason',
  ]),
  gossipStateRequestsSent: counter('gossip_state_requests_sent', 'RemoteStateRequests sent', ['channel']),
  gossipStateBlocksServed: counter('gossip_state_blocks_served', 'Blocks sent in RemoteStateResponses', [
    'channel',
  ]),
  grapevineCatchupStreams: counter('grapevine_catchup_streams', 'Catch-up streams by outcome', [
    'channel',
    'outcome',
  ]),
  grapevineCatchupBlocks: counter('grapevine_catchup_blocks', 'Blocks received by catch-up', ['channel']),
  grapevineCatchupSignatureChecks: counter(
    'grapevine_catchup_signature_checks',
    'Orderer-signature checks made on catch-up blocks in the verifier workers (one per chained run and per config block, or one per block with verifyAllSignatures)',
    ['channel'],
  ),
  grapevineCatchupRefused: counter('grapevine_catchup_refused', 'Catch-up streams refused, by reason', [
    'reason',
  ]),
  grapevineCatchupBlocksSent: counter('grapevine_catchup_blocks_sent', 'Blocks sent on catch-up streams'),
  grapevineStreamBlocks: counter(
    'grapevine_stream_blocks',
    'Blocks received from an upstream Grapevine peer (block streams, core/stream)',
    ['channel'],
  ),
  grapevineStreamSessions: counter(
    'grapevine_stream_sessions',
    'Upstream stream sessions that ended, by reason (failed, stalled, rebalanced, replanned, source, stopped)',
    ['channel', 'reason'],
  ),
  grapevineStreamRole: gauge(
    'grapevine_stream_role',
    'Block stream role: 0 none, 1 follower of an upstream peer, 2 source pulling from the orderer, 3 leader',
    ['channel'],
  ),
  grapevineStreamDepth: gauge(
    'grapevine_stream_depth',
    'Hops from the org source in the planned stream tree (0 for the source)',
    ['channel'],
  ),
} as const;

/** The peer's deliver client (Fabric v2.4.9's has no metrics: these are Grapevine's own). */
const DELIVER_CLIENT = {
  grapevineDeliverBlocksReceivedTotal: counter(
    'grapevine_deliver_blocks_received_total',
    'Blocks received from the ordering service, verified and handed to the state layer.',
    ['channel'],
  ),
  grapevineDeliverReconnectsTotal: counter(
    'grapevine_deliver_reconnects_total',
    'Deliver sessions that ended and will be reconnected, by reason.',
    ['channel', 'reason'],
  ),
  grapevineDeliverConnected: gauge(
    'grapevine_deliver_connected',
    'The orderer endpoint the deliver client is connected to: 1 for the endpoint in use, 0 otherwise.',
    ['channel', 'endpoint'],
  ),
  grapevineDeliverSecondsSinceLastBlock: gauge(
    'grapevine_deliver_seconds_since_last_block',
    'Seconds since the deliver client last received a block from the ordering service.',
    ['channel'],
  ),
} as const;

const BROADCAST = ['channel', 'type', 'status'] as const;
const DELIVER = ['channel', 'filtered', 'data_type'] as const;

/** The embedded orderer, with Fabric v2.4.9's names, help and labels. */
const ORDERER = {
  broadcastValidateDuration: histogram(
    'broadcast_validate_duration',
    'The time to validate a transaction in seconds.',
    BROADCAST,
  ),
  broadcastEnqueueDuration: histogram(
    'broadcast_enqueue_duration',
    'The time to enqueue a transaction in seconds.',
    BROADCAST,
  ),
  broadcastProcessedCount: counter(
    'broadcast_processed_count',
    'The number of transactions processed.',
    BROADCAST,
  ),
  deliverStreamsOpened: counter(
    'deliver_streams_opened',
    'The number of GRPC streams that have been opened for the deliver service.',
  ),
  deliverStreamsClosed: counter(
    'deliver_streams_closed',
    'The number of GRPC streams that have been closed for the deliver service.',
  ),
  deliverRequestsReceived: counter(
    'deliver_requests_received',
    'The number of deliver requests that have been received.',
    DELIVER,
  ),
  deliverRequestsCompleted: counter(
    'deliver_requests_completed',
    'The number of deliver requests that have been completed.',
    [...DELIVER, 'success'],
  ),
  deliverBlocksSent: counter(
    'deliver_blocks_sent',
    'The number of blocks sent by the deliver service.',
    DELIVER,
  ),
  blockcutterBlockFillDuration: histogram(
    'blockcutter_block_fill_duration',
    'The time from first transaction enqueing to the block being cut in seconds.',
    ['channel'],
  ),
  ledgerBlockchainHeight: gauge('ledger_blockchain_height', 'Height of the chain in blocks.', ['channel']),
  consensusEtcdraftClusterSize: gauge('consensus_etcdraft_cluster_size', 'Number of nodes in this channel.', [
    'channel',
  ]),
  consensusEtcdraftIsLeader: gauge(
    'consensus_etcdraft_is_leader',
    'The leadership status of the current node: 1 if it is the leader else 0.',
    ['channel'],
  ),
  consensusEtcdraftCommittedBlockNumber: gauge(
    'consensus_etcdraft_committed_block_number',
    'The block number of the latest block committed.',
    ['channel'],
  ),
  consensusEtcdraftNormalProposalsReceived: counter(
    'consensus_etcdraft_normal_proposals_received',
    'The total number of proposals received for normal type transactions.',
    ['channel'],
  ),
  consensusEtcdraftConfigProposalsReceived: counter(
    'consensus_etcdraft_config_proposals_received',
    'The total number of proposals received for config type transactions.',
    ['channel'],
  ),
  consensusEtcdraftDataPersistDuration: histogram(
    'consensus_etcdraft_data_persist_duration',
    'The time taken for etcd/raft data to be persisted in storage (in seconds).',
    ['channel'],
  ),
} as const;

/** The table, by section (the order of docs/metrics.md). */
export const METRIC_SECTIONS = [
  { title: 'Gossip comm', metrics: COMM },
  { title: 'Identities', metrics: IDENTITY },
  { title: 'Discovery', metrics: DISCOVERY },
  { title: 'Gossip node and channels', metrics: CHANNEL },
  { title: 'Pull', metrics: PULL_ENGINE },
  { title: 'Leader election', metrics: ELECTION },
  { title: 'State transfer and catch-up', metrics: STATE },
  { title: 'Deliver client', metrics: DELIVER_CLIENT },
  { title: 'Orderer', metrics: ORDERER },
] as const;

/** Every metric, by key. */
export const METRICS = {
  ...COMM,
  ...IDENTITY,
  ...DISCOVERY,
  ...CHANNEL,
  ...PULL_ENGINE,
  ...ELECTION,
  ...STATE,
  ...DELIVER_CLIENT,
  ...ORDERER,
} as const;

/** Every metric, by name. */
export const METRIC_BY_NAME: ReadonlyMap<string, MetricDef> = new Map(
  Object.values(METRICS).map((d: MetricDef) => [d.name, d]),
);
