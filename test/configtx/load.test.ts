/**
 * configtx.yaml loading and the parts of the tree the vector profile does not exercise:
 * defaults, optional values, merges, case-insensitive keys, and typed errors that name the
 * file and the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { stringify } from 'yaml';
import {
  buildChannelConfigGroup,
  buildGenesisBlock,
  loadConfigtx,
  parseConfigtx,
} from '../../src/configtx/index.js';
import { ConfigError } from '../../src/base/errors.js';
import { CapabilitiesSchema, OrdererAddressesSchema } from '../../src/wire/gen/common/configuration_pb.js';
import { ImplicitMetaPolicySchema } from '../../src/wire/gen/common/policies_pb.js';
import {
  BatchSizeSchema,
  BatchTimeoutSchema,
  ConsensusTypeSchema,
} from '../../src/wire/gen/orderer/configuration_pb.js';
import { ConfigMetadataSchema } from '../../src/wire/gen/orderer/etcdraft/configuration_pb.js';
import { SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';

const CC = vectorPath('crypto-config');
const TLS = `${CC}/ordererOrganizations/example.com/orderers/orderer0.example.com/tls/server.crt`;

/** A small configtx.yaml with absolute paths into the vectors' crypto-config; `patch` edits the text. */
function yamlText(patch: (s: string) => string = (s) => s): string {
  return patch(`
Organizations:
  - &Orderer
    Name: OrdererOrg
    ID: OrdererMSP
    MSPDir: ${CC}/ordererOrganizations/example.com/msp
    Policies: &OrdererPolicies
      Readers: {Type: Signature, Rule: "OR('OrdererMSP.member')"}
      Writers: {Type: Signature, Rule: "OR('OrdererMSP.member')"}
      Admins: {Type: Signature, Rule: "OR('OrdererMSP.admin')"}
  - &Org1
    name: Org1MSP
    id: Org1MSP
    mspdir: ${CC}/peerOrganizations/org1.example.com/msp
    Policies:
      Readers: {Type: Signature, Rule: "OR('Org1MSP.member')"}
      Writers: {Type: Signature, Rule: "OR('Org1MSP.member')"}
      Admins: {Type: Signature, Rule: "OR('Org1MSP.admin')"}
Channel: &ChannelDefaults
  Policies: &Meta
    Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
    Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
Profiles:
  Solo:
    Policies: *Meta
    Capabilities: {V2_0: false}
    Orderer:
      OrdererType: solo
      Addresses: [127.0.0.1:7050, 127.0.0.1:8050]
      Organizations: [*Orderer]
      Policies:
        <<: *Meta
        BlockValidation: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Application:
      Organizations: [*Org1]
      Policies: *Meta
  Raft:
    <<: *ChannelDefaults
    Orderer:
      OrdererType: etcdraft
      BatchTimeout: 90s
      BatchSize: {MaxMessageCount: "10", AbsoluteMaxBytes: 98 MB, PreferredMaxBytes: 512 KB}
      EtcdRaft:
        Consenters:
          - {Host: orderer0, Port: 7050, ClientTLSCert: ${TLS}, ServerTLSCert: ${TLS}}
        Options: {TickInterval: 250ms, SnapshotIntervalSize: 20 MB}
      Organizations: [*Orderer]
      Policies:
        <<: *Meta
        BlockValidation: {Type: ImplicitMeta, Rule: "ANY Writers"}
    Application:
      Organizations: [*Org1]
      Policies: *Meta
`);
}

