/**
 * Every metric Grapevine registers, in one table: name, type, help, label names (and buckets for
 * a histogram that sets them). `Metrics` (./metrics.ts) registers only entries of this table, so a
 * registry never exposes a name that is not here (besides prom-client's process and Node.js
 * metrics, `Metrics.collectProcessMetrics`); docs/metrics.md is generated from it
 * (`npm run gen:metrics-doc`) and test/base/metric-table.test.ts fails when the two differ.
 *
 * Naming, so that the series drop into a Fabric dashboard:
 *   - where Fabric v2.4.9 has the metric, its exact name, help, labels and type (gossip_comm_messages_sent,
 *     gossip_state_height, ledger_blockchain_height, fabric_version, grpc_server_*, the orderer's
 *     broadcast_* and deliver_*, ...). Fabric's counters carry no `_total` suffix, so neither do these;
 *   - Grapevine's own metrics under `grapevine_` (the gossip ones `grapevine_gossip_*`, formerly in
 *     Fabric's `gossip_` namespace), following Prometheus's conventions: every counter ends in `_total`.
 * No series carries a `peer` label (Fabric's have none: one process, one scrape target).
 * The renames are listed in docs/metrics.md (RENAMED_METRICS).
 *
 * An entry's key is its name in camelCase (grapevine_gossip_channels: grapevineGossipChannels).
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
  grapevineGossipCommConnsOpen: gauge('grapevine_gossip_comm_conns_open', 'Open gossip connections'),
  grapevineGossipCommHandshakeFailuresTotal: counter(
    'grapevine_gossip_comm_handshake_failures_total',
    'Failed gossip handshakes by reason',
    ['reason'],
  ),
  grapevineGossipCommRefusedHandshakesEvictedTotal: counter(
    'grapevine_gossip_comm_refused_handshakes_evicted_total',
    'Entries evicted from the bounded record of refused handshakes (GET /status refusedHandshakes)',
  ),
  grapevineGossipCommBadInputTotal: counter(
    'grapevine_gossip_comm_bad_input_total',
    'Received frames dropped or refused, by reason',
    ['reason'],
  ),
  grapevineGossipCommPresumedDeadTotal: counter(
    'grapevine_gossip_comm_presumed_dead_total',
    'Peers reported presumed dead',
  ),
  grapevineGossipCommPresumedDeadDroppedTotal: counter(
    'grapevine_gossip_comm_presumed_dead_dropped_total',
    'Presumed-dead reports dropped (backlog full)',
  ),
  grapevineGossipEmitterDroppedTotal: counter(
    'grapevine_gossip_emitter_dropped_total',
    'Items dropped because the emitter buffer was full',
    ['emitter'],
  ),
  grapevineGossipEmitterRouteErrorsTotal: counter(
    'grapevine_gossip_emitter_route_errors_total',
    'Emitter flushes whose routing threw',
    ['emitter'],
  ),
} as const;

/** The identity store and identity pull. */
const IDENTITY = {
  grapevineGossipIdentityStoreRejectedTotal: counter(
    'grapevine_gossip_identity_store_rejected_total',
    'Identities refused by the identity store',
    ['reason'],
  ),
  grapevineGossipIdentityStorePurgedTotal: counter(
    'grapevine_gossip_identity_store_purged_total',
    'Identities removed from the identity store',
    ['reason'],
  ),
  grapevineGossipIdentityStoreSize: gauge(
    'grapevine_gossip_identity_store_size',
    'Identities in the identity store',
  ),
  grapevineGossipIdentityPullRejectedTotal: counter(
    'grapevine_gossip_identity_pull_rejected_total',
    'Identity DataUpdates dropped, by reason',
    ['reason'],
  ),
  grapevineGossipIdentityPullPutRefusedTotal: counter(
    'grapevine_gossip_identity_pull_put_refused_total',
    'Pulled identities the identity store refused',
    ['reason'],
  ),
} as const;

