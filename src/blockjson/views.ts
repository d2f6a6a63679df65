/**
 * The table that drives deep JSON decoding: which bytes fields hold an encoded message, and which
 * message fields need a context-dependent view, as configtxlator's protolator (fabric-config
 * v0.1.0, the one in Fabric v2.4.9) decides them.
 *
 * A View is a message schema plus the rules for its special fields:
 * - `opaque`: a bytes field (single, repeated or map value) holding an encoded message; `target`
 *   names its type (or view) from the enclosing message and the index or map key; an empty single
 *   bytes field stays null without asking. A null target means "plain bytes here" (base64).
 * - `dynamic`: a message field (single, repeated or map value) shown through another view, e.g.
 *   a ConfigGroup under "Application" whose values decode by key.
 * Every other message field is decoded through `viewOf(its schema)` (protolator's Decorate), except
 * google.protobuf.Timestamp, which stays in its RFC 3339 form. Members of a oneof are left as
 * protojson prints them (protolator does not look into oneofs).
 */
import type { DescMessage, Message } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { decode } from '../wire/codec.js';
import {
  BlockDataSchema,
  BlockMetadataIndex,
  BlockMetadataSchema,
  BlockSchema,
  ChannelHeaderSchema,
  EnvelopeSchema,
  HeaderSchema,
  HeaderType,
  LastConfigSchema,
  MetadataSchema,
  MetadataSignatureSchema,
  OrdererBlockMetadataSchema,
  PayloadSchema,
  SignatureHeaderSchema,
  type BlockMetadata,
  type ChannelHeader,
  type Payload,
} from '../wire/gen/common/common_pb.js';
import {
  ConfigEnvelopeSchema,
  ConfigSchema,
  ConfigSignatureSchema,
  ConfigUpdateEnvelopeSchema,
  ConfigUpdateSchema,
  ConfigValueSchema,
} from '../wire/gen/common/configtx_pb.js';
import {
  ImplicitMetaPolicySchema,
  PolicySchema,
  Policy_PolicyType,
  SignaturePolicyEnvelopeSchema,
  type Policy,
} from '../wire/gen/common/policies_pb.js';
import { KVRWSetSchema, HashedRWSetSchema } from '../wire/gen/ledger/rwset/kvrwset/kv_rwset_pb.js';
import {
  CollectionHashedReadWriteSetSchema,
  NsReadWriteSetSchema,
  TxReadWriteSetSchema,
  TxReadWriteSet_DataModel,
  type TxReadWriteSet,
} from '../wire/gen/ledger/rwset/rwset_pb.js';
import { SerializedIdentitySchema } from '../wire/gen/msp/identities_pb.js';
import {
  FabricMSPConfigSchema,
  IdemixMSPConfigSchema,
  MSPConfigSchema,
  type MSPConfig,
} from '../wire/gen/msp/msp_config_pb.js';
import {
  MSPPrincipalSchema,
  MSPPrincipal_Classification,
  MSPRoleSchema,
  OrganizationUnitSchema,
  type MSPPrincipal,
} from '../wire/gen/msp/msp_principal_pb.js';
import { ConsensusTypeSchema, type ConsensusType } from '../wire/gen/orderer/configuration_pb.js';
import { ConfigMetadataSchema } from '../wire/gen/orderer/etcdraft/configuration_pb.js';
import { ChaincodeEventSchema } from '../wire/gen/peer/chaincode_event_pb.js';
import { ChaincodeInvocationSpecSchema } from '../wire/gen/peer/chaincode_pb.js';
import {
  ChaincodeActionSchema,
  ChaincodeHeaderExtensionSchema,
  ChaincodeProposalPayloadSchema,
} from '../wire/gen/peer/proposal_pb.js';
import { ProposalResponsePayloadSchema } from '../wire/gen/peer/proposal_response_pb.js';
import {
  ChaincodeActionPayloadSchema,
  ChaincodeEndorsedActionSchema,
  TransactionActionSchema,
  TransactionSchema,
} from '../wire/gen/peer/transaction_pb.js';
import { groupView } from './config-views.js';
import { dynamic, fail, fixed, opaque, type View } from './rules.js';

