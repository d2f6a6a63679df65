/**
 * The timers one component owns, on an injected Clock: periodic tasks, cancellable sleeps and
 * waits. `stop()` clears every timer and resolves every pending sleep/wait with false, so async
 * loops end promptly and nothing keeps running after the component stopped.
 */
import type { Clock, TimerHandle } from '../../base/time.js';

export class Timers {
  private readonly handles = new Set<TimerHandle>();
  private readonly sleepers = new Set<(ok: boolean) => void>();
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Run `fn` every `ms`, first after `ms` (as Fabric's "sleep first" loops). */
  every(ms: number, fn: () => void): void {
    if (this.stopped) return;
    this.handles.add(this.clock.setInterval(fn, Math.max(1, ms)));
  }

  /** Resolves true after `ms`, or false as soon as the timers are stopped. */
  sleep(ms: number): Promise<boolean> {
    return this.until(ms, () => {});
  }

  /**
   * Resolves true when `arm`'s callback is called, false after `ms` or on stop. `arm` receives
   * the callback and returns an optional disposer run when the wait ends either way.
   */
  wait(ms: number, arm: (done: () => void) => (() => void) | void): Promise<boolean> {
    return this.until(ms, arm, false);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.handles) this.clock.clearTimer(h);
    this.handles.clear();
    for (const s of [...this.sleepers]) s(false);
    this.sleepers.clear();
  }

  private until(
    ms: number,
    arm: (done: () => void) => (() => void) | void,
    onTimeout = true,
  ): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      let dispose: (() => void) | void = undefined;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimer(handle);
        this.handles.delete(handle);
        this.sleepers.delete(finish);
        if (dispose) dispose();
        resolve(ok);
      };
      const handle = this.clock.setTimeout(() => finish(onTimeout), Math.max(0, ms));
      this.handles.add(handle);
      this.sleepers.add(finish);
      dispose = arm(() => finish(true));
      if (settled && dispose) dispose();
    });
  }
}
