/**
 * MSP folders in cryptogen's layout, read as Fabric's msp.GetVerifyingMspConfig /
 * GetLocalMspConfig read them: every regular file of a sub-folder (sorted by name) is one
 * PEM item, kept as the file's exact bytes (they go into the channel config as they are).
 *
 *   signcerts/ keystore/ cacerts/ intermediatecerts/ tlscacerts/ tlsintermediatecerts/
 *   admincerts/ crls/ config.yaml (NodeOUs, OrganizationalUnitIdentifiers)
 *
 * Unlike Fabric, which logs and skips a file it cannot read, we refuse it: every ConfigError
 * names the file and the problem.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { create } from '@bufbuild/protobuf';
import { ConfigError } from '../base/errors.js';
import {
  FabricCryptoConfigSchema,
  FabricMSPConfigSchema,
  FabricNodeOUsSchema,
  FabricOUIdentifierSchema,
  type FabricMSPConfig,
  type FabricOUIdentifier,
} from '../wire/gen/msp/msp_config_pb.js';
import { parseCert } from './cert.js';
import { pemDecodeAll } from './pem.js';

export interface PemFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface OuIdentifierConfig {
  readonly organizationalUnitIdentifier: string;
  /** Path as written in config.yaml (relative to the MSP folder), if any. */
  readonly certificatePath?: string;
  /** The bytes of that file. */
  readonly certificate?: Uint8Array;
}

export interface NodeOUsConfig {
  readonly enable: boolean;
  readonly client?: OuIdentifierConfig;
  readonly peer?: OuIdentifierConfig;
  readonly admin?: OuIdentifierConfig;
  readonly orderer?: OuIdentifierConfig;
}

export interface MspFolder {
  readonly dir: string;
  readonly signcerts: readonly PemFile[];
  readonly keystore: readonly PemFile[];
  readonly cacerts: readonly PemFile[];
  readonly intermediatecerts: readonly PemFile[];
  readonly tlscacerts: readonly PemFile[];
  readonly tlsintermediatecerts: readonly PemFile[];
  readonly admincerts: readonly PemFile[];
  readonly crls: readonly PemFile[];
  /** From config.yaml; undefined when there is no config.yaml or no NodeOUs section. */
  readonly nodeOUs?: NodeOUsConfig;
  readonly organizationalUnitIdentifiers: readonly OuIdentifierConfig[];
}

type Kind = 'cert' | 'crl' | 'key';

function readFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ConfigError('MISSING_FILE', `${path}: cannot read file: ${(e as Error).message}`, { cause: e });
  }
}

/** Check that a file holds what its folder promises. */
function checkItem(path: string, bytes: Uint8Array, kind: Kind): void {
  const blocks = pemDecodeAll(bytes);
  if (blocks.length === 0)
    throw new ConfigError('BAD_PEM', `${path}: no PEM block found (corrupt or not PEM)`);
  if (kind === 'cert') {
    for (const b of blocks) {
      if (b.type !== 'CERTIFICATE')
        throw new ConfigError('BAD_PEM', `${path}: PEM block of type ${b.type}, expected CERTIFICATE`);
      try {
        parseCert(b.der);
      } catch (e) {
        throw new ConfigError('BAD_CERT', `${path}: ${(e as Error).message}`, { cause: e });
      }
    }
  } else if (kind === 'crl') {
    if (!blocks.every((b) => b.type === 'X509 CRL'))
      throw new ConfigError('BAD_PEM', `${path}: expected X509 CRL PEM blocks`);
  } else if (!blocks.every((b) => b.type.endsWith('PRIVATE KEY'))) {
    throw new ConfigError('BAD_PEM', `${path}: expected a PRIVATE KEY PEM block`);
  }
}

/** The files of a sub-folder ([] when it does not exist). */
function readPemDir(dir: string, kind: Kind): PemFile[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new ConfigError('BAD_FOLDER', `${dir}: not a directory`);
  const out: PemFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFile(path);
    checkItem(path, bytes, kind);
    out.push({ path, bytes });
  }
  return out;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError('BAD_CONFIG', `${where}: expected a string`);
  return v;
}

function ouIdentifier(
  dir: string,
  file: string,
  key: string,
  v: unknown,
  required: boolean,
): OuIdentifierConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object') throw new ConfigError('BAD_CONFIG', `${file}: ${key} must be a mapping`);
  const o = v as Record<string, unknown>;
  const ou = str(o.OrganizationalUnitIdentifier, `${file}: ${key}.OrganizationalUnitIdentifier`) ?? '';
  if (!ou && !required) return undefined;
  if (!ou) throw new ConfigError('BAD_CONFIG', `${file}: ${key}.OrganizationalUnitIdentifier is empty`);
  const certificatePath = str(o.Certificate, `${file}: ${key}.Certificate`);
  if (!certificatePath) return { organizationalUnitIdentifier: ou };
  const path = join(dir, certificatePath);
  if (!existsSync(path))
    throw new ConfigError('MISSING_FILE', `${file}: ${key}.Certificate ${path} does not exist`);
  const certificate = readFile(path);
  checkItem(path, certificate, 'cert');
  return { organizationalUnitIdentifier: ou, certificatePath, certificate };
}

