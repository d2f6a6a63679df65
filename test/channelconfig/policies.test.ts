import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { ChannelPolicies, parsePolicyDsl } from '../../src/channelconfig/index.js';
import { ConfigError, VerifyError } from '../../src/base/errors.js';
import { encode } from '../../src/wire/codec.js';
import {
  ConfigGroupSchema,
  type ConfigGroup,
  type ConfigPolicy,
} from '../../src/wire/gen/common/configtx_pb.js';
import {
  ImplicitMetaPolicySchema,
  ImplicitMetaPolicy_Rule,
  Policy_PolicyType,
  SignaturePolicyEnvelopeSchema,
} from '../../src/wire/gen/common/policies_pb.js';
import type { SignedData } from '../../src/identity/types.js';
import { FakeMsp, FakeMspManager, fakeSigned } from './fake-msp.js';

const DATA = new TextEncoder().encode('message');

function sig(rule: string): ConfigPolicy {
  return {
    policy: {
      type: Policy_PolicyType.SIGNATURE,
      value: encode(SignaturePolicyEnvelopeSchema, parsePolicyDsl(rule)),
    },
  } as ConfigPolicy;
}
function meta(rule: ImplicitMetaPolicy_Rule, subPolicy: string): ConfigPolicy {
  return {
    policy: {
      type: Policy_PolicyType.IMPLICIT_META,
      value: encode(ImplicitMetaPolicySchema, { rule, subPolicy }),
    },
  } as ConfigPolicy;
}
function group(
  policies: Record<string, ConfigPolicy>,
  groups: Record<string, ConfigGroup> = {},
): ConfigGroup {
  return create(ConfigGroupSchema, { policies, groups });
}
const { ANY, ALL, MAJORITY } = ImplicitMetaPolicy_Rule;

function org(id: string): ConfigGroup {
  return group({
    Readers: sig(`OR('${id}.admin', '${id}.peer', '${id}.client')`),
    Writers: sig(`OR('${id}.admin', '${id}.client')`),
    Admins: sig(`OR('${id}.admin')`),
    Pair: sig(`AND('${id}.peer', '${id}.peer')`),
  });
}

function channel(): ConfigGroup {
  return group(
    { Readers: meta(ANY, 'Readers'), Writers: meta(ANY, 'Writers'), Admins: meta(MAJORITY, 'Admins') },
    {
      Application: group(
        {
          Readers: meta(ANY, 'Readers'),
          Admins: meta(MAJORITY, 'Admins'),
          AllAdmins: meta(ALL, 'Admins'),
          AllPairs: meta(ANY, 'Pair'),
          Missing: meta(ANY, 'NoSuchSubPolicy'),
        },
        { Org1MSP: org('Org1MSP'), Org2MSP: org('Org2MSP'), Org3MSP: org('Org3MSP') },
      ),
      Orderer: group(
        {
          BlockValidation: meta(ANY, 'Writers'),
          Writers: meta(ANY, 'Writers'),
          Admins: meta(MAJORITY, 'Admins'),
        },
        {
          OrdererOrg: group({
            Writers: sig("OR('OrdererMSP.member')"),
            Admins: sig("OR('OrdererMSP.admin')"),
          }),
        },
      ),
      Empty: group({
        AnyReaders: meta(ANY, 'Readers'),
        MajorityAdmins: meta(MAJORITY, 'Admins'),
        AllX: meta(ALL, 'X'),
      }),
    },
  );
}

const msps = ['Org1MSP', 'Org2MSP', 'Org3MSP', 'OrdererMSP'].map((id) => new FakeMsp(id));
const policies = ChannelPolicies.build(channel(), new FakeMspManager(msps));

function passes(path: string, signed: SignedData[], now: Date = new Date()): boolean {
  try {
    policies.evaluate(path, signed, now);
    return true;
  } catch (e) {
    assert.ok(e instanceof VerifyError && e.code === 'POLICY', String(e));
    return false;
  }
}

const peer1 = fakeSigned('Org1MSP', 'peer0.org1', 'peer', DATA);
const peer1b = fakeSigned('Org1MSP', 'peer1.org1', 'peer', DATA);
const admin1 = fakeSigned('Org1MSP', 'admin1', 'admin', DATA);
const admin2 = fakeSigned('Org2MSP', 'admin2', 'admin', DATA);
const admin3 = fakeSigned('Org3MSP', 'admin3', 'admin', DATA);
const orderer = fakeSigned('OrdererMSP', 'orderer0', 'orderer', DATA);

