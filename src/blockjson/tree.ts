/**
 * Message <-> JSON tree, protolator style, driven by the views in views.ts.
 *
 * To a tree: protojson of the message (proto field names, every field emitted, int64 as strings,
 * bytes as base64; unset message fields and empty single bytes fields as null, as Go's jsonpb of
 * golang/protobuf 1.3 prints an absent []byte), then each special field replaced: an opaque bytes
 * field by the tree of the message it encodes, a message field by its tree through its view.
 * Oneof members stay as protojson prints them. (A proto3 bytes field sent explicitly empty would
 * be "" in Go; protobuf-es cannot tell it from an absent one, and encoders never send it.)
 *
 * From a tree (as configtxlator proto_encode): the plain keys go through protojson's parser; then
 * message fields are built from their subtrees, and last the opaque fields, whose types may depend
 * on the fields already set (Payload.data on header.channel_header); each opaque subtree is built
 * and encoded to bytes. Map entries are added in sorted key order, so encoding is deterministic.
 */
import {
  fromJson,
  ScalarType,
  toBinary,
  toJson,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
} from '@bufbuild/protobuf';
import { base64Decode, base64Encode } from '@bufbuild/protobuf/wire';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { WireError } from '../base/errors.js';
import { goTimestamp } from './format.js';
import { decode } from '../wire/codec.js';
import {
  UndecodableError,
  viewOf,
  type FieldRule,
  type Key,
  type OpaqueRule,
  type Target,
  type View,
} from './views.js';
import { byCodeUnits } from '../base/order.js';

const TO_JSON = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;
const TIMESTAMP = 'google.protobuf.Timestamp';

type Fields = Record<string, unknown>;

