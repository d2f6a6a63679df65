import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseChannelConfigWith, parseGoDuration } from '../../src/channelconfig/index.js';
import { checkVectorConfig } from './expect.js';
import { ConfigError, GrapevineError, WireError } from '../../src/base/errors.js';
import { decodeBlock } from '../../src/wire/block.js';
import { encode } from '../../src/wire/codec.js';
import {
  CapabilitiesSchema,
  HashingAlgorithmSchema,
  OrdererAddressesSchema,
} from '../../src/wire/gen/common/configuration_pb.js';
import { create } from '@bufbuild/protobuf';
import { ConfigGroupSchema } from '../../src/wire/gen/common/configtx_pb.js';
import { MSPConfigSchema, FabricMSPConfigSchema } from '../../src/wire/gen/msp/msp_config_pb.js';
import { BatchSizeSchema, BatchTimeoutSchema } from '../../src/wire/gen/orderer/configuration_pb.js';
import { decode } from '../../src/wire/codec.js';
import { SKIP_VECTORS, HAVE_VECTORS, readVector } from '../helpers/vectors.js';
import { editConfigBlock, groups, setRawValue, setValue } from './config-edit.js';
import { fakeFactory } from './fake-msp.js';

const block0 = HAVE_VECTORS ? readVector('blocks', 'block_0.pb') : new Uint8Array();
const parseFake = (bytes: Uint8Array) => parseChannelConfigWith(bytes, fakeFactory);

test(
  'block_0 and block_24 parse to the vectors network (structure; fake MSPs)',
  { skip: SKIP_VECTORS },
  () => {
    const c0 = parseFake(block0);
    checkVectorConfig(c0);
    assert.equal(c0.sequence, 0n);
    assert.equal(c0.blockNumber, 0n);
    assert.deepEqual(
      c0.applicationOrgs.map((o) => o.anchorPeers),
      [[{ host: '127.0.0.1', port: 7051 }], [{ host: '127.0.0.1', port: 10051 }]],
    );
    const c24 = parseChannelConfigWith(decodeBlock(readVector('blocks', 'block_24.pb')), fakeFactory);
    checkVectorConfig(c24);
    assert.equal(c24.sequence, 1n);
    assert.equal(c24.blockNumber, 24n);
    assert.deepEqual(
      c24.applicationOrgs.map((o) => o.anchorPeers),
      [
        [{ host: '127.0.0.1', port: 7051 }],
        [
          { host: '127.0.0.1', port: 10051 },
          { host: '127.0.0.1', port: 11051 },
        ],
      ],
    );
  },
);

test('a non-config block is WireError NOT_CONFIG naming the block number', { skip: SKIP_VECTORS }, () => {
  assert.throws(
    () => parseFake(readVector('blocks', 'block_7.pb')),
    (e: unknown) => e instanceof WireError && e.code === 'NOT_CONFIG' && /block 7\b/.test(e.message),
  );
  assert.throws(
    () => parseFake(Uint8Array.of(0x0a, 0x03, 1)),
    (e: unknown) => e instanceof WireError && e.code === 'MALFORMED',
  );
});

