/**
 * Every configuration key Grapevine reads, in one table: its kind, Fabric's code default (what
 * applies when the key is absent), the value in Fabric v2.4.9's sample core.yaml, what a 0 means,
 * the `fast` profile's value, and its meaning. The loader, the docs test and the sample config
 * all follow this table (PROTOCOL.md §1.2, §7.1, §8, §11).
 *
 * Zero rules: `default` = a configured 0 means the code default (Fabric's GetIntOrDefault /
 * GetDurationOrDefault and the keys Fabric treats the same way); `keep` = 0 is a real value;
 * `reject` = 0 is refused (Fabric would use it and break: a zero ticker, a zero batch).
 */
import { FAST_ELECTION_TIMERS } from '../../core/election/config.js';
import { FAST_PROFILE } from '../../core/gossip/nodeconfig.js';
import { CATCHUP_DEFAULTS } from '../../core/state/config.js';
import { MAX_MESSAGE_BYTES } from '../../wire/services.js';

export type Kind =
  | 'string'
  | 'hostport'
  | 'hostports'
  | 'bool'
  | 'int'
  | 'duration'
  | 'path'
  | 'paths'
  | 'enum'
  | 'overrides'
  | 'logspec';
export type ZeroRule = 'default' | 'keep' | 'reject';

export interface KeyDef {
  /** core.yaml spelling, e.g. `peer.gossip.pullInterval`. */
  readonly key: string;
  readonly kind: Kind;
  /** Fabric's code default in resolved form (ms for durations); absent for derived keys. */
  readonly def?: unknown;
  /** How the default is derived from other keys (docs). */
  readonly derived?: string;
  /** The value in Fabric v2.4.9's sample core.yaml, as written; undefined = not in the sample. */
  readonly yaml?: string;
  readonly zero?: ZeroRule;
  /** Smallest accepted int (after the zero rule); default 0. */
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Default under the `fast` profile (ms or count). */
  readonly fast?: number;
  readonly meaning: string;
  /** Read by Fabric (or Grapevine) but without effect on Grapevine's behaviour. */
  readonly unused?: boolean;
}

const INT32_MAX = 2 ** 31 - 1;
/** Node timers cannot wait longer than this (ms); longer durations are refused. */
export const MAX_DURATION_MS = INT32_MAX;

type Extra = Partial<Omit<KeyDef, 'key' | 'kind' | 'meaning'>>;
const k = (key: string, kind: Kind, meaning: string, extra: Extra = {}): KeyDef => ({
  key,
  kind,
  meaning,
  ...extra,
});
/** A key of `kind` with a default, its sample value and its zero rule. */
const withZero =
  <D>(kind: Kind) =>
  (
    key: string,
    def: D,
    yaml: string | undefined,
    zero: ZeroRule,
    meaning: string,
    extra: Extra = {},
  ): KeyDef =>
    k(key, kind, meaning, { def, yaml, zero, ...extra });
const dur = withZero<number | undefined>('duration');
const int = withZero<number>('int');
const bool = (
  key: string,
  def: boolean,
  yaml: string | undefined,
  meaning: string,
  extra: Extra = {},
): KeyDef => k(key, 'bool', meaning, { def, yaml, ...extra });

const G = 'peer.gossip.';
const C = 'grapevine.catchup.';
const CD = CATCHUP_DEFAULTS;
const FP = FAST_PROFILE;
const FE = FAST_ELECTION_TIMERS;

