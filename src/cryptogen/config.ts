/**
 * cryptogen's crypto-config.yaml: the schema (same keys as Fabric's cryptogen, validated with
 * zod) and `parseCryptoConfig`, which turns YAML text into a `CryptoConfig` or a ConfigError that
 * names the key and what to fix. Templates ({{.Hostname}} ...) are expanded by render.ts;
 * parseCryptoConfig runs that expansion once so that template mistakes are reported at parse time.
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../base/errors.js';
import { renderCryptoConfig } from './render.js';

/** A YAML scalar used as a string (SANS such as 127.0.0.1 may arrive as strings or numbers). */
const scalar = z.union([z.string(), z.number()]).transform((v) => String(v));

/** `ecdsa` is the only key algorithm we produce (cryptogen v2.4's only one too). */
const keyAlgorithm = z
  .string()
  .refine((v) => v === '' || v.toLowerCase() === 'ecdsa', {
    message: 'only "ecdsa" (ECDSA P-256) is supported',
  })
  .nullish();

/** A boolean, also in YAML 1.1 spellings (yes/no/on/off/y/n), which Go's yaml.v2 accepts. */
const yaml11Bool = z.union([
  z.boolean(),
  z
    .string()
    .regex(/^(y|yes|n|no|on|off|true|false)$/i, 'must be true or false')
    .transform((v) => /^(y|yes|on|true)$/i.test(v)),
]);

const count = z.number().int().min(0, 'must be 0 or more').max(10_000, 'must be at most 10000');

export const NodeSpecSchema = z.strictObject({
  Hostname: scalar.nullish(),
  CommonName: z.string().nullish(),
  Country: z.string().nullish(),
  Province: z.string().nullish(),
  Locality: z.string().nullish(),
  OrganizationalUnit: z.string().nullish(),
  StreetAddress: z.string().nullish(),
  PostalCode: scalar.nullish(),
  SANS: z.array(scalar).nullish(),
  PublicKeyAlgorithm: keyAlgorithm,
});

export const NodeTemplateSchema = z.strictObject({
  Count: count.nullish(),
  Start: z.number().int().min(0, 'must be 0 or more').nullish(),
  Hostname: z.string().nullish(),
  SANS: z.array(scalar).nullish(),
  PublicKeyAlgorithm: keyAlgorithm,
});

export const UsersSpecSchema = z.strictObject({
  Count: count.nullish(),
  PublicKeyAlgorithm: keyAlgorithm,
});

export const OrgSpecSchema = z.strictObject({
  Name: scalar.nullish(),
  Domain: z
    .string({ error: 'is required: the org\'s DNS domain, e.g. "org1.example.com"' })
    .min(1, 'must not be empty: the org\'s DNS domain, e.g. "org1.example.com"'),
  EnableNodeOUs: yaml11Bool.nullish(),
  CA: NodeSpecSchema.nullish(),
  Template: NodeTemplateSchema.nullish(),
  Specs: z.array(NodeSpecSchema).nullish(),
  Users: UsersSpecSchema.nullish(),
});

export const CryptoConfigSchema = z.strictObject({
  OrdererOrgs: z.array(OrgSpecSchema).nullish(),
  PeerOrgs: z.array(OrgSpecSchema).nullish(),
});

export type NodeSpec = z.input<typeof NodeSpecSchema>;
export type NodeTemplate = z.input<typeof NodeTemplateSchema>;
export type UsersSpec = z.input<typeof UsersSpecSchema>;
export type OrgSpec = z.output<typeof OrgSpecSchema>;
/** A validated crypto-config.yaml (keys exactly as in cryptogen's file). */
export type CryptoConfig = z.output<typeof CryptoConfigSchema>;

const KNOWN_KEYS = [
  ...Object.keys(CryptoConfigSchema.shape),
  ...Object.keys(OrgSpecSchema.shape),
  ...Object.keys(NodeSpecSchema.shape),
  ...Object.keys(NodeTemplateSchema.shape),
];

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${formatPath(issue.path)}: ` : '';
    const keys = issue.keys.map((k) => {
      const known = KNOWN_KEYS.find((c) => c.toLowerCase() === k.toLowerCase());
      return known ? `"${k}" (did you mean "${known}"? keys are case-sensitive)` : `"${k}"`;
    });
    return `${where}unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/**
 * Validate an already-parsed object (for callers that build the config in code, such as the
 * test helpers). Throws ConfigError (code CRYPTO_CONFIG_INVALID).
 */
export function validateCryptoConfig(value: unknown, source = 'crypto config'): CryptoConfig {
  const res = CryptoConfigSchema.safeParse(value ?? {});
  if (!res.success) {
    const lines = res.error.issues.slice(0, 10).map(issueText);
    throw new ConfigError('CRYPTO_CONFIG_INVALID', `${source}: ${lines.join('; ')}`);
  }
  const config = res.data;
  if ((config.OrdererOrgs?.length ?? 0) + (config.PeerOrgs?.length ?? 0) === 0) {
    throw new ConfigError(
      'CRYPTO_CONFIG_INVALID',
      `${source}: no organizations: add a PeerOrgs or OrdererOrgs list with at least one org (Name, Domain)`,
    );
  }
  renderCryptoConfig(config, source); // reports template and naming mistakes now
  return config;
}

/**
 * Parse crypto-config.yaml text. `source` (e.g. the file name) prefixes every error message.
 * Throws ConfigError with code CRYPTO_CONFIG_YAML (not YAML) or CRYPTO_CONFIG_INVALID.
 */
export function parseCryptoConfig(yamlText: string, source = 'crypto-config.yaml'): CryptoConfig {
  const doc = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // With prettyErrors the first line reads "<problem> at line L, column C:".
    const first = doc.errors[0].message.split('\n')[0].replace(/:$/, '');
    throw new ConfigError('CRYPTO_CONFIG_YAML', `${source}: not valid YAML: ${first}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError('CRYPTO_CONFIG_YAML', `${source}: not valid YAML: ${(e as Error).message}`);
  }
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ConfigError(
      'CRYPTO_CONFIG_INVALID',
      `${source}: expected a mapping with OrdererOrgs and/or PeerOrgs`,
    );
  }
  return validateCryptoConfig(value, source);
}