export {
  UndecodableError,
  type FieldRule,
  type Key,
  type OpaqueRule,
  type Target,
  type View,
} from './rules.js';

// ---- rwsets: only the KV data model is understood ----

const isKv = (m: Message): boolean => (m as TxReadWriteSet).dataModel === TxReadWriteSet_DataModel.KV;
const kvCollectionView: View = {
  schema: CollectionHashedReadWriteSetSchema,
  fields: { rwset: fixed(HashedRWSetSchema) },
};
const kvNamespaceView: View = {
  schema: NsReadWriteSetSchema,
  fields: { rwset: fixed(KVRWSetSchema), collection_hashed_rwset: dynamic(() => kvCollectionView) },
};

// ---- the messages protolator decorates, wherever they appear ----

function payloadDataType(msg: Message): DescMessage {
  const p = msg as Payload;
  if (!p.header) return fail('cannot determine payload type when header is missing');
  let ch: ChannelHeader;
  try {
    ch = decode(ChannelHeaderSchema, p.header.channelHeader);
  } catch (e) {
    return fail(`corrupt channel header: ${(e as Error).message}`);
  }
  switch (ch.type) {
    case HeaderType.CONFIG:
      return ConfigEnvelopeSchema;
    case HeaderType.ORDERER_TRANSACTION:
      return EnvelopeSchema;
    case HeaderType.CONFIG_UPDATE:
      return ConfigUpdateEnvelopeSchema;
    case HeaderType.MESSAGE:
      return ConfigValueSchema;
    case HeaderType.ENDORSER_TRANSACTION:
      return TransactionSchema;
    default:
      return fail(`decoding type ${ch.type} is unimplemented`);
  }
}

