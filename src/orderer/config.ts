/**
 * Orderer start-up configuration: an orderer.yaml-like file (Fabric's key names) and/or flags;
 * flags win. Relative paths in the file are relative to the file's folder. Every problem is a
 * ConfigError naming the file or flag and what is wrong.
 *
 *   General.ListenAddress / ListenPort         --listen host:port      (default 127.0.0.1:7050)
 *   General.BootstrapFile                      --genesis <block>
 *   General.LocalMSPDir / LocalMSPID           --msp <dir> --mspid <id> (default OrdererMSP)
 *   General.TLS.Enabled, Certificate, PrivateKey, ClientAuthRequired, ClientRootCAs
 *                                              --tls <dir> (server.crt, server.key), --client-auth
 *   General.Authentication.TimeWindow / NoExpirationChecks
 *   FileLedger.Location                        --data <dir>
 *   Operations.ListenAddress                   --operations <host:port> (absent: no server)
 *   Operations.TLS.Enabled, Certificate, PrivateKey, ClientAuthRequired, ClientRootCAs
 *   Metrics.Provider                           prometheus (our default) | disabled
 *   Grapevine.ConnLimits.MaxConns, MaxConnsPerAddress, HandshakeTimeout, IdleTimeout,
 *     MaxUnauthenticatedBytes, MaxUnauthenticatedBytesTotal, MaxMemory (bytes; 0 = 90 % of the
 *     cgroup's or the machine's memory)
 *                                              connection limits of the gRPC and operations ports
 *                                              (Grapevine's own; defaults 2048, 64, 5s as Fabric's
 *                                              gRPC ConnectionTimeout, 10s; base/conn-gate.ts)
 *
 * Fabric's ORDERER_* environment variables override the file (flags still win): the key path in
 * upper case with '_' for '.', e.g. ORDERER_GENERAL_LISTENADDRESS, ORDERER_GENERAL_LISTENPORT,
 * ORDERER_GENERAL_TLS_ENABLED, ORDERER_OPERATIONS_LISTENADDRESS, ORDERER_METRICS_PROVIDER (see
 * ORDERER_ENV_KEYS); booleans are true/false, lists (ClientRootCAs) `[a, b]` or `a,b`. Any other
 * ORDERER_* variable (a Fabric key Grapevine does not read, or a typo) is reported in `warnings`.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseGoDuration } from '../channelconfig/duration.js';
import { ConfigError, errorMessage } from '../base/errors.js';
import { DEFAULT_CONN_LIMITS, type ConnLimits } from '../base/conn-gate.js';

/** Server TLS files (General.TLS / Operations.TLS). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientAuthRequired: boolean;
  readonly clientRootCAFiles: readonly string[];
}

export interface OrdererFileConfig {
  readonly listen: string;
  readonly genesisFile: string | undefined;
  readonly mspDir: string;
  readonly mspId: string;
  readonly tls: TlsFiles | undefined;
  readonly dataDir: string;
  readonly timeWindowMs: number;
  readonly noExpirationChecks: boolean;
  /** Operations server; undefined when Operations.ListenAddress / --operations is absent. */
  readonly operations:
    | {
        readonly listenAddress: string;
        readonly tls: TlsFiles | undefined;
      }
    | undefined;
  /** Metrics.Provider: /metrics is served only with prometheus. */
  readonly metricsProvider: 'prometheus' | 'disabled';
  /** Grapevine.ConnLimits: connection limits of the gRPC and operations ports. */
  readonly connLimits: ConnLimits;
  /** Grapevine.ConnLimits.MaxMemory: resident bytes above which new connections are shed; 0 = default. */
  readonly maxMemoryBytes: number;
  /** Problems that do not stop the orderer (ORDERER_* variables that are not read), to log. */
  readonly warnings: readonly string[];
}

export interface OrdererFlags {
  config?: string;
  genesis?: string;
  msp?: string;
  mspid?: string;
  tls?: string;
  clientAuth?: boolean;
  listen?: string;
  data?: string;
  operations?: string;
}

type Tree = Record<string, unknown>;

