/**
 * Where raw configuration values come from, in viper's order of precedence:
 * overrides (viper.Set) > environment (CORE_<KEY> with dots as underscores, upper case) >
 * core.yaml > defaults. Keys match case-insensitively (viper lower-cases every key). An empty
 * environment variable counts as unset, and a YAML key with no value (`endpoint:`) or an empty
 * string counts as absent, as with viper.
 *
 * Unknown keys: Fabric ignores them silently, which hides typos. Here an unknown key under a
 * subtree Grapevine reads (peer.gossip, peer.deliveryclient, peer.keepalive, peer.tls,
 * operations) is a warning, and under our own `grapevine:` section an error.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../../base/errors.js';
import { envName, IGNORED_PREFIXES, KEY_INDEX, KEYS, STRICT_PREFIX, WATCHED_PREFIXES } from './keys.js';

export interface RawValue {
  readonly value: unknown;
  /** For messages: "/etc/core.yaml", "environment variable CORE_...", "overrides". */
  readonly origin: string;
  readonly fromEnv: boolean;
}

export interface SourceProblems {
  readonly issues: string[];
  readonly warnings: string[];
}

type Tree = Record<string, unknown>;

const isMap = (v: unknown): v is Tree => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Read and parse a core.yaml; ConfigError naming the file on any problem. */
export function readCoreYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : errorMessage(e);
    throw new ConfigError('BAD_FILE', `${file}: cannot read the configuration: ${why}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError('BAD_FILE', `${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (!isMap(value))
    throw new ConfigError(
      'BAD_FILE',
      `${file}: the top level must be a map of keys (peer:, operations:, ...)`,
    );
  const problems: string[] = [];
  const tree = lowerKeys(value, '', problems) as Tree;
  if (problems.length > 0) throw new ConfigError('BAD_FILE', `${file}: ${problems[0]}`);
  return tree;
}

/** Lower-case every map key, recursively (inside lists too); keys equal but for case are an error. */
function lowerKeys(v: unknown, path: string, problems: string[]): unknown {
  if (Array.isArray(v)) return v.map((item) => lowerKeys(item, path, problems));
  if (!isMap(v)) return v;
  const out: Tree = {};
  const seen = new Map<string, string>();
  for (const [key, child] of Object.entries(v)) {
    const lower = key.toLowerCase();
    const full = path === '' ? key : `${path}.${key}`;
    const before = seen.get(lower);
    if (before !== undefined)
      problems.push(
        `keys ${path === '' ? '' : `${path}.`}${before} and ${full} differ only in case (keys are case-insensitive)`,
      );
    seen.set(lower, key);
    out[lower] = lowerKeys(child, full, problems);
  }
  return out;
}

const isAbsent = (v: unknown): boolean => v === null || v === undefined || v === '';

function lookup(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.toLowerCase().split('.')) {
    if (!isMap(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** The layered view of file, environment and overrides. */
export class ConfigSources {
  private readonly overrides = new Map<string, unknown>();

  constructor(
    private readonly tree: Tree,
    private readonly fileLabel: string | undefined,
    private readonly env: Readonly<Record<string, string | undefined>>,
    overrides: Readonly<Record<string, unknown>>,
    readonly problems: SourceProblems,
  ) {
    for (const [key, value] of Object.entries(overrides)) {
      if (!KEY_INDEX.has(key.toLowerCase())) {
        problems.issues.push(`${key}: unknown configuration key (from overrides)`);
        continue;
      }
      this.overrides.set(key.toLowerCase(), value);
    }
    this.scanFile();
    this.scanEnv();
  }

  /** The raw value of `key` from the strongest source that sets it, or undefined. */
  get(key: string): RawValue | undefined {
    const lower = key.toLowerCase();
    if (this.overrides.has(lower) && !isAbsent(this.overrides.get(lower))) {
      return { value: this.overrides.get(lower), origin: 'overrides', fromEnv: false };
    }
    const name = envName(key);
    const fromEnv = this.env[name];
    if (fromEnv !== undefined && fromEnv !== '')
      return { value: fromEnv, origin: `environment variable ${name}`, fromEnv: true };
    const fromFile = lookup(this.tree, key);
    if (!isAbsent(fromFile) && this.fileLabel !== undefined)
      return { value: fromFile, origin: this.fileLabel, fromEnv: false };
    return undefined;
  }

  /** Raw environment lookup (FABRIC_LOGGING_SPEC and the like). */
  envVar(name: string): string | undefined {
    const v = this.env[name];
    return v === '' ? undefined : v;
  }

  private scanFile(): void {
    const walk = (node: Tree, path: string) => {
      for (const [key, child] of Object.entries(node)) {
        const full = path === '' ? key : `${path}.${key}`;
        if (KEY_INDEX.has(full)) continue;
        const parent = KEYS.some((d) => d.key.toLowerCase().startsWith(`${full}.`));
        if (parent && isMap(child)) {
          walk(child, full);
          continue;
        }
        if (parent && isAbsent(child)) continue;
        this.unknown(full, `in ${this.fileLabel}`);
      }
    };
    walk(this.tree, '');
  }

  private scanEnv(): void {
    const known = new Set(KEYS.map((d) => envName(d.key)));
    for (const [name, value] of Object.entries(this.env)) {
      if (!name.startsWith('CORE_') || known.has(name) || value === undefined || value === '') continue;
      const dotted = name.slice('CORE_'.length).toLowerCase().replace(/_/g, '.');
      this.unknown(dotted, `environment variable ${name}`);
    }
  }

  private unknown(lowerKey: string, where: string): void {
    const key = `${lowerKey}.`;
    if (IGNORED_PREFIXES.some((p) => key.startsWith(p.toLowerCase()))) return;
    if (key.startsWith(STRICT_PREFIX)) {
      this.problems.issues.push(
        `${lowerKey}: unknown key in the grapevine section (${where}); known: ${KEYS.filter((d) =>
          d.key.startsWith(STRICT_PREFIX),
        )
          .map((d) => d.key)
          .join(', ')}`,
      );
    } else if (WATCHED_PREFIXES.some((p) => key.startsWith(p.toLowerCase()))) {
      this.problems.warnings.push(`${lowerKey}: unknown key, ignored (${where})`);
    }
  }
}