export const KEYS: readonly KeyDef[] = [
  // --- peer identity and endpoints
  k('peer.id', 'string', 'Name of this peer (logs, metrics labels).', { def: '', yaml: 'jdoe' }),
  k('peer.networkId', 'string', 'Logical network name.', { def: '', yaml: 'dev' }),
  k('peer.listenAddress', 'hostport', 'Where the gRPC server listens.', {
    derived: 'peer.address as configured',
    yaml: '0.0.0.0:7051',
  }),
  k(
    'peer.address',
    'hostport',
    "The peer endpoint; an unspecified host (0.0.0.0, ::) is replaced by this host's first non-loopback IPv4 address.",
    {
      yaml: '0.0.0.0:7051',
      derived: 'required',
    },
  ),
  bool(
    'peer.addressAutoDetect',
    false,
    'false',
    "Always replace the host of peer.address by this host's IPv4 address.",
  ),
  k('peer.fileSystemPath', 'path', 'Data folder (relative: to the core.yaml folder).', {
    def: '',
    yaml: '/var/hyperledger/production',
  }),
  k('peer.mspConfigPath', 'path', 'Local MSP folder (relative: to the core.yaml folder).', {
    def: '',
    yaml: 'msp',
  }),
  k('peer.localMspId', 'string', 'MSP ID of the local MSP.', { def: '', yaml: 'SampleOrg' }),
  dur(
    'peer.connectiontimeout',
    5000,
    undefined,
    'default',
    'Server handshake deadline (gRPC ConnectionTimeout).',
  ),
  int(
    'peer.maxRecvMsgSize',
    MAX_MESSAGE_BYTES,
    '104857600',
    'reject',
    'Largest gRPC message received (bytes), server and clients.',
    { max: INT32_MAX },
  ),
  int('peer.maxSendMsgSize', MAX_MESSAGE_BYTES, '104857600', 'reject', 'Largest gRPC message sent (bytes).', {
    max: INT32_MAX,
  }),
  // --- TLS (PROTOCOL.md §1.2)
  bool('peer.tls.enabled', false, 'false', 'TLS on the gRPC server and every gRPC client.'),
  bool(
    'peer.tls.clientAuthRequired',
    false,
    'false',
    'Require and verify client certificates; deliver sends a client cert and the TLS binding.',
  ),
  k('peer.tls.cert.file', 'path', 'Server certificate (PEM).', { def: '', yaml: 'tls/server.crt' }),
  k('peer.tls.key.file', 'path', 'Server private key (PEM).', { def: '', yaml: 'tls/server.key' }),
  k('peer.tls.rootcert.file', 'path', 'Extra trusted root CA for dialling peers and for client certs.', {
    def: '',
    yaml: 'tls/ca.crt',
  }),
  k(
    'peer.tls.clientRootCAs.files',
    'paths',
    'Extra CAs trusted for client certificates (clientAuthRequired).',
    { def: [], yaml: 'tls/ca.crt' },
  ),
  k('peer.tls.clientCert.file', 'path', 'Client certificate for outgoing connections.', {
    derived: 'peer.tls.cert.file (when clientKey.file is empty too)',
    yaml: '',
  }),
  k('peer.tls.clientKey.file', 'path', 'Client private key for outgoing connections.', {
    derived: 'peer.tls.key.file (when clientCert.file is empty too)',
    yaml: '',
  }),
  // --- keepalive (PROTOCOL.md §1.2)
  dur(
    'peer.keepalive.interval',
    7_200_000,
    '7200s',
    'default',
    'Server pings an idle client after this long.',
  ),
  dur('peer.keepalive.timeout', 20_000, '20s', 'default', 'Server waits this long for a ping ack.'),
  dur('peer.keepalive.minInterval', 60_000, '60s', 'default', 'Clients pinging more often are sent GOAWAY.'),
  dur(
    'peer.keepalive.client.interval',
    60_000,
    '60s',
    'default',
    'Gossip client ping interval (at least 60s: Fabric servers refuse faster pings).',
  ),
  dur('peer.keepalive.client.timeout', 20_000, '20s', 'default', 'Gossip client ping timeout.'),
  dur('peer.keepalive.deliveryClient.interval', 60_000, '60s', 'default', 'Deliver client ping interval.'),
  dur('peer.keepalive.deliveryClient.timeout', 20_000, '20s', 'default', 'Deliver client ping timeout.'),
  // --- gossip (PROTOCOL.md §11)
  k(`${G}bootstrap`, 'hostports', 'Same-org peers contacted at start (space-separated or a YAML list).', {
    def: [],
    yaml: '127.0.0.1:7051',
  }),
  bool(`${G}useLeaderElection`, false, 'false', 'Dynamic leader election per channel (§7).'),
  bool(`${G}orgLeader`, false, 'true', 'Static org leader: pulls blocks from the orderer (§7.1).'),
  dur(
    `${G}membershipTrackerInterval`,
    5000,
    '5s',
    'default',
    'Period of the per-channel membership change log.',
  ),
  k(`${G}endpoint`, 'hostport', 'Internal endpoint advertised in the org.', {
    derived: 'peer.address (resolved)',
    yaml: '',
  }),
  int(`${G}maxBlockCountToStore`, 10, '10', 'default', 'Block message store window (§6.3).'),
  dur(`${G}maxPropagationBurstLatency`, 10, '10ms', 'default', 'Emitter flush period (§6.1).'),
  int(`${G}maxPropagationBurstSize`, 10, '10', 'default', 'Emitter flush size.'),
  int(`${G}propagateIterations`, 1, '1', 'default', 'Times each message is pushed.'),
  int(`${G}propagatePeerNum`, 3, '3', 'default', 'Push fanout.'),
  dur(`${G}pullInterval`, 4000, '4s', 'default', 'Pull period (blocks, identities, membership sync).', {
    fast: FP.pull.pullIntervalMs,
  }),
  int(`${G}pullPeerNum`, 3, '3', 'default', 'Peers per pull, sync and StateInfo request.'),
  dur(`${G}requestStateInfoInterval`, 4000, '4s', 'default', 'StateInfoPullRequest period.', {
    fast: FP.channel.requestStateInfoIntervalMs,
  }),
  dur(`${G}publishStateInfoInterval`, 4000, '4s', 'default', 'StateInfo publication check period.', {
    fast: FP.channel.publishStateInfoIntervalMs,
  }),
  dur(`${G}stateInfoRetentionInterval`, 0, '', 'keep', 'Not read by Fabric v2.4.9.', { unused: true }),
  dur(
    `${G}publishCertPeriod`,
    10_000,
    '10s',
    'default',
    'Alive messages carry our identity this long after start.',
    { fast: FP.discovery.publishCertPeriodMs },
  ),
  bool(`${G}skipBlockVerification`, false, 'false', 'Read by Fabric but unused.', { unused: true }),
  dur(`${G}dialTimeout`, 3000, '3s', 'default', 'Gossip dial timeout.'),
  dur(`${G}connTimeout`, 2000, '2s', 'default', 'Ping and handshake read timeout.'),
  int(`${G}recvBuffSize`, 20, '20', 'default', 'Per-connection receive queue.'),
  int(`${G}sendBuffSize`, 20, '200', 'default', 'Per-connection send queue.'),
  dur(`${G}digestWaitTime`, 1000, '1s', 'default', 'Pull: wait for digests.', {
    fast: FP.pull.digestWaitTimeMs,
  }),
  dur(`${G}requestWaitTime`, 1500, '1500ms', 'default', 'Pull: responder nonce lifetime.', {
    fast: FP.pull.requestWaitTimeMs,
  }),
  dur(`${G}responseWaitTime`, 2000, '2s', 'default', 'Pull: wait for responses.', {
    fast: FP.pull.responseWaitTimeMs,
  }),
  dur(`${G}aliveTimeInterval`, 5000, '5s', 'default', 'Alive message period.', {
    fast: FP.discovery.aliveTimeIntervalMs,
  }),
  dur(
    `${G}aliveExpirationTimeout`,
    undefined,
    '25s',
    'default',
    'Alive -> dead timeout; checked every tenth of it.',
    {
      derived: '5 x aliveTimeInterval',
      fast: FP.discovery.aliveExpirationTimeoutMs,
    },
  ),
  dur(`${G}reconnectInterval`, undefined, '25s', 'default', 'Dead-peer probe and bootstrap retry period.', {
    derived: 'aliveExpirationTimeout',
    fast: FP.discovery.reconnectIntervalMs,
  }),
  int(`${G}maxConnectionAttempts`, 120, '120', 'default', 'Bootstrap and anchor peer attempts.'),
  int(`${G}msgExpirationFactor`, 20, '20', 'default', 'Alive store TTL = factor x aliveExpirationTimeout.'),
  k(
    `${G}externalEndpoint`,
    'hostport',
    'Endpoint advertised to other orgs; empty = invisible outside the org.',
    { def: '', yaml: '' },
  ),
  bool(
    `${G}nonBlockingCommitMode`,
    false,
    undefined,
    'Orderer blocks are added like gossip ones (no blocking).',
  ),
  dur(`${G}election.startupGracePeriod`, 15_000, '15s', 'default', 'Longest wait for a stable membership.', {
    fast: FE.startupGracePeriodMs,
  }),
  dur(
    `${G}election.membershipSampleInterval`,
    1000,
    '1s',
    'default',
    'Membership sampling period at start.',
    { fast: FE.membershipSampleIntervalMs },
  ),
  dur(
    `${G}election.leaderAliveThreshold`,
    10_000,
    '10s',
    'default',
    'Follower wait; the leader declares every half; leadership store TTL 10x.',
    {
      fast: FE.leaderAliveThresholdMs,
    },
  ),
  dur(`${G}election.leaderElectionDuration`, 5000, '5s', 'default', 'Proposal -> declaration wait.', {
    fast: FE.leaderElectionDurationMs,
  }),
  dur(
    `${G}pvtData.pullRetryThreshold`,
    0,
    '60s',
    'keep',
    'Max time to pull missing private data at commit.',
    { unused: true },
  ),
  int(
    `${G}pvtData.transientstoreMaxBlockRetention`,
    1000,
    '1000',
    'default',
    'Transient store retention in blocks.',
    { unused: true },
  ),
  dur(`${G}pvtData.pushAckTimeout`, 0, '3s', 'keep', 'Ack timeout for private data push.', { unused: true }),
  int(
    `${G}pvtData.btlPullMargin`,
    10,
    '10',
    'keep',
    'Blocks-to-live margin for pulling (negative: the default).',
    { unused: true, min: -INT32_MAX },
  ),
  int(`${G}pvtData.reconcileBatchSize`, 10, '10', 'default', 'Reconciler batch.', { unused: true }),
  dur(`${G}pvtData.reconcileSleepInterval`, 60_000, '1m', 'default', 'Reconciler period.', { unused: true }),
  bool(`${G}pvtData.reconciliationEnabled`, false, 'true', 'Enable the private data reconciler.', {
    unused: true,
  }),
  bool(
    `${G}pvtData.skipPullingInvalidTransactionsDuringCommit`,
    false,
    'false',
    'Skip private data pull for invalid txs.',
    { unused: true },
  ),
  int(
    `${G}pvtData.implicitCollectionDisseminationPolicy.requiredPeerCount`,
    0,
    '0',
    'keep',
    'Min acks for implicit collections.',
    { unused: true },
  ),
  int(
    `${G}pvtData.implicitCollectionDisseminationPolicy.maxPeerCount`,
    1,
    '1',
    'keep',
    'Max peers for implicit collections.',
    { unused: true },
  ),
  bool(`${G}state.enabled`, false, 'false', 'Anti-entropy requests and serving RemoteStateRequests (§9.2).'),
  dur(`${G}state.checkInterval`, 10_000, '10s', 'reject', 'Anti-entropy period.'),
  dur(`${G}state.responseTimeout`, 3000, '3s', 'reject', 'Wait per state request.'),
  int(`${G}state.batchSize`, 10, '10', 'reject', 'Blocks per state request.'),
  int(`${G}state.blockBufferSize`, 20, '20', 'reject', 'Payload buffer distance and size.'),
  int(`${G}state.maxRetries`, 3, '3', 'keep', 'Extra sends per batch.'),
  int(`${G}state.channelSize`, 100, undefined, 'reject', 'Queued state requests.'),
  // --- deliver client (PROTOCOL.md §8)
  bool(
    'peer.deliveryclient.blockGossipEnabled',
    true,
    'true',
    'The leader gossips the blocks it pulls from the orderer.',
  ),
  dur(
    'peer.deliveryclient.reconnectTotalTimeThreshold',
    3_600_000,
    '3600s',
    'default',
    'Total backoff before an elected leader yields (§8.5).',
  ),
  dur('peer.deliveryclient.connTimeout', 3000, '3s', 'default', 'Orderer dial timeout.'),
  dur(
    'peer.deliveryclient.reConnectBackoffThreshold',
    3_600_000,
    '3600s',
    'default',
    'Longest single backoff sleep.',
  ),
  k(
    'peer.deliveryclient.addressOverrides',
    'overrides',
    'List of {from, to, caCertsFile}: orderer addresses replaced when found in channel configs.',
    {
      def: [],
      yaml: '',
    },
  ),
  // --- operations and metrics
  k(
    'operations.listenAddress',
    'hostport',
    'Operations HTTP server (healthz, metrics, logspec, version); empty = not started.',
    {
      def: '',
      yaml: '127.0.0.1:9443',
    },
  ),
  bool('operations.tls.enabled', false, 'false', 'HTTPS for the operations server.'),
  bool(
    'operations.tls.clientAuthRequired',
    false,
    'false',
    'Require a verified client certificate for every request.',
  ),
  k('operations.tls.cert.file', 'path', 'Operations server certificate (PEM).', { def: '', yaml: '' }),
  k('operations.tls.key.file', 'path', 'Operations server key (PEM).', { def: '', yaml: '' }),
  k('operations.tls.clientRootCAs.files', 'paths', 'CAs trusted for operations client certificates.', {
    def: [],
    yaml: '[]',
  }),
  k(
    'metrics.provider',
    'enum',
    'prometheus serves /metrics; disabled; statsd is not supported by Grapevine (metrics disabled).',
    {
      def: 'disabled',
      yaml: 'disabled',
      values: ['prometheus', 'disabled', 'statsd'],
    },
  ),
  // --- Grapevine's own
  k(
    'grapevine.profile',
    'enum',
    "fabric = Fabric's exact defaults; fast = shorter gossip and election timers (only where every peer is Grapevine).",
    {
      def: 'fabric',
      values: ['fabric', 'fast'],
    },
  ),
  k('grapevine.ledgerPath', 'path', 'Block store folder.', {
    derived: '<peer.fileSystemPath>/grapevine/ledgers',
  }),
  k('grapevine.channels', 'paths', 'Config (genesis) block files of channels to join at start.', { def: [] }),
  k('grapevine.logSpec', 'logspec', "Log levels in Fabric's syntax, e.g. info:gossip.discovery=debug.", {
    derived: 'FABRIC_LOGGING_SPEC, else info',
  }),
  // fast catch-up between Grapevine peers (src/state/config.ts CatchupConfig; defaults from there)
  bool(
    `${C}enabled`,
    CD.enabled,
    undefined,
    'Far behind, first stream blocks from Grapevine peers (grapevine.Catchup on their gossip port), then RemoteStateRequest.',
  ),
  bool(
    `${C}serve`,
    true,
    undefined,
    'Serve the catch-up stream on the gossip port to channel members allowed to read (Readers).',
  ),
  int(
    `${C}minGap`,
    CD.minGap,
    undefined,
    'default',
    'Use the stream only when at least this many blocks behind.',
  ),
  int(
    `${C}maxBlocksPerStream`,
    CD.maxBlocksPerStream,
    undefined,
    'default',
    'Blocks asked for in one stream.',
  ),
  dur(
    `${C}unsupportedTtl`,
    CD.unsupportedTtlMs,
    undefined,
    'default',
    'A peer that answered UNIMPLEMENTED (e.g. a Fabric peer) is not asked again for this long.',
  ),
  dur(
    `${C}idleTimeout`,
    CD.idleTimeoutMs,
    undefined,
    'default',
    'A stream with no frame for this long is cancelled.',
  ),
  dur(
    `${C}maxClockSkew`,
    CD.maxClockSkewMs,
    undefined,
    'default',
    "Serving: a request's timestamp must be this close to our clock.",
  ),
  int(
    `${C}maxConcurrentStreams`,
    CD.maxConcurrentStreams,
    undefined,
    'default',
    'Serving: streams at once (more are refused RESOURCE_EXHAUSTED).',
  ),
  int(
    `${C}maxFrameBytes`,
    CD.maxFrameBytes,
    undefined,
    'default',
    'Serving: block bytes per stream message (a larger block goes alone).',
    { max: MAX_MESSAGE_BYTES },
  ),
  int(
    `${C}verifyWorkers`,
    CD.verifyWorkers,
    undefined,
    'default',
    'Worker threads verifying streamed blocks with the MCS.',
    { derived: 'cores - 1, at least 1, at most 4', max: 64 },
  ),
  int(
    `${C}maxVerifyInFlight`,
    CD.maxVerifyInFlight,
    undefined,
    'default',
    'Streamed blocks being verified at once, ahead of the one committed next.',
  ),
  bool(
    `${C}verifyAllSignatures`,
    CD.verifyAllSignatures,
    undefined,
    "Check every streamed block's orderer signatures. Off: per run of chained blocks, every block's data hash and hash chain, the signatures of config blocks and of the run's last block (Fabric v2 orderer replication's rule).",
  ),
];

export const KEY_INDEX: ReadonlyMap<string, KeyDef> = new Map(KEYS.map((d) => [d.key.toLowerCase(), d]));

/** Subtrees whose unknown keys are reported as warnings (Fabric ignores them; often a typo). */
export const WATCHED_PREFIXES = [
  'peer.gossip.',
  'peer.deliveryclient.',
  'peer.keepalive.',
  'peer.tls.',
  'operations.',
];
/** Subtrees known to Fabric but not read by Grapevine: never warned about. */
export const IGNORED_PREFIXES = ['metrics.statsd.', 'peer.tls.serverhostoverride'];
/** Our own subtree: unknown keys are errors. */
export const STRICT_PREFIX = 'grapevine.';

/** Property path in PeerConfig of a key: duration leaves gain `Ms`. */
export function tsPath(def: KeyDef): string[] {
  const parts = def.key.split('.');
  if (def.kind === 'duration') parts[parts.length - 1] += 'Ms';
  return parts;
}

/** Fabric/viper's environment variable for a key. */
export function envName(key: string): string {
  return `CORE_${key.toUpperCase().replace(/\./g, '_')}`;
}
