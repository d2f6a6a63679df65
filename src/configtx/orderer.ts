/**
 * The /Channel/Orderer group as configtxgen writes it (encoder.NewOrdererGroup), after
 * configtxgen's defaults for unset (zero) fields: OrdererType solo, BatchTimeout 2s, BatchSize
 * 500 messages / 10 MB absolute / 2 MB preferred, Kafka brokers 127.0.0.1:9092, etcdraft
 * Options TickInterval 500ms, ElectionTick 10, HeartbeatTick 1, MaxInflightBlocks 5,
 * SnapshotIntervalSize 16 MB.
 *
 * Values: BatchSize, BatchTimeout (Go duration text, "1s"), ChannelRestrictions {max_count =
 * MaxChannels}, Capabilities (if any), KafkaBrokers (kafka only), ConsensusType {type,
 * metadata}; for etcdraft the metadata is an etcdraft.ConfigMetadata whose consenters carry
 * the PEM bytes of their TLS certificate files. Policies must include BlockValidation.
 * One sub-group per orderer org, keyed by Name: MSP, policies, Endpoints (if any).
 */
import { readFileSync } from 'node:fs';
import { errorMessage } from '../base/errors.js';
import type { ConfigGroup, ConfigValue } from '../wire/gen/common/configtx_pb.js';
import { OrdererAddressesSchema } from '../wire/gen/common/configuration_pb.js';
import { ConfigMetadataSchema } from '../wire/gen/orderer/etcdraft/configuration_pb.js';
import {
  BatchSizeSchema,
  BatchTimeoutSchema,
  ChannelRestrictionsSchema,
  ConsensusTypeSchema,
  KafkaBrokersSchema,
} from '../wire/gen/orderer/configuration_pb.js';
import { encode } from '../wire/codec.js';
import {
  ADMINS,
  capabilitiesValue,
  makeGroup,
  makeValue,
  orgBaseValues,
  resolvePath,
  type BuildContext,
} from './parts.js';
import { buildPolicies } from './policies.js';
import type { Reader } from './reader.js';
import { ValueError, formatGoDuration, parseGoDuration } from './scalars.js';
import type { EtcdRaftOptionsSpec, OrdererSpec } from './types.js';

export const ORDERER_DEFAULTS = {
  ordererType: 'solo',
  batchTimeoutNs: 2_000_000_000n,
  maxMessageCount: 500,
  absoluteMaxBytes: 10 * 1024 * 1024,
  preferredMaxBytes: 2 * 1024 * 1024,
  kafkaBrokers: ['127.0.0.1:9092'],
  etcdRaftOptions: {
    tickInterval: '500ms',
    electionTick: 10,
    heartbeatTick: 1,
    maxInflightBlocks: 5,
    snapshotIntervalSize: 16 * 1024 * 1024,
  } satisfies EtcdRaftOptionsSpec,
} as const;

export function buildOrdererGroup(ctx: BuildContext, o: OrdererSpec): ConfigGroup {
  const r: Reader = ctx.r;
  const d = ORDERER_DEFAULTS;
  const policies = buildPolicies(r, o.policies, `${o.where}.Policies`, ADMINS, [
    'BlockValidation',
    'Admins',
    'Readers',
    'Writers',
  ]);
  const type = o.ordererType === '' ? d.ordererType : o.ordererType;
  const values = new Map<string, ConfigValue>();
  values.set(
    'BatchSize',
    makeValue(BatchSizeSchema, {
      maxMessageCount: o.batchSize.maxMessageCount || d.maxMessageCount,
      absoluteMaxBytes: o.batchSize.absoluteMaxBytes || d.absoluteMaxBytes,
      preferredMaxBytes: o.batchSize.preferredMaxBytes || d.preferredMaxBytes,
    }),
  );
  values.set(
    'BatchTimeout',
    makeValue(BatchTimeoutSchema, {
      timeout: formatGoDuration(o.batchTimeoutNs === 0n ? d.batchTimeoutNs : o.batchTimeoutNs),
    }),
  );
  values.set('ChannelRestrictions', makeValue(ChannelRestrictionsSchema, { maxCount: o.maxChannels }));
  if (o.capabilities !== undefined && o.capabilities.size > 0)
    values.set('Capabilities', capabilitiesValue(o.capabilities));

  let metadata: Uint8Array = new Uint8Array(0);
  switch (type) {
    case 'solo':
      break;
    case 'kafka':
      values.set(
        'KafkaBrokers',
        makeValue(KafkaBrokersSchema, { brokers: [...(o.kafkaBrokers ?? d.kafkaBrokers)] }),
      );
      break;
    case 'etcdraft':
      metadata = etcdRaftMetadata(ctx, o);
      break;
    default:
      r.fail(
        `${o.where}.OrdererType`,
        `unknown orderer type: '${type}' (expected etcdraft, solo or kafka)`,
        'CONFIGTX_ORDERER',
      );
  }
  values.set('ConsensusType', makeValue(ConsensusTypeSchema, { type, metadata }));

  const groups = new Map<string, ConfigGroup>();
  for (const org of o.organizations) {
    const parts = orgBaseValues(ctx, org);
    if (org.ordererEndpoints.length > 0) {
      parts.values.set(
        'Endpoints',
        makeValue(OrdererAddressesSchema, { addresses: [...org.ordererEndpoints] }),
      );
    }
    groups.set(org.name, makeGroup({ ...parts, modPolicy: ADMINS }));
  }
  return makeGroup({ groups, values, policies, modPolicy: ADMINS });
}

