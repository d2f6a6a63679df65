/**
 * Numbers and durations on the command line: a bare number in the option's own unit (as the help
 * says: `<ms>`, `<s>`), or a Go duration (`1m30s`, `250ms`, as core.yaml takes them). Anything else
 * is refused with a message naming the flag, instead of becoming 0 or NaN.
 */
import { ConfigError } from '../base/errors.js';
import { parseGoDuration } from '../channelconfig/duration.js';
import { MAX_DURATION_MS } from '../config/table.js';

const NS_PER_MS = 1_000_000n;

/** Milliseconds from `<n>` in `unitMs` (1 for `<ms>`, 1000 for `<s>`) or a Go duration; >= min. */
export function durationOption(flag: string, value: string, unitMs: number, minMs = 0): number {
  const text = value.trim();
  let ms: number | undefined;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * unitMs;
  else {
    const ns = parseGoDuration(text);
    if (ns !== undefined && ns >= 0n) ms = Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
  }
  if (ms === undefined || !Number.isFinite(ms))
    throw new ConfigError(
      'BAD_FLAG',
      `${flag}: ${JSON.stringify(value)} is not a duration (a number${unitMs === 1000 ? ' of seconds' : ' of milliseconds'}, or Go syntax such as 1m30s or 250ms)`,
    );
  if (ms < minMs) throw new ConfigError('BAD_FLAG', `${flag}: ${JSON.stringify(value)} is below ${minMs} ms`);
  // the same bound as core.yaml durations: a longer Node.js timer would fire at once
  if (ms > MAX_DURATION_MS)
    throw new ConfigError(
      'BAD_FLAG',
      `${flag}: ${JSON.stringify(value)} is longer than Node.js timers allow`,
    );
  return ms;
}

/** A positive number (e.g. a rate or a port); junk, 0 and negatives are refused naming the flag. */
export function positiveOption(flag: string, value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError('BAD_FLAG', `${flag}: ${JSON.stringify(value)} is not a positive number`);
  return n;
}
