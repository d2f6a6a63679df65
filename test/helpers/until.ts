/**
 * The one way tests wait for something to happen: poll a condition, bounded by a timeout.
 *
 * - `until(cond, what, opts)` resolves once `cond()` holds and otherwise rejects with
 *   `timed out after N ms waiting for <what>` (plus `detail()` when given), so a failure names
 *   what was awaited. Most tests want this.
 * - `poll(cond, opts)` is the same loop returning whether `cond()` held in time, for tests that
 *   assert on the state afterwards with their own (more specific) message.
 * - `untilMetric(metrics, name, labels, want)` waits for a counter to reach `want` and then
 *   asserts it is exactly `want` (no overshoot).
 * - `untilVirtual(clock, cond, what, maxMs)` is the simulation's variant: it drives the
 *   VirtualClock (`runUntil`) instead of waiting for real time.
 *
 * Real-time polls check `cond` right away, then every `intervalMs` (default 10 ms) of real time;
 * `cond` may be async. No test should sleep a guessed amount instead.
 */
import assert from 'node:assert/strict';
import type { VirtualClock } from '../../src/sim/clock.js';

export interface PollOptions {
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Wait this long between checks (default 10 ms; 0 = next timer turn). */
  readonly intervalMs?: number;
}

export interface UntilOptions extends PollOptions {
  /** Appended to the timeout message (e.g. a summary of the state that did not converge). */
  readonly detail?: () => string;
}

export type Condition = () => boolean | Promise<boolean>;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Check `cond` until it holds or `timeoutMs` passed; returns whether it held. */
export async function poll(cond: Condition, opts: PollOptions = {}): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await sleep(intervalMs);
  }
}

/**
 * Resolve when `cond` holds; reject after the timeout with a message naming `what`.
 * `opts` may be just the timeout in ms.
 */
export async function until(cond: Condition, what: string, opts: number | UntilOptions = {}): Promise<void> {
  const o: UntilOptions = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  if (await poll(cond, o)) return;
  const detail = o.detail ? `: ${o.detail()}` : '';
  throw new Error(`timed out after ${o.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms waiting for ${what}${detail}`);
}

/** Anything with a Metrics-style `value(name, labels)` (src/base/metrics.ts). */
export interface MetricSource {
  value(name: string, labels?: Record<string, string>): Promise<number>;
}

/** Wait until metric `name{labels}` reaches `want`, then assert it is exactly `want`. */
export async function untilMetric(
  m: MetricSource,
  name: string,
  labels: Record<string, string>,
  want: number,
  opts: UntilOptions = {},
): Promise<void> {
  let v = 0;
  await until(
    async () => (v = await m.value(name, labels)) >= want,
    `${name} ${JSON.stringify(labels)} to reach ${want}`,
    { intervalMs: 5, ...opts, detail: () => `stayed at ${v}` },
  );
  assert.equal(v, want, `${name} ${JSON.stringify(labels)} = ${v}, want ${want}`);
}

/**
 * The simulation's `until`: run the virtual clock until `cond` holds (returns the virtual ms it
 * took) or throw after `maxMs` of virtual time, naming `what`.
 */
export async function untilVirtual(
  clock: Pick<VirtualClock, 'runUntil' | 'now'>,
  cond: () => boolean,
  what: string,
  maxMs: number,
  detail?: () => string,
): Promise<number> {
  const t0 = clock.now();
  if (await clock.runUntil(cond, maxMs)) return clock.now() - t0;
  throw new Error(`${what} not within ${maxMs} virtual ms${detail ? `: ${detail()}` : ''}`);
}
