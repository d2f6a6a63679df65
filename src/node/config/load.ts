/**
 * loadPeerConfig: core.yaml + CORE_* environment + overrides -> one resolved, validated PeerConfig.
 *
 * Steps: read the file (when none is given: FABRIC_CFG_PATH/core.yaml, else ./core.yaml, else
 * /etc/hyperledger/fabric/core.yaml, as Fabric's peer looks; else none); for every key
 * of the table (keys.ts) take the strongest raw value and coerce it (values.ts); apply the key's
 * zero rule; fill absent keys from the profile (`fast` values) or Fabric's code default; derive
 * the defaults Fabric derives (aliveExpirationTimeout = 5 x aliveTimeInterval, reconnectInterval =
 * aliveExpirationTimeout, gossip endpoint = peer.address, listenAddress = peer.address, client TLS
 * pair = server pair); resolve relative paths against the core.yaml's folder (Fabric's
 * TranslatePath); replace an unspecified host in peer.address by this host's IPv4 address (as
 * Fabric's getLocalAddress); then check rules across keys (crosscheck.ts). Every problem found
 * is collected; one PeerConfigError lists them all, each naming the key and where it came from.
 */
import { networkInterfaces } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError } from '../../base/errors.js';
import { crossCheck } from './crosscheck.js';
import { row, type Key } from '../../config/table.js';
import { KEYS, tsPath, type KeyDef } from './keys.js';
import { ConfigSources, readCoreYaml, type RawValue } from './sources.js';
import type { PeerConfig, ProfileName } from './types.js';
import { coerce, show } from './values.js';

export interface LoadPeerConfigOptions {
  /** core.yaml to read. Default: $FABRIC_CFG_PATH/core.yaml when that variable is set, else the first core.yaml in searchDirs, else none (defaults only). */
  readonly file?: string;
  /** Environment (CORE_* overrides, FABRIC_CFG_PATH, FABRIC_LOGGING_SPEC). Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Strongest values, by core.yaml key (any case), written as in core.yaml ("4s", true, ...). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** This host's IPv4 address, for an unspecified host in peer.address. Default: first non-loopback IPv4 interface. */
  readonly detectAddress?: () => string | undefined;
  /** Base folder for relative paths when no file is read. Default process.cwd(). */
  readonly cwd?: string;
  /**
   * Where core.yaml is looked for when neither a file nor FABRIC_CFG_PATH is given, in order, as
   * Fabric's peer does: the working folder, then /etc/hyperledger/fabric. None found: defaults.
   */
  readonly searchDirs?: readonly string[];
}

/** A ConfigError listing every problem found (each names its key and where the value came from). */
export class PeerConfigError extends ConfigError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], code = 'BAD_CONFIG') {
    super(
      code,
      issues.length === 1
        ? issues[0]
        : `${issues.length} configuration problems:\n  - ${issues.join('\n  - ')}`,
    );
    this.issues = issues;
  }
}

export function detectIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const from = (raw: RawValue | undefined): string => (raw ? ` (from ${raw.origin})` : '');

function setPath(out: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = out;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as object)) deepFreeze(child);
  }
  return v;
}

function splitHostPort(s: string): { host: string; port: string } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: s.slice(i + 1) };
}

/** Where Fabric's peer looks for core.yaml after the working folder. */
export const FABRIC_CONFIG_DIR = '/etc/hyperledger/fabric';

