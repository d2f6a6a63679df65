/**
 * Signature policies (common.SignaturePolicyEnvelope), evaluated as Fabric's cauthdsl.
 *
 * Compile: the rule tree is checked once (version 0, every node has a type, every SignedBy index
 * is within `identities`); a malformed envelope is a ConfigError when the config is parsed.
 * Evaluate over the valid signers of a SignatureSet, with one `used` flag per signer:
 *   SignedBy(i):  the first unused signer that satisfies principal i is marked used -> true.
 *   NOutOf(n, rules): for each rule in order, evaluate it on a copy of `used`; if it holds, count
 *                 it and keep the copy's marks. True when count >= n.
 * So each signature satisfies at most one principal, and the greedy order is Fabric's.
 */
import { ConfigError } from '../base/errors.js';
import { decode } from '../wire/codec.js';
import {
  SignaturePolicyEnvelopeSchema,
  type SignaturePolicy,
  type SignaturePolicyEnvelope,
} from '../wire/gen/common/policies_pb.js';
import type { MSPPrincipal } from '../wire/gen/msp/msp_principal_pb.js';
import type { SignatureSet } from './signature-set.js';
import { formatPolicyDsl } from './policydsl.js';

/** A compiled policy: returns undefined when satisfied, else a one-line reason. */
export interface CompiledPolicy {
  readonly kind: 'signature' | 'implicitMeta' | 'reject';
  check(set: SignatureSet): string | undefined;
}

type Rule = (set: SignatureSet, used: boolean[]) => boolean;

/** Max nesting of NOutOf rules accepted (Fabric has no limit; protobuf decoding bounds it too). */
const MAX_DEPTH = 64;

function compileRule(
  rule: SignaturePolicy | undefined,
  identities: readonly MSPPrincipal[],
  depth: number,
): Rule {
  if (!rule) throw new ConfigError('BAD_POLICY', 'empty policy element');
  if (depth > MAX_DEPTH)
    throw new ConfigError('BAD_POLICY', `signature policy nested deeper than ${MAX_DEPTH}`);
  switch (rule.Type.case) {
    case 'nOutOf': {
      const n = rule.Type.value.n;
      const subs = rule.Type.value.rules.map((r) => compileRule(r, identities, depth + 1));
      return (set, used) => {
        let verified = 0;
        const scratch = used.slice();
        for (const sub of subs) {
          for (let i = 0; i < used.length; i++) scratch[i] = used[i];
          if (sub(set, scratch)) {
            verified++;
            for (let i = 0; i < used.length; i++) used[i] = scratch[i];
          }
        }
        return verified >= n;
      };
    }
    case 'signedBy': {
      const idx = rule.Type.value;
      if (idx < 0 || idx >= identities.length) {
        throw new ConfigError(
          'BAD_POLICY',
          `identity index out of range, requested ${idx}, but identities length is ${identities.length}`,
        );
      }
      const principal = identities[idx];
      return (set, used) => {
        const n = set.signers().length;
        for (let i = 0; i < n; i++) {
          if (used[i]) continue;
          if (set.satisfies(i, principal)) {
            used[i] = true;
            return true;
          }
        }
        return false;
      };
    }
    default:
      throw new ConfigError('BAD_POLICY', 'signature policy element has no type');
  }
}

export class SignaturePolicyImpl implements CompiledPolicy {
  readonly kind = 'signature' as const;
  private readonly rule: Rule;
  private readonly text: string;

  constructor(readonly envelope: SignaturePolicyEnvelope) {
    if (envelope.version !== 0) {
      throw new ConfigError(
        'BAD_POLICY',
        `signature policy version ${envelope.version} is not supported (only version 0)`,
      );
    }
    this.rule = compileRule(envelope.rule, envelope.identities, 0);
    this.text = formatPolicyDsl(envelope);
  }

  static fromBytes(bytes: Uint8Array): SignaturePolicyImpl {
    return new SignaturePolicyImpl(
      decode(SignaturePolicyEnvelopeSchema, bytes, 'common.SignaturePolicyEnvelope'),
    );
  }

  check(set: SignatureSet): string | undefined {
    const used = new Array<boolean>(set.signers().length).fill(false);
    if (this.rule(set, used)) return undefined;
    return `signature set did not satisfy ${this.text} (${set.describe()})`;
  }
}