function etcdRaftMetadata(ctx: BuildContext, o: OrdererSpec): Uint8Array {
  const r: Reader = ctx.r;
  const where = `${o.where}.EtcdRaft`;
  if (o.etcdRaft === undefined) r.fail(where, 'etcdraft configuration missing', 'CONFIGTX_ORDERER');
  const given = o.etcdRaft.options;
  const dflt = ORDERER_DEFAULTS.etcdRaftOptions;
  const options: EtcdRaftOptionsSpec = {
    tickInterval: given?.tickInterval || dflt.tickInterval,
    electionTick: given?.electionTick || dflt.electionTick,
    heartbeatTick: given?.heartbeatTick || dflt.heartbeatTick,
    maxInflightBlocks: given?.maxInflightBlocks || dflt.maxInflightBlocks,
    snapshotIntervalSize: given?.snapshotIntervalSize || dflt.snapshotIntervalSize,
  };
  if (o.etcdRaft.consenters.length === 0)
    r.fail(`${where}.Consenters`, 'etcdraft configuration did not specify any consenter', 'CONFIGTX_ORDERER');
  try {
    parseGoDuration(options.tickInterval);
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    r.fail(
      `${where}.Options.TickInterval`,
      `TickInterval (${options.tickInterval}) must be in time duration format`,
      'CONFIGTX_ORDERER',
    );
  }
  if (options.electionTick <= options.heartbeatTick) {
    r.fail(
      `${where}.Options`,
      `ElectionTick (${options.electionTick}) must be greater than HeartbeatTick (${options.heartbeatTick})`,
      'CONFIGTX_ORDERER',
    );
  }
  const consenters = o.etcdRaft.consenters.map((c, i) => {
    const cw = `${where}.Consenters[${i}]`;
    if (c.host === '') r.fail(`${cw}.Host`, 'consenter did not specify host', 'CONFIGTX_ORDERER');
    if (c.port === 0) r.fail(`${cw}.Port`, 'consenter did not specify port', 'CONFIGTX_ORDERER');
    const read = (p: string, key: string): Uint8Array => {
      if (p === '') r.fail(`${cw}.${key}`, `consenter did not specify ${key}`, 'CONFIGTX_ORDERER');
      const file = resolvePath(ctx, p);
      try {
        return new Uint8Array(readFileSync(file));
      } catch (e) {
        r.fail(
          `${cw}.${key}`,
          `cannot load ${key} of consenter ${c.host}:${c.port} from ${file}: ${errorMessage(e)}`,
          'CONFIGTX_FILE',
        );
      }
    };
    return {
      host: c.host,
      port: c.port,
      clientTlsCert: read(c.clientTlsCert, 'ClientTLSCert'),
      serverTlsCert: read(c.serverTlsCert, 'ServerTLSCert'),
    };
  });
  return encode(ConfigMetadataSchema, { consenters, options });
}