function readConfigYaml(dir: string): Pick<MspFolder, 'nodeOUs' | 'organizationalUnitIdentifiers'> {
  const file = join(dir, 'config.yaml');
  if (!existsSync(file)) return { organizationalUnitIdentifiers: [] };
  let doc: unknown;
  try {
    doc = parseYaml(Buffer.from(readFile(file)).toString('utf8'));
  } catch (e) {
    throw new ConfigError('BAD_CONFIG', `${file}: invalid YAML: ${(e as Error).message}`, { cause: e });
  }
  if (doc === null || doc === undefined) return { organizationalUnitIdentifiers: [] };
  if (typeof doc !== 'object') throw new ConfigError('BAD_CONFIG', `${file}: expected a mapping`);
  const cfg = doc as Record<string, unknown>;
  const ouList = cfg.OrganizationalUnitIdentifiers ?? [];
  if (!Array.isArray(ouList))
    throw new ConfigError('BAD_CONFIG', `${file}: OrganizationalUnitIdentifiers must be a list`);
  const organizationalUnitIdentifiers = ouList.map(
    (v, i) => ouIdentifier(dir, file, `OrganizationalUnitIdentifiers[${i}]`, v, true) as OuIdentifierConfig,
  );
  let nodeOUs: NodeOUsConfig | undefined;
  const n = cfg.NodeOUs;
  if (n !== undefined && n !== null) {
    if (typeof n !== 'object') throw new ConfigError('BAD_CONFIG', `${file}: NodeOUs must be a mapping`);
    const o = n as Record<string, unknown>;
    if (o.Enable !== undefined && typeof o.Enable !== 'boolean')
      throw new ConfigError('BAD_CONFIG', `${file}: NodeOUs.Enable must be true or false`);
    nodeOUs = {
      enable: o.Enable === true,
      client: ouIdentifier(dir, file, 'NodeOUs.ClientOUIdentifier', o.ClientOUIdentifier, false),
      peer: ouIdentifier(dir, file, 'NodeOUs.PeerOUIdentifier', o.PeerOUIdentifier, false),
      admin: ouIdentifier(dir, file, 'NodeOUs.AdminOUIdentifier', o.AdminOUIdentifier, false),
      orderer: ouIdentifier(dir, file, 'NodeOUs.OrdererOUIdentifier', o.OrdererOUIdentifier, false),
    };
  }
  return { nodeOUs, organizationalUnitIdentifiers };
}

/** Read a cryptogen-layout MSP folder; throws ConfigError naming the file and the problem. */
export function loadMspFolder(dir: string): MspFolder {
  if (!existsSync(dir)) throw new ConfigError('MISSING_FOLDER', `MSP folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory())
    throw new ConfigError('BAD_FOLDER', `MSP folder ${dir} is not a directory`);
  const cacertsDir = join(dir, 'cacerts');
  if (!existsSync(cacertsDir))
    throw new ConfigError(
      'MISSING_FOLDER',
      `${cacertsDir}: missing (an MSP needs at least one CA certificate)`,
    );
  const cacerts = readPemDir(cacertsDir, 'cert');
  if (cacerts.length === 0) throw new ConfigError('MISSING_FILE', `${cacertsDir}: no CA certificate found`);
  return {
    dir,
    signcerts: readPemDir(join(dir, 'signcerts'), 'cert'),
    keystore: readPemDir(join(dir, 'keystore'), 'key'),
    cacerts,
    intermediatecerts: readPemDir(join(dir, 'intermediatecerts'), 'cert'),
    tlscacerts: readPemDir(join(dir, 'tlscacerts'), 'cert'),
    tlsintermediatecerts: readPemDir(join(dir, 'tlsintermediatecerts'), 'cert'),
    admincerts: readPemDir(join(dir, 'admincerts'), 'cert'),
    crls: readPemDir(join(dir, 'crls'), 'crl'),
    ...readConfigYaml(dir),
  };
}

function fabricOu(o: OuIdentifierConfig | undefined): FabricOUIdentifier | undefined {
  if (!o) return undefined;
  return create(FabricOUIdentifierSchema, {
    organizationalUnitIdentifier: o.organizationalUnitIdentifier,
    certificate: o.certificate ?? new Uint8Array(),
  });
}

/**
 * The verifying MSP config that configtxgen embeds for this folder (no signing identity;
 * crypto config SHA2 / SHA256).
 */
export function fabricMspConfigFromFolder(folder: MspFolder, mspId: string): FabricMSPConfig {
  const bytes = (files: readonly PemFile[]) => files.map((f) => f.bytes);
  const n = folder.nodeOUs;
  return create(FabricMSPConfigSchema, {
    name: mspId,
    rootCerts: bytes(folder.cacerts),
    intermediateCerts: bytes(folder.intermediatecerts),
    admins: bytes(folder.admincerts),
    revocationList: bytes(folder.crls),
    organizationalUnitIdentifiers: folder.organizationalUnitIdentifiers.map(
      (o) => fabricOu(o) as FabricOUIdentifier,
    ),
    cryptoConfig: create(FabricCryptoConfigSchema, {
      signatureHashFamily: 'SHA2',
      identityIdentifierHashFunction: 'SHA256',
    }),
    tlsRootCerts: bytes(folder.tlscacerts),
    tlsIntermediateCerts: bytes(folder.tlsintermediatecerts),
    fabricNodeOus:
      n && n.enable
        ? create(FabricNodeOUsSchema, {
            enable: true,
            clientOuIdentifier: fabricOu(n.client),
            peerOuIdentifier: fabricOu(n.peer),
            adminOuIdentifier: fabricOu(n.admin),
            ordererOuIdentifier: fabricOu(n.orderer),
          })
        : undefined,
  });
}