/** Discovery (membership, alive store, bootstrap/anchor connector). */
const DISCOVERY = {
  grapevineGossipDiscoveryDroppedTotal: counter(
    'grapevine_gossip_discovery_dropped_total',
    'Discovery messages dropped, by reason',
    ['reason'],
  ),
  grapevineGossipDiscoveryRequestsRefusedTotal: counter(
    'grapevine_gossip_discovery_requests_refused_total',
    'MembershipRequests answered by closing the connection',
  ),
  grapevineGossipDiscoveryConnectAttemptsTotal: counter(
    'grapevine_gossip_discovery_connect_attempts_total',
    'Bootstrap/anchor connection steps by kind and result',
    ['kind', 'result'],
  ),
  grapevineGossipDiscoveryMembers: gauge('grapevine_gossip_discovery_members', 'Known members by state', [
    'state',
  ]),
  grapevineGossipDiscoveryMembersFullTotal: counter(
    'grapevine_gossip_discovery_members_full_total',
    'New members refused because the membership table was full',
  ),
  grapevineGossipDiscoveryAliveStoreEvictedTotal: counter(
    'grapevine_gossip_discovery_alive_store_evicted_total',
    'Alive messages evicted because the store was full',
  ),
  grapevineGossipDiscoveryAliveStoreSize: gauge(
    'grapevine_gossip_discovery_alive_store_size',
    'Messages in the alive message store',
  ),
} as const;

/** The gossip node and its channels (blocks pushed and pulled, StateInfo, the block store). */
const CHANNEL = {
  grapevineGossipDroppedTotal: counter(
    'grapevine_gossip_dropped_total',
    'Channel messages dropped by the gossip node, by reason',
    ['reason'],
  ),
  grapevineGossipChannels: gauge('grapevine_gossip_channels', 'Joined channels'),
  grapevineGossipChannelMapFullTotal: counter(
    'grapevine_gossip_channel_map_full_total',
    'Entries refused because a bounded channel map was full',
    ['map'],
  ),
  gossipMembershipTotalPeersKnown: gauge('gossip_membership_total_peers_known', 'Peers known per channel', [
    'channel',
  ]),
  grapevineGossipChannelStateInfoCached: gauge(
    'grapevine_gossip_channel_state_info_cached',
    'StateInfo messages cached per channel',
    ['channel'],
  ),
  grapevineGossipChannelStateInfoStaleTotal: counter(
    'grapevine_gossip_channel_state_info_stale_total',
    'StateInfo messages not newer than the cached one (or our own)',
    ['channel'],
  ),
  grapevineGossipBlocksReceivedTotal: counter(
    'grapevine_gossip_blocks_received_total',
    'Verified new blocks received, by source',
    ['channel', 'source'],
  ),
  grapevineGossipBlocksDuplicateTotal: counter(
    'grapevine_gossip_blocks_duplicate_total',
    'Blocks received that the block store already had (or too old)',
    ['channel', 'source'],
  ),
  grapevineGossipBlockStoreRefusedTotal: counter(
    'grapevine_gossip_block_store_refused_total',
    'Blocks the block message store refused (duplicate or too old)',
    ['channel'],
  ),
  grapevineGossipBlockStoreRemovedTotal: counter(
    'grapevine_gossip_block_store_removed_total',
    'Blocks removed from the block message store',
    ['channel', 'reason'],
  ),
  grapevineGossipBlockStoreSize: gauge(
    'grapevine_gossip_block_store_size',
    'Unexpired blocks in the block message store',
    ['channel'],
  ),
  grapevineGossipBlockPullRejectedTotal: counter(
    'grapevine_gossip_block_pull_rejected_total',
    'Block DataUpdates dropped for a block that failed verification',
    ['channel'],
  ),
} as const;

/** Pull engines (block and identity pull), labelled by pull instance and channel. */
const PULL_ENGINE = {
  grapevineGossipPullRoundsTotal: counter('grapevine_gossip_pull_rounds_total', 'Pull rounds started', PULL),
  grapevineGossipPullMessagesReceivedTotal: counter(
    'grapevine_gossip_pull_messages_received_total',
    'Pull messages received',
    [...PULL, 'type'],
  ),
  grapevineGossipPullMessagesSentTotal: counter(
    'grapevine_gossip_pull_messages_sent_total',
    'Pull messages sent',
    [...PULL, 'type'],
  ),
  grapevineGossipPullItemsPulledTotal: counter(
    'grapevine_gossip_pull_items_pulled_total',
    'Items added from pull updates',
    PULL,
  ),
  grapevineGossipPullDroppedTotal: counter(
    'grapevine_gossip_pull_dropped_total',
    'Pull messages or items dropped, by reason',
    [...PULL, 'reason'],
  ),
  grapevineGossipPullItems: gauge('grapevine_gossip_pull_items', 'Items held by a pull instance', PULL),
  grapevineGossipPullNonces: gauge('grapevine_gossip_pull_nonces', 'Pull nonces remembered', [
    ...PULL,
    'side',
  ]),
} as const;

