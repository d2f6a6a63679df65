/**
 * Fabric's signature-policy DSL -> common.SignaturePolicyEnvelope, producing the same bytes as
 * Fabric's policydsl (what configtxgen embeds in a channel config).
 *
 * Grammar: gate '(' args ')', gate = AND|And|and, OR|Or|or, OUTOF|OutOf|outof.
 *   AND(a, b, ...) = OutOf(count, a, b, ...); OR(a, ...) = OutOf(1, a, ...);
 *   OutOf(n, a, ...) with n an integer literal (or quoted, '2'), 0 <= n <= count + 1 (Fabric's bound).
 *   An argument is a gate or a quoted principal 'MSPID.role' (single or double quotes),
 *   MSPID = [A-Za-z0-9.-]+, role = member | admin | client | peer | orderer.
 * Principals are NOT de-duplicated: every occurrence gets its own entry in `identities`.
 * Numbering is Fabric's evaluation order: for each gate, the principals of its nested gates are
 * numbered first (nested gates left to right, recursively), then the gate's own quoted
 * principals left to right. E.g. OR('A.member', AND('B.member', 'C.member')) ->
 * identities [B, C, A], rule OutOf(1, [SignedBy(2), OutOf(2, [SignedBy(0), SignedBy(1)])]).
 */
import { create } from '@bufbuild/protobuf';
import { ConfigError } from '../base/errors.js';
import { decode, encode } from '../wire/codec.js';
import {
  SignaturePolicyEnvelopeSchema,
  SignaturePolicySchema,
  type SignaturePolicy,
  type SignaturePolicyEnvelope,
} from '../wire/gen/common/policies_pb.js';
import {
  MSPPrincipalSchema,
  MSPPrincipal_Classification,
  MSPRoleSchema,
  MSPRole_MSPRoleType,
  OrganizationUnitSchema,
  type MSPPrincipal,
} from '../wire/gen/msp/msp_principal_pb.js';

const ROLES: Record<string, MSPRole_MSPRoleType> = {
  member: MSPRole_MSPRoleType.MEMBER,
  admin: MSPRole_MSPRoleType.ADMIN,
  client: MSPRole_MSPRoleType.CLIENT,
  peer: MSPRole_MSPRoleType.PEER,
  orderer: MSPRole_MSPRoleType.ORDERER,
};
const PRINCIPAL_RE = /^([A-Za-z0-9.-]+)\.(admin|member|client|peer|orderer)$/;
const GATES: Record<string, 'and' | 'or' | 'outof'> = {
  AND: 'and',
  And: 'and',
  and: 'and',
  OR: 'or',
  Or: 'or',
  or: 'or',
  OUTOF: 'outof',
  OutOf: 'outof',
  outof: 'outof',
};
const MAX_DEPTH = 64;

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: '(' | ')' | ','; at: number };

interface Gate {
  n: number;
  args: (string | Gate)[];
}