const DECORATIONS: View[] = [
  { schema: BlockDataSchema, fields: { data: fixed(EnvelopeSchema) } },
  { schema: EnvelopeSchema, fields: { payload: fixed(PayloadSchema) } },
  { schema: PayloadSchema, fields: { data: opaque(payloadDataType) } },
  {
    schema: HeaderSchema,
    fields: { channel_header: fixed(ChannelHeaderSchema), signature_header: fixed(SignatureHeaderSchema) },
  },
  {
    schema: ChannelHeaderSchema,
    fields: {
      extension: opaque((m) =>
        (m as ChannelHeader).type === HeaderType.ENDORSER_TRANSACTION
          ? ChaincodeHeaderExtensionSchema
          : fail('channel header extension only valid for endorser transactions'),
      ),
    },
  },
  { schema: SignatureHeaderSchema, fields: { creator: fixed(SerializedIdentitySchema) } },
  { schema: ConfigSchema, fields: { channel_group: dynamic(() => groupView('channel')) } },
  { schema: ConfigSignatureSchema, fields: { signature_header: fixed(SignatureHeaderSchema) } },
  { schema: ConfigUpdateEnvelopeSchema, fields: { config_update: fixed(ConfigUpdateSchema) } },
  {
    schema: ConfigUpdateSchema,
    fields: {
      isolated_data: opaque((_, key) => fail(`Unknown map key: ${key}`)),
      read_set: dynamic(() => groupView('channel')),
      write_set: dynamic(() => groupView('channel')),
    },
  },
  {
    schema: PolicySchema,
    fields: {
      value: opaque((m) => {
        const type = (m as Policy).type;
        if (type === Policy_PolicyType.SIGNATURE) return SignaturePolicyEnvelopeSchema;
        if (type === Policy_PolicyType.IMPLICIT_META) return ImplicitMetaPolicySchema;
        return fail(`unable to decode policy type: ${type}`);
      }),
    },
  },
  {
    schema: MSPConfigSchema,
    fields: {
      config: opaque((m) => {
        const type = (m as MSPConfig).type;
        return type === 0
          ? FabricMSPConfigSchema
          : type === 1
            ? IdemixMSPConfigSchema
            : fail(`unable to decode MSP type: ${type}`);
      }),
    },
  },
  {
    schema: MSPPrincipalSchema,
    fields: {
      principal: opaque((m) => {
        switch ((m as MSPPrincipal).principalClassification) {
          case MSPPrincipal_Classification.ROLE:
            return MSPRoleSchema;
          case MSPPrincipal_Classification.ORGANIZATION_UNIT:
            return OrganizationUnitSchema;
          case MSPPrincipal_Classification.IDENTITY:
            return SerializedIdentitySchema;
          default:
            return fail(`unable to decode MSP type: ${(m as MSPPrincipal).principalClassification}`);
        }
      }),
    },
  },
  {
    schema: ConsensusTypeSchema,
    fields: {
      metadata: opaque((m) =>
        (m as ConsensusType).type === 'etcdraft' ? ConfigMetadataSchema : EmptySchema,
      ),
    },
  },
  {
    schema: ChaincodeActionSchema,
    fields: { results: fixed(TxReadWriteSetSchema), events: fixed(ChaincodeEventSchema) },
  },
  {
    schema: ChaincodeActionPayloadSchema,
    fields: { chaincode_proposal_payload: fixed(ChaincodeProposalPayloadSchema) },
  },
  {
    schema: ChaincodeEndorsedActionSchema,
    fields: { proposal_response_payload: fixed(ProposalResponsePayloadSchema) },
  },
  { schema: ChaincodeProposalPayloadSchema, fields: { input: fixed(ChaincodeInvocationSpecSchema) } },
  { schema: ProposalResponsePayloadSchema, fields: { extension: fixed(ChaincodeActionSchema) } },
  {
    schema: TransactionActionSchema,
    fields: { header: fixed(SignatureHeaderSchema), payload: fixed(ChaincodeActionPayloadSchema) },
  },
  {
    schema: TxReadWriteSetSchema,
    fields: { ns_rwset: dynamic((m) => (isKv(m) ? kvNamespaceView : { schema: NsReadWriteSetSchema })) },
  },
];
const DECORATED: ReadonlyMap<string, View> = new Map(DECORATIONS.map((v) => [v.schema.typeName, v]));

/** The view protolator uses for a message of this type when nothing around it says otherwise. */
export function viewOf(schema: DescMessage): View {
  return DECORATED.get(schema.typeName) ?? { schema };
}

// ---- block metadata: configtxlator leaves it base64; decoding it is our opt-in extension ----

const metadataSignatureView: View = {
  schema: MetadataSignatureSchema,
  fields: { signature_header: fixed(SignatureHeaderSchema) },
};
const signaturesMetadataView: View = {
  schema: MetadataSchema,
  fields: { value: fixed(OrdererBlockMetadataSchema), signatures: dynamic(() => metadataSignatureView) },
};
const lastConfigMetadataView: View = {
  schema: MetadataSchema,
  fields: { value: fixed(LastConfigSchema), signatures: dynamic(() => metadataSignatureView) },
};
const blockMetadataView: View = {
  schema: BlockMetadataSchema,
  fields: {
    metadata: opaque((m, i) => {
      if ((m as BlockMetadata).metadata[Number(i)]?.length === 0) return null;
      return i === BlockMetadataIndex.SIGNATURES
        ? signaturesMetadataView
        : i === BlockMetadataIndex.LAST_CONFIG
          ? lastConfigMetadataView
          : null;
    }),
  },
};

/**
 * common.Block with metadata[SIGNATURES] and [LAST_CONFIG] decoded as common.Metadata (value =
 * OrdererBlockMetadata / LastConfig, signature headers decoded); TRANSACTIONS_FILTER and empty
 * entries stay base64. configtxlator prints every metadata entry as base64.
 */
export const blockViewWithMetadata: View = {
  schema: BlockSchema,
  fields: { metadata: dynamic(() => blockMetadataView) },
};
