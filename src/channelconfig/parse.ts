/**
 * Channel config parsing: config block -> ChannelConfig (Fabric's channelconfig.NewBundle).
 *
 *   1. block -> first envelope -> CONFIG channel header -> ConfigEnvelope.config (a non-config
 *      block is WireError NOT_CONFIG naming the block number);
 *   2. /Channel values (HashingAlgorithm SHA256|SHA3_256, BlockDataHashingStructure width
 *      2^32-1, OrdererAddresses required unless channel capability V1_4_2+ enables per-org
 *      endpoints); capabilities pre-check (no channel/application capabilities without orderer
 *      capabilities); only Orderer, Application and Consortiums sub-groups;
 *   3. /Channel/Orderer values (BatchSize non-zero and preferred <= absolute, BatchTimeout a
 *      positive Go duration, etcdraft metadata decoded) and one org group per orderer org
 *      (MSP, Endpoints); /Channel/Application values (ACLs, Capabilities) and orgs (MSP,
 *      AnchorPeers); org groups have no sub-groups;
 *   4. one Msp per MSP ID (mspFromFabricConfig); two orgs may share an MSP ID only with
 *      identical MSP configs; the MspManager holds them all;
 *   5. the policy tree (policies.ts) over the whole channel group.
 * Errors: WireError (undecodable bytes) or ConfigError (well-formed but invalid), with codes.
 */
import { ConfigError, WireError, errorMessage } from '../base/errors.js';
import { decode, encode } from '../wire/codec.js';
import { configEnvelopeOf, decodeBlock, decodeTx } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import type { Config, ConfigGroup } from '../wire/gen/common/configtx_pb.js';
import {
  FabricMSPConfigSchema,
  MSPConfigSchema,
  type FabricMSPConfig,
} from '../wire/gen/msp/msp_config_pb.js';
import { ConsensusType_State } from '../wire/gen/orderer/configuration_pb.js';
import { ConfigMetadataSchema } from '../wire/gen/orderer/etcdraft/configuration_pb.js';
import type { Msp, MspManager } from '../identity/types.js';
import { parseGoDuration } from './duration.js';
import { ChannelPolicies } from './policies.js';
import type { ChannelConfig, ConsensusInfo, OrdererEndpoint, OrgConfig } from './types.js';
import {
  APPLICATION_ORG_VALUES,
  APPLICATION_VALUES,
  CHANNEL_VALUES,
  ORDERER_ORG_VALUES,
  ORDERER_VALUES,
  capabilityNames,
  readValues,
} from './values.js';
import { byCodeUnits } from '../base/order.js';

/** How MSPs are built (the identity layer in production; fakes in unit tests). */
export interface MspFactory {
  mspFromFabricConfig(cfg: FabricMSPConfig): Msp;
  createMspManager(msps: Iterable<Msp>): MspManager;
}

const MAX_UINT32 = 0xffffffff;
const ORG_ENDPOINT_CAPS = new Set(['V1_4_2', 'V1_4_3', 'V2_0', 'V3_0']);

interface MspRegistry {
  factory: MspFactory;
  byId: Map<string, { bytes: Uint8Array; msp: Msp }>;
}

