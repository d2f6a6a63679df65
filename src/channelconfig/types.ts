/** The parsed channel configuration (PROTOCOL.md §4.7, §8.4, §10.2). */
import type { Config } from '../wire/gen/common/configtx_pb.js';
import type { FabricMSPConfig } from '../wire/gen/msp/msp_config_pb.js';
import type { ChannelCryptoContext, Msp, MspManager } from '../identity/types.js';
import type { ChannelPolicies } from './policies.js';

export interface AnchorPeer {
  readonly host: string;
  readonly port: number;
}

/** One organisation (a sub-group of Application or Orderer). */
export interface OrgConfig {
  /** The config group name (configtx.yaml `Name`), e.g. "OrdererOrg", "Org1MSP". */
  readonly name: string;
  readonly mspId: string;
  readonly msp: Msp;
  /** The verifying MSP config exactly as in the channel config. */
  readonly mspConfig: FabricMSPConfig;
  /** Application orgs: AnchorPeers value, in config order (may hold empty hosts / port 0). */
  readonly anchorPeers: readonly AnchorPeer[];
  /** Orderer orgs: the org's Endpoints value ("host:port"). Empty for application orgs. */
  readonly endpoints: readonly string[];
}

export interface EtcdRaftConsenter {
  readonly host: string;
  readonly port: number;
  readonly clientTlsCert: Uint8Array;
  readonly serverTlsCert: Uint8Array;
}

export interface ConsensusInfo {
  /** "etcdraft", "solo", "kafka", "BFT", ... */
  readonly type: string;
  readonly state: 'NORMAL' | 'MAINTENANCE';
  readonly metadata: Uint8Array;
  /** Decoded metadata when type is etcdraft. */
  readonly etcdraft?: {
    readonly consenters: readonly EtcdRaftConsenter[];
    readonly options?: {
      readonly tickInterval: string;
      readonly electionTick: number;
      readonly heartbeatTick: number;
      readonly maxInflightBlocks: number;
      readonly snapshotIntervalSize: number;
    };
  };
}

export interface BatchSizeInfo {
  readonly maxMessageCount: number;
  readonly absoluteMaxBytes: number;
  readonly preferredMaxBytes: number;
}

/** Capability names enabled at each level (sorted), e.g. { channel: ["V2_0"], ... }. */
export interface CapabilitySet {
  readonly channel: readonly string[];
  readonly orderer: readonly string[];
  readonly application: readonly string[];
}

/** An orderer endpoint as the deliver client should use it (§8.4). */
export interface OrdererEndpoint {
  readonly address: string;
  /** MSP ID of the org that declared it; undefined for global OrdererAddresses. */
  readonly mspId?: string;
  /** TLS root then intermediate CA certs (PEM) to trust for this endpoint. */
  readonly tlsRootCerts: readonly Uint8Array[];
}

export interface ChannelConfig {
  readonly channelId: string;
  readonly sequence: bigint;
  /** Number of the block the config came from (undefined when parsed from a bare envelope). */
  readonly blockNumber: bigint | undefined;
  readonly hashingAlgorithm: string;
  readonly blockDataHashingStructureWidth: number;
  /** Application orgs sorted by group name. */
  readonly applicationOrgs: readonly OrgConfig[];
  /** Orderer orgs sorted by group name. */
  readonly ordererOrgs: readonly OrgConfig[];
  /** Global OrdererAddresses of the channel group (deprecated in favour of org endpoints). */
  readonly ordererAddresses: readonly string[];
  readonly consensusType: ConsensusInfo;
  readonly batchSize: BatchSizeInfo;
  /** BatchTimeout in milliseconds (may be fractional). */
  readonly batchTimeout: number;
  /** BatchTimeout as written in the config, e.g. "1s". */
  readonly batchTimeoutText: string;
  /** ChannelRestrictions.max_count (0 = unlimited). */
  readonly maxChannels: bigint;
  readonly capabilities: CapabilitySet;
  /** Application ACLs: resource name -> policy reference. */
  readonly acls: Readonly<Record<string, string>>;
  /** Consortium name (only in configs created through a system channel). */
  readonly consortium: string | undefined;
  /** The channel's MSPs (every application and orderer org). */
  readonly msps: MspManager;
  readonly policies: ChannelPolicies;
  /** The raw config. */
  readonly config: Config;
  /** Orderer endpoints with their TLS CAs, per §8.4 (org endpoints win over global ones). */
  ordererEndpoints(): OrdererEndpoint[];
  cryptoContext(): ChannelCryptoContext;
}
