import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPolicyDsl, parsePolicyDsl } from '../../src/channelconfig/index.js';
import { ConfigError } from '../../src/base/errors.js';
import { configEnvelopeOf, decodeBlock } from '../../src/wire/index.js';
import { encode } from '../../src/wire/codec.js';
import {
  Policy_PolicyType,
  SignaturePolicyEnvelopeSchema,
  type SignaturePolicyEnvelope,
} from '../../src/wire/gen/common/policies_pb.js';
import { decode } from '../../src/wire/codec.js';
import { MSPRoleSchema } from '../../src/wire/gen/msp/msp_principal_pb.js';
import { SKIP_VECTORS, readVector } from '../helpers/vectors.js';

const hex = (env: SignaturePolicyEnvelope) =>
  Buffer.from(encode(SignaturePolicyEnvelopeSchema, env)).toString('hex');

/** [mspId, role] of each principal, in order. */
function principals(env: SignaturePolicyEnvelope): string[] {
  return env.identities.map((p) => {
    const r = decode(MSPRoleSchema, p.principal);
    return `${r.mspIdentifier}:${r.role}`;
  });
}

/** The rule as nested arrays: number = SignedBy index, [n, ...subs] = NOutOf. */
function shape(env: SignaturePolicyEnvelope): unknown {
  const walk = (r: SignaturePolicyEnvelope['rule']): unknown =>
    r!.Type.case === 'signedBy' ? r!.Type.value : [r!.Type.value!.n, ...r!.Type.value!.rules.map(walk)];
  return walk(env.rule);
}

test(
  'configtxgen policies in block_0 are byte-identical to parsePolicyDsl of configtx.yaml rules',
  { skip: SKIP_VECTORS },
  () => {
    const cfg = configEnvelopeOf(decodeBlock(readVector('blocks', 'block_0.pb'))).config!;
    const app = cfg.channelGroup!.groups['Application'];
    const ord = cfg.channelGroup!.groups['Orderer'];
    const cases: [Uint8Array, string][] = [];
    for (const org of ['Org1MSP', 'Org2MSP']) {
      const pol = app.groups[org].policies;
      cases.push([pol['Readers'].policy!.value, `OR('${org}.admin', '${org}.peer', '${org}.client')`]);
      cases.push([pol['Writers'].policy!.value, `OR('${org}.admin', '${org}.client')`]);
      cases.push([pol['Admins'].policy!.value, `OR('${org}.admin')`]);
      cases.push([pol['Endorsement'].policy!.value, `OR('${org}.peer')`]);
      assert.equal(pol['Readers'].policy!.type, Policy_PolicyType.SIGNATURE);
    }
    const op = ord.groups['OrdererOrg'].policies;
    cases.push([op['Readers'].policy!.value, "OR('OrdererMSP.member')"]);
    cases.push([op['Writers'].policy!.value, "OR('OrdererMSP.member')"]);
    cases.push([op['Admins'].policy!.value, "OR('OrdererMSP.admin')"]);
    for (const [bytes, rule] of cases) {
      assert.equal(hex(parsePolicyDsl(rule)), Buffer.from(bytes).toString('hex'), rule);
    }
  },
);

test('principals are numbered as Fabric does: nested gates first, no de-duplication', () => {
  const a = parsePolicyDsl("OR('A.member', AND('B.member', 'C.member'))");
  assert.deepEqual(principals(a), ['B:0', 'C:0', 'A:0']);
  assert.deepEqual(shape(a), [1, 2, [2, 0, 1]]);

  const b = parsePolicyDsl("OR(AND('A.member', 'B.member'), OR('C.admin', 'D.member'))");
  assert.deepEqual(principals(b), ['A:0', 'B:0', 'C:1', 'D:0']);
  assert.deepEqual(shape(b), [1, [2, 0, 1], [1, 2, 3]]);

  const c = parsePolicyDsl("AND('A.peer', 'A.peer', OutOf(1, 'B.client', 'A.peer'))");
  assert.deepEqual(principals(c), ['B:2', 'A:3', 'A:3', 'A:3']);
  assert.deepEqual(shape(c), [3, 2, 3, [1, 0, 1]]);
});

test('gate spellings, roles, quoting and OutOf thresholds', () => {
  assert.deepEqual(shape(parsePolicyDsl("outof(2, 'A.member', 'B.member')")), [2, 0, 1]);
  assert.deepEqual(shape(parsePolicyDsl("OUTOF('1', 'A.member', 'B.member')")), [1, 0, 1]);
  assert.deepEqual(shape(parsePolicyDsl('and("A.member", "B.member")')), [2, 0, 1]);
  assert.deepEqual(shape(parsePolicyDsl("Or('A.member')")), [1, 0]);
  assert.deepEqual(shape(parsePolicyDsl("OutOf(0, 'A.member', 'B.member')")), [0, 0, 1]);
  assert.deepEqual(shape(parsePolicyDsl("OutOf(3, 'A.member', 'B.member')")), [3, 0, 1]);
  assert.deepEqual(
    principals(parsePolicyDsl("OR('A.peer', 'B.admin', 'C.orderer', 'D.client', 'E.member')")),
    ['A:3', 'B:1', 'C:4', 'D:2', 'E:0'],
  );
  assert.deepEqual(principals(parsePolicyDsl("OR('MSP.WITH.DOTS.member', 'MSP-WITH-DASHES.peer')")), [
    'MSP.WITH.DOTS:0',
    'MSP-WITH-DASHES:3',
  ]);
});

test('invalid policies are ConfigError POLICY_DSL', () => {
  for (const bad of [
    '',
    "'A.member'",
    "OR('A.member', Bmember)",
    "OR('A.member', 'Bmember')",
    "OR('A.Member')",
    'OutOf(1)',
    "OutOf(-1, 'A.member', 'B.member')",
    "OutOf(4, 'A.member', 'B.member')",
    'OutOf(1, 2)',
    "OutOf(OR('A.member'), 'B.member')",
    'OR()',
    "OR('A.member'",
    "OR('A.member'))",
    "XOR('A.member')",
    "OR('A.member' 'B.member')",
    "OR('A.member",
  ]) {
    assert.throws(
      () => parsePolicyDsl(bad),
      (e: unknown) => e instanceof ConfigError && e.code === 'POLICY_DSL',
      bad,
    );
  }
});

test('formatPolicyDsl round-trips parsed policies', () => {
  const principal = fc
    .tuple(
      fc.constantFrom('Org1MSP', 'Org2MSP', 'A.b-c'),
      fc.constantFrom('member', 'admin', 'client', 'peer', 'orderer'),
    )
    .map(([m, r]) => `'${m}.${r}'`);
  const { tree } = fc.letrec<{ tree: string }>((tie) => ({
    tree: fc
      .tuple(
        fc.constantFrom('AND', 'OR', 'OutOf'),
        fc.array(fc.oneof({ depthSize: 'small' }, principal, tie('tree')), { minLength: 1, maxLength: 4 }),
        fc.nat(5),
      )
      .map(([g, args, n]) =>
        g === 'OutOf' ? `OutOf(${n % (args.length + 2)}, ${args.join(', ')})` : `${g}(${args.join(', ')})`,
      ),
  }));
  fc.assert(
    fc.property(tree, (text) => {
      const env = parsePolicyDsl(text);
      const again = parsePolicyDsl(formatPolicyDsl(env));
      assert.equal(hex(again), hex(env));
    }),
    { numRuns: 300 },
  );
});

test('parsePolicyDsl throws only ConfigError on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      try {
        parsePolicyDsl(text);
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
