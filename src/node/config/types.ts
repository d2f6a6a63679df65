/**
 * The peer's resolved configuration: core.yaml's tree (Fabric's key names), every value typed
 * and resolved. Durations are whole milliseconds in fields named `...Ms`; file paths are
 * absolute. The fields are derived from the config table (src/config/table.ts: `Section<P>` has
 * one field per key directly under `P`); see docs/configuration.md for every key's default and
 * meaning.
 */
import type { AddressOverrideEntry, ProfileName, Section } from '../../config/table.js';

export type { AddressOverrideEntry, ProfileName };
export type MetricsProvider = PeerConfig['metrics']['provider'];

/** `peer.tls.*`. clientCert/clientKey: as configured, or the server pair when both are empty. */
export type PeerTlsConfig = Section<'peer.tls'> & {
  readonly cert: Section<'peer.tls.cert'>;
  readonly key: Section<'peer.tls.key'>;
  readonly rootcert: Section<'peer.tls.rootcert'>;
  readonly clientRootCAs: Section<'peer.tls.clientRootCAs'>;
  readonly clientCert: Section<'peer.tls.clientCert'>;
  readonly clientKey: Section<'peer.tls.clientKey'>;
};

export type PeerKeepaliveConfig = Section<'peer.keepalive'> & {
  readonly client: Section<'peer.keepalive.client'>;
  readonly deliveryClient: Section<'peer.keepalive.deliveryClient'>;
};

export type GossipElectionConfig = Section<'peer.gossip.election'>;

export type GossipPvtDataConfig = Section<'peer.gossip.pvtData'> & {
  readonly implicitCollectionDisseminationPolicy: Section<'peer.gossip.pvtData.implicitCollectionDisseminationPolicy'>;
};

/** `peer.gossip.state.*`. */
export type GossipStateConfig = Section<'peer.gossip.state'>;

/** `peer.gossip.*`. endpoint: as configured, or the resolved `peer.address`. */
export type PeerGossipConfig = Section<'peer.gossip'> & {
  readonly election: GossipElectionConfig;
  readonly pvtData: GossipPvtDataConfig;
  readonly state: GossipStateConfig;
};

export type DeliveryClientSection = Section<'peer.deliveryclient'>;

/**
 * `peer.*`. listenAddress: as configured, or `peer.address` as configured. address: the peer's
 * endpoint with an unspecified host (0.0.0.0, ::) replaced by this host's IPv4 address, as
 * Fabric does.
 */
export type PeerSection = Section<'peer'> & {
  /** `peer.address` exactly as configured. */
  readonly addressConfigured: string;
  /** `peer.authentication.timewindow`: Deliver requests served by this peer must be this fresh. */
  readonly authentication: Section<'peer.authentication'>;
  readonly tls: PeerTlsConfig;
  readonly keepalive: PeerKeepaliveConfig;
  readonly gossip: PeerGossipConfig;
  readonly deliveryclient: DeliveryClientSection;
};

export type OperationsSection = Section<'operations'> & {
  readonly tls: Section<'operations.tls'> & {
    readonly cert: Section<'operations.tls.cert'>;
    readonly key: Section<'operations.tls.key'>;
    readonly clientRootCAs: Section<'operations.tls.clientRootCAs'>;
  };
};

/** `grapevine.catchup.*`: the state module's catch-up fields plus `serve` (whether this peer serves the stream). */
export type GrapevineCatchupConfig = Section<'grapevine.catchup'>;

/** Grapevine's own keys (the `grapevine:` section of core.yaml); paths absolute. */
export type GrapevineSection = Section<'grapevine'> & {
  readonly catchup: GrapevineCatchupConfig;
  /** orderer.AtomicBroadcast/Deliver served on the gossip port from the peer's ledgers. */
  readonly deliverServer: Section<'grapevine.deliverServer'>;
  /** Connection limits of every listening port (src/base/conn-gate.ts). */
  readonly connLimits: Section<'grapevine.connLimits'>;
  /** Block streams between the org's Grapevine peers (core/stream). */
  readonly streams: Section<'grapevine.streams'>;
  /** Alerts of /status and grapevine_alerts (src/node/alerts.ts). */
  readonly alerts: Section<'grapevine.alerts'>;
};

export interface PeerConfig {
  /** The core.yaml read (absolute), or undefined when none was. */
  readonly configFile: string | undefined;
  /** The folder relative paths were resolved against. */
  readonly configDir: string;
  readonly peer: PeerSection;
  readonly operations: OperationsSection;
  readonly metrics: Section<'metrics'>;
  readonly grapevine: GrapevineSection;
  /** Things worth a log line at start: unknown keys, unsupported values, the fast profile. */
  readonly warnings: readonly string[];
}
