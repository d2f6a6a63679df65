/**
 * `generateCrypto`: writes cryptogen's folder layout for every org of a CryptoConfig.
 *
 * For each org (<out>/peerOrganizations/<domain> or <out>/ordererOrganizations/<domain>):
 *   ca/<caCN>-cert.pem + ca/priv_sk            signing CA (O = domain, CN = caCN)
 *   tlsca/tls<caCN>-cert.pem + tlsca/priv_sk   TLS CA
 *   msp/                                       verifying MSP: cacerts, tlscacerts, and
 *                                              config.yaml (NodeOUs on) or admincerts (off)
 *   peers|orderers/<CN>/{msp,tls}              one per node: signcerts/<CN>-cert.pem (OU peer or
 *                                              orderer with NodeOUs), keystore/priv_sk, cacerts,
 *                                              tlscacerts, config.yaml|admincerts; tls/ca.crt,
 *                                              server.crt (SANs), server.key
 *   users/<User1..N, Admin>@<domain>/{msp,tls} OU client / admin; tls/client.crt, client.key
 * Without NodeOUs, admincerts holds Admin's cert (org MSP, nodes) or the user's own cert (users).
 * An org folder that already exists is an error: we never mix old and new keys.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, errorMessage } from '../base/errors.js';
import type { CryptoConfig } from './config.js';
import {
  createCA,
  EKU_CLIENT_AUTH,
  EKU_SERVER_AUTH,
  KU_DIGITAL_SIGNATURE,
  KU_KEY_ENCIPHERMENT,
  signCertificate,
  type CertAuthority,
  type SubjectFields,
} from './certs.js';
import { renderCryptoConfig, type ResolvedOrg } from './render.js';

export interface GenerateOptions {
  /** Issue time (default: now); notBefore is this rounded to the minute minus 5 minutes. */
  now?: Date;
}

type NodeRole = 'peer' | 'orderer' | 'client' | 'admin';

/** msp/config.yaml exactly as cryptogen writes it (Go yaml, 2-space indent). */
export function nodeOUsConfigYaml(caCertFile: string): string {
  const id = (ou: string) =>
    `    Certificate: cacerts/${caCertFile}\n    OrganizationalUnitIdentifier: ${ou}\n`;
  return (
    'NodeOUs:\n  Enable: true\n' +
    `  ClientOUIdentifier:\n${id('client')}` +
    `  PeerOUIdentifier:\n${id('peer')}` +
    `  AdminOUIdentifier:\n${id('admin')}` +
    `  OrdererOUIdentifier:\n${id('orderer')}`
  );
}

class Writer {
  constructor(private readonly root: string) {}

  async file(rel: string[], data: string, mode = 0o644): Promise<void> {
    const path = join(this.root, ...rel);
    try {
      await mkdir(join(this.root, ...rel.slice(0, -1)), { recursive: true, mode: 0o755 });
      await writeFile(path, data, { mode });
    } catch (e) {
      throw new ConfigError('CRYPTO_OUTPUT', `cannot write ${path}: ${errorMessage(e)}`, { cause: e });
    }
  }
}

interface OrgCAs {
  sign: CertAuthority;
  tls: CertAuthority;
  signFile: string;
  tlsFile: string;
}

function caSubject(org: ResolvedOrg, commonName: string): SubjectFields {
  return {
    country: org.ca.country,
    province: org.ca.province,
    locality: org.ca.locality,
    streetAddress: org.ca.streetAddress,
    postalCode: org.ca.postalCode,
    organization: org.domain,
    organizationalUnits: org.ca.organizationalUnit ? [org.ca.organizationalUnit] : [],
    commonName,
  };
}

/** Subject of a certificate the CA issues: the CA's location fields, no O, OU = CA's OU + role. */
function leafSubject(org: ResolvedOrg, commonName: string, role?: NodeRole): SubjectFields {
  const s = caSubject(org, commonName);
  delete s.organization;
  if (role) s.organizationalUnits = [...(s.organizationalUnits ?? []), role];
  return s;
}

