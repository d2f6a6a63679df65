/** Test helper: rebuild a config block after editing its Config (for malformed-config cases). */
import { create, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { decode, encode } from '../../src/wire/codec.js';
import { decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { EnvelopeSchema, PayloadSchema } from '../../src/wire/gen/common/common_pb.js';
import {
  ConfigEnvelopeSchema,
  ConfigValueSchema,
  type Config,
  type ConfigGroup,
} from '../../src/wire/gen/common/configtx_pb.js';

export function editConfigBlock(blockBytes: Uint8Array, edit: (cfg: Config) => void): Uint8Array {
  const block = decodeBlock(blockBytes);
  const env = decode(EnvelopeSchema, block.data!.data[0]);
  const payload = decode(PayloadSchema, env.payload);
  const ce = decode(ConfigEnvelopeSchema, payload.data);
  edit(ce.config!);
  payload.data = encode(ConfigEnvelopeSchema, ce);
  env.payload = encode(PayloadSchema, payload);
  block.data!.data[0] = encode(EnvelopeSchema, env);
  return encodeBlock(block);
}

export function setValue<D extends DescMessage>(
  group: ConfigGroup,
  key: string,
  schema: D,
  value: MessageInitShape<D>,
): void {
  group.values[key] = create(ConfigValueSchema, { value: encode(schema, value), modPolicy: 'Admins' });
}

export function setRawValue(group: ConfigGroup, key: string, bytes: Uint8Array): void {
  group.values[key] = create(ConfigValueSchema, { value: bytes, modPolicy: 'Admins' });
}

export const groups = (cfg: Config) => {
  const ch = cfg.channelGroup!;
  return {
    channel: ch,
    orderer: ch.groups['Orderer'],
    application: ch.groups['Application'],
    ordererOrg: ch.groups['Orderer'].groups['OrdererOrg'],
    org1: ch.groups['Application'].groups['Org1MSP'],
    org2: ch.groups['Application'].groups['Org2MSP'],
  };
};
