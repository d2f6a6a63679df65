/**
 * Turning one raw configuration value (from YAML, an environment variable or an override) into
 * its typed form, with zod. Each kind accepts what Fabric/viper accepts and refuses, with a short
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
import { z } from 'zod';
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

type Ctx = z.core.$RefinementCtx;
const fail = (ctx: Ctx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
};
const raw = z.unknown();

const TRUE_WORDS = new Set(['true', 't', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no', 'n', 'off']);

const boolSchema = raw.transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
  }
  return fail(ctx, `${show(v)} is not true or false`);
});

function intSchema(min: number, max: number) {
  return raw
    .transform((v, ctx) => {
      let n: number | undefined;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string') {
        const s = v.trim();
        if (/^[+-]?\d+$/.test(s)) n = Number(s);
        else if (/^0x[0-9a-f]+$/i.test(s)) n = Number.parseInt(s.slice(2), 16);
      }
      if (n === undefined || !Number.isSafeInteger(n)) return fail(ctx, `${show(v)} is not a whole number`);
      return n;
    })
    .pipe(
      z
        .number()
        .min(min, {
          error: (i) =>
            min === 0 ? `${String(i.input)} is negative` : `${String(i.input)} is below the minimum ${min}`,
        })
        .max(max, { error: (i) => `${String(i.input)} is above the maximum ${max}` }),
    );
}

const durationSchema = raw.transform((v, ctx) => {
  const hint = 'use e.g. 4s';
  if (typeof v === 'number' || (typeof v === 'string' && /^[+-]?\d+(\.\d+)?$/.test(v.trim()))) {
    if (Number(v) === 0) return 0;
    return fail(
      ctx,
      `${show(v)} has no unit: Fabric would read it as ${String(v).trim()} nanoseconds (${hint} or 1500ms)`,
    );
  }
  if (typeof v !== 'string') return fail(ctx, `${show(v)} is not a duration (${hint})`);
  const ns = parseGoDuration(v.trim());
  if (ns === undefined) return fail(ctx, `${show(v)} is not a duration (${hint})`);
  if (ns < 0n) return fail(ctx, `${show(v)} is negative`);
  const ms = Number((ns + 999_999n) / 1_000_000n);
  if (ms > MAX_DURATION_MS)
    return fail(
      ctx,
      `${show(v)} is longer than ${Math.floor(MAX_DURATION_MS / 3_600_000)}h, the longest timer Node.js supports`,
    );
  return ms;
});

const stringSchema = raw.transform((v, ctx) => {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(ctx, `${show(v)} is not a text value`);
});

function hostPortSchema(allowZero: boolean) {
  return stringSchema.pipe(
    z.string().transform((text, ctx) => {
      if (text !== '' && !isHostPort(text, allowZero))
        return fail(ctx, `${show(text)} is not host:port (e.g. peer0.org1.example.com:7051)`);
      return text;
    }),
  );
}

const listSchema = raw.transform((v, ctx) => {
  const items = typeof v === 'string' ? v.split(/\s+/).filter((x) => x !== '') : v;
  if (!Array.isArray(items))
    return fail(ctx, `${show(v)} is not a list (use a YAML list or space-separated values)`);
  const out: string[] = [];
  for (const item of items) {
    if (item === null || item === undefined || item === '') continue;
    if (typeof item !== 'string' && typeof item !== 'number')
      return fail(ctx, `entry ${show(item)} is not a text value`);
    out.push(String(item).trim());
  }
  return out;
});

const hostPortsSchema = listSchema.pipe(
  z.array(z.string()).transform((list, ctx) => {
    for (const entry of list) {
      if (!isHostPort(entry))
        return fail(ctx, `entry ${show(entry)} is not host:port (separate several endpoints with spaces)`);
    }
    return list;
  }),
);

const OVERRIDE_FIELDS: Record<string, keyof AddressOverrideEntry> = {
  from: 'from',
  to: 'to',
  cacertsfile: 'caCertsFile',
};

const overridesSchema = raw.transform((v, ctx) => {
  if (!Array.isArray(v)) return fail(ctx, `${show(v)} is not a list of {from, to, caCertsFile}`);
  const out: AddressOverrideEntry[] = [];
  for (const [i, item] of v.entries()) {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return fail(ctx, `entry ${i + 1} is not a map with from, to, caCertsFile`);
    const entry: Record<string, string> = { from: '', to: '', caCertsFile: '' };
    for (const [field, value] of Object.entries(item as Record<string, unknown>)) {
      const name = OVERRIDE_FIELDS[field.toLowerCase()];
      if (name === undefined)
        return fail(ctx, `entry ${i + 1}: unknown field ${show(field)} (fields: from, to, caCertsFile)`);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string')
        return fail(ctx, `entry ${i + 1}: ${name} ${show(value)} is not a text value`);
      entry[name] = value.trim();
    }
    for (const name of ['from', 'to'] as const) {
      if (!isHostPort(entry[name]))
        return fail(ctx, `entry ${i + 1}: ${name} ${show(entry[name])} is not host:port`);
    }
    out.push(entry as unknown as AddressOverrideEntry);
  }
  return out;
});

function enumSchema(values: readonly string[]) {
  return stringSchema.pipe(
    z
      .string()
      .transform((s, ctx) =>
        values.includes(s) ? s : fail(ctx, `${show(s)} is not one of ${values.join(', ')}`),
      ),
  );
}

const logSpecSchema = stringSchema.pipe(
  z.string().transform((s, ctx) => {
    try {
      parseLogSpec(s);
      return s;
    } catch (e) {
      return fail(ctx, (e as Error).message);
    }
  }),
);

function schemaFor(def: KeyDef): z.ZodType<unknown> {
  switch (def.kind) {
    case 'bool':
      return boolSchema;
    case 'int':
      return intSchema(def.min ?? 0, def.max ?? Number.MAX_SAFE_INTEGER);
    case 'duration':
      return durationSchema;
    case 'string':
    case 'path':
      return stringSchema;
    case 'hostport':
      return hostPortSchema(def.key.endsWith('listenAddress'));
    case 'hostports':
      return hostPortsSchema;
    case 'paths':
      return listSchema;
    case 'enum':
      return enumSchema(def.values ?? []);
    case 'overrides':
      return overridesSchema;
    case 'logspec':
      return logSpecSchema;
  }
}

/** The typed value of `value` for `def`, or the reason it is refused. */
export function coerce(def: KeyDef, value: unknown): Coerced {
  const r = schemaFor(def).safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problem: r.error.issues.map((i) => i.message).join('; ') };
}
