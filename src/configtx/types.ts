/**
 * configtx.yaml, as configtxgen reads it (internal/configtxgen/genesisconfig at v2.4.x), after
 * YAML anchors and `<<:` merges are resolved. Keys match case-insensitively (viper); a key the
 * format does not know is an error (configtxgen's exact unmarshal). A key given as null counts
 * as absent. Optional maps are `undefined` when absent, which matters: configtxgen writes a
 * Capabilities value only when the map has entries, and rejects a group without Policies.
 * Paths stay as written; they are resolved against `Configtx.dir` when a block is built.
 */

export interface ConfigtxPolicy {
  readonly type: string;
  readonly rule: string;
}

export type PolicyMap = ReadonlyMap<string, ConfigtxPolicy>;
export type CapabilityMap = ReadonlyMap<string, boolean>;

export interface AnchorPeerSpec {
  readonly host: string;
  readonly port: number;
}

export interface OrganizationSpec {
  /** Where it was read, e.g. `Profiles.P.Application.Organizations[0]` (for error messages). */
  readonly where: string;
  readonly name: string;
  readonly id: string;
  readonly mspDir: string;
  /** "" means bccsp (the X.509 MSP). */
  readonly mspType: string;
  readonly policies: PolicyMap | undefined;
  readonly anchorPeers: readonly AnchorPeerSpec[];
  readonly ordererEndpoints: readonly string[];
  readonly adminPrincipal: string;
  readonly skipAsForeign: boolean;
}

export interface BatchSizeSpec {
  readonly maxMessageCount: number;
  readonly absoluteMaxBytes: number;
  readonly preferredMaxBytes: number;
}

export interface ConsenterSpec {
  readonly host: string;
  readonly port: number;
  /** File paths as written (configtxgen reads the PEM files when it encodes). */
  readonly clientTlsCert: string;
  readonly serverTlsCert: string;
}

export interface EtcdRaftOptionsSpec {
  readonly tickInterval: string;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxInflightBlocks: number;
  readonly snapshotIntervalSize: number;
}

export interface EtcdRaftSpec {
  readonly consenters: readonly ConsenterSpec[];
  /** Zero fields are filled from the defaults when the block is built. */
  readonly options: EtcdRaftOptionsSpec | undefined;
}

export interface OrdererSpec {
  readonly where: string;
  readonly ordererType: string;
  readonly addresses: readonly string[];
  /** Nanoseconds; 0 = unset. */
  readonly batchTimeoutNs: bigint;
  readonly batchSize: BatchSizeSpec;
  readonly kafkaBrokers: readonly string[] | undefined;
  readonly etcdRaft: EtcdRaftSpec | undefined;
  readonly organizations: readonly OrganizationSpec[];
  readonly maxChannels: bigint;
  readonly capabilities: CapabilityMap | undefined;
  readonly policies: PolicyMap | undefined;
}

export interface ApplicationSpec {
  readonly where: string;
  readonly organizations: readonly OrganizationSpec[];
  readonly capabilities: CapabilityMap | undefined;
  readonly policies: PolicyMap | undefined;
  readonly acls: ReadonlyMap<string, string> | undefined;
}

export interface ConsortiumSpec {
  readonly organizations: readonly OrganizationSpec[];
}

export interface ProfileSpec {
  readonly where: string;
  readonly consortium: string;
  readonly application: ApplicationSpec | undefined;
  readonly orderer: OrdererSpec | undefined;
  readonly consortiums: ReadonlyMap<string, ConsortiumSpec> | undefined;
  readonly capabilities: CapabilityMap | undefined;
  readonly policies: PolicyMap | undefined;
}

/** A loaded configtx.yaml. */
export interface Configtx {
  /** The file it was read from. */
  readonly path: string;
  /** Relative MSPDir and certificate paths are resolved against this folder. */
  readonly dir: string;
  readonly profiles: ReadonlyMap<string, ProfileSpec>;
  readonly organizations: readonly OrganizationSpec[];
}