function fail(text: string, msg: string): never {
  throw new ConfigError('POLICY_DSL', `policy '${text}': ${msg}`);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c, at: i });
      i++;
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail(text, `unterminated string at ${i}`);
      out.push({ t: 'str', v: text.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      const m = /^(?:\d+(?:\.\d*)?|[A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (!m) fail(text, `unexpected character '${c}' at ${i}`);
      const word = m[0];
      out.push(
        /^\d/.test(word) ? { t: 'num', v: Math.trunc(Number(word)), at: i } : { t: 'ident', v: word, at: i },
      );
      i += word.length;
    }
  }
  return out;
}

function parseGate(text: string, toks: Token[], pos: { i: number }, depth: number): Gate {
  if (depth > MAX_DEPTH) fail(text, `nested deeper than ${MAX_DEPTH}`);
  const head = toks[pos.i];
  if (!head || head.t !== 'ident') fail(text, `expected AND, OR or OutOf at ${head?.at ?? text.length}`);
  const kind = GATES[head.v];
  if (!kind) fail(text, `unrecognized token '${head.v}'`);
  pos.i++;
  if (toks[pos.i]?.t !== '(') fail(text, `expected '(' after ${head.v}`);
  pos.i++;
  const raw: (number | string | Gate)[] = [];
  for (;;) {
    const tok = toks[pos.i];
    if (!tok) fail(text, `missing ')' for ${head.v}`);
    if (tok.t === ')' && raw.length === 0) break;
    if (tok.t === 'num') {
      raw.push(tok.v);
      pos.i++;
    } else if (tok.t === 'str') {
      // Fabric also takes a quoted number as OutOf's threshold: OutOf('1', ...)
      const quotedN = kind === 'outof' && raw.length === 0 && /^\d+$/.test(tok.v);
      if (!quotedN && !PRINCIPAL_RE.test(tok.v))
        fail(text, `unrecognized token '${tok.v}' (expected 'MSPID.role')`);
      raw.push(quotedN ? Number(tok.v) : tok.v);
      pos.i++;
    } else if (tok.t === 'ident') {
      raw.push(parseGate(text, toks, pos, depth + 1));
    } else {
      fail(text, `unexpected '${tok.t}' at ${tok.at}`);
    }
    const sep = toks[pos.i];
    if (sep?.t === ',') {
      pos.i++;
      continue;
    }
    if (sep?.t === ')') break;
    fail(text, `expected ',' or ')' at ${sep?.at ?? text.length}`);
  }
  pos.i++; // ')'
  let n: number;
  let args: (number | string | Gate)[];
  if (kind === 'outof') {
    if (raw.length < 2) fail(text, `expected at least two arguments to OutOf, given ${raw.length}`);
    if (typeof raw[0] !== 'number') fail(text, 'the first argument of OutOf must be a number');
    n = raw[0];
    args = raw.slice(1);
  } else {
    if (raw.length < 1) fail(text, `${head.v}() needs at least one argument`);
    n = kind === 'or' ? 1 : raw.length;
    args = raw;
  }
  for (const a of args) if (typeof a === 'number') fail(text, `unexpected number ${a} among principals`);
  if (n < 0 || n > args.length + 1) fail(text, `invalid t-out-of-n predicate, t ${n}, n ${args.length}`);
  return { n, args: args as (string | Gate)[] };
}

function rolePrincipal(text: string): MSPPrincipal {
  const m = PRINCIPAL_RE.exec(text)!;
  return create(MSPPrincipalSchema, {
    principalClassification: MSPPrincipal_Classification.ROLE,
    principal: encode(MSPRoleSchema, { mspIdentifier: m[1], role: ROLES[m[2]] }),
  });
}

/** Builds the rule of `gate`, numbering principals in Fabric's order (nested gates first). */
function build(gate: Gate, identities: MSPPrincipal[]): SignaturePolicy {
  const nested = new Map<Gate, SignaturePolicy>();
  for (const a of gate.args) if (typeof a !== 'string') nested.set(a, build(a, identities));
  const rules = gate.args.map((a) => {
    if (typeof a !== 'string') return nested.get(a)!;
    identities.push(rolePrincipal(a));
    return create(SignaturePolicySchema, { Type: { case: 'signedBy', value: identities.length - 1 } });
  });
  return create(SignaturePolicySchema, { Type: { case: 'nOutOf', value: { n: gate.n, rules } } });
}

/** Parse a policy such as `OR('Org1MSP.admin', 'Org1MSP.peer')`; ConfigError code POLICY_DSL. */
export function parsePolicyDsl(text: string): SignaturePolicyEnvelope {
  const toks = tokenize(text);
  const pos = { i: 0 };
  const gate = parseGate(text, toks, pos, 0);
  if (pos.i !== toks.length) fail(text, `unexpected trailing input at ${toks[pos.i].at}`);
  const identities: MSPPrincipal[] = [];
  const rule = build(gate, identities);
  return create(SignaturePolicyEnvelopeSchema, { version: 0, rule, identities });
}

function formatPrincipal(p: MSPPrincipal | undefined): string {
  if (!p) return '<missing>';
  try {
    switch (p.principalClassification) {
      case MSPPrincipal_Classification.ROLE: {
        const r = decode(MSPRoleSchema, p.principal);
        const name = Object.keys(ROLES).find((k) => ROLES[k] === r.role) ?? `role${r.role}`;
        return `'${r.mspIdentifier}.${name}'`;
      }
      case MSPPrincipal_Classification.ORGANIZATION_UNIT: {
        const ou = decode(OrganizationUnitSchema, p.principal);
        return `<OU ${ou.mspIdentifier}:${ou.organizationalUnitIdentifier}>`;
      }
      case MSPPrincipal_Classification.IDENTITY:
        return '<IDENTITY>';
      default:
        return `<principal type ${p.principalClassification}>`;
    }
  } catch {
    return '<malformed principal>';
  }
}

function formatRule(rule: SignaturePolicy | undefined, ids: readonly MSPPrincipal[], depth: number): string {
  if (!rule || depth > MAX_DEPTH) return '<invalid>';
  if (rule.Type.case === 'signedBy') return formatPrincipal(ids[rule.Type.value]);
  if (rule.Type.case !== 'nOutOf') return '<invalid>';
  const { n, rules } = rule.Type.value;
  const inner = rules.map((r) => formatRule(r, ids, depth + 1)).join(', ');
  if (n === 1 && rules.length >= 1) return `OR(${inner})`;
  if (n === rules.length && rules.length >= 1) return `AND(${inner})`;
  return rules.length > 0 ? `OutOf(${n}, ${inner})` : `OutOf(${n})`;
}

/** Human-readable DSL form of an envelope (ROLE principals round-trip through parsePolicyDsl). */
export function formatPolicyDsl(env: SignaturePolicyEnvelope): string {
  return formatRule(env.rule, env.identities, 0);
}