/** Writes text into a fresh folder and loads it. */
function withYaml<T>(text: string, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-configtx-'));
  try {
    const path = join(dir, 'configtx.yaml');
    writeFileSync(path, text);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function configError(fn: () => unknown, code: string, ...parts: (string | RegExp)[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of parts) {
    if (typeof p === 'string')
      assert.ok(caught.message.includes(p), `"${caught.message}" should mention "${p}"`);
    else assert.match(caught.message, p);
  }
  return caught;
}

function replaceLast(s: string, from: string, to: string): string {
  const i = s.lastIndexOf(from);
  assert.ok(i >= 0, from);
  return s.slice(0, i) + to + s.slice(i + from.length);
}

const value = <T>(schema: Parameters<typeof fromBinary>[0], bytes: Uint8Array) =>
  fromBinary(schema, bytes) as T;

test(
  'solo profile: defaults, OrdererAddresses, empty Capabilities, optional values left out',
  { skip: SKIP_VECTORS },
  () => {
    withYaml(yamlText(), (path) => {
      const root = buildChannelConfigGroup(loadConfigtx(path), 'Solo');
      assert.deepEqual(Object.keys(root.values).sort(), [
        'BlockDataHashingStructure',
        'Capabilities',
        'HashingAlgorithm',
        'OrdererAddresses',
      ]);
      assert.equal(root.values.OrdererAddresses.modPolicy, '/Channel/Orderer/Admins');
      assert.deepEqual(
        value<{ addresses: string[] }>(OrdererAddressesSchema, root.values.OrdererAddresses.value).addresses,
        ['127.0.0.1:7050', '127.0.0.1:8050'],
      );
      // {V2_0: false}: configtxgen still writes the value, with no capability in it.
      assert.deepEqual(
        Object.keys(
          value<{ capabilities: object }>(CapabilitiesSchema, root.values.Capabilities.value).capabilities,
        ),
        [],
      );
      const orderer = root.groups.Orderer;
      assert.deepEqual(Object.keys(orderer.values).sort(), [
        'BatchSize',
        'BatchTimeout',
        'ChannelRestrictions',
        'ConsensusType',
      ]);
      const ct = value<{ type: string; metadata: Uint8Array }>(
        ConsensusTypeSchema,
        orderer.values.ConsensusType.value,
      );
      assert.equal(ct.type, 'solo');
      assert.equal(ct.metadata.length, 0);
      assert.equal(
        value<{ timeout: string }>(BatchTimeoutSchema, orderer.values.BatchTimeout.value).timeout,
        '2s',
      );
      const bs = value<{ maxMessageCount: number; absoluteMaxBytes: number; preferredMaxBytes: number }>(
        BatchSizeSchema,
        orderer.values.BatchSize.value,
      );
      assert.deepEqual(
        [bs.maxMessageCount, bs.absoluteMaxBytes, bs.preferredMaxBytes],
        [500, 10485760, 2097152],
      );
      assert.deepEqual(Object.keys(orderer.groups.OrdererOrg.values), ['MSP']); // no OrdererEndpoints -> no Endpoints
      assert.deepEqual(Object.keys(root.groups.Application.values), []); // no Capabilities, no ACLs
      assert.deepEqual(Object.keys(root.groups.Application.groups.Org1MSP.values), ['MSP']); // no AnchorPeers
      const admins = root.groups.Application.policies.Admins;
      const imp = value<{ rule: number; subPolicy: string }>(ImplicitMetaPolicySchema, admins.policy!.value);
      assert.deepEqual(
        [admins.policy!.type, imp.rule, imp.subPolicy, admins.modPolicy],
        [3, 2, 'Admins', 'Admins'],
      );
    });
  },
);

test(
  'raft profile: merges, sizes, durations, options defaults filled in, cert bytes embedded',
  { skip: SKIP_VECTORS },
  () => {
    withYaml(yamlText(), (path) => {
      const root = buildChannelConfigGroup(loadConfigtx(path), 'Raft');
      assert.deepEqual(Object.keys(root.policies).sort(), ['Admins', 'Readers', 'Writers']);
      assert.equal(root.values.OrdererAddresses, undefined);
      assert.equal(root.values.Capabilities, undefined);
      const orderer = root.groups.Orderer;
      assert.equal(
        value<{ timeout: string }>(BatchTimeoutSchema, orderer.values.BatchTimeout.value).timeout,
        '1m30s',
      );
      const bs = value<{ maxMessageCount: number; absoluteMaxBytes: number; preferredMaxBytes: number }>(
        BatchSizeSchema,
        orderer.values.BatchSize.value,
      );
      assert.deepEqual(
        [bs.maxMessageCount, bs.absoluteMaxBytes, bs.preferredMaxBytes],
        [10, 98 * 1024 * 1024, 512 * 1024],
      );
      const ct = value<{ type: string; metadata: Uint8Array }>(
        ConsensusTypeSchema,
        orderer.values.ConsensusType.value,
      );
      assert.equal(ct.type, 'etcdraft');
      const md = fromBinary(ConfigMetadataSchema, ct.metadata);
      assert.equal(md.consenters[0].host, 'orderer0');
      assert.match(Buffer.from(md.consenters[0].clientTlsCert).toString(), /^-----BEGIN CERTIFICATE-----/);
      const o = md.options!;
      assert.deepEqual(
        [o.tickInterval, o.electionTick, o.heartbeatTick, o.maxInflightBlocks, o.snapshotIntervalSize],
        ['250ms', 10, 1, 5, 20 * 1024 * 1024],
      );
      assert.deepEqual(Object.keys(orderer.policies).sort(), [
        'Admins',
        'BlockValidation',
        'Readers',
        'Writers',
      ]);
    });
  },
);

test('errors name the file and the key', { skip: SKIP_VECTORS }, () => {
  const load = (patch: (s: string) => string, profile = 'Raft') =>
    withYaml(yamlText(patch), (path) => buildGenesisBlock(loadConfigtx(path), profile, 'mychannel'));

  configError(
    () => load((s) => s, 'Nope'),
    'CONFIGTX_PROFILE',
    "unknown profile 'Nope'",
    'configtx.yaml',
    'Solo, Raft',
  );
  configError(
    () => load((s) => s.replace(/ {4}mspdir: .*\n/, '')),
    'CONFIGTX_MSP',
    'configtx.yaml',
    'Org1MSP',
    'MSPDir is not set',
  );
  configError(
    () => load((s) => s.replace('org1.example.com/msp', 'org9.example.com/msp')),
    'CONFIGTX_MSP',
    'MSPDir',
    'org9.example.com/msp',
    'does not exist',
  );
  configError(
    () => load((s) => s.replace(`"OR('Org1MSP.admin')"`, `"OR('Org1MSP.admin'"`)),
    'CONFIGTX_POLICY',
    'configtx.yaml',
    'Policies.Admins',
    'invalid signature policy rule',
  );
  configError(
    () => load((s) => s.replace('"MAJORITY Admins"', '"MOST Admins"')),
    'CONFIGTX_POLICY',
    'Profiles.Raft.Policies.Admins',
    "unknown rule type 'MOST'",
  );
  configError(
    () => load((s) => s.replace('"ANY Readers"', '"ANY  Readers"')),
    'CONFIGTX_POLICY',
    'two space separated tokens',
  );
  configError(
    () =>
      load((s) => replaceLast(s, 'BlockValidation: {Type: ImplicitMeta', 'BlockValidation: {Type: Magic')),
    'CONFIGTX_POLICY',
    'unknown policy type',
  );
  configError(
    () => load((s) => s.replace('AbsoluteMaxBytes: 98 MB', 'AbsoluteMaxBytes: 98 TB')),
    'CONFIGTX_VALUE',
    'configtx.yaml',
    'Profiles.Raft.Orderer.BatchSize.AbsoluteMaxBytes',
    '98 TB',
  );
  configError(
    () => load((s) => s.replace('BatchTimeout: 90s', 'BatchTimeout: soon')),
    'CONFIGTX_VALUE',
    'Orderer.BatchTimeout',
    'soon',
  );
  configError(
    () => load((s) => s.replace('BatchTimeout: 90s', 'BatchTimout: 90s')),
    'CONFIGTX_KEY',
    'Profiles.Raft.Orderer.BatchTimout',
    'unknown key',
  );
  configError(
    () => load((s) => s.replace(/ClientTLSCert: [^,]*,/, 'ClientTLSCert: nowhere.crt,')),
    'CONFIGTX_FILE',
    'ClientTLSCert',
    'nowhere.crt',
  );
  configError(
    () => load((s) => s.replace('OrdererType: etcdraft', 'OrdererType: bft')),
    'CONFIGTX_ORDERER',
    "unknown orderer type: 'bft'",
  );
  configError(
    () => load((s) => s.replace('TickInterval: 250ms,', 'TickInterval: 250ms, ElectionTick: 1,')),
    'CONFIGTX_ORDERER',
    'ElectionTick',
  );
  const dropLastBlockValidation = (s: string) => {
    const i = s.lastIndexOf('        BlockValidation:');
    return s.slice(0, i) + s.slice(s.indexOf('\n', i) + 1);
  };
  configError(
    () => load(dropLastBlockValidation),
    'CONFIGTX_POLICY',
    'Profiles.Raft.Orderer.Policies',
    'no BlockValidation policy',
  );
  configError(
    () => load((s) => s.replace('  Raft:\n    <<: *ChannelDefaults\n', '  Raft:\n')),
    'CONFIGTX_POLICY',
    'Profiles.Raft.Policies',
    'no policies defined',
  );
  configError(
    () => load((s) => s.replace('Organizations:\n  - &Orderer', 'Organizations:\n  - &Orderer [')),
    'CONFIGTX_YAML',
    'configtx.yaml',
  );
  configError(
    () => withYaml(yamlText(), (path) => buildGenesisBlock(loadConfigtx(path), 'Raft', 'My_Channel')),
    'CONFIGTX_CHANNEL',
    'My_Channel',
  );
  configError(
    () => loadConfigtx('/nonexistent/configtx.yaml'),
    'CONFIGTX_FILE',
    '/nonexistent/configtx.yaml',
  );
});

test('parseConfigtx throws only ConfigError on arbitrary input', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.anything().map((v) => stringify(v) ?? ''),
      ),
      (text) => {
        try {
          parseConfigtx(text, 'fuzz.yaml');
        } catch (e) {
          assert.ok(e instanceof ConfigError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.record(
        { Profiles: fc.dictionary(fc.string(), fc.anything()), Organizations: fc.anything() },
        { requiredKeys: [] },
      ),
      (tree) => {
        try {
          const c = parseConfigtx(stringify(tree), 'fuzz.yaml');
          for (const name of c.profiles.keys()) {
            try {
              buildChannelConfigGroup(c, name);
            } catch (e) {
              assert.ok(e instanceof ConfigError, String(e));
            }
          }
        } catch (e) {
          assert.ok(e instanceof ConfigError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});
