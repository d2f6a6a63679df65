/**
 * Reading the standard values of a config group. As Fabric's channelconfig: every value key of a
 * group must be one the group allows (else ConfigError UNKNOWN_VALUE), and each value must decode
 * as its message (else WireError MALFORMED naming the group and key).
 */
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { ConfigError } from '../base/errors.js';
import { decode } from '../wire/codec.js';
import type { ConfigGroup } from '../wire/gen/common/configtx_pb.js';
import {
  BlockDataHashingStructureSchema,
  CapabilitiesSchema,
  ConsortiumSchema,
  HashingAlgorithmSchema,
  OrdererAddressesSchema,
} from '../wire/gen/common/configuration_pb.js';
import { MSPConfigSchema } from '../wire/gen/msp/msp_config_pb.js';
import {
  BatchSizeSchema,
  BatchTimeoutSchema,
  ChannelRestrictionsSchema,
  ConsensusTypeSchema,
  KafkaBrokersSchema,
} from '../wire/gen/orderer/configuration_pb.js';
import { ACLsSchema, AnchorPeersSchema } from '../wire/gen/peer/configuration_pb.js';

export const CHANNEL_VALUES = {
  HashingAlgorithm: HashingAlgorithmSchema,
  BlockDataHashingStructure: BlockDataHashingStructureSchema,
  OrdererAddresses: OrdererAddressesSchema,
  Consortium: ConsortiumSchema,
  Capabilities: CapabilitiesSchema,
};

export const ORDERER_VALUES = {
  ConsensusType: ConsensusTypeSchema,
  BatchSize: BatchSizeSchema,
  BatchTimeout: BatchTimeoutSchema,
  KafkaBrokers: KafkaBrokersSchema,
  ChannelRestrictions: ChannelRestrictionsSchema,
  Capabilities: CapabilitiesSchema,
};

export const ORDERER_ORG_VALUES = {
  MSP: MSPConfigSchema,
  Endpoints: OrdererAddressesSchema,
};

export const APPLICATION_VALUES = {
  ACLs: ACLsSchema,
  Capabilities: CapabilitiesSchema,
};

export const APPLICATION_ORG_VALUES = {
  MSP: MSPConfigSchema,
  AnchorPeers: AnchorPeersSchema,
};

export type DecodedValues<T extends Record<string, DescMessage>> = { [K in keyof T]?: MessageShape<T[K]> };

/** Decode every value of `group` (at `path`, e.g. "/Channel/Orderer") with the allowed schemas. */
export function readValues<T extends Record<string, DescMessage>>(
  group: ConfigGroup,
  path: string,
  schemas: T,
): DecodedValues<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(group.values)) {
    if (!Object.prototype.hasOwnProperty.call(schemas, key)) {
      throw new ConfigError('UNKNOWN_VALUE', `unexpected value ${key} in ${path}`);
    }
    out[key] = decode(schemas[key], value.value, `${path} value ${key}`);
  }
  return out as DecodedValues<T>;
}

/** Names of the capabilities map, sorted. */
export function capabilityNames(caps: { capabilities: Record<string, unknown> } | undefined): string[] {
  return caps ? Object.keys(caps.capabilities).sort() : [];
}