/** One node or user folder (cryptogen's GenerateLocalMSP). Returns the signing cert PEM. */
async function localMsp(
  w: Writer,
  dir: string[],
  org: ResolvedOrg,
  cas: OrgCAs,
  cn: string,
  role: NodeRole,
  sans: string[] | undefined,
  now: Date,
): Promise<string> {
  const msp = [...dir, 'msp'];
  const signed = await signCertificate(cas.sign, leafSubject(org, cn, org.nodeOUs ? role : undefined), {
    now,
    keyUsage: KU_DIGITAL_SIGNATURE,
    extKeyUsage: [],
  });
  await w.file([...msp, 'keystore', 'priv_sk'], signed.keys.privateKeyPem, 0o600);
  await w.file([...msp, 'signcerts', `${cn}-cert.pem`], signed.cert.pem);
  await w.file([...msp, 'cacerts', cas.signFile], cas.sign.cert.pem);
  await w.file([...msp, 'tlscacerts', cas.tlsFile], cas.tls.cert.pem);
  if (org.nodeOUs) await w.file([...msp, 'config.yaml'], nodeOUsConfigYaml(cas.signFile));

  const tls = await signCertificate(cas.tls, leafSubject(org, cn), {
    now,
    keyUsage: KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT,
    extKeyUsage: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH],
    sans,
  });
  const prefix = role === 'client' || role === 'admin' ? 'client' : 'server';
  await w.file([...dir, 'tls', 'ca.crt'], cas.tls.cert.pem);
  await w.file([...dir, 'tls', `${prefix}.crt`], tls.cert.pem);
  await w.file([...dir, 'tls', `${prefix}.key`], tls.keys.privateKeyPem, 0o600);
  return signed.cert.pem;
}

async function generateOrg(w: Writer, org: ResolvedOrg, now: Date): Promise<void> {
  const caCN = org.ca.commonName;
  const cas: OrgCAs = {
    sign: await createCA(caSubject(org, caCN), now),
    tls: await createCA(caSubject(org, `tls${caCN}`), now),
    signFile: `${caCN}-cert.pem`,
    tlsFile: `tls${caCN}-cert.pem`,
  };
  await w.file(['ca', cas.signFile], cas.sign.cert.pem);
  await w.file(['ca', 'priv_sk'], cas.sign.keys.privateKeyPem, 0o600);
  await w.file(['tlsca', cas.tlsFile], cas.tls.cert.pem);
  await w.file(['tlsca', 'priv_sk'], cas.tls.keys.privateKeyPem, 0o600);
  await w.file(['msp', 'cacerts', cas.signFile], cas.sign.cert.pem);
  await w.file(['msp', 'tlscacerts', cas.tlsFile], cas.tls.cert.pem);
  if (org.nodeOUs) await w.file(['msp', 'config.yaml'], nodeOUsConfigYaml(cas.signFile));

  const userPems = new Map<string, string>();
  for (const u of org.users) {
    const role: NodeRole = u === org.admin ? 'admin' : 'client';
    userPems.set(u, await localMsp(w, ['users', u], org, cas, u, role, undefined, now));
  }
  const nodesDir = org.kind === 'peer' ? 'peers' : 'orderers';
  for (const n of org.nodes)
    await localMsp(w, [nodesDir, n.commonName], org, cas, n.commonName, org.kind, n.sans, now);

  if (!org.nodeOUs) {
    const adminFile = `${org.admin}-cert.pem`;
    const adminPem = userPems.get(org.admin) as string;
    await w.file(['msp', 'admincerts', adminFile], adminPem);
    for (const n of org.nodes)
      await w.file([nodesDir, n.commonName, 'msp', 'admincerts', adminFile], adminPem);
    for (const [u, pem] of userPems) await w.file(['users', u, 'msp', 'admincerts', `${u}-cert.pem`], pem);
  }
}

/**
 * Write cryptogen's crypto material for `config` under `outDir` (created if missing).
 * Throws ConfigError: template/naming mistakes (CRYPTO_CONFIG_*), an org folder that already
 * exists (CRYPTO_OUTPUT_EXISTS), or a file that cannot be written (CRYPTO_OUTPUT).
 */
export async function generateCrypto(
  config: CryptoConfig,
  outDir: string,
  opts: GenerateOptions = {},
): Promise<void> {
  const orgs = renderCryptoConfig(config);
  const now = opts.now ?? new Date();
  const dirOf = (o: ResolvedOrg) =>
    join(outDir, o.kind === 'peer' ? 'peerOrganizations' : 'ordererOrganizations', o.domain);
  for (const o of orgs) {
    if (existsSync(dirOf(o))) {
      throw new ConfigError(
        'CRYPTO_OUTPUT_EXISTS',
        `${dirOf(o)} already exists; remove it or choose another output folder (existing keys are never overwritten)`,
      );
    }
  }
  for (const o of orgs) await generateOrg(new Writer(dirOf(o)), o, now);
}
