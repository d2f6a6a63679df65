/**
 * Fault schedules: faults scripted at virtual times, so a scenario reads as a timeline and
 * replays exactly with its seed.
 *
 *   new FaultSchedule(net)
 *     .partition(10_000, [a, b], [c, d])   // at t = 10 s (virtual ms since the clock's start)
 *     .heal(40_000)
 *     .crash(50_000, c)
 *     .restart(70_000, c)
 *     .start();
 *
 * Times are absolute (the clock's `elapsed()`); a time already past fires at once (next turn).
 * Every fault that fired is appended to `log`.
 */
import type { TimerHandle } from '../base/time.js';
import type { LinkSpec, SimNetwork } from './network.js';

export type Fault =
  | { readonly kind: 'partition'; readonly groups: readonly (readonly string[])[] }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly endpoint: string }
  | { readonly kind: 'restart'; readonly endpoint: string }
  | { readonly kind: 'link'; readonly a: string; readonly b: string; readonly spec: Partial<LinkSpec> }
  | { readonly kind: 'call'; readonly label: string; readonly fn: () => void };

export interface ScheduledFault {
  readonly at: number;
  readonly fault: Fault;
}

export class FaultSchedule {
  private readonly entries: ScheduledFault[] = [];
  private readonly timers: TimerHandle[] = [];
  readonly log: { at: number; what: string }[] = [];

  constructor(private readonly net: SimNetwork) {}

  add(at: number, fault: Fault): this {
    this.entries.push({ at, fault });
    return this;
  }

  partition(at: number, ...groups: string[][]): this {
    return this.add(at, { kind: 'partition', groups });
  }

  heal(at: number): this {
    return this.add(at, { kind: 'heal' });
  }

  crash(at: number, endpoint: string): this {
    return this.add(at, { kind: 'crash', endpoint });
  }

  restart(at: number, endpoint: string): this {
    return this.add(at, { kind: 'restart', endpoint });
  }

  link(at: number, a: string, b: string, spec: Partial<LinkSpec>): this {
    return this.add(at, { kind: 'link', a, b, spec });
  }

  call(at: number, label: string, fn: () => void): this {
    return this.add(at, { kind: 'call', label, fn });
  }

  /** Arm every fault on the network's clock (stable order for equal times: insertion order). */
  start(): this {
    const clock = this.net.clock;
    for (const e of this.entries) {
      this.timers.push(clock.setTimeout(() => this.fire(e), Math.max(0, e.at - clock.elapsed())));
    }
    return this;
  }

  cancel(): void {
    for (const t of this.timers.splice(0)) this.net.clock.clearTimer(t);
  }

  private fire({ fault }: ScheduledFault): void {
    const net = this.net;
    let what: string;
    switch (fault.kind) {
      case 'partition':
        net.partition(...fault.groups.map((g) => [...g]));
        what = `partition ${fault.groups.map((g) => `[${g.join(' ')}]`).join(' ')}`;
        break;
      case 'heal':
        net.heal();
        what = 'heal';
        break;
      case 'crash':
        net.crash(fault.endpoint);
        what = `crash ${fault.endpoint}`;
        break;
      case 'restart':
        net.restart(fault.endpoint);
        what = `restart ${fault.endpoint}`;
        break;
      case 'link':
        net.setLink(fault.a, fault.b, fault.spec);
        what = `link ${fault.a} ${fault.b} ${JSON.stringify(fault.spec)}`;
        break;
      case 'call':
        fault.fn();
        what = fault.label;
        break;
    }
    this.log.push({ at: net.clock.elapsed(), what });
  }
}
