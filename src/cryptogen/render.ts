/**
 * Expands a CryptoConfig into the concrete list of identities to issue, as cryptogen does:
 *   - Template {Count, Start, Hostname} adds nodes named "{{.Prefix}}{{.Index}}" (prefix "peer"
 *     or "orderer", index Start..Start+Count-1) after the explicit Specs;
 *   - a node's CommonName is "{{.Hostname}}.{{.Domain}}" unless given (itself a template);
 *   - a node's TLS SANs are CommonName, Hostname, then its SANS (templates over Hostname, Domain,
 *     CommonName), then localhost and 127.0.0.1 when missing (Grapevine runs nodes on loopback);
 *   - the CA is the spec CA (Hostname "ca" by default); the TLS CA's CN is "tls" + the CA's CN;
 *   - peer orgs get users User1..UserN then Admin; orderer orgs get Admin only (as cryptogen).
 * Only {{.Name}} substitutions (with optional {{- -}} trimming) are supported, not Go's full
 * template language; anything else is a ConfigError.
 */
import { ConfigError } from '../base/errors.js';
import type { CryptoConfig, NodeSpec, OrgSpec } from './config.js';

export type OrgKind = 'peer' | 'orderer';

export interface CaSubject {
  commonName: string;
  country: string;
  province: string;
  locality: string;
  organizationalUnit?: string;
  streetAddress?: string;
  postalCode?: string;
}

export interface ResolvedNode {
  /** Directory name and certificate CN, e.g. peer0.org1.example.com. */
  commonName: string;
  hostname: string;
  /** TLS subject alternative names in order (DNS names and IP addresses). */
  sans: string[];
}

export interface ResolvedOrg {
  kind: OrgKind;
  name: string;
  domain: string;
  nodeOUs: boolean;
  ca: CaSubject;
  nodes: ResolvedNode[];
  /** User CNs in cryptogen's order; the admin's CN is `admin`. */
  users: string[];
  admin: string;
}

const LOOPBACK_SANS = ['localhost', '127.0.0.1'];

/** Expand `{{.Key}}` placeholders; `where` names the config key for error messages. */
export function renderTemplate(
  template: string,
  data: Record<string, string | number>,
  where: string,
): string {
  let out = '';
  let i = 0;
  let trimNext = false;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    let literal = open < 0 ? template.slice(i) : template.slice(i, open);
    if (trimNext) literal = literal.trimStart();
    if (open < 0) {
      out += literal;
      break;
    }
    const close = template.indexOf('}}', open + 2);
    if (close < 0)
      throw new ConfigError('CRYPTO_CONFIG_TEMPLATE', `${where}: unterminated "{{" in "${template}"`);
    let action = template.slice(open + 2, close);
    const trimLeft = /^-\s/.test(action);
    const trimRight = /\s-$/.test(action);
    if (trimLeft) action = action.slice(1);
    if (trimRight) action = action.slice(0, -1);
    out += literal;
    if (trimLeft) out = out.trimEnd();
    const m = /^\s*\.([A-Za-z]+)\s*$/.exec(action);
    if (!m || !(m[1] in data)) {
      const allowed = Object.keys(data)
        .map((k) => `{{.${k}}}`)
        .join(', ');
      throw new ConfigError(
        'CRYPTO_CONFIG_TEMPLATE',
        `${where}: unsupported template "{{${template.slice(open + 2, close)}}}" in "${template}" (allowed here: ${allowed})`,
      );
    }
    out += String(data[m[1]]);
    trimNext = trimRight;
    i = close + 2;
  }
  return out;
}

/** A name used as a directory: no separators, not "." or "..", printable. */
function checkPathName(name: string, where: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || /[/\\\x00-\x1f]/.test(name)) {
    throw new ConfigError(
      'CRYPTO_CONFIG_INVALID',
      `${where}: "${name}" cannot be used as a folder name (empty, "." or "..", or contains "/", "\\" or control characters)`,
    );
  }
}

function resolveNode(spec: NodeSpec, domain: string, where: string, addLoopback: boolean): ResolvedNode {
  const hostname = spec.Hostname == null ? '' : String(spec.Hostname);
  if (hostname === '')
    throw new ConfigError('CRYPTO_CONFIG_INVALID', `${where}.Hostname: is required (e.g. "peer0")`);
  const base = { Hostname: hostname, Domain: domain };
  const commonName = renderTemplate(
    spec.CommonName || '{{.Hostname}}.{{.Domain}}',
    base,
    `${where}.CommonName`,
  );
  checkPathName(commonName, `${where}.CommonName`);
  const data = { ...base, CommonName: commonName };
  const sans: string[] = [commonName, hostname];
  (spec.SANS ?? []).forEach((s, k) => sans.push(renderTemplate(String(s), data, `${where}.SANS[${k}]`)));
  if (addLoopback) sans.push(...LOOPBACK_SANS);
  return { commonName, hostname, sans: [...new Set(sans.filter((s) => s !== ''))] };
}