function section(tree: Tree, key: string, where: string): Tree {
  const v = tree[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError('BAD_ORDERER_CONFIG', `${where}: ${key} must be a mapping`);
  return v as Tree;
}

function str(tree: Tree, key: string, where: string): string | undefined {
  const v = tree[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new ConfigError('BAD_ORDERER_CONFIG', `${where}: ${key} must be a string`);
  return String(v);
}

function bool(tree: Tree, key: string, where: string): boolean | undefined {
  const v = tree[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw new ConfigError('BAD_ORDERER_CONFIG', `${where}: ${key} must be true or false`);
  return v;
}

function readTree(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('BAD_ORDERER_CONFIG', `cannot read orderer config ${file}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  let tree: unknown;
  try {
    tree = parseYaml(text);
  } catch (e) {
    throw new ConfigError('BAD_ORDERER_CONFIG', `${file}: invalid YAML: ${errorMessage(e)}`, { cause: e });
  }
  if (tree === null || tree === undefined) return {};
  if (typeof tree !== 'object' || Array.isArray(tree))
    throw new ConfigError('BAD_ORDERER_CONFIG', `${file}: expected a mapping at the top level`);
  return tree as Tree;
}

function checkListen(listen: string, where: string): string {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      'BAD_ORDERER_CONFIG',
      `${where}: listen address must be host:port, got '${listen}'`,
    );
  }
  return listen;
}

type EnvKind = 'string' | 'bool' | 'list';

/** The orderer.yaml keys read from ORDERER_* variables (every key this orderer reads). */
export const ORDERER_ENV_KEYS: Readonly<Record<string, EnvKind>> = {
  'General.ListenAddress': 'string',
  'General.ListenPort': 'string',
  'General.BootstrapFile': 'string',
  'General.LocalMSPDir': 'string',
  'General.LocalMSPID': 'string',
  'General.TLS.Enabled': 'bool',
  'General.TLS.Certificate': 'string',
  'General.TLS.PrivateKey': 'string',
  'General.TLS.ClientAuthRequired': 'bool',
  'General.TLS.ClientRootCAs': 'list',
  'General.Authentication.TimeWindow': 'string',
  'General.Authentication.NoExpirationChecks': 'bool',
  'FileLedger.Location': 'string',
  'Operations.ListenAddress': 'string',
  'Operations.TLS.Enabled': 'bool',
  'Operations.TLS.Certificate': 'string',
  'Operations.TLS.PrivateKey': 'string',
  'Operations.TLS.ClientAuthRequired': 'bool',
  'Operations.TLS.ClientRootCAs': 'list',
  'Metrics.Provider': 'string',
  'Grapevine.ConnLimits.MaxConns': 'string',
  'Grapevine.ConnLimits.MaxConnsPerAddress': 'string',
  'Grapevine.ConnLimits.HandshakeTimeout': 'string',
  'Grapevine.ConnLimits.IdleTimeout': 'string',
  'Grapevine.ConnLimits.MaxUnauthenticatedBytes': 'string',
  'Grapevine.ConnLimits.MaxUnauthenticatedBytesTotal': 'string',
  'Grapevine.ConnLimits.MaxMemory': 'string',
};

/** ORDERER_GENERAL_LISTENADDRESS for General.ListenAddress. */
export function ordererEnvName(key: string): string {
  return `ORDERER_${key.toUpperCase().replace(/\./g, '_')}`;
}

/** The tree with the ORDERER_* variables set on it (a copy); unknown variables -> warnings. */
function applyEnv(tree: Tree, env: Readonly<Record<string, string | undefined>>, warnings: string[]): Tree {
  const byName = new Map(Object.keys(ORDERER_ENV_KEYS).map((k) => [ordererEnvName(k), k]));
  const out: Tree = structuredClone(tree);
  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith('ORDERER_') || raw === undefined) continue;
    const key = byName.get(name);
    if (key === undefined) {
      warnings.push(
        `environment variable ${name}: not a key Grapevine's orderer reads (known: ${[...byName.keys()].join(', ')}); ignored`,
      );
      continue;
    }
    if (raw === '') continue;
    let value: unknown = raw;
    const kind = ORDERER_ENV_KEYS[key];
    if (kind === 'bool') {
      const v = raw.trim().toLowerCase();
      if (v !== 'true' && v !== 'false')
        throw new ConfigError(
          'BAD_ORDERER_CONFIG',
          `environment variable ${name}: '${raw}' is not true or false`,
        );
      value = v === 'true';
    } else if (kind === 'list') {
      value = raw
        .replace(/^\s*\[|\]\s*$/g, '')
        .split(/[,\s]+/)
        .filter((x) => x !== '');
    }
    const path = key.split('.');
    let t = out;
    for (const part of path.slice(0, -1)) {
      const next = t[part];
      if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next))
        t[part] = {};
      t = t[part] as Tree;
    }
    t[path[path.length - 1]!] = value;
  }
  return out;
}

/**
 * Merge the config file (if any), the ORDERER_* variables of `env` and the flags; paths are
 * returned absolute (relative ones from the file's folder, or the working folder without a file).
 */
