/**
 * Strict, case-insensitive reading of a parsed YAML tree into typed values, with errors that
 * name the file and the key path (`Profiles.P.Orderer.BatchSize.AbsoluteMaxBytes`). Mirrors
 * the decoding configtxgen does with viper/mapstructure: keys match field names ignoring case,
 * unknown keys are errors, null means absent, a scalar where a list is expected becomes a
 * one-element list, and a string "[a, b]" is a list of two.
 */
import { ConfigError } from '../base/errors.js';
import { ValueError, describe } from './scalars.js';

export class Reader {
  constructor(readonly file: string) {}

  fail(where: string, message: string, code = 'CONFIGTX_KEY'): never {
    throw new ConfigError(code, `${this.file}: ${where === '' ? '' : `${where}: `}${message}`);
  }

  /** A mapping with only the given keys (matched ignoring case), by canonical key; null values dropped. */
  struct<K extends string>(
    v: unknown,
    where: string,
    keys: readonly K[],
  ): Partial<Record<K, unknown>> | undefined {
    const entries = this.entries(v, where);
    if (entries === undefined) return undefined;
    const out: Partial<Record<K, unknown>> = {};
    for (const [k, val] of entries) {
      const key = keys.find((c) => c === k) ?? keys.find((c) => c.toLowerCase() === k.toLowerCase());
      if (key === undefined) {
        this.fail(join(where, k), `unknown key "${k}" (expected one of ${keys.join(', ')})`);
      }
      if (val !== null && val !== undefined) out[key] = val;
    }
    return out;
  }

  /** A mapping with free keys, in file order; undefined when absent. */
  entries(v: unknown, where: string): [string, unknown][] | undefined {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
      this.fail(where, `expected a mapping, got ${describe(v)}`);
    }
    return Object.entries(v as Record<string, unknown>);
  }

  /** A list; a single scalar counts as a one-element list, "[a, b]" as a list of strings. */
  list(v: unknown, where: string): unknown[] | undefined {
    if (v === null || v === undefined) return undefined;
    if (Array.isArray(v)) return v;
    if (typeof v === 'string') {
      if (v.length > 1 && v.startsWith('[') && v.endsWith(']')) {
        return v
          .slice(1, -1)
          .split(',')
          .map((s) => s.trim());
      }
      return [v];
    }
    if (typeof v === 'object') this.fail(where, `expected a list, got ${describe(v)}`);
    return [v];
  }

  /** Convert a scalar, turning a ValueError into a ConfigError naming the key. */
  scalar<T>(convert: (v: unknown) => T, v: unknown, where: string, code = 'CONFIGTX_VALUE'): T {
    try {
      return convert(v);
    } catch (e) {
      if (e instanceof ValueError) this.fail(where, e.message, code);
      throw e;
    }
  }

  optional<T>(convert: (v: unknown) => T, v: unknown, where: string, dflt: T): T {
    return v === undefined ? dflt : this.scalar(convert, v, where);
  }
}

export function join(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}
