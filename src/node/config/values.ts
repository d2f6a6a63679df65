/**
 * Turning one raw configuration value (from YAML, an environment variable or an override) into
 * its typed form (plain functions: zod's schemas cost every peer ~2 MiB of heap for what is one
 * function per kind). Each kind accepts what Fabric/viper accepts and refuses, with a short
 * reason, what viper would silently turn into a zero or false:
 *
 * - duration: Go duration text ("4s", "1500ms", "1m", "1h30m"); a bare 0 is 0; a bare non-zero
 *   number is refused (viper reads it as nanoseconds, never what was meant). Result: whole ms,
 *   rounded up, at most MAX_DURATION_MS (Node's timer limit).
 * - int: a whole number, or its decimal / 0x text.
 * - bool: true/false, strconv.ParseBool's words (1, t, T, TRUE, 0, f, ...) and YAML 1.1's
 *   (yes/no/on/off/y/n), as go-yaml v2 under viper reads them.
 * - lists (bootstrap, clientRootCAs.files, grapevine.channels): a YAML list, or one string split
 *   on white space (viper's GetStringSlice on an environment variable).
 */
import { parseGoDuration } from '../../channelconfig/duration.js';
import { parseLogSpec } from '../logspec.js';
import { isHostPort } from '../../config/table.js';
import { MAX_DURATION_MS, type KeyDef } from './keys.js';
import type { AddressOverrideEntry } from '../../config/table.js';

export type Coerced = { ok: true; value: unknown } | { ok: false; problem: string };

/** How a value is shown in a message. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** One kind's rule: the typed value, or why it is refused. */
type Rule = (v: unknown) => Coerced;
const accept = (value: unknown): Coerced => ({ ok: true, value });
const refuse = (problem: string): Coerced => ({ ok: false, problem });
/** `first`, then `next` on its value. */
const then =
  <T>(first: Rule, next: (value: T) => Coerced): Rule =>
  (v) => {
    const r = first(v);
    return r.ok ? next(r.value as T) : r;
  };

const TRUE_WORDS = new Set(['true', 't', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no', 'n', 'off']);

const boolRule: Rule = (v) => {
  if (typeof v === 'boolean') return accept(v);
  if (v === 0 || v === 1) return accept(v === 1);
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return accept(true);
    if (FALSE_WORDS.has(w)) return accept(false);
  }
  return refuse(`${show(v)} is not true or false`);
};

function intRule(min: number, max: number): Rule {
  return (v) => {
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string') {
      const s = v.trim();
      if (/^[+-]?\d+$/.test(s)) n = Number(s);
      else if (/^0x[0-9a-f]+$/i.test(s)) n = Number.parseInt(s.slice(2), 16);
    }
    if (n === undefined || !Number.isSafeInteger(n)) return refuse(`${show(v)} is not a whole number`);
    if (n < min) return refuse(min === 0 ? `${n} is negative` : `${n} is below the minimum ${min}`);
    if (n > max) return refuse(`${n} is above the maximum ${max}`);
    return accept(n);
  };
}

const durationRule: Rule = (v) => {
  const hint = 'use e.g. 4s';
  if (typeof v === 'number' || (typeof v === 'string' && /^[+-]?\d+(\.\d+)?$/.test(v.trim()))) {
    if (Number(v) === 0) return accept(0);
    return refuse(
      `${show(v)} has no unit: Fabric would read it as ${String(v).trim()} nanoseconds (${hint} or 1500ms)`,
    );
  }
  if (typeof v !== 'string') return refuse(`${show(v)} is not a duration (${hint})`);
  const ns = parseGoDuration(v.trim());
  if (ns === undefined) return refuse(`${show(v)} is not a duration (${hint})`);
  if (ns < 0n) return refuse(`${show(v)} is negative`);
  const ms = Number((ns + 999_999n) / 1_000_000n);
  if (ms > MAX_DURATION_MS)
    return refuse(
      `${show(v)} is longer than ${Math.floor(MAX_DURATION_MS / 3_600_000)}h, the longest timer Node.js supports`,
    );
  return accept(ms);
};

