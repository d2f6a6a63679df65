/** The vectors' channel config with the real X.509 MSPs: parsing and policy evaluation with real signatures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { join } from 'node:path';
import { parseChannelConfig, type ChannelConfig } from '../../src/channelconfig/index.js';
import { GrapevineError, VerifyError } from '../../src/base/errors.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import type { SignedData } from '../../src/identity/types.js';
import { create } from '@bufbuild/protobuf';
import { encode } from '../../src/wire/codec.js';
import { ConfigPolicySchema } from '../../src/wire/gen/common/configtx_pb.js';
import { ImplicitMetaPolicySchema, ImplicitMetaPolicy_Rule } from '../../src/wire/gen/common/policies_pb.js';
import {
  HAVE_VECTORS,
  SKIP_VECTORS,
  peerDir,
  ordererDir,
  readVector,
  vectorPath,
} from '../helpers/vectors.js';
import { editConfigBlock, groups } from './config-edit.js';
import { checkVectorConfig } from './expect.js';

const NOW = new Date('2027-06-01T00:00:00Z');
const DATA = new TextEncoder().encode('some signed bytes');

const userMsp = (org: string, user: string) =>
  vectorPath(
    'crypto-config',
    'peerOrganizations',
    `${org}.example.com`,
    'users',
    `${user}@${org}.example.com`,
    'msp',
  );

function signer(mspDir: string, mspId: string): (data?: Uint8Array) => SignedData {
  const id = loadSigningIdentity(mspDir, mspId, { now: NOW });
  return (data = DATA) => ({ data, identity: id.signer.serializedIdentity, signature: id.signer.sign(data) });
}

const ids = HAVE_VECTORS
  ? {
      peer1: signer(join(peerDir('org1', 'peer0'), 'msp'), 'Org1MSP'),
      peer1b: signer(join(peerDir('org1', 'peer1'), 'msp'), 'Org1MSP'),
      peer2: signer(join(peerDir('org2', 'peer0'), 'msp'), 'Org2MSP'),
      admin1: signer(userMsp('org1', 'Admin'), 'Org1MSP'),
      user1: signer(userMsp('org1', 'User1'), 'Org1MSP'),
      admin2: signer(userMsp('org2', 'Admin'), 'Org2MSP'),
      orderer: signer(join(ordererDir(), 'msp'), 'OrdererMSP'),
      ordererAdmin: signer(
        vectorPath(
          'crypto-config',
          'ordererOrganizations',
          'example.com',
          'users',
          'Admin@example.com',
          'msp',
        ),
        'OrdererMSP',
      ),
    }
  : undefined;

function passes(cfg: ChannelConfig, path: string, signed: SignedData[], now = NOW): boolean {
  try {
    cfg.policies.evaluate(path, signed, now);
    return true;
  } catch (e) {
    assert.ok(e instanceof VerifyError && e.code === 'POLICY', String(e));
    return false;
  }
}

test('block_0 and block_24 parse with real MSPs to the vectors network', { skip: SKIP_VECTORS }, () => {
  const c0 = parseChannelConfig(readVector('blocks', 'block_0.pb'));
  checkVectorConfig(c0);
  assert.deepEqual(
    c0.applicationOrgs.map((o) => o.anchorPeers),
    [[{ host: '127.0.0.1', port: 7051 }], [{ host: '127.0.0.1', port: 10051 }]],
  );
  const c24 = parseChannelConfig(readVector('blocks', 'block_24.pb'));
  checkVectorConfig(c24);
  assert.equal(c24.sequence, 1n);
  assert.deepEqual(c24.applicationOrgs[1].anchorPeers, [
    { host: '127.0.0.1', port: 10051 },
    { host: '127.0.0.1', port: 11051 },
  ]);
  // TLS CAs for the deliver client come from the orderer org's MSP.
  assert.match(Buffer.from(c0.ordererEndpoints()[0].tlsRootCerts[0]).toString(), /BEGIN CERTIFICATE/);
});

test('real signatures: Readers, Writers, BlockValidation', { skip: SKIP_VECTORS }, () => {
  const cfg = parseChannelConfig(readVector('blocks', 'block_0.pb'));
  const s = ids!;
  assert.ok(passes(cfg, '/Channel/Application/Readers', [s.peer1()]));
  assert.ok(passes(cfg, '/Channel/Application/Readers', [s.peer2()]));
  assert.ok(passes(cfg, '/Channel/Readers', [s.peer2()]));
  assert.ok(!passes(cfg, '/Channel/Application/Readers', [s.orderer()]));
  assert.ok(passes(cfg, '/Channel/Orderer/BlockValidation', [s.orderer()]));
  assert.ok(!passes(cfg, '/Channel/Orderer/BlockValidation', [s.peer1()]));
  assert.ok(
    !passes(
      cfg,
      '/Channel/Orderer/BlockValidation',
      [s.ordererAdmin().identity].map((identity) => ({ ...s.orderer(), identity })),
    ),
  );
  // Writers of Org1 = admin or client: User1 yes, a peer no.
  assert.ok(passes(cfg, '/Channel/Application/Org1MSP/Writers', [s.user1()]));
  assert.ok(!passes(cfg, '/Channel/Application/Org1MSP/Writers', [s.peer1()]));
  assert.ok(passes(cfg, '/Channel/Application/Org1MSP/Endorsement', [s.peer1()]));
  // A signature over other bytes, or checked after the certificates expired, does not count.
  const sd = s.peer1();
  assert.ok(
    !passes(cfg, '/Channel/Application/Readers', [{ ...sd, data: new TextEncoder().encode('other') }]),
  );
  assert.ok(!passes(cfg, '/Channel/Application/Readers', [sd], new Date('2040-01-01T00:00:00Z')));
  assert.ok(!passes(cfg, '/Channel/Application/Readers', [sd], new Date('2020-01-01T00:00:00Z')));
  assert.throws(
    () => cfg.policies.evaluate('/Channel/Orderer/BlockValidation', [s.peer1()], NOW),
    /0 sub-policies were satisfied, but this policy requires 1/,
  );
});

test('real signatures: MAJORITY and ALL', { skip: SKIP_VECTORS }, () => {
  const bytes = editConfigBlock(readVector('blocks', 'block_0.pb'), (c) => {
    const all = encode(ImplicitMetaPolicySchema, { rule: ImplicitMetaPolicy_Rule.ALL, subPolicy: 'Readers' });
    groups(c).application.policies['AllReaders'] = create(ConfigPolicySchema, {
      policy: { type: 3, value: all },
      modPolicy: 'Admins',
    });
  });
  const cfg = parseChannelConfig(bytes);
  const s = ids!;
  // MAJORITY of two orgs = both.
  assert.ok(!passes(cfg, '/Channel/Application/Admins', [s.admin1()]));
  assert.ok(!passes(cfg, '/Channel/Application/Admins', [s.admin1(), s.peer2()]));
  assert.ok(passes(cfg, '/Channel/Application/Admins', [s.admin1(), s.admin2()]));
  // Endorsement = MAJORITY Endorsement (peers).
  assert.ok(!passes(cfg, '/Channel/Application/Endorsement', [s.peer1(), s.peer1b()]));
  assert.ok(passes(cfg, '/Channel/Application/Endorsement', [s.peer1(), s.peer2()]));
  // /Channel/Admins = MAJORITY of {Application/Admins, Orderer/Admins} = both.
  assert.ok(!passes(cfg, '/Channel/Admins', [s.admin1(), s.admin2()]));
  assert.ok(passes(cfg, '/Channel/Admins', [s.admin1(), s.admin2(), s.ordererAdmin()]));
  // ALL Readers.
  assert.ok(!passes(cfg, '/Channel/Application/AllReaders', [s.peer1(), s.peer1b()]));
  assert.ok(passes(cfg, '/Channel/Application/AllReaders', [s.user1(), s.peer2()]));
  // The same identity twice is one signer.
  const a = s.admin1();
  assert.ok(!passes(cfg, '/Channel/Application/Admins', [a, a]));
});

test(
  'evaluate with the real MSPs throws only VerifyError POLICY on arbitrary signed data',
  { skip: SKIP_VECTORS },
  () => {
    const cfg = parseChannelConfig(readVector('blocks', 'block_0.pb'));
    const real = ids!.peer1();
    const bytes = fc.uint8Array({ maxLength: 64 });
    const identity = fc.oneof(
      bytes,
      fc.constant(real.identity),
      bytes.map((b) => Uint8Array.from([...real.identity.slice(0, 40), ...b])),
    );
    const sd = fc.record({
      data: fc.oneof(bytes, fc.constant(real.data)),
      identity,
      signature: fc.oneof(bytes, fc.constant(real.signature)),
    });
    const path = fc.constantFrom(
      '/Channel/Readers',
      '/Channel/Application/Admins',
      '/Channel/Orderer/BlockValidation',
      'nope',
    );
    fc.assert(
      fc.property(path, fc.array(sd, { maxLength: 4 }), (p, signed) => {
        passes(cfg, p, signed);
      }),
      { numRuns: 300 },
    );
  },
);

test(
  'parseChannelConfig with real MSPs throws only typed errors on mutated config blocks',
  { skip: SKIP_VECTORS },
  () => {
    const b0 = readVector('blocks', 'block_0.pb');
    const mutation = fc.array(fc.tuple(fc.nat(b0.length - 1), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 3,
    });
    fc.assert(
      fc.property(mutation, (muts) => {
        const b = b0.slice();
        for (const [i, x] of muts) b[i] ^= x;
        try {
          parseChannelConfig(b);
        } catch (e) {
          assert.ok(e instanceof GrapevineError, String(e));
        }
      }),
      { numRuns: 200 },
    );
  },
);