test('paths: absolute, relative, nested org policies, sub-group evaluators, unknown', () => {
  assert.ok(passes('/Channel/Application/Readers', [peer1]));
  assert.ok(passes('Application/Readers', [peer1]));
  assert.ok(passes('/Channel/Application/Org1MSP/Readers', [peer1]));
  assert.ok(!passes('/Channel/Application/Org2MSP/Readers', [peer1]));
  assert.ok(passes('/Channel/Readers', [peer1]));
  const app = policies.group('/Channel/Application')!;
  assert.equal(app.path, '/Channel/Application');
  assert.equal(app.check('Readers', [peer1], new Date()), undefined);
  assert.equal(app.check('/Channel/Application/Org1MSP/Admins', [admin1], new Date()), undefined);
  assert.match(app.check('/Channel/Readers', [peer1], new Date())!, /no such policy/);
  assert.equal(policies.group('Application/Org1MSP')!.check('Admins', [admin1], new Date()), undefined);
  assert.equal(policies.group('/Channel/Nope'), undefined);
  for (const bad of [
    '',
    '/Channel',
    '/Channel/',
    '/Other/Readers',
    'Readers/',
    '/Channel/Application/Nope',
  ]) {
    assert.throws(
      () => policies.evaluate(bad, [peer1], new Date()),
      (e: unknown) => e instanceof VerifyError && e.code === 'POLICY' && /no such policy/.test(e.message),
      bad,
    );
  }
  assert.ok(policies.has('/Channel/Orderer/BlockValidation'));
  assert.ok(policies.names().includes('/Channel/Application/Org3MSP/Writers'));
});

test('orderer signature satisfies BlockValidation, a peer signature does not', () => {
  assert.ok(passes('/Channel/Orderer/BlockValidation', [orderer]));
  assert.ok(!passes('/Channel/Orderer/BlockValidation', [peer1]));
  assert.ok(!passes('/Channel/Orderer/BlockValidation', []));
  assert.ok(passes('/Channel/Orderer/BlockValidation', [peer1, orderer]));
  assert.throws(
    () => policies.evaluate('/Channel/Orderer/BlockValidation', [peer1], new Date()),
    /policy \/Channel\/Orderer\/BlockValidation not satisfied: implicit policy ANY Writers: 0 sub-policies were satisfied, but this policy requires 1/,
  );
});

test('signature checks: bad signature, unknown MSP, malformed identity, expiry at `now`', () => {
  const forged = { ...orderer, signature: new Uint8Array(32) };
  assert.ok(!passes('/Channel/Orderer/BlockValidation', [forged]));
  assert.match(
    policies.check('/Channel/Orderer/BlockValidation', [forged], new Date())!,
    /invalid signature by OrdererMSP/,
  );
  const otherData = { ...orderer, data: new TextEncoder().encode('other') };
  assert.ok(!passes('/Channel/Orderer/BlockValidation', [otherData]));
  const stranger = fakeSigned('Org9MSP', 'x', 'peer', DATA);
  assert.match(
    policies.check('/Channel/Application/Readers', [stranger], new Date())!,
    /identity not usable \(unknown MSP Org9MSP\)/,
  );
  assert.ok(
    !passes('/Channel/Application/Readers', [{ ...peer1, identity: new TextEncoder().encode('bad') }]),
  );
  const expiring = fakeSigned('Org1MSP', 'p', 'peer', DATA, Date.UTC(2030, 0, 1));
  assert.ok(passes('/Channel/Application/Readers', [expiring], new Date(Date.UTC(2029, 0, 1))));
  assert.ok(!passes('/Channel/Application/Readers', [expiring], new Date(Date.UTC(2031, 0, 1))));
});

test('cauthdsl: one signature satisfies one principal; duplicates count once; bad-then-good duplicate counts', () => {
  assert.ok(!passes('/Channel/Application/Org1MSP/Pair', [peer1]));
  assert.ok(!passes('/Channel/Application/Org1MSP/Pair', [peer1, peer1]));
  assert.ok(passes('/Channel/Application/Org1MSP/Pair', [peer1, peer1b]));
  assert.match(
    policies.check('/Channel/Application/Org1MSP/Pair', [peer1, peer1], new Date())!,
    /duplicate of an earlier signer/,
  );
  // Fabric marks an identity as seen only after its signature verified.
  const badFirst = { ...peer1, signature: new Uint8Array(8) };
  assert.ok(passes('/Channel/Application/Org1MSP/Pair', [badFirst, peer1, peer1b]));
  assert.ok(!passes('/Channel/Application/Org1MSP/Pair', [peer1, badFirst]));
});

test('cauthdsl: NOutOf evaluates every sub-rule and keeps every signer it used (Fabric quirk)', () => {
  // AND(OR(Org1.member, Org2.member), Org1.peer). The OR does not stop at its first success:
  // it also runs Org2.member and keeps that signer, so signers are consumed greedily.
  const env = parsePolicyDsl("AND(OR('Org1MSP.member', 'Org2MSP.member'), 'Org1MSP.peer')");
  const g = group({
    P: { policy: { type: 1, value: encode(SignaturePolicyEnvelopeSchema, env) } } as ConfigPolicy,
  });
  const p = ChannelPolicies.build(g, new FakeMspManager(msps));
  // OR takes peer1 (first Org1 member) and admin2; nobody is left for Org1MSP.peer.
  assert.notEqual(p.check('P', [peer1, admin2], new Date()), undefined);
  assert.notEqual(p.check('P', [admin2, peer1], new Date()), undefined);
  assert.equal(p.check('P', [peer1, peer1b], new Date()), undefined);
  assert.equal(p.check('P', [admin2, peer1, peer1b], new Date()), undefined);
});