export function loadOrdererConfig(
  flags: OrdererFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): OrdererFileConfig {
  const file = flags.config ? resolve(flags.config) : undefined;
  const warnings: string[] = [];
  const tree = applyEnv(file ? readTree(file) : {}, env, warnings);
  const where = file ?? 'flags';
  const base = file ? dirname(file) : process.cwd();
  const abs = (p: string | undefined, from: string): string | undefined =>
    p === undefined ? undefined : isAbsolute(p) ? p : resolve(from, p);

  const general = section(tree, 'General', where);
  const tlsTree = section(general, 'TLS', `${where}: General`);
  const auth = section(general, 'Authentication', `${where}: General`);
  const ledger = section(tree, 'FileLedger', where);

  let listen = flags.listen;
  if (!listen) {
    const host = str(general, 'ListenAddress', `${where}: General`) ?? '127.0.0.1';
    const port = str(general, 'ListenPort', `${where}: General`) ?? '7050';
    listen = `${host}:${port}`;
  }
  checkListen(listen, flags.listen ? '--listen' : where);

  const mspDir = abs(flags.msp, process.cwd()) ?? abs(str(general, 'LocalMSPDir', `${where}: General`), base);
  if (!mspDir)
    throw new ConfigError('BAD_ORDERER_CONFIG', `${where}: no MSP folder: give --msp or General.LocalMSPDir`);
  const mspId = flags.mspid ?? str(general, 'LocalMSPID', `${where}: General`) ?? 'OrdererMSP';
  const dataDir =
    abs(flags.data, process.cwd()) ?? abs(str(ledger, 'Location', `${where}: FileLedger`), base);
  if (!dataDir)
    throw new ConfigError(
      'BAD_ORDERER_CONFIG',
      `${where}: no ledger folder: give --data or FileLedger.Location`,
    );
  const genesisFile =
    abs(flags.genesis, process.cwd()) ?? abs(str(general, 'BootstrapFile', `${where}: General`), base);

  let tls: OrdererFileConfig['tls'];
  const clientAuth =
    flags.clientAuth ?? bool(tlsTree, 'ClientAuthRequired', `${where}: General.TLS`) ?? false;
  if (flags.tls) {
    const dir = resolve(flags.tls);
    tls = {
      certFile: join(dir, 'server.crt'),
      keyFile: join(dir, 'server.key'),
      clientAuthRequired: clientAuth,
      clientRootCAFiles: [],
    };
  } else if (bool(tlsTree, 'Enabled', `${where}: General.TLS`)) {
    const w = `${where}: General.TLS`;
    const certFile = abs(str(tlsTree, 'Certificate', w), base);
    const keyFile = abs(str(tlsTree, 'PrivateKey', w), base);
    if (!certFile || !keyFile)
      throw new ConfigError('BAD_ORDERER_CONFIG', `${w}: Enabled needs Certificate and PrivateKey`);
    const cas = tlsTree.ClientRootCAs ?? [];
    if (!Array.isArray(cas))
      throw new ConfigError('BAD_ORDERER_CONFIG', `${w}: ClientRootCAs must be a list of files`);
    tls = {
      certFile,
      keyFile,
      clientAuthRequired: clientAuth,
      clientRootCAFiles: cas.map((c) => abs(String(c), base)!),
    };
  }

  let timeWindowMs = 15 * 60_000;
  const tw = str(auth, 'TimeWindow', `${where}: General.Authentication`);
  if (tw !== undefined) {
    const ns = parseGoDuration(tw);
    if (ns === undefined || ns < 0n) {
      throw new ConfigError(
        'BAD_ORDERER_CONFIG',
        `${where}: General.Authentication.TimeWindow: not a duration: '${tw}'`,
      );
    }
    timeWindowMs = Number(ns / 1_000_000n);
  }
  const noExpirationChecks = bool(auth, 'NoExpirationChecks', `${where}: General.Authentication`) ?? false;
  const operations = operationsConfig(tree, flags, where, (p) => abs(p, base));
  const metricsTree = section(tree, 'Metrics', where);
  const provider = str(metricsTree, 'Provider', `${where}: Metrics`) ?? 'prometheus';
  if (provider !== 'prometheus' && provider !== 'disabled') {
    throw new ConfigError(
      'BAD_ORDERER_CONFIG',
      `${where}: Metrics.Provider: '${provider}' is not supported (prometheus or disabled)`,
    );
  }
  const limitsTree = section(section(tree, 'Grapevine', where), 'ConnLimits', `${where}: Grapevine`);
  const connLimits = connLimitsConfig(limitsTree, `${where}: Grapevine.ConnLimits`);
  const maxMemory = str(limitsTree, 'MaxMemory', `${where}: Grapevine.ConnLimits`) ?? '0';
  const maxMemoryBytes = Number(maxMemory);
  if (!Number.isSafeInteger(maxMemoryBytes) || maxMemoryBytes < 0)
    throw new ConfigError(
      'BAD_ORDERER_CONFIG',
      `${where}: Grapevine.ConnLimits.MaxMemory: not a whole number of bytes: '${maxMemory}'`,
    );
  return {
    listen,
    genesisFile,
    mspDir,
    mspId,
    tls,
    dataDir,
    timeWindowMs,
    noExpirationChecks,
    operations,
    metricsProvider: provider,
    connLimits,
    maxMemoryBytes,
    warnings,
  };
}