export function loadPeerConfig(opts: LoadPeerConfigOptions = {}): PeerConfig {
  const env = opts.env ?? process.env;
  const cfgPath = env.FABRIC_CFG_PATH;
  const file =
    opts.file !== undefined
      ? resolve(opts.file)
      : cfgPath
        ? resolve(cfgPath, 'core.yaml')
        : (opts.searchDirs ?? [resolve(opts.cwd ?? process.cwd()), FABRIC_CONFIG_DIR])
            .map((d) => resolve(d, 'core.yaml'))
            .find((f) => existsSync(f));
  const tree = file !== undefined ? readCoreYaml(file) : {};
  const configDir = file !== undefined ? dirname(file) : resolve(opts.cwd ?? process.cwd());
  const problems = { issues: [] as string[], warnings: [] as string[] };
  const src = new ConfigSources(tree, file, env, opts.overrides ?? {}, problems);
  const issues = problems.issues;

  const raws = new Map<string, RawValue>();
  const explicit = new Map<string, unknown>();
  for (const def of KEYS) {
    const raw = src.get(def.key);
    if (!raw) continue;
    raws.set(def.key, raw);
    if (def.kind === 'overrides' && raw.fromEnv) {
      issues.push(
        `${def.key}: cannot be set from an environment variable (a list of maps); set it in core.yaml${from(raw)}`,
      );
      continue;
    }
    const c = coerce(def, raw.value);
    if (!c.ok) {
      issues.push(`${def.key}: ${c.problem}${from(raw)}`);
      continue;
    }
    if (c.value === 0 && (def.kind === 'int' || def.kind === 'duration')) {
      if (def.zero === 'default') continue;
      if (def.zero === 'reject') {
        issues.push(`${def.key}: ${show(raw.value)} is not allowed: it must be above 0${from(raw)}`);
        continue;
      }
    }
    if (def.key === 'peer.gossip.pvtData.btlPullMargin' && (c.value as number) < 0) continue;
    if (def.kind === 'duration' && def.min !== undefined && (c.value as number) < def.min) {
      const why = def.minReason ? `: ${def.minReason}` : '';
      const min = def.min % 1000 === 0 ? `${def.min / 1000}s` : `${def.min}ms`;
      issues.push(`${def.key}: ${String(c.value)}ms is below ${min}${why}${from(raw)}`);
      continue;
    }
    explicit.set(def.key, c.value);
  }

  const profile = (explicit.get('grapevine.profile') ?? 'fabric') as ProfileName;
  const value = (def: KeyDef): unknown => {
    if (explicit.has(def.key)) return explicit.get(def.key);
    if (profile === 'fast' && def.fast !== undefined) return def.fast;
    return def.def;
  };
  const out: Record<string, unknown> = {};
  const get = (key: Key): unknown => explicit.get(key) ?? value(row(key));
  for (const def of KEYS) setPath(out, tsPath(def), value(def));

  // Derived defaults (Fabric's), then the profile's.
  const G = 'peer.gossip.';
  const alive = get(`${G}aliveTimeInterval`) as number;
  const aliveSet = explicit.has(`${G}aliveTimeInterval`);
  const fastDerived = profile === 'fast' && !aliveSet;
  const expiration =
    (explicit.get(`${G}aliveExpirationTimeout`) as number | undefined) ??
    (fastDerived ? (row(`${G}aliveExpirationTimeout`).fast as number) : 5 * alive);
  const reconnect =
    (explicit.get(`${G}reconnectInterval`) as number | undefined) ??
    (fastDerived && !explicit.has(`${G}aliveExpirationTimeout`)
      ? (row(`${G}reconnectInterval`).fast as number)
      : expiration);
  setPath(out, ['peer', 'gossip', 'aliveExpirationTimeoutMs'], expiration);
  setPath(out, ['peer', 'gossip', 'reconnectIntervalMs'], reconnect);

  // Paths: relative to the core.yaml's folder.
  const abs = (p: string): string => (p === '' || isAbsolute(p) ? p : join(configDir, p));
  for (const def of KEYS) {
    if (def.kind === 'path') setPath(out, tsPath(def), abs((value(def) as string | undefined) ?? ''));
    if (def.kind === 'paths') setPath(out, tsPath(def), ((value(def) as string[]) ?? []).map(abs));
  }
  const overrides = (
    value(row('peer.deliveryclient.addressOverrides')) as {
      from: string;
      to: string;
      caCertsFile: string;
    }[]
  ).map((o) => ({ ...o, caCertsFile: abs(o.caCertsFile) }));
  setPath(out, ['peer', 'deliveryclient', 'addressOverrides'], overrides);
  const tls = (name: string) => explicit.get(`peer.tls.${name}.file`) as string | undefined;
  if (tls('clientCert') === undefined && tls('clientKey') === undefined) {
    setPath(out, ['peer', 'tls', 'clientCert', 'file'], abs(tls('cert') ?? ''));
    setPath(out, ['peer', 'tls', 'clientKey', 'file'], abs(tls('key') ?? ''));
  }
  const fsPath = abs((explicit.get('peer.fileSystemPath') as string | undefined) ?? '') || configDir;
  setPath(
    out,
    ['grapevine', 'ledgerPath'],
    abs((explicit.get('grapevine.ledgerPath') as string | undefined) ?? join(fsPath, 'grapevine', 'ledgers')),
  );
  setPath(out, ['grapevine', 'profile'], profile);

  // Log spec: grapevine.logSpec, else FABRIC_LOGGING_SPEC (as Fabric), else info.
  let logSpec = explicit.get('grapevine.logSpec') as string | undefined;
  if (logSpec === undefined) {
    const fromFabric = src.envVar('FABRIC_LOGGING_SPEC');
    if (fromFabric !== undefined) {
      const c = coerce(row('grapevine.logSpec'), fromFabric);
      if (c.ok) logSpec = c.value as string;
      else issues.push(`FABRIC_LOGGING_SPEC: ${c.problem} (from environment variable FABRIC_LOGGING_SPEC)`);
    }
  }
  setPath(out, ['grapevine', 'logSpec'], logSpec ?? 'info');

  // peer.address: required; an unspecified host is replaced by this host's address (Fabric).
  const addressRaw = raws.get('peer.address');
  const configured = explicit.get('peer.address') as string | undefined;
  let address = configured ?? '';
  if (configured === undefined) {
    if (!addressRaw)
      issues.push("peer.address: not set; give this peer's host:port (e.g. peer0.org1.example.com:7051)");
  } else {
    const { host, port } = splitHostPort(configured);
    const unspecified = host === '0.0.0.0' || host === '[::]' || host === '::' || host === '';
    if (unspecified || explicit.get('peer.addressAutoDetect') === true) {
      const ip = (opts.detectAddress ?? detectIPv4)();
      if (ip === undefined) {
        issues.push(
          `peer.address: ${show(configured)} needs this host's address, but no non-loopback IPv4 interface was found; set a reachable host${from(addressRaw)}`,
        );
      } else {
        address = `${ip}:${port}`;
      }
    }
  }
  setPath(out, ['peer', 'address'], address);
  setPath(out, ['peer', 'addressConfigured'], configured ?? '');
  setPath(
    out,
    ['peer', 'listenAddress'],
    (explicit.get('peer.listenAddress') as string | undefined) ?? configured ?? '',
  );
  setPath(
    out,
    ['peer', 'gossip', 'endpoint'],
    (explicit.get(`${G}endpoint`) as string | undefined) ?? address,
  );

  const warnings = problems.warnings;
  if (profile === 'fast') {
    warnings.push(
      "grapevine.profile is fast: gossip and election timers are shorter than Fabric's; every peer of the network must be a Grapevine peer with the same profile",
    );
  }
  if (get('metrics.provider') === 'statsd') {
    warnings.push(
      `metrics.provider: statsd is not supported by Grapevine; metrics are disabled (use prometheus)${from(raws.get('metrics.provider'))}`,
    );
  }

  const cfg = { configFile: file, configDir, ...out, warnings } as unknown as PeerConfig;
  issues.push(...crossCheck(cfg, (key) => from(raws.get(key))));
  if (issues.length > 0) {
    const conflict =
      issues.length === 1 && issues[0].startsWith('peer.gossip.useLeaderElection and peer.gossip.orgLeader');
    throw new PeerConfigError(issues, conflict ? 'LEADER_MODE_CONFLICT' : 'BAD_CONFIG');
  }
  return deepFreeze(cfg);
}