test('malformed configs are typed errors with codes', { skip: SKIP_VECTORS }, () => {
  const cases: [string, (c: Parameters<Parameters<typeof editConfigBlock>[1]>[0]) => void, string, RegExp][] =
    [
      ['no channel group', (c) => (c.channelGroup = undefined), 'BAD_CONFIG', /channel group/],
      ['no orderer group', (c) => delete c.channelGroup!.groups['Orderer'], 'MISSING_GROUP', /Orderer/],
      [
        'unknown channel group',
        (c) => (c.channelGroup!.groups['Extra'] = create(ConfigGroupSchema)),
        'UNKNOWN_GROUP',
        /Extra/,
      ],
      [
        'unknown value',
        (c) => setRawValue(groups(c).orderer, 'Bogus', new Uint8Array()),
        'UNKNOWN_VALUE',
        /Bogus in \/Channel\/Orderer/,
      ],
      [
        'bad hashing',
        (c) => setValue(groups(c).channel, 'HashingAlgorithm', HashingAlgorithmSchema, { name: 'MD5' }),
        'BAD_VALUE',
        /MD5/,
      ],
      [
        'zero batch count',
        (c) =>
          setValue(groups(c).orderer, 'BatchSize', BatchSizeSchema, {
            maxMessageCount: 0,
            absoluteMaxBytes: 9,
            preferredMaxBytes: 1,
          }),
        'BAD_VALUE',
        /max message count/,
      ],
      [
        'preferred > absolute',
        (c) =>
          setValue(groups(c).orderer, 'BatchSize', BatchSizeSchema, {
            maxMessageCount: 1,
            absoluteMaxBytes: 9,
            preferredMaxBytes: 10,
          }),
        'BAD_VALUE',
        /preferred/,
      ],
      [
        'bad timeout',
        (c) => setValue(groups(c).orderer, 'BatchTimeout', BatchTimeoutSchema, { timeout: '1 second' }),
        'BAD_VALUE',
        /batch timeout/,
      ],
      [
        'zero timeout',
        (c) => setValue(groups(c).orderer, 'BatchTimeout', BatchTimeoutSchema, { timeout: '0s' }),
        'BAD_VALUE',
        /positive/,
      ],
      [
        'org sub-group',
        (c) => (groups(c).org1.groups['x'] = create(ConfigGroupSchema)),
        'UNKNOWN_GROUP',
        /Org1MSP may not have sub-groups/,
      ],
      [
        'idemix MSP',
        (c) => setValue(groups(c).org2, 'MSP', MSPConfigSchema, { type: 1, config: new Uint8Array() }),
        'UNSUPPORTED_MSP',
        /idemix/,
      ],
      ['no MSP', (c) => delete groups(c).org2.values['MSP'], 'BAD_MSP', /no MSP value/],
      [
        'MSP ID reused with another config',
        (c) => {
          const m = decode(MSPConfigSchema, groups(c).org1.values['MSP'].value);
          const f = decode(FabricMSPConfigSchema, m.config);
          f.name = 'Org2MSP';
          setValue(groups(c).org1, 'MSP', MSPConfigSchema, {
            type: 0,
            config: encode(FabricMSPConfigSchema, f),
          });
        },
        'DUPLICATE_MSP',
        /two different versions of MSP Org2MSP/,
      ],
      [
        'channel capabilities without orderer ones',
        (c) => delete groups(c).orderer.values['Capabilities'],
        'BAD_CAPABILITIES',
        /orderer support/,
      ],
      [
        'org endpoints without V1_4_2',
        (c) => {
          setValue(groups(c).channel, 'Capabilities', CapabilitiesSchema, { capabilities: { V1_3: {} } });
          setValue(groups(c).channel, 'OrdererAddresses', OrdererAddressesSchema, { addresses: ['o1:7050'] });
        },
        'BAD_VALUE',
        /V1_4_2/,
      ],
      [
        'no addresses anywhere without V1_4_2',
        (c) => {
          setValue(groups(c).channel, 'Capabilities', CapabilitiesSchema, { capabilities: { V1_3: {} } });
          delete groups(c).ordererOrg.values['Endpoints'];
        },
        'BAD_VALUE',
        /OrdererAddresses/,
      ],
      [
        'policy of unknown type',
        (c) => (groups(c).org1.policies['Readers'].policy!.type = 2),
        'BAD_POLICY',
        /Org1MSP/,
      ],
    ];
  for (const [what, edit, code, re] of cases) {
    assert.throws(
      () => parseFake(editConfigBlock(block0, edit)),
      (e: unknown) => e instanceof ConfigError && e.code === code && re.test(e.message),
      what,
    );
  }
  assert.throws(
    () =>
      parseFake(
        editConfigBlock(block0, (c) => setRawValue(groups(c).orderer, 'BatchSize', Uint8Array.of(0xff))),
      ),
    (e: unknown) =>
      e instanceof WireError &&
      e.code === 'MALFORMED' &&
      /\/Channel\/Orderer value BatchSize/.test(e.message),
  );
});

test(
  'accepted variations: global addresses, shared identical MSP, no Application group',
  { skip: SKIP_VECTORS },
  () => {
    const global = parseFake(
      editConfigBlock(block0, (c) => {
        setValue(groups(c).channel, 'OrdererAddresses', OrdererAddressesSchema, {
          addresses: ['o1:7050', 'o2:7050'],
        });
        delete groups(c).ordererOrg.values['Endpoints'];
      }),
    );
    assert.deepEqual(global.ordererAddresses, ['o1:7050', 'o2:7050']);
    assert.deepEqual(
      global.ordererEndpoints().map((e) => [e.address, e.mspId, e.tlsRootCerts.length]),
      [
        ['o1:7050', undefined, 1],
        ['o2:7050', undefined, 1],
      ],
    );
    const shared = parseFake(
      editConfigBlock(block0, (c) => {
        groups(c).application.groups['Org1Again'] = groups(c).org1;
      }),
    );
    assert.deepEqual(
      shared.applicationOrgs.map((o) => o.name),
      ['Org1Again', 'Org1MSP', 'Org2MSP'],
    );
    assert.equal(shared.applicationOrgs[0].msp, shared.applicationOrgs[1].msp);
    assert.equal(shared.msps.msps.size, 3);
    const noApp = parseFake(
      editConfigBlock(block0, (c) => {
        delete c.channelGroup!.groups['Application'];
        delete c.channelGroup!.policies['Readers'];
        delete c.channelGroup!.policies['Writers'];
        delete c.channelGroup!.policies['Admins'];
      }),
    );
    assert.deepEqual(noApp.applicationOrgs, []);
    assert.deepEqual(noApp.capabilities.application, []);
  },
);

test(
  'parseChannelConfig throws only typed errors on arbitrary and mutated bytes',
  { skip: SKIP_VECTORS },
  () => {
    const typed = (bytes: Uint8Array) => {
      try {
        parseFake(bytes);
      } catch (e) {
        assert.ok(e instanceof GrapevineError, String(e));
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), typed), { numRuns: 500 });
    const mutation = fc.array(fc.tuple(fc.nat(block0.length - 1), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(mutation, (muts) => {
        const b = block0.slice();
        for (const [i, x] of muts) b[i] ^= x;
        typed(b);
      }),
      { numRuns: 400 },
    );
  },
);

test('Go durations as Fabric parses BatchTimeout', () => {
  const ok: [string, bigint][] = [
    ['1s', 1_000_000_000n],
    ['500ms', 500_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['2us', 2_000n],
    ['2µs', 2_000n],
    ['.5s', 500_000_000n],
    ['0', 0n],
    ['-1s', -1_000_000_000n],
  ];
  for (const [t, ns] of ok) assert.equal(parseGoDuration(t), ns, t);
  for (const t of ['', '1', 's', '1x', '1.2.3s', '1 s', '-', '9999999999h'])
    assert.equal(parseGoDuration(t), undefined, t);
});
