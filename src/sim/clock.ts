/**
 * Virtual time for the simulation (ARCHITECTURE.md §1).
 *
 * Algorithm:
 * - Time is a number of virtual milliseconds; it only moves when the test drives it
 *   (`runFor`, `runUntil`, `step`). Nothing here reads the wall clock.
 * - Timers sit in a binary heap ordered by (due time, insertion sequence), so timers due at the
 *   same virtual time fire in the order they were scheduled; an interval re-arms with a fresh
 *   sequence number after each firing.
 * - Draining rule: before the first timer and after every timer callback, the driver waits
 *   for a `process.nextTick`. Node runs a tick only once V8's microtask queue is empty (every
 *   ready promise continuation, including continuations those schedule), so async protocol
 *   code woken by a timer runs every step that does not wait on another timer before virtual
 *   time moves on. Every 1024 firings the driver yields a full event-loop turn (`setImmediate`)
 *   so real I/O in the same process is not starved. Real I/O (disk, native async crypto) is NOT
 *   awaited: simulated code must not depend on it, nor on process.nextTick ordering.
 * - `NodeClock` is one node's view of the shared clock: it tracks its own timers so a crash
 *   cancels every timer the node owned, and its sleeps never resolve after the crash.
 */
import type { Clock, TimerHandle } from '../base/time.js';

interface Timer extends TimerHandle {
  due: number;
  seq: number;
  fn: () => void;
  /** 0 for a one-shot timer. */
  period: number;
  cancelled: boolean;
}

/** 2030-01-01T00:00:00Z: a fixed epoch so runs replay; sim certificates are valid around it. */
export const DEFAULT_EPOCH_MS = Date.UTC(2030, 0, 1);

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

export class VirtualClock implements Clock {
  private t: number;
  private readonly startMs: number;
  private heap: Timer[] = [];
  private seq = 0;
  private nextId = 1;
  private lastNs = 0n;
  private running = false;
  /** Timer callbacks fired so far (a cheap progress measure). */
  fired = 0;
  /** Errors thrown by timer callbacks; a callback's throw never stops the run. */
  readonly errors: unknown[] = [];

  constructor(epochMs: number = DEFAULT_EPOCH_MS) {
    this.t = epochMs;
    this.startMs = epochMs;
  }

  now(): number {
    return this.t;
  }

  /** Virtual ms since this clock was created. */
  elapsed(): number {
    return this.t - this.startMs;
  }

  /** Strictly increasing nanoseconds (PeerTime inc_num needs that), derived from virtual time. */
  nowNs(): bigint {
    const ns = BigInt(Math.floor(this.t)) * 1_000_000n;
    this.lastNs = ns > this.lastNs ? ns : this.lastNs + 1n;
    return this.lastNs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  clearTimer(handle: TimerHandle): void {
    (handle as Timer).cancelled = true;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of armed timers (cancelled ones may still be counted until they surface). */
  pending(): number {
    return this.heap.length;
  }

  /** Due time of the next live timer, or undefined. */
  nextDue(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.due;
  }

  /** Fire the next timer (advancing time to it) and drain microtasks; false when none is armed. */
  async step(): Promise<boolean> {
    return this.guard(async () => {
      await yieldToEventLoop();
      return this.fireNext(Infinity);
    });
  }

  /** Fire every timer due within `ms` of now, in order; time ends exactly `ms` later. */
  async runFor(ms: number): Promise<void> {
    const end = this.t + ms;
    await this.guard(async () => {
      await yieldToEventLoop();
      while (await this.fireNext(end));
      this.t = Math.max(this.t, end);
    });
  }

  /**
   * Run until `pred()` holds (checked before and after every timer) or `maxMs` passed.
   * Returns whether the predicate held; time stops at the firing that made it true.
   */
  async runUntil(pred: () => boolean, maxMs: number): Promise<boolean> {
    const end = this.t + maxMs;
    return this.guard(async () => {
      await yieldToEventLoop();
      if (pred()) return true;
      while (await this.fireNext(end)) {
        if (pred()) return true;
      }
      this.t = Math.max(this.t, end);
      return pred();
    });
  }

  private async guard<T>(body: () => Promise<T>): Promise<T> {
    if (this.running)
      throw new Error('VirtualClock: already running (a run was started from inside a timer?)');
    this.running = true;
    try {
      return await body();
    } finally {
      this.running = false;
    }
  }

  private schedule(fn: () => void, ms: number, period: number): Timer {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = {
      id: this.nextId++,
      due: this.t + delay,
      seq: this.seq++,
      fn,
      period,
      cancelled: false,
    };
    this.push(timer);
    return timer;
  }

  /** Fire one timer due at or before `end`; then drain microtasks. */
  private async fireNext(end: number): Promise<boolean> {
    this.dropCancelledTop();
    const top = this.heap[0];
    if (!top || top.due > end) return false;
    this.pop();
    this.t = Math.max(this.t, top.due);
    if (top.period > 0) {
      top.due = this.t + top.period;
      top.seq = this.seq++;
      this.push(top);
    }
    this.fired++;
    try {
      top.fn();
    } catch (e) {
      this.errors.push(e);
    }
    await ((this.fired & 1023) === 0 ? yieldToEventLoop() : drainMicrotasks());
    return true;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private push(timer: Timer): void {
    // sift up with a hole (no swaps)
    const h = this.heap;
    let i = h.length;
    h.push(timer);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(timer, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = timer;
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    const n = h.length;
    if (n > 0 && last) {
      // sift `last` down from the root with a hole
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && less(h[r]!, h[l]!) ? r : l;
        if (!less(h[m]!, last)) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

/** Heap order: due time, then scheduling sequence (unique, so the order is total). */
function less(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * One node's clock: the shared virtual time, with the node's timers tracked so `halt()` (a crash)
 * cancels all of them. After `halt()` new timers are never armed.
 */
export class NodeClock implements Clock {
  private readonly timers = new Set<TimerHandle>();
  private halted = false;

  constructor(private readonly base: VirtualClock) {}

  now(): number {
    return this.base.now();
  }

  nowNs(): bigint {
    return this.base.nowNs();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (this.halted) return { id: 0 };
    const h: TimerHandle = this.base.setTimeout(() => {
      this.timers.delete(h);
      fn();
    }, ms);
    this.timers.add(h);
    return h;
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    if (this.halted) return { id: 0 };
    const h = this.base.setInterval(fn, ms);
    this.timers.add(h);
    return h;
  }

  clearTimer(handle: TimerHandle): void {
    if (handle.id === 0) return;
    this.timers.delete(handle);
    this.base.clearTimer(handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Timers this node has armed and not yet cleared or fired. */
  activeTimers(): number {
    return this.timers.size;
  }

  /** Cancel every timer of this node and refuse new ones (the node crashed). */
  halt(): void {
    this.halted = true;
    for (const h of this.timers) this.base.clearTimer(h);
    this.timers.clear();
  }

  get isHalted(): boolean {
    return this.halted;
  }
}