function at(path: string, what: string, e: unknown): WireError {
  if (e instanceof UndecodableError) return new UndecodableError(`${path}: ${e.message}`);
  if (e instanceof WireError) return new WireError(e.code, `${path}: ${e.message}`, { cause: e });
  return new WireError('MALFORMED', `${path}: ${what}: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
  });
}

function resolve(target: Target): View | null {
  if (target === null) return null;
  return 'schema' in target ? target : viewOf(target);
}

function ruleOf(view: View, field: DescField): FieldRule | undefined {
  return view.fields?.[field.name];
}

/** The view for the messages of a message-typed field, or null when the field is not walked. */
function messageView(view: View, field: DescField): ((msg: Message, key: Key) => View) | null {
  const rule = ruleOf(view, field);
  if (rule?.kind === 'dynamic') return rule.view;
  const schema =
    field.fieldKind === 'message'
      ? field.message
      : field.fieldKind === 'list' && field.listKind === 'message'
        ? field.message
        : field.fieldKind === 'map' && field.mapKind === 'message'
          ? field.message
          : undefined;
  if (!schema || schema.typeName === TIMESTAMP) return null;
  return () => viewOf(schema);
}

function targetOf(rule: OpaqueRule, msg: Message, key: Key, path: string): View | null {
  try {
    return resolve(rule.target(msg, key));
  } catch (e) {
    throw at(path, 'cannot tell its type', e);
  }
}

// ---------------------------------------------------------------- message -> tree

function opaqueToTree(rule: OpaqueRule, msg: Message, key: Key, bytes: Uint8Array, path: string): JsonValue {
  const view = targetOf(rule, msg, key, path);
  if (!view) return base64Encode(bytes);
  let inner: Message;
  try {
    inner = decode(view.schema, bytes);
  } catch (e) {
    throw new WireError(
      'MALFORMED',
      `${path}: not a valid ${view.schema.typeName}: ${(e as Error).message.replace(/^malformed [^:]*: /, '')}`,
    );
  }
  return messageToTree(view, inner, path);
}

/** Singular timestamps print as Go does (any year); protobuf-es would refuse years past 9999. */
function timestampFields(schema: DescMessage): DescField[] {
  return schema.fields.filter(
    (f) => f.fieldKind === 'message' && !f.oneof && f.message.typeName === TIMESTAMP,
  );
}

export function messageToTree(view: View, msg: Message, path: string): JsonObject {
  const fields = msg as unknown as Fields;
  const stamps = timestampFields(view.schema);
  let json: JsonObject;
  try {
    const plain =
      stamps.length === 0
        ? msg
        : ({ ...fields, ...Object.fromEntries(stamps.map((f) => [f.localName, undefined])) } as Message);
    json = toJson(view.schema, plain, TO_JSON) as JsonObject;
  } catch (e) {
    throw at(path, `cannot print ${view.schema.typeName}`, e);
  }
  for (const f of stamps) {
    const ts = fields[f.localName] as Timestamp | undefined;
    if (!ts) {
      json[f.name] = null;
      continue;
    }
    const text = goTimestamp(ts.seconds, ts.nanos);
    if (text === undefined)
      throw new WireError('MALFORMED', `${path}.${f.name}: timestamp nanos ${ts.nanos} out of range`);
    json[f.name] = text;
  }
  for (const field of view.schema.fields) {
    if (field.oneof) continue;
    const value = fields[field.localName];
    const p = `${path}.${field.name}`;
    const rule = ruleOf(view, field);
    if (
      field.fieldKind === 'scalar' &&
      field.scalar === ScalarType.BYTES &&
      (value as Uint8Array).length === 0
    ) {
      // Go's jsonpb (golang/protobuf 1.3, in Fabric v2.4) prints an absent bytes field as null.
      json[field.name] = null;
      continue;
    }
    if (rule?.kind === 'opaque') {
      if (field.fieldKind === 'scalar') {
        json[field.name] = opaqueToTree(rule, msg, '', value as Uint8Array, p);
      } else if (field.fieldKind === 'list') {
        json[field.name] = (value as Uint8Array[]).map((b, i) => opaqueToTree(rule, msg, i, b, `${p}[${i}]`));
      } else if (field.fieldKind === 'map') {
        const out: JsonObject = {};
        for (const [k, b] of Object.entries(value as Record<string, Uint8Array>))
          out[k] = opaqueToTree(rule, msg, k, b, `${p}.${k}`);
        json[field.name] = out;
      }
      continue;
    }
    const sub = messageView(view, field);
    if (!sub) continue;
    if (field.fieldKind === 'message') {
      json[field.name] = value === undefined ? null : messageToTree(sub(msg, ''), value as Message, p);
    } else if (field.fieldKind === 'list') {
      json[field.name] = (value as Message[]).map((m, i) => messageToTree(sub(msg, i), m, `${p}[${i}]`));
    } else if (field.fieldKind === 'map') {
      const out: JsonObject = {};
      for (const [k, m] of Object.entries(value as Record<string, Message>))
        out[k] = messageToTree(sub(msg, k), m, `${p}.${k}`);
      json[field.name] = out;
    }
  }
  return json;
}

// ---------------------------------------------------------------- tree -> message

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(path: string, message: string): WireError {
  return new WireError('BAD_JSON', `${path}: ${message}`);
}

function sortedEntries(v: JsonValue, path: string): [string, JsonValue][] {
  if (!isObject(v)) throw bad(path, 'expected a JSON object (map)');
  return Object.entries(v).sort(([a], [b]) => byCodeUnits(a, b));
}

function asArray(v: JsonValue, path: string): JsonValue[] {
  if (!Array.isArray(v)) throw bad(path, 'expected a JSON array');
  return v;
}

function opaqueFromTree(rule: OpaqueRule, msg: Message, key: Key, v: JsonValue, path: string): Uint8Array {
  if (v === null) return new Uint8Array(0);
  if (typeof v === 'string') {
    try {
      return base64Decode(v);
    } catch (e) {
      throw bad(path, `not base64: ${(e as Error).message}`);
    }
  }
  const view = targetOf(rule, msg, key, path);
  if (!view) throw bad(path, 'expected a base64 string');
  return toBinary(view.schema, treeToMessage(view, v, path));
}

export function treeToMessage(view: View, tree: JsonValue, path: string): Message {
  if (!isObject(tree)) throw bad(path, `expected a JSON object for ${view.schema.typeName}`);
  const plain: JsonObject = {};
  const nested: [DescField, JsonValue][] = [];
  const opaques: [DescField, OpaqueRule, JsonValue][] = [];
  for (const [k, v] of Object.entries(tree)) {
    const field = view.schema.fields.find((f) => f.name === k && !f.oneof);
    const rule = field && ruleOf(view, field);
    if (field && rule?.kind === 'opaque') opaques.push([field, rule, v]);
    else if (field && messageView(view, field)) nested.push([field, v]);
    else plain[k] = v;
  }
  let msg: Message;
  try {
    msg = fromJson(view.schema, plain);
  } catch (e) {
    throw bad(path, (e as Error).message);
  }
  const fields = msg as unknown as Fields;
  for (const [field, v] of nested) {
    const sub = messageView(view, field)!;
    const p = `${path}.${field.name}`;
    if (v === null) continue;
    if (field.fieldKind === 'message') fields[field.localName] = treeToMessage(sub(msg, ''), v, p);
    else if (field.fieldKind === 'list')
      fields[field.localName] = asArray(v, p).map((e, i) => treeToMessage(sub(msg, i), e, `${p}[${i}]`));
    else {
      const out: Record<string, Message> = {};
      for (const [k, e] of sortedEntries(v, p)) out[k] = treeToMessage(sub(msg, k), e, `${p}.${k}`);
      fields[field.localName] = out;
    }
  }
  for (const [field, rule, v] of opaques) {
    const p = `${path}.${field.name}`;
    if (field.fieldKind === 'scalar') fields[field.localName] = opaqueFromTree(rule, msg, '', v, p);
    else if (field.fieldKind === 'list') {
      if (v === null) continue;
      fields[field.localName] = asArray(v, p).map((e, i) => opaqueFromTree(rule, msg, i, e, `${p}[${i}]`));
    } else if (v !== null) {
      const out: Record<string, Uint8Array> = {};
      for (const [k, e] of sortedEntries(v, p)) out[k] = opaqueFromTree(rule, msg, k, e, `${p}.${k}`);
      fields[field.localName] = out;
    }
  }
  return msg;
}
