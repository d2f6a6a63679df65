/**
 * Blocks (and other Fabric messages) as the JSON `configtxlator proto_decode` prints, and back as
 * `proto_encode` builds them. The decoding rules are the table in views.ts; the walkers in tree.ts;
 * the Go-compatible printer in format.ts.
 */
import type { DescMessage, JsonObject, JsonValue, Message } from '@bufbuild/protobuf';
import { toBinary } from '@bufbuild/protobuf';
import { WireError } from '../base/errors.js';
import { decode } from '../wire/codec.js';
import { BlockSchema, EnvelopeSchema, PayloadSchema, type Block } from '../wire/gen/common/common_pb.js';
import {
  ConfigEnvelopeSchema,
  ConfigGroupSchema,
  ConfigSchema,
  ConfigUpdateEnvelopeSchema,
  ConfigUpdateSchema,
} from '../wire/gen/common/configtx_pb.js';
import { PolicySchema } from '../wire/gen/common/policies_pb.js';
import { MSPConfigSchema } from '../wire/gen/msp/msp_config_pb.js';
import { TransactionSchema } from '../wire/gen/peer/transaction_pb.js';
import { formatJson } from './format.js';
import { messageToTree, treeToMessage } from './tree.js';
import { blockViewWithMetadata, viewOf, type View } from './views.js';

export { formatJson, goString, goTimestamp } from './format.js';
export { UndecodableError } from './views.js';

/** Top-level message types `grapevine block inspect --type` accepts (configtxlator's names). */
export const MESSAGE_TYPES: Readonly<Record<string, DescMessage>> = Object.fromEntries(
  [
    BlockSchema,
    EnvelopeSchema,
    PayloadSchema,
    ConfigEnvelopeSchema,
    ConfigSchema,
    ConfigGroupSchema,
    ConfigUpdateSchema,
    ConfigUpdateEnvelopeSchema,
    PolicySchema,
    MSPConfigSchema,
    TransactionSchema,
  ].map((s) => [s.typeName, s]),
);

export interface JsonOptions {
  /**
   * Also decode block metadata[SIGNATURES] and [LAST_CONFIG] as common.Metadata (our extension;
   * configtxlator prints every metadata entry as base64). Only for common.Block.
   */
  readonly decodeMetadata?: boolean;
}

function schemaOf(typeName: string): DescMessage {
  const schema = MESSAGE_TYPES[typeName];
  if (!schema)
    throw new WireError(
      'UNKNOWN_TYPE',
      `unsupported message type ${typeName} (one of: ${Object.keys(MESSAGE_TYPES).join(', ')})`,
    );
  return schema;
}

function rootView(schema: DescMessage, opts?: JsonOptions): View {
  return opts?.decodeMetadata && schema.typeName === BlockSchema.typeName
    ? blockViewWithMetadata
    : viewOf(schema);
}

/** The protolator tree of an already decoded message. Throws WireError naming the failing path. */
export function messageTree(schema: DescMessage, msg: Message, opts?: JsonOptions): JsonObject {
  return messageToTree(rootView(schema, opts), msg, schema.typeName);
}

/**
 * Decode `bytes` as `typeName` (default common.Block) and return its protolator tree. A block with
 * none of header, data and metadata is refused: such bytes are not a block, even if they parse.
 */
export function bytesToTree(
  bytes: Uint8Array,
  typeName: string = BlockSchema.typeName,
  opts?: JsonOptions,
): JsonObject {
  const schema = schemaOf(typeName);
  if (bytes.length === 0) throw new WireError('MALFORMED', `empty input is not a ${typeName}`);
  const msg = decode(schema, bytes, typeName);
  if (schema.typeName === BlockSchema.typeName) {
    const b = msg as Block;
    if (!b.header && !b.data && !b.metadata)
      throw new WireError('MALFORMED', 'not a common.Block: no header, data or metadata');
  }
  return messageTree(schema, msg, opts);
}

/** A block as the JSON text `configtxlator proto_decode --type common.Block` prints. */
export function blockToJson(block: Block | Uint8Array, opts?: JsonOptions): string {
  const tree =
    block instanceof Uint8Array
      ? bytesToTree(block, BlockSchema.typeName, opts)
      : messageTree(BlockSchema, block, opts);
  return formatJson(tree);
}

function parse(json: string | JsonValue): JsonValue {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json) as JsonValue;
  } catch (e) {
    throw new WireError('BAD_JSON', `not JSON: ${(e as Error).message}`);
  }
}

/**
 * Encode a protolator tree (text or parsed) of `typeName` back to bytes, as `configtxlator
 * proto_encode` does. Opaque fields may also be given as base64 strings; metadata entries decoded
 * with `decodeMetadata` are accepted too.
 */
export function jsonToBytes(json: string | JsonValue, typeName: string = BlockSchema.typeName): Uint8Array {
  const schema = schemaOf(typeName);
  const view = schema.typeName === BlockSchema.typeName ? blockViewWithMetadata : viewOf(schema);
  return toBinary(schema, treeToMessage(view, parse(json), typeName));
}

/** `configtxlator proto_encode --type common.Block`: the JSON of a block back to block bytes. */
export function jsonToBlock(json: string | JsonValue): Uint8Array {
  return jsonToBytes(json, BlockSchema.typeName);
}