function resolveOrg(org: OrgSpec, kind: OrgKind, where: string): ResolvedOrg {
  const domain = org.Domain;
  checkPathName(domain, `${where}.Domain`);
  const specs: { spec: NodeSpec; where: string }[] = (org.Specs ?? []).map((spec, k) => ({
    spec,
    where: `${where}.Specs[${k}]`,
  }));
  const tpl = org.Template;
  const start = tpl?.Start ?? 0;
  for (let k = 0; k < (tpl?.Count ?? 0); k++) {
    const tw = `${where}.Template`;
    const hostname = renderTemplate(
      tpl?.Hostname || '{{.Prefix}}{{.Index}}',
      { Prefix: kind, Index: start + k, Domain: domain },
      `${tw}.Hostname`,
    );
    specs.push({ spec: { Hostname: hostname, SANS: tpl?.SANS }, where: `${tw} (node ${start + k})` });
  }
  const nodes = specs.map((s) => resolveNode(s.spec, domain, s.where, true));
  const seen = new Map<string, string>();
  for (let k = 0; k < nodes.length; k++) {
    const prev = seen.get(nodes[k].commonName);
    if (prev !== undefined) {
      throw new ConfigError(
        'CRYPTO_CONFIG_INVALID',
        `${specs[k].where}: node "${nodes[k].commonName}" is already defined by ${prev}; give it another Hostname`,
      );
    }
    seen.set(nodes[k].commonName, specs[k].where);
  }

  const caSpec = org.CA ?? {};
  const caNode = resolveNode({ ...caSpec, Hostname: caSpec.Hostname || 'ca' }, domain, `${where}.CA`, false);
  const ca: CaSubject = {
    commonName: caNode.commonName,
    country: caSpec.Country || 'US',
    province: caSpec.Province || 'California',
    locality: caSpec.Locality || 'San Francisco',
  };
  if (caSpec.OrganizationalUnit) ca.organizationalUnit = caSpec.OrganizationalUnit;
  if (caSpec.StreetAddress) ca.streetAddress = caSpec.StreetAddress;
  if (caSpec.PostalCode != null && String(caSpec.PostalCode) !== '')
    ca.postalCode = String(caSpec.PostalCode);

  const admin = `Admin@${domain}`;
  const users: string[] = [];
  if (kind === 'peer') for (let j = 1; j <= (org.Users?.Count ?? 0); j++) users.push(`User${j}@${domain}`);
  users.push(admin);
  for (const u of users) {
    if (seen.has(u))
      throw new ConfigError('CRYPTO_CONFIG_INVALID', `${where}: node "${u}" has the same name as a user`);
  }
  return {
    kind,
    name: org.Name == null ? domain : String(org.Name),
    domain,
    nodeOUs: org.EnableNodeOUs ?? false,
    ca,
    nodes,
    users,
    admin,
  };
}

/** Expand templates and defaults; throws ConfigError naming the key at fault. */
export function renderCryptoConfig(config: CryptoConfig, source = 'crypto config'): ResolvedOrg[] {
  const out: ResolvedOrg[] = [];
  const domains = new Map<string, string>();
  const lists: [OrgKind, string, OrgSpec[]][] = [
    ['peer', 'PeerOrgs', config.PeerOrgs ?? []],
    ['orderer', 'OrdererOrgs', config.OrdererOrgs ?? []],
  ];
  for (const [kind, key, orgs] of lists) {
    orgs.forEach((org, k) => {
      const where = `${key}[${k}]`;
      const resolved = resolveOrg(org, kind, `${source}: ${where}`);
      const id = `${kind}:${resolved.domain}`;
      const prev = domains.get(id);
      if (prev !== undefined) {
        throw new ConfigError(
          'CRYPTO_CONFIG_INVALID',
          `${source}: ${where}.Domain: "${resolved.domain}" is already used by ${prev}; each org needs its own Domain`,
        );
      }
      domains.set(id, where);
      out.push(resolved);
    });
  }
  return out;
}
