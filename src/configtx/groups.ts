/**
 * The channel config tree configtxgen writes for a profile (encoder.NewChannelGroup):
 *
 *   /Channel            policies (Admins, Readers, Writers ...), values HashingAlgorithm
 *                       {SHA256}, BlockDataHashingStructure {width 2^32-1}, OrdererAddresses
 *                       (only if Orderer.Addresses is non-empty; mod_policy
 *                       /Channel/Orderer/Admins), Consortium (only if set), Capabilities (only
 *                       if the map has entries; false entries are left out of it)
 *   /Channel/Orderer    see orderer.ts; one sub-group per orderer org: MSP, Endpoints (if any)
 *   /Channel/Application policies, ACLs (if any), Capabilities (if any), one sub-group per org:
 *                       MSP, AnchorPeers (if any)
 *
 * Every group, value and policy has version 0 and mod_policy "Admins" unless noted. Org groups
 * are keyed by the org's Name; the MSP value is the verifying MSPConfig built from MSPDir.
 */
import type { ConfigGroup, ConfigValue } from '../wire/gen/common/configtx_pb.js';
import {
  BlockDataHashingStructureSchema,
  ConsortiumSchema,
  HashingAlgorithmSchema,
  OrdererAddressesSchema,
} from '../wire/gen/common/configuration_pb.js';
import { ACLsSchema, AnchorPeersSchema } from '../wire/gen/peer/configuration_pb.js';
import { buildOrdererGroup } from './orderer.js';
import {
  ADMINS,
  ORDERER_ADMINS,
  capabilitiesValue,
  compareGoStrings,
  makeGroup,
  makeValue,
  orgBaseValues,
  type BuildContext,
} from './parts.js';
import { buildPolicies } from './policies.js';
import type { ApplicationSpec, ProfileSpec } from './types.js';

export function buildChannelGroup(ctx: BuildContext, profile: ProfileSpec): ConfigGroup {
  const policies = buildPolicies(ctx.r, profile.policies, `${profile.where}.Policies`, ADMINS);
  const values = new Map<string, ConfigValue>();
  values.set('HashingAlgorithm', makeValue(HashingAlgorithmSchema, { name: 'SHA256' }));
  values.set('BlockDataHashingStructure', makeValue(BlockDataHashingStructureSchema, { width: 0xffffffff }));
  if (profile.orderer !== undefined && profile.orderer.addresses.length > 0) {
    values.set(
      'OrdererAddresses',
      makeValue(OrdererAddressesSchema, { addresses: [...profile.orderer.addresses] }, ORDERER_ADMINS),
    );
  }
  if (profile.consortium !== '')
    values.set('Consortium', makeValue(ConsortiumSchema, { name: profile.consortium }));
  if (profile.capabilities !== undefined && profile.capabilities.size > 0) {
    values.set('Capabilities', capabilitiesValue(profile.capabilities));
  }
  const groups = new Map<string, ConfigGroup>();
  if (profile.orderer !== undefined) groups.set('Orderer', buildOrdererGroup(ctx, profile.orderer));
  if (profile.application !== undefined)
    groups.set('Application', buildApplicationGroup(ctx, profile.application));
  if (profile.consortiums !== undefined) {
    ctx.r.fail(
      `${profile.where}.Consortiums`,
      'system channel profiles (Consortiums) are not supported; use an application channel profile',
      'CONFIGTX_PROFILE',
    );
  }
  return makeGroup({ groups, values, policies, modPolicy: ADMINS });
}

function buildApplicationGroup(ctx: BuildContext, app: ApplicationSpec): ConfigGroup {
  const policies = buildPolicies(ctx.r, app.policies, `${app.where}.Policies`, ADMINS);
  const values = new Map<string, ConfigValue>();
  if (app.acls !== undefined && app.acls.size > 0) {
    const acls: Record<string, { policyRef: string }> = {};
    for (const k of [...app.acls.keys()].sort(compareGoStrings)) acls[k] = { policyRef: app.acls.get(k)! };
    values.set('ACLs', makeValue(ACLsSchema, { acls }));
  }
  if (app.capabilities !== undefined && app.capabilities.size > 0)
    values.set('Capabilities', capabilitiesValue(app.capabilities));
  const groups = new Map<string, ConfigGroup>();
  for (const org of app.organizations) {
    const orgValues = orgBaseValues(ctx, org);
    if (org.anchorPeers.length > 0) {
      orgValues.values.set(
        'AnchorPeers',
        makeValue(AnchorPeersSchema, {
          anchorPeers: org.anchorPeers.map((a) => ({ host: a.host, port: a.port })),
        }),
      );
    }
    groups.set(org.name, makeGroup({ ...orgValues, modPolicy: ADMINS }));
  }
  return makeGroup({ groups, values, policies, modPolicy: ADMINS });
}
