/**
 * The policy tree of a channel and its evaluator (Fabric's policies.ManagerImpl + ImplicitMeta).
 *
 * Build, per config group (root path "Channel"), children first:
 *   - SIGNATURE policies compile as cauthdsl (signature-policy.ts); IMPLICIT_META as below;
 *     any other type, a nil policy or an undecodable one -> ConfigError BAD_POLICY;
 *   - every sub-group's policies are also registered here as "<group>/<name>" (recursively), so
 *     "/Channel/Application/Org1MSP/Readers" resolves from the root.
 * ImplicitMeta(rule, sub): one sub-policy per direct sub-group, looked up by relative name (a
 *   missing one always fails). Threshold: ANY 1, ALL count, MAJORITY floor(count/2)+1; with
 *   ZERO sub-groups the threshold is 0 and the policy is satisfied by anything (even no
 *   signatures) -- Fabric v2.4.9 common/policies/implicitmeta.go; an unknown rule value also
 *   leaves the threshold at 0 (same source). Satisfied when at least threshold sub-policies are.
 * Lookup: "/Channel/..." must start with "/" + the group's path + "/"; anything else not starting
 *   with "/" is relative to the group. An unknown name -> VerifyError POLICY "no such policy".
 */
import { ConfigError, GrapevineError, VerifyError, errorMessage } from '../base/errors.js';
import { decode } from '../wire/codec.js';
import type { ConfigGroup } from '../wire/gen/common/configtx_pb.js';
import {
  ImplicitMetaPolicySchema,
  ImplicitMetaPolicy_Rule,
  Policy_PolicyType,
} from '../wire/gen/common/policies_pb.js';
import type { MspManager, PolicyEvaluator, SignedData } from '../identity/types.js';
import { SignatureSet } from './signature-set.js';
import { SignaturePolicyImpl, type CompiledPolicy } from './signature-policy.js';
import { byCodeUnits } from '../base/order.js';

export const ROOT_GROUP = 'Channel';
const MAX_GROUP_DEPTH = 16;

class RejectPolicy implements CompiledPolicy {
  readonly kind = 'reject' as const;
  constructor(private readonly name: string) {}
  check(): string {
    return `no such policy: '${this.name}'`;
  }
}

class ImplicitMetaPolicyImpl implements CompiledPolicy {
  readonly kind = 'implicitMeta' as const;
  readonly threshold: number;
  private readonly subs: { group: string; policy: CompiledPolicy }[];

  constructor(
    readonly rule: ImplicitMetaPolicy_Rule,
    readonly subPolicy: string,
    groups: ReadonlyMap<string, PolicyGroup>,
  ) {
    this.subs = [...groups].map(([group, mgr]) => ({
      group,
      policy: mgr.lookup(subPolicy) ?? new RejectPolicy(subPolicy),
    }));
    const count = this.subs.length;
    let threshold = 0;
    if (rule === ImplicitMetaPolicy_Rule.ANY) threshold = 1;
    else if (rule === ImplicitMetaPolicy_Rule.ALL) threshold = count;
    else if (rule === ImplicitMetaPolicy_Rule.MAJORITY) threshold = Math.floor(count / 2) + 1;
    this.threshold = count === 0 ? 0 : threshold;
  }

  check(set: SignatureSet): string | undefined {
    let satisfied = 0;
    if (satisfied >= this.threshold) return undefined;
    const failures: string[] = [];
    for (const { group, policy } of this.subs) {
      const why = policy.check(set);
      if (why === undefined) {
        satisfied++;
        if (satisfied >= this.threshold) return undefined;
      } else {
        failures.push(`${group}/${this.subPolicy}: ${why}`);
      }
    }
    const rule = ImplicitMetaPolicy_Rule[this.rule] ?? String(this.rule);
    return (
      `implicit policy ${rule} ${this.subPolicy}: ${satisfied} sub-policies were satisfied, but this policy ` +
      `requires ${this.threshold} of the '${this.subPolicy}' sub-policies [${failures.join(' | ')}]`
    );
  }
}

/** One config group's policies (its own and its sub-groups' as "<group>/<name>"). */
export class PolicyGroup {
  readonly policies = new Map<string, CompiledPolicy>();
  readonly groups = new Map<string, PolicyGroup>();

