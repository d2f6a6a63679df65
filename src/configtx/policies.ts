/**
 * configtx.yaml policies -> ConfigPolicy entries, as configtxgen's encoder writes them:
 * - every group that has policies must define Admins, Readers and Writers (the Orderer group
 *   also BlockValidation);
 * - `Type: Signature` -> Policy{type SIGNATURE, value SignaturePolicyEnvelope from the policy
 *   DSL ("OR('Org1MSP.admin', ...)")};
 * - `Type: ImplicitMeta` -> Policy{type IMPLICIT_META, value ImplicitMetaPolicy}; the rule is
 *   exactly two tokens separated by one space: ANY|ALL|MAJORITY and the sub-policy name;
 * - every policy's mod_policy is the given one ("Admins").
 */
import { create } from '@bufbuild/protobuf';
import { parsePolicyDsl } from '../channelconfig/index.js';
import { encode } from '../wire/codec.js';
import { ConfigPolicySchema, type ConfigPolicy } from '../wire/gen/common/configtx_pb.js';
import {
  ImplicitMetaPolicySchema,
  ImplicitMetaPolicy_Rule,
  Policy_PolicyType,
  SignaturePolicyEnvelopeSchema,
} from '../wire/gen/common/policies_pb.js';
import { errorMessage } from '../base/errors.js';
import type { Reader } from './reader.js';
import type { PolicyMap } from './types.js';

const RULES: Record<string, ImplicitMetaPolicy_Rule> = {
  ANY: ImplicitMetaPolicy_Rule.ANY,
  ALL: ImplicitMetaPolicy_Rule.ALL,
  MAJORITY: ImplicitMetaPolicy_Rule.MAJORITY,
};

/** The encoded ImplicitMetaPolicy of a rule such as "MAJORITY Admins"; throws a message on a bad rule. */
export function implicitMetaValue(rule: string): Uint8Array {
  const args = rule.split(' ');
  if (args.length !== 2) throw new Error(`expected two space separated tokens, but got ${args.length}`);
  const r = RULES[args[0]];
  if (r === undefined) throw new Error(`unknown rule type '${args[0]}', expected ALL, ANY, or MAJORITY`);
  return encode(ImplicitMetaPolicySchema, { subPolicy: args[1], rule: r });
}

export function buildPolicies(
  r: Reader,
  policies: PolicyMap | undefined,
  where: string,
  modPolicy: string,
  required: readonly string[] = ['Admins', 'Readers', 'Writers'],
): Map<string, ConfigPolicy> {
  if (policies === undefined) r.fail(where, 'no policies defined', 'CONFIGTX_POLICY');
  for (const name of required) {
    if (!policies.has(name)) r.fail(where, `no ${name} policy defined`, 'CONFIGTX_POLICY');
  }
  const out = new Map<string, ConfigPolicy>();
  for (const [name, p] of policies) {
    const pw = `${where}.${name}`;
    let type: Policy_PolicyType;
    let value: Uint8Array;
    if (p.type === 'ImplicitMeta') {
      type = Policy_PolicyType.IMPLICIT_META;
      try {
        value = implicitMetaValue(p.rule);
      } catch (e) {
        r.fail(pw, `invalid implicit meta policy rule '${p.rule}': ${errorMessage(e)}`, 'CONFIGTX_POLICY');
      }
    } else if (p.type === 'Signature') {
      type = Policy_PolicyType.SIGNATURE;
      try {
        value = encode(SignaturePolicyEnvelopeSchema, parsePolicyDsl(p.rule));
      } catch (e) {
        r.fail(pw, `invalid signature policy rule '${p.rule}': ${errorMessage(e)}`, 'CONFIGTX_POLICY');
      }
    } else {
      r.fail(
        `${pw}.Type`,
        `unknown policy type: '${p.type}' (expected Signature or ImplicitMeta)`,
        'CONFIGTX_POLICY',
      );
    }
    out.set(name, create(ConfigPolicySchema, { modPolicy, policy: { type, value } }));
  }
  return out;
}
