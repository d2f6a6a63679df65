/**
 * The peer's resolved configuration: core.yaml's tree (Fabric's key names), every value typed
 * and resolved. Durations are whole milliseconds in fields named `...Ms`; file paths are
 * absolute. See docs/configuration.md for every key's defaults and meaning.
 */
import type { CatchupConfig, StateConfig } from '../../core/state/config.js';

export type ProfileName = 'fabric' | 'fast';
export type MetricsProvider = 'prometheus' | 'disabled' | 'statsd';

export interface FileRef {
  /** Absolute path, or '' when not set. */
  readonly file: string;
}

export interface AddressOverrideEntry {
  /** The orderer address exactly as written in the channel config. */
  readonly from: string;
  /** The address dialled instead. */
  readonly to: string;
  /** PEM file of CA certificates to trust for `to` (absolute), or ''. */
  readonly caCertsFile: string;
}

export interface PeerTlsConfig {
  readonly enabled: boolean;
  readonly clientAuthRequired: boolean;
  readonly cert: FileRef;
  readonly key: FileRef;
  readonly rootcert: FileRef;
  readonly clientRootCAs: { readonly files: readonly string[] };
  /** The client certificate: as configured, or the server's (`cert.file`) when both client keys are empty. */
  readonly clientCert: FileRef;
  readonly clientKey: FileRef;
}

export interface PeerKeepaliveConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly minIntervalMs: number;
  readonly client: { readonly intervalMs: number; readonly timeoutMs: number };
  readonly deliveryClient: { readonly intervalMs: number; readonly timeoutMs: number };
}

export interface GossipElectionConfig {
  readonly startupGracePeriodMs: number;
  readonly membershipSampleIntervalMs: number;
  readonly leaderAliveThresholdMs: number;
  readonly leaderElectionDurationMs: number;
}

export interface GossipPvtDataConfig {
  readonly pullRetryThresholdMs: number;
  readonly transientstoreMaxBlockRetention: number;
  readonly pushAckTimeoutMs: number;
  readonly btlPullMargin: number;
  readonly reconcileBatchSize: number;
  readonly reconcileSleepIntervalMs: number;
  readonly reconciliationEnabled: boolean;
  readonly skipPullingInvalidTransactionsDuringCommit: boolean;
  readonly implicitCollectionDisseminationPolicy: {
    readonly requiredPeerCount: number;
    readonly maxPeerCount: number;
  };
}

/** `peer.gossip.state.*`: the state module's fields of the same names (src/state/config.ts gives each key). */
export type GossipStateConfig = Pick<
  StateConfig,
  | 'enabled'
  | 'checkIntervalMs'
  | 'responseTimeoutMs'
  | 'batchSize'
  | 'blockBufferSize'
  | 'maxRetries'
  | 'channelSize'
>;

export interface PeerGossipConfig {
  readonly bootstrap: readonly string[];
  readonly useLeaderElection: boolean;
  readonly orgLeader: boolean;
  readonly membershipTrackerIntervalMs: number;
  /** Internal endpoint: as configured, or the resolved `peer.address`. */
  readonly endpoint: string;
  readonly maxBlockCountToStore: number;
  readonly maxPropagationBurstLatencyMs: number;
  readonly maxPropagationBurstSize: number;
  readonly propagateIterations: number;
  readonly propagatePeerNum: number;
  readonly pullIntervalMs: number;
  readonly pullPeerNum: number;
  readonly requestStateInfoIntervalMs: number;
  readonly publishStateInfoIntervalMs: number;
  readonly stateInfoRetentionIntervalMs: number;
  readonly publishCertPeriodMs: number;
  readonly skipBlockVerification: boolean;
  readonly dialTimeoutMs: number;
  readonly connTimeoutMs: number;
  readonly recvBuffSize: number;
  readonly sendBuffSize: number;
  readonly digestWaitTimeMs: number;
  readonly requestWaitTimeMs: number;
  readonly responseWaitTimeMs: number;
  readonly aliveTimeIntervalMs: number;
  readonly aliveExpirationTimeoutMs: number;
  readonly reconnectIntervalMs: number;
  readonly maxConnectionAttempts: number;
  readonly msgExpirationFactor: number;
  readonly externalEndpoint: string;
  readonly nonBlockingCommitMode: boolean;
  readonly election: GossipElectionConfig;
  readonly pvtData: GossipPvtDataConfig;
  readonly state: GossipStateConfig;
}

export interface DeliveryClientSection {
  readonly blockGossipEnabled: boolean;
  readonly reconnectTotalTimeThresholdMs: number;
  readonly connTimeoutMs: number;
  readonly reConnectBackoffThresholdMs: number;
  readonly addressOverrides: readonly AddressOverrideEntry[];
}

export interface PeerSection {
  readonly id: string;
  readonly networkId: string;
  /** Where the gRPC server listens: as configured, or `peer.address` as configured. */
  readonly listenAddress: string;
  /** The peer's endpoint with an unspecified host (0.0.0.0, ::) replaced by this host's IPv4 address, as Fabric does. */
  readonly address: string;
  /** `peer.address` exactly as configured. */
  readonly addressConfigured: string;
  readonly addressAutoDetect: boolean;
  readonly fileSystemPath: string;
  readonly mspConfigPath: string;
  readonly localMspId: string;
  /** `peer.connectiontimeout`: the server's handshake deadline. */
  readonly connectiontimeoutMs: number;
  readonly maxRecvMsgSize: number;
  readonly maxSendMsgSize: number;
  readonly tls: PeerTlsConfig;
  readonly keepalive: PeerKeepaliveConfig;
  readonly gossip: PeerGossipConfig;
  readonly deliveryclient: DeliveryClientSection;
}

export interface OperationsSection {
  /** host:port of the operations HTTP server; '' = not started. */
  readonly listenAddress: string;
  readonly tls: {
    readonly enabled: boolean;
    readonly clientAuthRequired: boolean;
    readonly cert: FileRef;
    readonly key: FileRef;
    readonly clientRootCAs: { readonly files: readonly string[] };
  };
}

/**
 * `grapevine.catchup.*`: the state module's catch-up fields of the same names (src/state/config.ts
 * gives each default), plus `serve`: whether this peer serves the stream to other peers.
 */
export type GrapevineCatchupConfig = CatchupConfig & { readonly serve: boolean };

/** Grapevine's own keys (the `grapevine:` section of core.yaml). */
export interface GrapevineSection {
  /** `fabric` (Fabric's exact defaults) or `fast` (shorter timers, all-Grapevine networks only). */
  readonly profile: ProfileName;
  /** Block store folder (absolute). Default `<peer.fileSystemPath>/grapevine/ledgers`. */
  readonly ledgerPath: string;
  /** Config (genesis) block files of channels to join at start (absolute). */
  readonly channels: readonly string[];
  /** Logging spec in Fabric's syntax (`info:gossip.discovery=debug`). */
  readonly logSpec: string;
  /** Fast catch-up between Grapevine peers (grapevine.Catchup/StreamBlockFrames on the gossip port). */
  readonly catchup: GrapevineCatchupConfig;
}

export interface PeerConfig {
  /** The core.yaml read (absolute), or undefined when none was. */
  readonly configFile: string | undefined;
  /** The folder relative paths were resolved against. */
  readonly configDir: string;
  readonly peer: PeerSection;
  readonly operations: OperationsSection;
  readonly metrics: { readonly provider: MetricsProvider };
  readonly grapevine: GrapevineSection;
  /** Things worth a log line at start: unknown keys, unsupported values, the fast profile. */
  readonly warnings: readonly string[];
}
