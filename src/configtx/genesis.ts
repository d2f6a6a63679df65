/**
 * buildGenesisBlock: the genesis (config) block of an application channel, as
 * `configtxgen -outputBlock` writes it (common/genesis at v2.4.x):
 *
 *   block.header   number 0, no previous hash, data_hash = SHA-256(the one envelope)
 *   block.data     [Envelope{payload, no signature}]
 *   payload        header { ChannelHeader{type CONFIG, version 1, timestamp = now in whole
 *                  seconds, channel_id, epoch 0, tx_id}, SignatureHeader{no creator, 24-byte
 *                  random nonce} }, data = ConfigEnvelope{config{sequence 0, channel_group}}
 *                  (no last_update)
 *   tx_id          hex(SHA-256(nonce || creator)) with an empty creator
 *   metadata       5 slots: SIGNATURES = Metadata{value: OrdererBlockMetadata{last_config{0}}},
 *                  LAST_CONFIG = Metadata{value: LastConfig{0}} (both encode to empty), the
 *                  rest empty; nothing is signed
 *
 * The profile must have an Orderer and an Application section and no Consortiums (no system
 * channel). Time and the nonce can be injected for reproducible output.
 */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { ConfigError } from '../base/errors.js';
import { encode } from '../wire/codec.js';
import { sha256 } from '../wire/block.js';
import {
  BlockSchema,
  ChannelHeaderSchema,
  EnvelopeSchema,
  HeaderType,
  LastConfigSchema,
  MetadataSchema,
  OrdererBlockMetadataSchema,
  PayloadSchema,
  SignatureHeaderSchema,
  type Block,
} from '../wire/gen/common/common_pb.js';
import { ConfigEnvelopeSchema, type ConfigGroup } from '../wire/gen/common/configtx_pb.js';
import { buildChannelGroup } from './groups.js';
import { Reader } from './reader.js';
import type { Configtx } from './types.js';

export interface GenesisOptions {
  /** Time of the channel header (whole seconds are used); default: now. */
  readonly now?: Date;
  /** Randomness for the 24-byte signature header nonce; default: node:crypto. */
  readonly rng?: { bytes(n: number): Uint8Array };
}

/** Fabric's channel name rule: lower-case letters, digits, '.' and '-', starting with a letter, < 250 chars. */
const CHANNEL_ID = /^[a-z][a-z0-9.-]*$/;

/** The /Channel config group of a profile, without the block around it. */
export function buildChannelConfigGroup(configtx: Configtx, profileName: string): ConfigGroup {
  const r = new Reader(configtx.path);
  const profile = configtx.profiles.get(profileName);
  if (profile === undefined) {
    const known = [...configtx.profiles.keys()].join(', ') || 'none';
    throw new ConfigError(
      'CONFIGTX_PROFILE',
      `${configtx.path}: unknown profile '${profileName}' (profiles: ${known})`,
    );
  }
  if (profile.orderer === undefined) {
    r.fail(profile.where, 'refusing to generate block which is missing orderer section', 'CONFIGTX_PROFILE');
  }
  if (profile.consortiums === undefined && profile.application === undefined) {
    r.fail(
      profile.where,
      'refusing to generate application channel block which is missing application section',
      'CONFIGTX_PROFILE',
    );
  }
  return buildChannelGroup({ r, dir: configtx.dir }, profile);
}

export function buildGenesisBlock(
  configtx: Configtx,
  profileName: string,
  channelId: string,
  opts: GenesisOptions = {},
): Block {
  if (!CHANNEL_ID.test(channelId) || channelId.length > 249) {
    throw new ConfigError(
      'CONFIGTX_CHANNEL',
      `invalid channel id '${channelId}': use lower-case letters, digits, '.' and '-', starting with a letter, at most 249 characters`,
    );
  }
  const channelGroup = buildChannelConfigGroup(configtx, profileName);
  const nonce = opts.rng ? opts.rng.bytes(24) : new Uint8Array(randomBytes(24));
  const seconds = BigInt(Math.floor((opts.now ?? new Date()).getTime() / 1000));
  const txId = Buffer.from(sha256(nonce)).toString('hex');

  const channelHeader = encode(ChannelHeaderSchema, {
    type: HeaderType.CONFIG,
    version: 1,
    timestamp: { seconds, nanos: 0 },
    channelId,
    txId,
    epoch: 0n,
  });
  const signatureHeader = encode(SignatureHeaderSchema, { nonce });
  const data = encode(ConfigEnvelopeSchema, { config: { sequence: 0n, channelGroup } });
  const payload = encode(PayloadSchema, { header: { channelHeader, signatureHeader }, data });
  const envelope = encode(EnvelopeSchema, { payload });

  const lastConfig = encode(MetadataSchema, { value: encode(LastConfigSchema, { index: 0n }) });
  const signatures = encode(MetadataSchema, {
    value: encode(OrdererBlockMetadataSchema, { lastConfig: { index: 0n } }),
  });
  const empty = new Uint8Array(0);
  return create(BlockSchema, {
    header: { number: 0n, previousHash: empty, dataHash: sha256(envelope) },
    data: { data: [envelope] },
    metadata: { metadata: [signatures, lastConfig, empty, empty, empty] },
  });
}