test('ImplicitMeta ANY / ALL / MAJORITY over three orgs', () => {
  assert.ok(!passes('/Channel/Application/Admins', [admin1]));
  assert.ok(passes('/Channel/Application/Admins', [admin1, admin3]));
  assert.ok(!passes('/Channel/Application/Admins', [admin1, peer1, peer1b]));
  assert.ok(!passes('/Channel/Application/AllAdmins', [admin1, admin2]));
  assert.ok(passes('/Channel/Application/AllAdmins', [admin3, admin1, admin2]));
  // /Channel/Admins = MAJORITY of {Application/Admins, Orderer/Admins} = both.
  assert.ok(!passes('/Channel/Admins', [admin1, admin2]));
  const ordererAdmin = fakeSigned('OrdererMSP', 'oadmin', 'admin', DATA);
  assert.ok(passes('/Channel/Admins', [admin1, admin2, ordererAdmin]));
  // A sub-group lacking the sub-policy counts as unsatisfied (and never throws).
  assert.match(
    policies.check('/Channel/Application/Missing', [admin1], new Date())!,
    /Org1MSP\/NoSuchSubPolicy: no such policy/,
  );
});

test('ImplicitMeta over zero sub-groups is satisfied by anything, even no signatures (Fabric threshold 0)', () => {
  assert.ok(passes('/Channel/Empty/AnyReaders', []));
  assert.ok(passes('/Channel/Empty/MajorityAdmins', []));
  assert.ok(passes('/Channel/Empty/AllX', [peer1]));
});

test('principal checks are memoised within one evaluation', () => {
  const m = msps[0];
  const before = m.calls;
  policies.evaluate('/Channel/Application/Org1MSP/Readers', [admin1], new Date());
  const one = m.calls - before;
  assert.ok(one >= 1 && one <= 3);
});

test('malformed policies are ConfigError BAD_POLICY naming the policy and path', () => {
  const bad = (p: ConfigPolicy) => () =>
    ChannelPolicies.build(group({}, { Application: group({ Bad: p }) }), new FakeMspManager([]));
  const isBad = (re: RegExp) => (e: unknown) =>
    e instanceof ConfigError && e.code === 'BAD_POLICY' && re.test(e.message);
  assert.throws(
    bad({ policy: { type: 2, value: new Uint8Array() } } as ConfigPolicy),
    isBad(/policy Bad at path \/Channel\/Application has unknown policy type 2/),
  );
  assert.throws(bad({ policy: undefined } as ConfigPolicy), isBad(/was nil/));
  assert.throws(
    bad({ policy: { type: 1, value: Uint8Array.of(0xff) } } as ConfigPolicy),
    isBad(/did not compile/),
  );
  assert.throws(
    bad({ policy: { type: 3, value: Uint8Array.of(0x0a, 0x05) } } as ConfigPolicy),
    isBad(/did not compile/),
  );
  const outOfRange = encode(SignaturePolicyEnvelopeSchema, {
    rule: { Type: { case: 'signedBy', value: 1 } },
    identities: [],
  });
  assert.throws(
    bad({ policy: { type: 1, value: outOfRange } } as ConfigPolicy),
    isBad(/identity index out of range/),
  );
  const v1 = encode(SignaturePolicyEnvelopeSchema, { ...parsePolicyDsl("OR('A.member')"), version: 1 });
  assert.throws(bad({ policy: { type: 1, value: v1 } } as ConfigPolicy), isBad(/version 1/));
  const noRule = encode(SignaturePolicyEnvelopeSchema, { identities: [] });
  assert.throws(bad({ policy: { type: 1, value: noRule } } as ConfigPolicy), isBad(/empty policy element/));
});

test('evaluate throws only VerifyError POLICY on arbitrary signed data', () => {
  const bytes = fc.uint8Array({ maxLength: 40 });
  const anyId = fc.oneof(bytes, fc.constantFrom(peer1.identity, orderer.identity, admin1.identity));
  const sd = fc.record({
    data: bytes,
    identity: anyId,
    signature: fc.oneof(bytes, fc.constant(peer1.signature)),
  });
  const path = fc.constantFrom(
    '/Channel/Readers',
    '/Channel/Admins',
    '/Channel/Orderer/BlockValidation',
    'Application/Org1MSP/Pair',
    '/x',
    '',
  );
  fc.assert(
    fc.property(path, fc.array(sd, { maxLength: 5 }), (p, signed) => {
      passes(p, signed);
    }),
    { numRuns: 500 },
  );
});
