/**
 * Config groups and values decode by where they sit in the channel config tree and by their map
 * key (protolator's Dynamic*Group / Dynamic*ConfigValue): Channel -> Orderer / Application /
 * Consortiums -> their orgs, each level with its own table of value types. An unknown key fails,
 * as configtxlator does.
 */
import type { DescMessage } from '@bufbuild/protobuf';
import {
  APPLICATION_ORG_VALUES,
  APPLICATION_VALUES,
  CHANNEL_VALUES,
  ORDERER_ORG_VALUES,
  ORDERER_VALUES,
} from '../channelconfig/values.js';
import { ConfigGroupSchema, ConfigValueSchema } from '../wire/gen/common/configtx_pb.js';
import { PolicySchema } from '../wire/gen/common/policies_pb.js';
import { MSPConfigSchema } from '../wire/gen/msp/msp_config_pb.js';
import { dynamic, fail, opaque, type View } from './rules.js';

export type GroupKind =
  | 'channel'
  | 'orderer'
  | 'ordererOrg'
  | 'application'
  | 'applicationOrg'
  | 'consortiums'
  | 'consortium'
  | 'consortiumOrg';

const VALUE_TYPES: Record<GroupKind, { label: string; types: Record<string, DescMessage> }> = {
  channel: { label: 'Channel', types: CHANNEL_VALUES },
  orderer: { label: 'Orderer', types: ORDERER_VALUES },
  ordererOrg: { label: 'Orderer Org', types: ORDERER_ORG_VALUES },
  application: { label: 'Application', types: APPLICATION_VALUES },
  applicationOrg: { label: 'Application Org', types: APPLICATION_ORG_VALUES },
  consortiums: { label: 'Consortiums', types: {} },
  consortium: { label: 'Consortium', types: { ChannelCreationPolicy: PolicySchema } },
  consortiumOrg: { label: 'Consortium Org', types: { MSP: MSPConfigSchema } },
};

function subGroupKind(kind: GroupKind, key: string): GroupKind {
  switch (kind) {
    case 'channel':
      if (key === 'Orderer') return 'orderer';
      if (key === 'Application') return 'application';
      if (key === 'Consortiums') return 'consortiums';
      return fail(`unknown channel group sub-group '${key}'`);
    case 'orderer':
      return 'ordererOrg';
    case 'application':
      return 'applicationOrg';
    case 'consortiums':
      return 'consortium';
    case 'consortium':
      return 'consortiumOrg';
    default:
      return fail(`${VALUE_TYPES[kind].label} groups do not support sub-groups (found '${key}')`);
  }
}

function configValueView(kind: GroupKind, key: string): View {
  if (kind === 'consortiums') fail('Consortiums currently support no config values');
  const { label, types } = VALUE_TYPES[kind];
  return {
    schema: ConfigValueSchema,
    fields: { value: opaque(() => types[key] ?? fail(`unknown ${label} ConfigValue name: ${key}`)) },
  };
}

const groupViews = new Map<GroupKind, View>();
export function groupView(kind: GroupKind): View {
  let view = groupViews.get(kind);
  if (!view) {
    view = {
      schema: ConfigGroupSchema,
      fields: {
        groups: dynamic((_, key) => groupView(subGroupKind(kind, String(key)))),
        values: dynamic((_, key) => configValueView(kind, String(key))),
      },
    };
    groupViews.set(kind, view);
  }
  return view;
}
