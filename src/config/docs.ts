/**
 * docs/configuration.md's key reference, generated from the config table (table.ts).
 *
 * The document is hand-written prose around generated tables. Each table sits between
 *
 *   <!-- config-table: gossip -->
 *   ...
 *   <!-- /config-table -->
 *
 * markers: a group of keys (GROUPS below) or `fast` (the keys the `fast` profile changes).
 * `renderConfigDoc(doc)` returns the document with every such table regenerated; the docs test
 * fails when the committed document differs, and `npm run docs:config` rewrites it.
 */
import { envName, formatMs, KEYS, type KeyDef } from './table.js';

export { formatMs };

export const REGENERATE = 'npm run docs:config';

/** The documentation group of each key: the first prefix that matches. */
const GROUPS: readonly (readonly [group: string, prefix: string])[] = [
  ['tls', 'peer.tls.'],
  ['keepalive', 'peer.keepalive.'],
  ['election', 'peer.gossip.election.'],
  ['pvtData', 'peer.gossip.pvtData.'],
  ['state', 'peer.gossip.state.'],
  ['gossip', 'peer.gossip.'],
  ['deliver', 'peer.deliveryclient.'],
  ['peer', 'peer.'],
  ['operations', 'operations.'],
  ['operations', 'metrics.'],
  ['catchup', 'grapevine.catchup.'],
  ['grapevine', 'grapevine.'],
];

export function groupOf(key: string): string {
  const g = GROUPS.find(([, prefix]) => key.startsWith(prefix));
  if (!g) throw new Error(`config key ${key} belongs to no documentation group`);
  return g[0];
}

const TYPE: Record<KeyDef['kind'], string> = {
  string: 'text',
  hostport: 'host:port',
  hostports: 'host:port list',
  bool: 'bool',
  int: 'int',
  duration: 'duration',
  path: 'path',
  paths: 'path list',
  enum: 'enum',
  overrides: 'list of maps',
  logspec: 'log spec',
};

function formatValue(d: KeyDef, v: unknown): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.join(' ');
  if (v === '') return '(empty)';
  if (d.kind === 'duration' && typeof v === 'number') return formatMs(v);
  return String(v);
}

const codeDefault = (d: KeyDef): string => d.derived ?? formatValue(d, d.def);
const sample = (d: KeyDef): string =>
  d.yaml === undefined ? '(not in sample)' : d.yaml === '' ? '(empty)' : d.yaml;
const fast = (d: KeyDef): string => (d.fast === undefined ? '' : formatValue(d, d.fast));

/** The checks made on a value besides its type. */
export function checkOf(d: KeyDef): string {
  const parts: string[] = [];
  if (d.zero === 'default') parts.push('0 = default');
  if (d.zero === 'keep') parts.push('0 kept');
  if (d.zero === 'reject') parts.push('0 refused');
  const num = (n: number) => (d.kind === 'duration' ? formatMs(n) : String(n));
  if (d.min !== undefined && d.min < 0) parts.push('negative = default');
  if (d.min !== undefined && d.min > 0) parts.push(`>= ${num(d.min)}`);
  if (d.max !== undefined) parts.push(`<= ${num(d.max)}`);
  if (d.values) parts.push(`one of ${d.values.join(', ')}`);
  return parts.join('; ');
}

const meaning = (d: KeyDef): string => (d.unused ? `${d.meaning} _(no effect in Grapevine)_` : d.meaning);

/** A Markdown table laid out as prettier lays it out. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => [...r[i]].length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join(' | ')} |`;
  return [line(all[0]), line(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(line)].join('\n');
}

/** The generated table of `name`: a key group, or `fast`. */
export function configTable(name: string): string {
  if (name === 'fast') {
    const rows = KEYS.filter((d) => d.fast !== undefined).map((d) => [
      `\`${d.key}\``,
      codeDefault(d),
      fast(d),
    ]);
    return markdownTable(['Key', 'fabric', 'fast'], rows);
  }
  const keys = KEYS.filter((d) => groupOf(d.key) === name);
  if (keys.length === 0) throw new Error(`no config keys in group ${name}`);
  const withFast = keys.some((d) => d.fast !== undefined);
  const header = [
    'Key',
    'Environment variable',
    'Type',
    'Code default',
    'Fabric sample core.yaml',
    ...(withFast ? ['fast'] : []),
    'Check',
    'Meaning',
  ];
  const rows = keys.map((d) => [
    `\`${d.key}\``,
    `\`${envName(d.key)}\``,
    TYPE[d.kind],
    codeDefault(d),
    sample(d),
    ...(withFast ? [fast(d)] : []),
    checkOf(d),
    meaning(d),
  ]);
  return markdownTable(header, rows);
}

const BLOCK = /(<!-- config-table: (\w+) -->\n)[\s\S]*?(\n<!-- \/config-table -->)/g;

/**
 * `doc` with every generated table regenerated. Throws when a key group has no table in it (a
 * new group needs its section written by hand first).
 */
export function renderConfigDoc(doc: string): string {
  const seen = new Set<string>();
  const out = doc.replace(BLOCK, (_, open: string, name: string, close: string) => {
    seen.add(name);
    return `${open}\n${configTable(name)}\n${close}`;
  });
  const missing = [...new Set(KEYS.map((d) => groupOf(d.key)))].filter((g) => !seen.has(g));
  if (missing.length > 0)
    throw new Error(
      `docs/configuration.md has no generated table for key group(s) ${missing.join(', ')}: add a section with <!-- config-table: ${missing[0]} --> ... <!-- /config-table -->`,
    );
  return out;
}
