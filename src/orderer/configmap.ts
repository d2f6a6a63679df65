/**
 * The flat view of a channel config that config updates are checked against (Fabric
 * common/configtx/configmap.go @v2.4.9, our own code):
 *
 * mapConfig(group): every group, value and policy under the root group "Channel", keyed
 *   "[Group]  /Channel/Application/Org1MSP", "[Value]  /Channel/Application/Org1MSP/AnchorPeers",
 *   "[Policy] /Channel/Application/Org1MSP/Admins"; each element keeps its parent path, its key,
 *   its version and mod_policy. Every key must be a legal config ID ([a-zA-Z0-9.-]+, at most 249
 *   characters, not "." or "..").
 * configMapToGroup(map): rebuild the channel group from "[Group]  /Channel" down: a group's own
 *   fields come from its element, and each member it names (groups, values, policies) is looked
 *   up in the map by path (a missing member is an error). When the map holds
 *   "[Value]  /Channel/Orderer/Capabilities", an empty mod_policy becomes "Admins" (Fabric's fix
 *   for channels made by v1.0).
 */
import { create } from '@bufbuild/protobuf';
import { GrapevineError } from '../base/errors.js';
import {
  ConfigGroupSchema,
  type ConfigGroup,
  type ConfigPolicy,
  type ConfigValue,
} from '../wire/gen/common/configtx_pb.js';

export const ROOT_GROUP_KEY = 'Channel';
const GROUP_PREFIX = '[Group]  ';
const VALUE_PREFIX = '[Value]  ';
const POLICY_PREFIX = '[Policy] ';
const CAPABILITIES_KEY = `${VALUE_PREFIX}/Channel/Orderer/Capabilities`;
const FIX_MOD_POLICY = 'Admins';
const MAX_CONFIG_ID = 249;
const MAX_DEPTH = 32;

/** A config map problem (illegal key, missing member); the message says which element. */
export class ConfigMapError extends GrapevineError {}

export type ConfigElement =
  | {
      readonly kind: 'group';
      readonly path: readonly string[];
      readonly key: string;
      readonly group: ConfigGroup;
    }
  | {
      readonly kind: 'value';
      readonly path: readonly string[];
      readonly key: string;
      readonly value: ConfigValue;
    }
  | {
      readonly kind: 'policy';
      readonly path: readonly string[];
      readonly key: string;
      readonly policy: ConfigPolicy;
    };

export type ConfigMap = Map<string, ConfigElement>;

export function elementVersion(e: ConfigElement): bigint {
  return e.kind === 'group' ? e.group.version : e.kind === 'value' ? e.value.version : e.policy.version;
}

export function elementModPolicy(e: ConfigElement): string {
  return e.kind === 'group' ? e.group.modPolicy : e.kind === 'value' ? e.value.modPolicy : e.policy.modPolicy;
}

/** Fabric's validateConfigID; returns the problem or undefined. */
export function configIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'config ID illegal, cannot be empty';
  if (id.length > MAX_CONFIG_ID) return `config ID illegal, cannot be longer than ${MAX_CONFIG_ID}`;
  if (id === '.' || id === '..') return `name '${id}' for config ID is not allowed`;
  if (!/^[a-zA-Z0-9.-]+$/.test(id)) return `config ID '${id}' contains illegal characters`;
  return undefined;
}

const prefixOf = (kind: ConfigElement['kind']): string =>
  kind === 'group' ? GROUP_PREFIX : kind === 'value' ? VALUE_PREFIX : POLICY_PREFIX;

function add(map: ConfigMap, e: ConfigElement): void {
  const fq = `${prefixOf(e.kind)}/${[...e.path, e.key].join('/')}`;
  const bad = configIdProblem(e.key);
  if (bad) throw new ConfigMapError('ILLEGAL_KEY', `illegal characters in key: ${prefixOf(e.kind)}: ${bad}`);
  map.set(fq, e);
}

function recurse(map: ConfigMap, path: string[], group: ConfigGroup): void {
  if (path.length > MAX_DEPTH)
    throw new ConfigMapError(
      'TOO_DEEP',
      `config groups nested deeper than ${MAX_DEPTH} at /${path.join('/')}`,
    );
  add(map, { kind: 'group', path: path.slice(0, -1), key: path[path.length - 1]!, group });
  for (const [key, g] of Object.entries(group.groups)) recurse(map, [...path, key], g);
  for (const [key, value] of Object.entries(group.values)) add(map, { kind: 'value', path, key, value });
  for (const [key, policy] of Object.entries(group.policies)) add(map, { kind: 'policy', path, key, policy });
}

/** The map of a channel group (empty for an absent group). */
export function mapConfig(group: ConfigGroup | undefined): ConfigMap {
  const map: ConfigMap = new Map();
  if (group) recurse(map, [ROOT_GROUP_KEY], group);
  return map;
}

const sortedKeys = (rec: Record<string, unknown>): string[] => Object.keys(rec).sort();

function rebuild(path: string, map: ConfigMap, fix: boolean, depth: number): ConfigGroup {
  const groupPath = GROUP_PREFIX + path;
  const el = map.get(groupPath);
  if (!el) throw new ConfigMapError('MISSING', `missing group at path: ${groupPath}`);
  if (el.kind !== 'group')
    throw new ConfigMapError('MISSING', `ConfigGroup not found at group path: ${groupPath}`);
  if (depth > MAX_DEPTH) throw new ConfigMapError('TOO_DEEP', `config groups nested too deep at ${path}`);
  const src = el.group;
  const out = create(ConfigGroupSchema, {
    version: src.version,
    modPolicy: fix && src.modPolicy === '' ? FIX_MOD_POLICY : src.modPolicy,
  });
  for (const key of sortedKeys(src.groups)) out.groups[key] = rebuild(`${path}/${key}`, map, fix, depth + 1);
  for (const key of sortedKeys(src.values)) {
    const p = `${VALUE_PREFIX}${path}/${key}`;
    const v = map.get(p);
    if (!v) throw new ConfigMapError('MISSING', `missing value at path: ${p}`);
    if (v.kind !== 'value') throw new ConfigMapError('MISSING', `ConfigValue not found at value path: ${p}`);
    out.values[key] = fix && v.value.modPolicy === '' ? { ...v.value, modPolicy: FIX_MOD_POLICY } : v.value;
  }
  for (const key of sortedKeys(src.policies)) {
    const p = `${POLICY_PREFIX}${path}/${key}`;
    const v = map.get(p);
    if (!v) throw new ConfigMapError('MISSING', `missing policy at path: ${p}`);
    if (v.kind !== 'policy')
      throw new ConfigMapError('MISSING', `ConfigPolicy not found at policy path: ${p}`);
    out.policies[key] =
      fix && v.policy.modPolicy === '' ? { ...v.policy, modPolicy: FIX_MOD_POLICY } : v.policy;
  }
  return out;
}

/** The channel group a config map describes. */
export function configMapToGroup(map: ConfigMap): ConfigGroup {
  return rebuild(`/${ROOT_GROUP_KEY}`, map, map.has(CAPABILITIES_KEY), 0);
}