/** Leader election; gossip_leader_election_leader is Fabric's. */
const ELECTION = {
  gossipLeaderElectionLeader: gauge('gossip_leader_election_leader', 'Peer is leader (1) or follower (0)', [
    'channel',
  ]),
  grapevineGossipLeaderElectionDroppedTotal: counter(
    'grapevine_gossip_leader_election_dropped_total',
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
  grapevineGossipStateDroppedTotal: counter(
    'grapevine_gossip_state_dropped_total',
    'State transfer inputs dropped, by reason',
    ['channel', 'reason'],
  ),
  grapevineGossipStateRequestsSentTotal: counter(
    'grapevine_gossip_state_requests_sent_total',
    'RemoteStateRequests sent',
    ['channel'],
  ),
  grapevineGossipStateBlocksServedTotal: counter(
    'grapevine_gossip_state_blocks_served_total',
    'Blocks sent in RemoteStateResponses',
    ['channel'],
  ),
  grapevineCatchupStreamsTotal: counter('grapevine_catchup_streams_total', 'Catch-up streams by outcome', [
    'channel',
    'outcome',
  ]),
  grapevineCatchupBlocksTotal: counter('grapevine_catchup_blocks_total', 'Blocks received by catch-up', [
    'channel',
  ]),
  grapevineCatchupSignatureChecksTotal: counter(
    'grapevine_catchup_signature_checks_total',
    'Orderer-signature checks made on catch-up blocks in the verifier workers (one per chained run and per config block, or one per block with verifyAllSignatures)',
    ['channel'],
  ),
  grapevineCatchupRefusedTotal: counter(
    'grapevine_catchup_refused_total',
    'Catch-up streams refused, by reason',
    ['reason'],
  ),
  grapevineCatchupBlocksSentTotal: counter(
    'grapevine_catchup_blocks_sent_total',
    'Blocks sent on catch-up streams',
  ),
  grapevineStreamBlocksTotal: counter(
    'grapevine_stream_blocks_total',
    'Blocks received from an upstream Grapevine peer (block streams, core/stream)',
    ['channel'],
  ),
  grapevineStreamSessionsTotal: counter(
    'grapevine_stream_sessions_total',
    'Upstream stream sessions that ended, by reason (failed, stalled, rebalanced, replanned, source, stopped)',
    ['channel', 'reason'],
  ),
  grapevineStateCommittedTotal: counter(
    'grapevine_state_committed_total',
    'Blocks committed, by how each first arrived (orderer, stream, gossip, state, catchup)',
    ['channel', 'source'],
  ),
  grapevineStateCommitStopped: gauge(
    'grapevine_state_commit_stopped',
    '1 while the channel commits nothing: its ledger failed (disk full, an I/O error) and is not recovered yet; /healthz fails meanwhile',
    ['channel'],
  ),
  grapevineLedgerRecoveriesTotal: counter(
    'grapevine_ledger_recoveries_total',
    'Times a failed channel ledger was reopened and its commit loop went on without a restart',
    ['channel'],
  ),
  grapevineDeliverStreamsRefusedTotal: counter(
    'grapevine_deliver_streams_refused_total',
    'Deliver streams refused with SERVICE_UNAVAILABLE because grapevine.deliverServer.maxStreams were being served',
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

/** Fabric's version gauge and the peer's ledger height (Fabric's names, help and labels). */
const PEER = {
  fabricVersion: gauge('fabric_version', 'The active version of Fabric.', ['version']),
  ledgerBlockchainHeight: gauge('ledger_blockchain_height', 'Height of the chain in blocks.', ['channel']),
} as const;

/**
 * Connection limits of every listening port (src/base/conn-gate.ts); `server` is gossip, orderer,
 * operations or dashboard.
 */
const CONN = {
  grapevineConnOpen: gauge(
    'grapevine_conn_open',
    'Connections open on a listening port, TLS handshakes in progress included',
    ['server'],
  ),
  grapevineConnRefusedTotal: counter(
    'grapevine_conn_refused_total',
    'Connections closed at accept, before TLS, because a cap was reached and every connection in its scope had authenticated (reason total: grapevine.connLimits.maxConns; per_address: grapevine.connLimits.maxConnsPerAddress; fds: file descriptors short; memory: grapevine.connLimits.maxMemory)',
    ['server', 'reason'],
  ),
  grapevineConnEvictedTotal: counter(
    'grapevine_conn_evicted_total',
    'Unauthenticated connections closed to make room for a new one at a cap (reasons as grapevine_conn_refused_total)',
    ['server', 'reason'],
  ),
  grapevineConnErrorsTotal: counter(
    'grapevine_conn_errors_total',
    'Connections that sent what the port cannot speak, by layer: tls (a failed TLS handshake: garbage, a wrong protocol, a refused client certificate), alpn (TLS without h2), http2 (an HTTP/2 protocol error), http (an unparsable HTTP request)',
    ['server', 'kind'],
  ),
  grapevineConnClosedBytesTotal: counter(
    'grapevine_conn_closed_bytes_total',
    'Unauthenticated connections closed for the bytes they sent (grapevine.connLimits.maxUnauthenticatedBytes, maxUnauthenticatedBytesTotal)',
    ['server'],
  ),
  grapevineConnHandshakeTimeoutsTotal: counter(
    'grapevine_conn_handshake_timeouts_total',
    'Connections closed because their TLS handshake did not finish within the handshake deadline',
    ['server'],
  ),
  grapevineConnClosedIdleTotal: counter(
    'grapevine_conn_closed_idle_total',
    'Connections closed because they opened no gRPC stream (sent no HTTP request) within grapevine.connLimits.idleTimeout after TLS (or TCP), or did not authenticate within it after their first stream',
    ['server'],
  ),
} as const;

/** Alerts of the peer's /status (src/node/alerts.ts; docs/operations.md, "Alerts"). */
const ALERTS = {
  grapevineAlerts: gauge(
    'grapevine_alerts',
    "Active alerts of this peer's /status, by kind (lag, no-leader, two-leaders, cert-expiring, cert-expired, unreachable, identity-changed)",
    ['kind'],
  ),
} as const;

const GRPC = ['service', 'method'] as const;
const GRPC_CODE = ['service', 'method', 'code'] as const;

/** The gRPC server (the gossip port; Fabric's common/grpcmetrics and comm names and labels). */
const GRPC_SERVER = {
  grpcServerUnaryRequestsReceived: counter(
    'grpc_server_unary_requests_received',
    'The number of unary requests received.',
    GRPC,
  ),
  grpcServerUnaryRequestsCompleted: counter(
    'grpc_server_unary_requests_completed',
    'The number of unary requests completed.',
    GRPC_CODE,
  ),
  grpcServerUnaryRequestDuration: histogram(
    'grpc_server_unary_request_duration',
    'The time to complete a unary request.',
    GRPC_CODE,
  ),
  grpcServerStreamRequestsReceived: counter(
    'grpc_server_stream_requests_received',
    'The number of stream requests received.',
    GRPC,
  ),
  grpcServerStreamRequestsCompleted: counter(
    'grpc_server_stream_requests_completed',
    'The number of stream requests completed.',
    GRPC_CODE,
  ),
  grpcServerStreamRequestDuration: histogram(
    'grpc_server_stream_request_duration',
    'The time to complete a stream request.',
    GRPC_CODE,
  ),
  grpcServerStreamMessagesReceived: counter(
    'grpc_server_stream_messages_received',
    'The number of stream messages received.',
    GRPC,
  ),
  grpcServerStreamMessagesSent: counter(
    'grpc_server_stream_messages_sent',
    'The number of stream messages sent.',
    GRPC,
  ),
  grpcCommConnOpened: counter(
    'grpc_comm_conn_opened',
    'gRPC connections opened. Open minus closed is the active number of connections.',
  ),
  grpcCommConnClosed: counter(
    'grpc_comm_conn_closed',
    'gRPC connections closed. Open minus closed is the active number of connections.',
  ),
} as const;

const BROADCAST = ['channel', 'type', 'status'] as const;
const DELIVER = ['channel', 'filtered', 'data_type'] as const;

/** The embedded orderer, with Fabric v2.4.9's names, help and labels (and ledger_blockchain_height, above). */
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
  grapevineOrdererBroadcastMalformedTotal: counter(
    'grapevine_orderer_broadcast_malformed_total',
    "Broadcast requests that are not a common.Envelope (the stream ends with INTERNAL, as Fabric's); not in broadcast_processed_count",
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
  { title: 'Version and ledger (peer and orderer)', metrics: PEER },
  { title: 'gRPC server', metrics: GRPC_SERVER },
  { title: 'Connection limits (every listening port)', metrics: CONN },
  { title: 'Alerts (peer)', metrics: ALERTS },
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
  ...PEER,
  ...GRPC_SERVER,
  ...CONN,
  ...ALERTS,
  ...ORDERER,
} as const;

/** Every metric, by name. */
export const METRIC_BY_NAME: ReadonlyMap<string, MetricDef> = new Map(
  Object.values(METRICS).map((d: MetricDef) => [d.name, d]),
);

/** Metrics renamed by issue 14 (old name -> new name), for docs/metrics.md. */
export const RENAMED_METRICS: readonly (readonly [string, string])[] = [
  ['gossip_comm_conns_open', 'grapevine_gossip_comm_conns_open'],
  ['gossip_comm_handshake_failures', 'grapevine_gossip_comm_handshake_failures_total'],
  ['gossip_comm_bad_input', 'grapevine_gossip_comm_bad_input_total'],
  ['gossip_comm_presumed_dead', 'grapevine_gossip_comm_presumed_dead_total'],
  ['gossip_comm_presumed_dead_dropped', 'grapevine_gossip_comm_presumed_dead_dropped_total'],
  ['gossip_emitter_dropped', 'grapevine_gossip_emitter_dropped_total'],
  ['gossip_emitter_route_errors', 'grapevine_gossip_emitter_route_errors_total'],
  ['gossip_identity_store_rejected', 'grapevine_gossip_identity_store_rejected_total'],
  ['gossip_identity_store_purged', 'grapevine_gossip_identity_store_purged_total'],
  ['gossip_identity_store_size', 'grapevine_gossip_identity_store_size'],
  ['gossip_identity_pull_rejected', 'grapevine_gossip_identity_pull_rejected_total'],
  ['gossip_identity_pull_put_refused', 'grapevine_gossip_identity_pull_put_refused_total'],
  ['gossip_discovery_dropped', 'grapevine_gossip_discovery_dropped_total'],
  ['gossip_discovery_requests_refused', 'grapevine_gossip_discovery_requests_refused_total'],
  ['gossip_discovery_connect_attempts', 'grapevine_gossip_discovery_connect_attempts_total'],
  ['gossip_discovery_members', 'grapevine_gossip_discovery_members'],
  ['gossip_discovery_members_full', 'grapevine_gossip_discovery_members_full_total'],
  ['gossip_discovery_alive_store_evicted', 'grapevine_gossip_discovery_alive_store_evicted_total'],
  ['gossip_discovery_alive_store_size', 'grapevine_gossip_discovery_alive_store_size'],
  ['gossip_dropped', 'grapevine_gossip_dropped_total'],
  ['gossip_channels', 'grapevine_gossip_channels'],
  ['gossip_channel_map_full', 'grapevine_gossip_channel_map_full_total'],
  ['gossip_channel_state_info_cached', 'grapevine_gossip_channel_state_info_cached'],
  ['gossip_channel_state_info_stale', 'grapevine_gossip_channel_state_info_stale_total'],
  ['gossip_blocks_received', 'grapevine_gossip_blocks_received_total'],
  ['gossip_blocks_duplicate', 'grapevine_gossip_blocks_duplicate_total'],
  ['gossip_block_store_refused', 'grapevine_gossip_block_store_refused_total'],
  ['gossip_block_store_removed', 'grapevine_gossip_block_store_removed_total'],
  ['gossip_block_store_size', 'grapevine_gossip_block_store_size'],
  ['gossip_block_pull_rejected', 'grapevine_gossip_block_pull_rejected_total'],
  ['gossip_pull_rounds', 'grapevine_gossip_pull_rounds_total'],
  ['gossip_pull_messages_received', 'grapevine_gossip_pull_messages_received_total'],
  ['gossip_pull_messages_sent', 'grapevine_gossip_pull_messages_sent_total'],
  ['gossip_pull_items_pulled', 'grapevine_gossip_pull_items_pulled_total'],
  ['gossip_pull_dropped', 'grapevine_gossip_pull_dropped_total'],
  ['gossip_pull_items', 'grapevine_gossip_pull_items'],
  ['gossip_pull_nonces', 'grapevine_gossip_pull_nonces'],
  ['gossip_leader_election_dropped', 'grapevine_gossip_leader_election_dropped_total'],
  ['gossip_state_dropped', 'grapevine_gossip_state_dropped_total'],
  ['gossip_state_requests_sent', 'grapevine_gossip_state_requests_sent_total'],
  ['gossip_state_blocks_served', 'grapevine_gossip_state_blocks_served_total'],
  ['grapevine_catchup_streams', 'grapevine_catchup_streams_total'],
  ['grapevine_catchup_blocks', 'grapevine_catchup_blocks_total'],
  ['grapevine_catchup_signature_checks', 'grapevine_catchup_signature_checks_total'],
  ['grapevine_catchup_refused', 'grapevine_catchup_refused_total'],
  ['grapevine_catchup_blocks_sent', 'grapevine_catchup_blocks_sent_total'],
  ['grapevine_stream_blocks', 'grapevine_stream_blocks_total'],
  ['grapevine_stream_sessions', 'grapevine_stream_sessions_total'],
];
