import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockToJson, bytesToTree } from '../../src/blockjson/index.js';
import { decodeBlock } from '../../src/wire/index.js';
import { SKIP_VECTORS, readVector } from '../helpers/vectors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const block = (n: number): any => JSON.parse(blockToJson(readVector('blocks', `block_${n}.pb`)));
const pem = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

test(
  'config block 0: headers, config tree and every config value decoded as configtxlator does',
  { skip: SKIP_VECTORS },
  () => {
    const b = block(0);
    assert.deepEqual(Object.keys(b).sort(), ['data', 'header', 'metadata']);
    assert.equal(b.header.number, '0');
    // Go's jsonpb (golang/protobuf 1.3 in Fabric v2.4) prints an absent bytes field as null, not "".
    assert.equal(b.header.previous_hash, null);
    assert.equal(typeof b.header.data_hash, 'string');
    // configtxlator leaves block metadata as base64 (BlockMetadata is not decorated).
    assert.deepEqual(b.metadata, { metadata: ['CgIKAA==', '', '', '', ''] });

    const env = b.data.data[0];
    assert.equal(env.signature, null);
    assert.equal(env.payload.header.channel_header.tls_cert_hash, null);
    const ch = env.payload.header.channel_header;
    assert.equal(ch.channel_id, 'mychannel');
    assert.equal(ch.type, 1); // an int32 in the proto, so a number
    assert.equal(ch.epoch, '0');
    assert.equal(ch.extension, null); // empty opaque field: null
    assert.match(ch.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.deepEqual(Object.keys(env.payload.header.signature_header).sort(), ['creator', 'nonce']);
    assert.equal(env.payload.header.signature_header.creator, null);

    const cfgEnv = env.payload.data;
    assert.equal(cfgEnv.last_update, null);
    const config = cfgEnv.config;
    assert.equal(config.sequence, '0');
    const root = config.channel_group;
    assert.deepEqual(Object.keys(root.groups).sort(), ['Application', 'Orderer']);
    assert.deepEqual(Object.keys(root.values).sort(), [
      'BlockDataHashingStructure',
      'Capabilities',
      'HashingAlgorithm',
    ]);
    assert.deepEqual(root.values.HashingAlgorithm.value, { name: 'SHA256' });
    assert.deepEqual(root.values.BlockDataHashingStructure.value, { width: 4294967295 });
    assert.deepEqual(root.values.Capabilities.value, { capabilities: { V2_0: {} } });
    assert.equal(root.values.Capabilities.version, '0');
    assert.equal(root.values.Capabilities.mod_policy, 'Admins');

    const app = root.groups.Application;
    const org1 = app.groups.Org1MSP;
    assert.equal(org1.values.AnchorPeers.value.anchor_peers[0].port, 7051);
    assert.equal(org1.values.AnchorPeers.value.anchor_peers[0].host, '127.0.0.1');
    assert.equal(org1.values.MSP.value.type, 0);
    assert.equal(org1.values.MSP.value.config.name, 'Org1MSP');
    assert.match(pem(org1.values.MSP.value.config.root_certs[0]), /^-----BEGIN CERTIFICATE-----/);
    assert.equal(org1.values.MSP.value.config.fabric_node_ous.enable, true);
    assert.equal(org1.values.MSP.value.config.crypto_config.signature_hash_family, 'SHA2');
    assert.equal(app.groups.Org2MSP.values.AnchorPeers.value.anchor_peers[0].port, 10051);
    assert.deepEqual(app.values.Capabilities.value, { capabilities: { V2_0: {} } });
    assert.deepEqual(Object.keys(app.values), ['Capabilities']);

    // Policies: SIGNATURE -> SignaturePolicyEnvelope with MSPPrincipal.principal -> MSPRole; IMPLICIT_META -> ImplicitMetaPolicy.
    const admins = org1.policies.Admins.policy;
    assert.equal(admins.type, 1);
    assert.deepEqual(admins.value.identities[0], {
      principal: { msp_identifier: 'Org1MSP', role: 'ADMIN' },
      principal_classification: 'ROLE',
    });
    assert.deepEqual(admins.value.rule, { n_out_of: { n: 1, rules: [{ signed_by: 0 }] } });
    assert.equal(admins.value.version, 0);
    assert.deepEqual(app.policies.Admins.policy, {
      type: 3,
      value: { rule: 'MAJORITY', sub_policy: 'Admins' },
    });

    const orderer = root.groups.Orderer;
    assert.equal(orderer.values.ConsensusType.value.type, 'etcdraft');
    assert.equal(orderer.values.ConsensusType.value.state, 'STATE_NORMAL');
    const raft = orderer.values.ConsensusType.value.metadata;
    assert.equal(raft.consenters[0].port, 7050);
    assert.match(pem(raft.consenters[0].client_tls_cert), /^-----BEGIN CERTIFICATE-----/);
    assert.equal(raft.options.snapshot_interval_size, 16777216);
    assert.equal(raft.options.tick_interval, '500ms');
    assert.deepEqual(orderer.values.BatchTimeout.value, { timeout: '1s' });
    assert.equal(orderer.values.BatchSize.value.max_message_count, 5);
    assert.equal(orderer.values.ChannelRestrictions.value, null); // configtxgen writes it empty
    assert.deepEqual(orderer.groups.OrdererOrg.values.Endpoints.value, { addresses: ['127.0.0.1:7050'] });
    assert.equal(orderer.groups.OrdererOrg.values.MSP.value.config.name, 'OrdererMSP');
    assert.deepEqual(orderer.policies.BlockValidation.policy.value, { rule: 'ANY', sub_policy: 'Writers' });
  },
);

test(
  'transaction block 1: endorser transactions down to the rwset, numbers as strings',
  { skip: SKIP_VECTORS },
  () => {
    const b = block(1);
    assert.equal(b.header.number, '1');
    assert.equal(b.data.data.length, 5);
    // Orderer copies: SIGNATURES metadata is base64, TRANSACTIONS_FILTER empty.
    assert.equal(typeof b.metadata.metadata[0], 'string');
    assert.ok(b.metadata.metadata[0].length > 100);
    for (const env of b.data.data) {
      const { header, data } = env.payload;
      assert.equal(header.channel_header.type, 3);
      assert.equal(header.channel_header.channel_id, 'mychannel');
      assert.deepEqual(header.channel_header.extension, {
        chaincode_id: { name: 'interop', path: '', version: '' },
      });
      assert.equal(header.signature_header.creator.mspid, 'Org1MSP');
      assert.match(pem(header.signature_header.creator.id_bytes), /^-----BEGIN CERTIFICATE-----/);
      assert.equal(data.actions.length, 1);
      const action = data.actions[0];
      assert.equal(action.header.creator.mspid, 'Org1MSP');
      const cap = action.payload;
      const spec = cap.chaincode_proposal_payload.input.chaincode_spec;
      assert.equal(spec.type, 'GOLANG');
      assert.equal(Buffer.from(spec.input.args[0], 'base64').toString(), 'put');
      assert.deepEqual(cap.chaincode_proposal_payload.TransientMap, {});
      const endorsed = cap.action;
      assert.equal(endorsed.endorsements.length, 1);
      assert.equal(typeof endorsed.endorsements[0].endorser, 'string'); // Endorsement is not decorated
      const prp = endorsed.proposal_response_payload;
      assert.equal(typeof prp.proposal_hash, 'string');
      const cc = prp.extension;
      assert.deepEqual(cc.response, { message: '', payload: null, status: 200 });
      assert.equal(cc.events, null);
      assert.equal(cc.results.data_model, 'KV');
      const ns = cc.results.ns_rwset[0];
      assert.equal(ns.namespace, 'interop');
      assert.deepEqual(ns.collection_hashed_rwset, []);
      assert.equal(ns.rwset.writes.length, 1);
      assert.match(ns.rwset.writes[0].key, /^key-/);
      assert.equal(ns.rwset.writes[0].is_delete, false);
      assert.match(Buffer.from(ns.rwset.writes[0].value, 'base64').toString(), /^value-/);
    }
  },
);

test(
  'config block 24: the config update envelope and its signatures in last_update',
  { skip: SKIP_VECTORS },
  () => {
    const b = block(24);
    assert.equal(b.header.number, '24');
    const cfgEnv = b.data.data[0].payload.data;
    assert.equal(cfgEnv.config.sequence, '1');
    const org2 = cfgEnv.config.channel_group.groups.Application.groups.Org2MSP;
    assert.deepEqual(org2.values.AnchorPeers.value.anchor_peers, [
      { host: '127.0.0.1', port: 10051 },
      { host: '127.0.0.1', port: 11051 },
    ]);
    assert.equal(org2.values.AnchorPeers.version, '1');
    const lu = cfgEnv.last_update;
    assert.equal(lu.payload.header.channel_header.type, 2);
    const cue = lu.payload.data;
    assert.equal(cue.config_update.channel_id, 'mychannel');
    assert.deepEqual(cue.config_update.isolated_data, {});
    assert.deepEqual(cue.config_update.read_set.groups.Application.groups.Org2MSP.values, {});
    assert.equal(
      cue.config_update.write_set.groups.Application.groups.Org2MSP.values.AnchorPeers.value.anchor_peers[1]
        .port,
      11051,
    );
    assert.equal(cue.signatures.length, 1);
    assert.equal(cue.signatures[0].signature_header.creator.mspid, 'Org2MSP');
    assert.equal(typeof cue.signatures[0].signature, 'string');
  },
);

test(
  'exact text of the block header and metadata, as Go encoding/json prints them',
  { skip: SKIP_VECTORS },
  () => {
    const bytes = readVector('blocks', 'block_0.pb');
    const text = blockToJson(bytes);
    const hash = Buffer.from(decodeBlock(bytes).header!.dataHash).toString('base64');
    assert.ok(
      text.startsWith('{\n\t"data": {\n\t\t"data": [\n\t\t\t{\n\t\t\t\t"payload": {\n'),
      text.slice(0, 80),
    );
    assert.ok(
      text.endsWith(
        `\t"header": {\n\t\t"data_hash": "${hash}",\n\t\t"number": "0",\n\t\t"previous_hash": null\n\t},\n` +
          '\t"metadata": {\n\t\t"metadata": [\n\t\t\t"CgIKAA==",\n\t\t\t"",\n\t\t\t"",\n\t\t\t"",\n\t\t\t""\n\t\t]\n\t}\n}\n',
      ),
    );
    assert.ok(text.includes('\t\t\t\t\t\t\t\t\t\t\t"groups": {},\n'), 'empty maps print as {}');
  },
);

test(
  '--decode-metadata: SIGNATURES as Metadata with OrdererBlockMetadata and decoded signature headers',
  { skip: SKIP_VECTORS },
  () => {
    const b = bytesToTree(readVector('blocks', 'block_25.pb'), 'common.Block', {
      decodeMetadata: true,
    }) as any;
    const sig = b.metadata.metadata[0];
    assert.equal(sig.value.last_config.index, '24');
    assert.equal(typeof sig.value.consenter_metadata, 'string');
    assert.equal(sig.signatures.length, 1);
    assert.equal(sig.signatures[0].signature_header.creator.mspid, 'OrdererMSP');
    assert.deepEqual(b.metadata.metadata[1], { signatures: [], value: { index: '24' } }); // LAST_CONFIG -> LastConfig
    assert.deepEqual(b.metadata.metadata.slice(2), ['', '', '']); // TRANSACTIONS_FILTER and empty entries stay base64
    const b0 = bytesToTree(readVector('blocks', 'block_0.pb'), 'common.Block', {
      decodeMetadata: true,
    }) as any;
    assert.deepEqual(b0.metadata.metadata[0], {
      signatures: [],
      value: { consenter_metadata: null, last_config: { index: '0' } },
    });
  },
);

test(
  'other message types: a CONFIG_UPDATE envelope decodes to ConfigUpdateEnvelope',
  { skip: SKIP_VECTORS },
  () => {
    const env = bytesToTree(
      readVector('deliver', '0189_broadcast_req_config_update_Admin@org1_to_orderer0.pb'),
      'common.Envelope',
    ) as any;
    assert.equal(env.payload.header.channel_header.type, 2);
    assert.equal(env.payload.data.config_update.channel_id, 'mychannel');
    assert.equal(
      env.payload.data.config_update.write_set.groups.Application.groups.Org1MSP.values.AnchorPeers.value
        .anchor_peers.length,
      2,
    );
    assert.equal(env.payload.data.signatures[0].signature_header.creator.mspid, 'Org1MSP');
  },
);