/** The config inside a config block, with the channel ID from its channel header. */
export function configOfBlock(block: Block): { channelId: string; config: Config } {
  const n = block.header?.number;
  const label = n === undefined ? 'block (no header)' : `block ${n}`;
  try {
    const env = configEnvelopeOf(block);
    const channelId = decodeTx(block.data!.data[0]).channelHeader.channelId;
    if (!env.config) throw new ConfigError('BAD_CONFIG', `${label}: config envelope has no config`);
    return { channelId, config: env.config };
  } catch (e) {
    if (e instanceof WireError && e.code !== 'NOT_CONFIG')
      throw new WireError(e.code, `${label}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function parseChannelConfigWith(input: Block | Uint8Array, factory: MspFactory): ChannelConfig {
  const block = input instanceof Uint8Array ? decodeBlock(input) : input;
  const { channelId, config } = configOfBlock(block);
  return parseConfig(channelId, config, block.header?.number, factory);
}

function sortedEntries<V>(rec: Record<string, V>): [string, V][] {
  return Object.entries(rec).sort(([a], [b]) => byCodeUnits(a, b));
}

export function parseConfig(
  channelId: string,
  config: Config,
  blockNumber: bigint | undefined,
  factory: MspFactory,
): ChannelConfig {
  const root = config.channelGroup;
  if (!root) throw new ConfigError('BAD_CONFIG', 'config must contain a channel group');
  const chv = readValues(root, '/Channel', CHANNEL_VALUES);
  const ordererGroup = root.groups['Orderer'];
  const appGroup = root.groups['Application'];
  for (const name of Object.keys(root.groups)) {
    if (name !== 'Orderer' && name !== 'Application' && name !== 'Consortiums') {
      throw new ConfigError('UNKNOWN_GROUP', `disallowed channel group: ${name}`);
    }
  }
  if (!ordererGroup) throw new ConfigError('MISSING_GROUP', 'config has no Orderer group');
  if (!ordererGroup.values['Capabilities']) {
    if (root.values['Capabilities']) {
      throw new ConfigError(
        'BAD_CAPABILITIES',
        'cannot enable channel capabilities without orderer support first',
      );
    }
    if (appGroup?.values['Capabilities']) {
      throw new ConfigError(
        'BAD_CAPABILITIES',
        'cannot enable application capabilities without orderer support first',
      );
    }
  }
  const hashingAlgorithm = chv.HashingAlgorithm?.name ?? '';
  if (hashingAlgorithm !== 'SHA256' && hashingAlgorithm !== 'SHA3_256') {
    throw new ConfigError('BAD_VALUE', `unknown hashing algorithm type: '${hashingAlgorithm}'`);
  }
  const width = chv.BlockDataHashingStructure?.width ?? 0;
  if (width !== MAX_UINT32)
    throw new ConfigError(
      'BAD_VALUE',
      `BlockDataHashingStructure width ${width} unsupported (must be 4294967295)`,
    );
  const channelCaps = capabilityNames(chv.Capabilities);
  const orgEndpointsAllowed = channelCaps.some((c) => ORG_ENDPOINT_CAPS.has(c));
  const ordererAddresses = chv.OrdererAddresses?.addresses ?? [];
  if (!orgEndpointsAllowed && ordererAddresses.length === 0)
    throw new ConfigError('BAD_VALUE', 'must set some OrdererAddresses');

  const reg: MspRegistry = { factory, byId: new Map() };
  const ord = parseOrderer(ordererGroup, reg, orgEndpointsAllowed);
  const app = appGroup ? parseApplication(appGroup, reg) : undefined;

  let msps: MspManager;
  try {
    msps = factory.createMspManager([...reg.byId.values()].map((v) => v.msp));
  } catch (e) {
    throw new ConfigError('BAD_MSP', `creating the channel MSP manager failed: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const policies = ChannelPolicies.build(root, msps);
  const cfg: ChannelConfig = {
    channelId,
    sequence: config.sequence,
    blockNumber,
    hashingAlgorithm,
    blockDataHashingStructureWidth: width,
    applicationOrgs: app?.orgs ?? [],
    ordererOrgs: ord.orgs,
    ordererAddresses,
    consensusType: ord.consensus,
    batchSize: ord.batchSize,
    batchTimeout: ord.batchTimeoutMs,
    batchTimeoutText: ord.batchTimeoutText,
    maxChannels: ord.maxChannels,
    capabilities: { channel: channelCaps, orderer: ord.caps, application: app?.caps ?? [] },
    acls: app?.acls ?? {},
    consortium: chv.Consortium?.name,
    msps,
    policies,
    config,
    ordererEndpoints: () => ordererEndpoints(ordererAddresses, ord.orgs),
    cryptoContext: () => ({ channelId, msps, policies }),
  };
  return cfg;
}

function parseOrderer(group: ConfigGroup, reg: MspRegistry, orgEndpointsAllowed: boolean) {
  const path = '/Channel/Orderer';
  const v = readValues(group, path, ORDERER_VALUES);
  const bs = v.BatchSize;
  if (!bs || bs.maxMessageCount === 0)
    throw new ConfigError('BAD_VALUE', 'batch size max message count must not be 0');
  if (bs.absoluteMaxBytes === 0)
    throw new ConfigError('BAD_VALUE', 'batch size absolute max bytes must not be 0');
  if (bs.preferredMaxBytes === 0)
    throw new ConfigError('BAD_VALUE', 'batch size preferred max bytes must not be 0');
  if (bs.preferredMaxBytes > bs.absoluteMaxBytes) {
    throw new ConfigError(
      'BAD_VALUE',
      `batch size preferred max bytes (${bs.preferredMaxBytes}) greater than absolute max bytes (${bs.absoluteMaxBytes})`,
    );
  }
  const batchTimeoutText = v.BatchTimeout?.timeout ?? '';
  const ns = parseGoDuration(batchTimeoutText);
  if (ns === undefined) throw new ConfigError('BAD_VALUE', `invalid batch timeout '${batchTimeoutText}'`);
  if (ns <= 0n)
    throw new ConfigError('BAD_VALUE', `batch timeout must be positive, got '${batchTimeoutText}'`);
  const orgs: OrgConfig[] = [];
  for (const [name, og] of sortedEntries(group.groups)) {
    const opath = `${path}/${name}`;
    noSubGroups(og, opath);
    if (!orgEndpointsAllowed && og.values['Endpoints']) {
      throw new ConfigError(
        'BAD_VALUE',
        `orderer org ${name} cannot contain endpoints value until V1_4_2+ capabilities have been enabled`,
      );
    }
    const ov = readValues(og, opath, ORDERER_ORG_VALUES);
    const { mspId, msp, mspConfig } = orgMsp(name, opath, ov.MSP, reg);
    orgs.push({ name, mspId, msp, mspConfig, anchorPeers: [], endpoints: ov.Endpoints?.addresses ?? [] });
  }
  return {
    orgs,
    consensus: consensusInfo(v.ConsensusType),
    batchSize: {
      maxMessageCount: bs.maxMessageCount,
      absoluteMaxBytes: bs.absoluteMaxBytes,
      preferredMaxBytes: bs.preferredMaxBytes,
    },
    batchTimeoutMs: Number(ns) / 1e6,
    batchTimeoutText,
    maxChannels: v.ChannelRestrictions?.maxCount ?? 0n,
    caps: capabilityNames(v.Capabilities),
  };
}

function consensusInfo(
  ct: { type: string; metadata: Uint8Array; state: ConsensusType_State } | undefined,
): ConsensusInfo {
  const type = ct?.type ?? '';
  const metadata = ct?.metadata ?? new Uint8Array();
  const state = ct?.state === ConsensusType_State.MAINTENANCE ? 'MAINTENANCE' : 'NORMAL';
  if (type !== 'etcdraft') return { type, state, metadata };
  let md;
  try {
    md = decode(ConfigMetadataSchema, metadata, 'etcdraft.ConfigMetadata');
  } catch (e) {
    throw new ConfigError('BAD_VALUE', `ConsensusType etcdraft metadata: ${errorMessage(e)}`, { cause: e });
  }
  return {
    type,
    state,
    metadata,
    etcdraft: {
      consenters: md.consenters.map((c) => ({
        host: c.host,
        port: c.port,
        clientTlsCert: c.clientTlsCert,
        serverTlsCert: c.serverTlsCert,
      })),
      options: md.options && {
        tickInterval: md.options.tickInterval,
        electionTick: md.options.electionTick,
        heartbeatTick: md.options.heartbeatTick,
        maxInflightBlocks: md.options.maxInflightBlocks,
        snapshotIntervalSize: md.options.snapshotIntervalSize,
      },
    },
  };
}

function parseApplication(group: ConfigGroup, reg: MspRegistry) {
  const path = '/Channel/Application';
  const v = readValues(group, path, APPLICATION_VALUES);
  const acls: Record<string, string> = {};
  for (const [k, r] of sortedEntries(v.ACLs?.acls ?? {})) acls[k] = r.policyRef;
  const orgs: OrgConfig[] = [];
  for (const [name, og] of sortedEntries(group.groups)) {
    const opath = `${path}/${name}`;
    noSubGroups(og, opath);
    const ov = readValues(og, opath, APPLICATION_ORG_VALUES);
    const { mspId, msp, mspConfig } = orgMsp(name, opath, ov.MSP, reg);
    const anchorPeers = (ov.AnchorPeers?.anchorPeers ?? []).map((a) => ({ host: a.host, port: a.port }));
    orgs.push({ name, mspId, msp, mspConfig, anchorPeers, endpoints: [] });
  }
  return { orgs, acls, caps: capabilityNames(v.Capabilities) };
}

function noSubGroups(g: ConfigGroup, path: string): void {
  const subs = Object.keys(g.groups);
  if (subs.length > 0)
    throw new ConfigError('UNKNOWN_GROUP', `organization ${path} may not have sub-groups (found ${subs[0]})`);
}

function orgMsp(
  name: string,
  path: string,
  mspValue: { type: number; config: Uint8Array } | undefined,
  reg: MspRegistry,
): { mspId: string; msp: Msp; mspConfig: FabricMSPConfig } {
  if (!mspValue) throw new ConfigError('BAD_MSP', `organization ${path} has no MSP value`);
  if (mspValue.type === 1)
    throw new ConfigError('UNSUPPORTED_MSP', `organization ${path}: idemix MSPs are not supported`);
  if (mspValue.type !== 0)
    throw new ConfigError('BAD_MSP', `organization ${path}: unsupported msp type ${mspValue.type}`);
  const mspConfig = decode(FabricMSPConfigSchema, mspValue.config, `${path} FabricMSPConfig`);
  const mspId = mspConfig.name;
  if (mspId === '') throw new ConfigError('BAD_MSP', `MSP for org ${name} has empty MSP ID`);
  const bytes = encode(MSPConfigSchema, mspValue);
  const existing = reg.byId.get(mspId);
  if (existing) {
    if (Buffer.compare(Buffer.from(existing.bytes), Buffer.from(bytes)) !== 0) {
      throw new ConfigError(
        'DUPLICATE_MSP',
        `attempted to define two different versions of MSP ${mspId} (at ${path})`,
      );
    }
    return { mspId, msp: existing.msp, mspConfig };
  }
  let msp: Msp;
  try {
    msp = reg.factory.mspFromFabricConfig(mspConfig);
  } catch (e) {
    throw new ConfigError(
      'BAD_MSP',
      `organization ${path}: setting up MSP ${mspId} failed: ${errorMessage(e)}`,
      { cause: e },
    );
  }
  reg.byId.set(mspId, { bytes, msp });
  return { mspId, msp, mspConfig };
}

/** §8.4: org endpoints (each with its org's TLS CAs) if any org has some, else the global ones. */
function ordererEndpoints(global: readonly string[], orgs: readonly OrgConfig[]): OrdererEndpoint[] {
  const cas = (o: OrgConfig) => [...o.msp.tlsRootCerts, ...o.msp.tlsIntermediateCerts];
  if (orgs.some((o) => o.endpoints.length > 0)) {
    return orgs.flatMap((o) =>
      o.endpoints.map((address) => ({ address, mspId: o.mspId, tlsRootCerts: cas(o) })),
    );
  }
  const all = orgs.flatMap(cas);
  return global.map((address) => ({ address, tlsRootCerts: all }));
}
