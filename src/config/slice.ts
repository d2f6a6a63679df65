/**
 * Module configs as typed slices of the config table (table.ts).
 *
 * A module names the keys it reads (`fields(...)`: field name = the key's last part, `Ms` added
 * for durations, as in PeerConfig) plus its own bounds that are not core.yaml keys (maxItems,
 * ...). Its config type, its defaults (Fabric's, or the `fast` profile's) and its
 * `xxxConfig(partial)` helper all follow from that:
 *
 *   const PULL = slice('pull config', fields('peer.gossip.pullInterval', ...), { maxItems: 10_000 });
 *   export type PullConfig = SliceConfig<typeof PULL>;
 *   export const pullConfig = (input = {}, profile = 'fabric') => resolveSlice(PULL, input, profile);
 *
 * The peer's loader (src/node/config) validates core.yaml once and hands each module its slice
 * of the resolved PeerConfig (`sliceOf`); modules trust the resolved config they are given. The
 * `xxxConfig(partial)` helpers serve library users and tests that build a module directly: they
 * fill the defaults and check each value as the table says (0 = the default unless the key keeps
 * a 0, as Fabric's GetIntOrDefault), throwing a ConfigError naming the field and its key.
 */
import { ConfigError } from '../base/errors.js';
import {
  defaultOf,
  isHostPort,
  row,
  tsPath,
  type Key,
  type ProfileName,
  type RowOf,
  type ValueOf,
} from './table.js';

type Leaf<K extends string> = K extends `${string}.${infer R}` ? Leaf<R> : K;
/** The field name of a key in a slice (and in PeerConfig): its last part, `Ms` for durations. */
export type FieldOf<K extends Key> = RowOf<K>['kind'] extends 'duration' ? `${Leaf<K>}Ms` : Leaf<K>;

/** A module's fields, each mapped to its table key. */
export type FieldMap = Readonly<Record<string, Key>>;
/** The typed values of a FieldMap's keys. */
export type Slice<M extends FieldMap> = { readonly [F in keyof M]: ValueOf<M[F]> };

/** The fields of `keys`, named as in PeerConfig. */
export function fields<const K extends readonly Key[]>(
  ...keys: K
): { readonly [P in K[number] as FieldOf<P>]: P } {
  const out: Record<string, Key> = {};
  for (const key of keys) out[tsPath(row(key)).at(-1) as string] = key;
  return out as { readonly [P in K[number] as FieldOf<P>]: P };
}

export interface SliceSpec<M extends FieldMap, B extends object> {
  /** For messages: `pull config`. */
  readonly what: string;
  readonly fields: M;
  /** Module-only settings (not core.yaml keys) and their defaults. */
  readonly bounds: B;
}

/** A slice's resolved config type. */
export type SliceConfig<S> = S extends SliceSpec<infer M, infer B> ? Slice<M> & Readonly<B> : never;

export function slice<M extends FieldMap, B extends object>(what: string, f: M, bounds: B): SliceSpec<M, B> {
  return { what, fields: f, bounds };
}

/** The slice's defaults under `profile`; a derived key (no default) is absent. */
export function sliceDefaults<M extends FieldMap, B extends object>(
  spec: SliceSpec<M, B>,
  profile: ProfileName = 'fabric',
): Slice<M> & B {
  const out: Record<string, unknown> = { ...(spec.bounds as Record<string, unknown>) };
  for (const [field, key] of Object.entries(spec.fields)) {
    const d = defaultOf(key, profile);
    if (d !== undefined) out[field] = d;
  }
  return out as Slice<M> & B;
}

/**
 * The slice's defaults under `profile` overridden by `input`, each value checked; not frozen
 * (the module may derive more fields first). Throws ConfigError (UNKNOWN_KEY, BAD_VALUE).
 */
export function resolveSlice<M extends FieldMap, B extends object>(
  spec: SliceSpec<M, B>,
  input: Partial<Slice<M> & B> | undefined,
  profile: ProfileName = 'fabric',
): Slice<M> & B {
  if (input === null || typeof input !== 'object')
    throw new ConfigError('BAD_VALUE', `${spec.what} must be an object, got ${String(input)}`);
  const out = sliceDefaults(spec, profile) as Record<string, unknown>;
  const bounds = spec.bounds as Record<string, unknown>;
  for (const [field, value] of Object.entries(input)) {
    const key = Object.hasOwn(spec.fields, field) ? spec.fields[field] : undefined;
    if (key === undefined && !Object.hasOwn(bounds, field))
      throw new ConfigError('UNKNOWN_KEY', `${spec.what}: unknown key ${field}`);
    if (value === undefined) continue;
    const checked = check(spec.what, field, key, bounds[field], value);
    if (checked !== undefined) out[field] = checked;
  }
  return out as Slice<M> & B;
}

/** `value` checked for `field`, or undefined when it means the default (a 0). */
function check(what: string, field: string, key: Key | undefined, bound: unknown, value: unknown): unknown {
  const d = key === undefined ? undefined : row(key);
  const subject = key ?? `${what}: ${field}`;
  const where = key === undefined ? '' : ` (${what}: ${field})`;
  const bad = (expected: string): never => {
    throw new ConfigError(
      'BAD_VALUE',
      `${subject} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}${where}`,
    );
  };
  const kind = d?.kind ?? (typeof bound === 'number' ? 'int' : typeof bound === 'boolean' ? 'bool' : 'any');
  switch (kind) {
    case 'bool':
      return typeof value === 'boolean' ? value : bad('true or false');
    case 'int':
    case 'duration': {
      const unit = kind === 'duration' ? ' ms' : '';
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
        bad(`a non-negative whole number${kind === 'duration' ? ' of milliseconds' : ''}`);
      const n = value as number;
      if (n === 0 && d?.zero !== 'keep') return undefined;
      if (d?.min !== undefined && n < d.min)
        bad(`at least ${d.min}${unit}${d.minReason ? ` (${d.minReason})` : ''}`);
      if (d?.max !== undefined && n > d.max) bad(`at most ${d.max}${unit}`);
      return n;
    }
    case 'hostport':
      if (typeof value !== 'string' || (value !== '' && !isHostPort(value))) bad('host:port');
      return value;
    case 'hostports': {
      if (!Array.isArray(value)) bad('a list of host:port');
      for (const entry of value as unknown[]) {
        if (typeof entry !== 'string' || !isHostPort(entry))
          throw new ConfigError(
            'BAD_VALUE',
            `${subject} entry must be host:port, got ${JSON.stringify(entry)}${where}`,
          );
      }
      return Object.freeze([...(value as string[])]);
    }
    case 'string':
    case 'path':
    case 'logspec':
      return typeof value === 'string' ? value : bad('a text value');
    case 'enum':
      return typeof value === 'string' && (d?.values ?? []).includes(value)
        ? value
        : bad(`one of ${(d?.values ?? []).join(', ')}`);
    default:
      return value;
  }
}

/** The slice of a resolved configuration tree (PeerConfig): each field read at its key's path. */
export function sliceOf<M extends FieldMap>(f: M, cfg: object): Slice<M> {
  const out: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(f)) {
    let node: unknown = cfg;
    for (const part of tsPath(row(key))) node = (node as Record<string, unknown>)[part];
    out[field] = node;
  }
  return out as Slice<M>;
}