const stringRule: Rule = (v) => {
  if (typeof v === 'string') return accept(v.trim());
  if (typeof v === 'number' || typeof v === 'boolean') return accept(String(v));
  return refuse(`${show(v)} is not a text value`);
};

function hostPortRule(allowZero: boolean): Rule {
  return then<string>(stringRule, (text) =>
    text !== '' && !isHostPort(text, allowZero)
      ? refuse(`${show(text)} is not host:port (e.g. peer0.org1.example.com:7051)`)
      : accept(text),
  );
}

const listRule: Rule = (v) => {
  const items = typeof v === 'string' ? v.split(/\s+/).filter((x) => x !== '') : v;
  if (!Array.isArray(items))
    return refuse(`${show(v)} is not a list (use a YAML list or space-separated values)`);
  const out: string[] = [];
  for (const item of items) {
    if (item === null || item === undefined || item === '') continue;
    if (typeof item !== 'string' && typeof item !== 'number')
      return refuse(`entry ${show(item)} is not a text value`);
    out.push(String(item).trim());
  }
  return accept(out);
};

const hostPortsRule = then<string[]>(listRule, (list) => {
  for (const entry of list) {
    if (!isHostPort(entry))
      return refuse(`entry ${show(entry)} is not host:port (separate several endpoints with spaces)`);
  }
  return accept(list);
});

const OVERRIDE_FIELDS: Record<string, keyof AddressOverrideEntry> = {
  from: 'from',
  to: 'to',
  cacertsfile: 'caCertsFile',
};

const overridesRule: Rule = (v) => {
  if (!Array.isArray(v)) return refuse(`${show(v)} is not a list of {from, to, caCertsFile}`);
  const out: AddressOverrideEntry[] = [];
  for (const [i, item] of v.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return refuse(`entry ${i + 1} is not a map with from, to, caCertsFile`);
    const entry: Record<string, string> = { from: '', to: '', caCertsFile: '' };
    for (const [field, value] of Object.entries(item as Record<string, unknown>)) {
      const name = OVERRIDE_FIELDS[field.toLowerCase()];
      if (name === undefined)
        return refuse(`entry ${i + 1}: unknown field ${show(field)} (fields: from, to, caCertsFile)`);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string')
        return refuse(`entry ${i + 1}: ${name} ${show(value)} is not a text value`);
      entry[name] = value.trim();
    }
    for (const name of ['from', 'to'] as const) {
      if (!isHostPort(entry[name]))
        return refuse(`entry ${i + 1}: ${name} ${show(entry[name])} is not host:port`);
    }
    out.push(entry as unknown as AddressOverrideEntry);
  }
  return accept(out);
};

function enumRule(values: readonly string[]): Rule {
  return then<string>(stringRule, (s) =>
    values.includes(s) ? accept(s) : refuse(`${show(s)} is not one of ${values.join(', ')}`),
  );
}

const logSpecRule = then<string>(stringRule, (s) => {
  try {
    parseLogSpec(s);
    return accept(s);
  } catch (e) {
    return refuse((e as Error).message);
  }
});

function ruleFor(def: KeyDef): Rule {
  switch (def.kind) {
    case 'bool':
      return boolRule;
    case 'int':
      return intRule(def.min ?? 0, def.max ?? Number.MAX_SAFE_INTEGER);
    case 'duration':
      return durationRule;
    case 'string':
    case 'path':
      return stringRule;
    case 'hostport':
      return hostPortRule(def.key.endsWith('listenAddress'));
    case 'hostports':
      return hostPortsRule;
    case 'paths':
      return listRule;
    case 'enum':
      return enumRule(def.values ?? []);
    case 'overrides':
      return overridesRule;
    case 'logspec':
      return logSpecRule;
  }
}

/** The typed value of `value` for `def`, or the reason it is refused. */
export function coerce(def: KeyDef, value: unknown): Coerced {
  return ruleFor(def)(value);
}