/** Grapevine.ConnLimits: positive counts and durations; absent (or 0) = the default. */
function connLimitsConfig(t: Tree, where: string): ConnLimits {
  const count = (
    key: 'MaxConns' | 'MaxConnsPerAddress' | 'MaxUnauthenticatedBytes' | 'MaxUnauthenticatedBytesTotal',
    def: number,
  ): number => {
    const v = str(t, key, where);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError('BAD_ORDERER_CONFIG', `${where}.${key}: not a whole number: '${v}'`);
    return n === 0 ? def : n;
  };
  const duration = (key: 'HandshakeTimeout' | 'IdleTimeout', def: number): number => {
    const v = str(t, key, where);
    if (v === undefined) return def;
    const ns = parseGoDuration(v);
    if (ns === undefined || ns < 0n || ns / 1_000_000n > 2_147_483_647n)
      throw new ConfigError('BAD_ORDERER_CONFIG', `${where}.${key}: not a duration: '${v}'`);
    const ms = Number(ns / 1_000_000n);
    return ms === 0 ? def : ms;
  };
  return {
    maxConns: count('MaxConns', DEFAULT_CONN_LIMITS.maxConns),
    maxConnsPerAddress: count('MaxConnsPerAddress', DEFAULT_CONN_LIMITS.maxConnsPerAddress),
    handshakeTimeoutMs: duration('HandshakeTimeout', DEFAULT_CONN_LIMITS.handshakeTimeoutMs),
    idleTimeoutMs: duration('IdleTimeout', DEFAULT_CONN_LIMITS.idleTimeoutMs),
    maxUnauthenticatedBytes: count('MaxUnauthenticatedBytes', DEFAULT_CONN_LIMITS.maxUnauthenticatedBytes),
    maxUnauthenticatedBytesTotal: count(
      'MaxUnauthenticatedBytesTotal',
      DEFAULT_CONN_LIMITS.maxUnauthenticatedBytesTotal,
    ),
  };
}

function operationsConfig(
  tree: Tree,
  flags: OrdererFlags,
  where: string,
  abs: (p: string | undefined) => string | undefined,
): OrdererFileConfig['operations'] {
  const ops = section(tree, 'Operations', where);
  const w = `${where}: Operations`;
  const listenAddress = flags.operations ?? str(ops, 'ListenAddress', w);
  if (listenAddress === undefined) return undefined;
  checkListen(listenAddress, flags.operations ? '--operations' : `${w}.ListenAddress`);
  const tlsTree = section(ops, 'TLS', w);
  if (!bool(tlsTree, 'Enabled', `${w}.TLS`)) return { listenAddress, tls: undefined };
  const certFile = abs(str(tlsTree, 'Certificate', `${w}.TLS`));
  const keyFile = abs(str(tlsTree, 'PrivateKey', `${w}.TLS`));
  if (!certFile || !keyFile)
    throw new ConfigError('BAD_ORDERER_CONFIG', `${w}.TLS: Enabled needs Certificate and PrivateKey`);
  const cas = tlsTree.ClientRootCAs ?? [];
  if (!Array.isArray(cas))
    throw new ConfigError('BAD_ORDERER_CONFIG', `${w}.TLS: ClientRootCAs must be a list of files`);
  return {
    listenAddress,
    tls: {
      certFile,
      keyFile,
      clientAuthRequired: bool(tlsTree, 'ClientAuthRequired', `${w}.TLS`) ?? false,
      clientRootCAFiles: cas.map((c) => abs(String(c))!),
    },
  };
}

/** Read a file for the orderer; ConfigError naming it when unreadable. */
export function readConfigFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ConfigError('BAD_ORDERER_CONFIG', `cannot read ${what} ${path}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}