  constructor(
    readonly path: string,
    group: ConfigGroup,
    depth = 0,
  ) {
    if (depth > MAX_GROUP_DEPTH)
      throw new ConfigError('BAD_CONFIG', `config groups nested deeper than ${MAX_GROUP_DEPTH} at ${path}`);
    for (const [name, sub] of Object.entries(group.groups).sort(([a], [b]) => byCodeUnits(a, b))) {
      this.groups.set(name, new PolicyGroup(`${path}/${name}`, sub, depth + 1));
    }
    for (const [name, cp] of Object.entries(group.policies)) {
      this.policies.set(name, this.compile(name, cp.policy));
    }
    for (const [gname, mgr] of this.groups) {
      for (const [pname, p] of mgr.policies) this.policies.set(`${gname}/${pname}`, p);
    }
  }

  private compile(name: string, policy: { type: number; value: Uint8Array } | undefined): CompiledPolicy {
    const where = `policy ${name} at path /${this.path}`;
    if (!policy) throw new ConfigError('BAD_POLICY', `${where} was nil`);
    try {
      if (policy.type === Policy_PolicyType.IMPLICIT_META) {
        const def = decode(ImplicitMetaPolicySchema, policy.value, 'common.ImplicitMetaPolicy');
        return new ImplicitMetaPolicyImpl(def.rule, def.subPolicy, this.groups);
      }
      if (policy.type === Policy_PolicyType.SIGNATURE) return SignaturePolicyImpl.fromBytes(policy.value);
    } catch (e) {
      if (e instanceof GrapevineError)
        throw new ConfigError('BAD_POLICY', `${where} did not compile: ${e.message}`, { cause: e });
      throw e;
    }
    throw new ConfigError('BAD_POLICY', `${where} has unknown policy type ${policy.type}`);
  }

  /** Relative name ("Readers", "Org1MSP/Readers") or absolute ("/Channel/Application/Readers"). */
  lookup(id: string): CompiledPolicy | undefined {
    if (id === '') return undefined;
    let rel = id;
    if (id.startsWith('/')) {
      const prefix = `/${this.path}/`;
      if (!id.startsWith(prefix)) return undefined;
      rel = id.slice(prefix.length);
    }
    return this.policies.get(rel);
  }

  /** The sub-group at a relative path (["Application", "Org1MSP"]). */
  subGroup(path: readonly string[]): PolicyGroup | undefined {
    if (path.length === 0) return this;
    const next = this.groups.get(path[0]);
    return next?.subGroup(path.slice(1));
  }
}

/** A channel's PolicyEvaluator rooted at one group ("/Channel" for the channel itself). */
export class ChannelPolicies implements PolicyEvaluator {
  constructor(
    private readonly root: PolicyGroup,
    private readonly msps: MspManager,
  ) {}

  static build(channelGroup: ConfigGroup, msps: MspManager): ChannelPolicies {
    return new ChannelPolicies(new PolicyGroup(ROOT_GROUP, channelGroup), msps);
  }

  /** The path of this evaluator's group, e.g. "/Channel/Application". */
  get path(): string {
    return `/${this.root.path}`;
  }

  /** Every policy name resolvable here, as absolute paths, sorted. */
  names(): string[] {
    return [...this.root.policies.keys()].map((k) => `${this.path}/${k}`).sort();
  }

  has(policyPath: string): boolean {
    return this.root.lookup(policyPath) !== undefined;
  }

  /** An evaluator for a sub-group ("Application", "/Channel/Application/Org1MSP"); undefined if absent. */
  group(path: string): ChannelPolicies | undefined {
    let rel = path;
    if (path.startsWith('/')) {
      if (path === this.path) return this;
      if (!path.startsWith(`${this.path}/`)) return undefined;
      rel = path.slice(this.path.length + 1);
    }
    const g = this.root.subGroup(rel.split('/').filter((s) => s !== ''));
    return g ? new ChannelPolicies(g, this.msps) : undefined;
  }

  evaluate(policyPath: string, signed: readonly SignedData[], now: Date): void {
    const reason = this.check(policyPath, signed, now);
    if (reason !== undefined) throw new VerifyError('POLICY', reason);
  }

  /** Like evaluate, but returns the failure reason (undefined when satisfied) instead of throwing. */
  check(policyPath: string, signed: readonly SignedData[], now: Date): string | undefined {
    const policy = this.root.lookup(policyPath);
    const name = policyPath.startsWith('/') ? policyPath : `${this.path}/${policyPath}`;
    if (!policy) return `no such policy: '${name}'`;
    try {
      const why = policy.check(new SignatureSet(signed, this.msps, now));
      return why === undefined ? undefined : `policy ${name} not satisfied: ${why}`;
    } catch (e) {
      return `policy ${name} could not be evaluated: ${errorMessage(e)}`;
    }
  }
}
