/**
 * Building blocks of the config tree: groups, values (version 0, mod_policy "Admins" unless
 * given), capabilities, path resolution, and the MSP value + policies every org group has.
 * Maps are filled in sorted key order (byte order, as Go's deterministic marshal sorts), so
 * the same input always encodes to the same bytes.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { create, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { fabricMspConfigFromFolder, loadMspFolder } from '../identity/index.js';
import { errorMessage } from '../base/errors.js';
import { encode } from '../wire/codec.js';
import {
  ConfigGroupSchema,
  ConfigValueSchema,
  type ConfigGroup,
  type ConfigPolicy,
  type ConfigValue,
} from '../wire/gen/common/configtx_pb.js';
import { CapabilitiesSchema } from '../wire/gen/common/configuration_pb.js';
import { FabricMSPConfigSchema, MSPConfigSchema } from '../wire/gen/msp/msp_config_pb.js';
import { buildPolicies } from './policies.js';
import type { Reader } from './reader.js';
import type { CapabilityMap, OrganizationSpec } from './types.js';

export const ADMINS = 'Admins';
export const ORDERER_ADMINS = '/Channel/Orderer/Admins';

export interface BuildContext {
  readonly r: Reader;
  /** Folder relative paths are resolved against (the configtx.yaml's folder). */
  readonly dir: string;
}

export interface GroupParts {
  groups?: Map<string, ConfigGroup>;
  values?: Map<string, ConfigValue>;
  policies?: Map<string, ConfigPolicy>;
  modPolicy: string;
}

export function sorted<T>(m: Map<string, T> | undefined): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of [...(m?.keys() ?? [])].sort(compareGoStrings)) out[k] = m!.get(k) as T;
  return out;
}

/** Go orders string keys by their bytes (UTF-8), not by UTF-16 code units. */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function makeGroup(parts: GroupParts): ConfigGroup {
  return create(ConfigGroupSchema, {
    version: 0n,
    groups: sorted(parts.groups),
    values: sorted(parts.values),
    policies: sorted(parts.policies),
    modPolicy: parts.modPolicy,
  });
}

export function makeValue<D extends DescMessage>(
  schema: D,
  msg: MessageInitShape<D>,
  modPolicy = ADMINS,
): ConfigValue {
  return create(ConfigValueSchema, { version: 0n, value: encode(schema, msg), modPolicy });
}

export function capabilitiesValue(caps: CapabilityMap): ConfigValue {
  const capabilities: Record<string, object> = {};
  for (const k of [...caps.keys()].sort(compareGoStrings)) if (caps.get(k)) capabilities[k] = {};
  return makeValue(CapabilitiesSchema, { capabilities });
}

/** A path as configtxgen resolves it: absolute stays, relative is joined to the yaml's folder. */
export function resolvePath(ctx: BuildContext, p: string): string {
  return resolve(ctx.dir, p);
}

/** MSP value and policies of an org group (the parts orderer and application orgs share). */
export function orgBaseValues(
  ctx: BuildContext,
  org: OrganizationSpec,
): { values: Map<string, ConfigValue>; policies: Map<string, ConfigPolicy> } {
  const r: Reader = ctx.r;
  if (org.skipAsForeign)
    r.fail(
      org.where,
      'organization is marked SkipAsForeign; all org definitions must be local to build a genesis block',
      'CONFIGTX_MSP',
    );
  if (org.mspType !== '' && org.mspType !== 'bccsp') {
    r.fail(`${org.where}.MSPType`, `MSP type '${org.mspType}' is not supported (only bccsp)`, 'CONFIGTX_MSP');
  }
  const values = new Map<string, ConfigValue>();
  values.set(
    'MSP',
    makeValue(MSPConfigSchema, { type: 0, config: encode(FabricMSPConfigSchema, loadOrgMsp(ctx, org)) }),
  );
  const policies = buildPolicies(r, org.policies, `${org.where}.Policies`, ADMINS);
  return { values, policies };
}

function loadOrgMsp(ctx: BuildContext, org: OrganizationSpec) {
  const r: Reader = ctx.r;
  if (org.mspDir === '') r.fail(`${org.where}.MSPDir`, 'MSPDir is not set', 'CONFIGTX_MSP');
  if (org.id === '') r.fail(`${org.where}.ID`, 'ID (the MSP ID) is not set', 'CONFIGTX_MSP');
  const dir = resolvePath(ctx, org.mspDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    r.fail(`${org.where}.MSPDir`, `MSP folder ${dir} does not exist`, 'CONFIGTX_MSP');
  }
  try {
    return fabricMspConfigFromFolder(loadMspFolder(dir), org.id);
  } catch (e) {
    r.fail(
      `${org.where}.MSPDir`,
      `cannot load the MSP of ${org.id} from ${dir}: ${errorMessage(e)}`,
      'CONFIGTX_MSP',
    );
  }
}
