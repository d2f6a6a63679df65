/**
 * The batching emitter (PROTOCOL.md §6.1, Fabric's batcher.go), sans-IO.
 *
 * Algorithm:
 *   add(item): item enters the buffer with iterationsLeft = propagateIterations (0 = emitter
 *     disabled: the item is ignored). When the buffer holds >= maxPropagationBurstSize items it
 *     is flushed at once; otherwise a flush happens at most maxPropagationBurstLatency after the
 *     first item entered an empty buffer.
 *   flush: hand every buffered item (oldest first) to the caller's `route` function in one
 *     batch; `route` picks fresh random targets for each item on every flush. Then decrement
 *     every item's counter and drop those at 0; items left over are flushed again one latency
 *     later (only when propagateIterations > 1).
 *   Bounded: at most maxPending items; adding to a full buffer drops the oldest item and counts
 *     it in `grapevine_gossip_emitter_dropped_total{emitter}`.
 * Timers: one one-shot timer at a time, armed only while the buffer is non-empty (Fabric ticks
 * every 10 ms forever; the flush times seen by a message are the same, an idle node costs none).
 * A throwing `route` is counted (`grapevine_gossip_emitter_route_errors_total`) and never stops the emitter.
 */
import type { Clock, TimerHandle } from '../../base/time.js';
import { ConfigError } from '../../base/errors.js';
import { fields, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';
import type { Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import { METRICS } from '../../base/metric-table.js';

/** The emitter's keys (src/config/table.ts) and its own bound. */
export const EMITTER_SLICE = slice(
  'emitter config',
  fields(
    'peer.gossip.propagateIterations',
    'peer.gossip.maxPropagationBurstSize',
    'peer.gossip.maxPropagationBurstLatency',
  ),
  {
    /** Bound on buffered items (not in Fabric); the oldest is dropped beyond it. */
    maxPending: 10_000,
  },
);

export type EmitterConfig = SliceConfig<typeof EMITTER_SLICE>;

export const FABRIC_EMITTER_DEFAULTS: EmitterConfig = Object.freeze(sliceDefaults(EMITTER_SLICE));

export interface EmitterOptions<T> {
  readonly clock: Clock;
  /** Route one flushed batch: choose targets for each item and send it. */
  readonly route: (batch: readonly T[]) => void;
  readonly config?: Partial<EmitterConfig>;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Label of this emitter in metrics (e.g. `alive`, `channel`). */
  readonly name?: string;
}

interface Pending<T> {
  readonly item: T;
  iterationsLeft: number;
}

function checkConfig(c: EmitterConfig): EmitterConfig {
  for (const [key, value] of Object.entries(c)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ConfigError(
        'BAD_VALUE',
        `emitter config: ${key} must be a non-negative integer, got ${String(value)}`,
      );
    }
  }
  if (c.maxPropagationBurstSize < 1)
    throw new ConfigError('BAD_VALUE', 'emitter config: maxPropagationBurstSize must be >= 1');
  if (c.maxPending < 1) throw new ConfigError('BAD_VALUE', 'emitter config: maxPending must be >= 1');
  return c;
}

export class BatchingEmitter<T> {
  readonly config: EmitterConfig;
  private buffer: Pending<T>[] = [];
  private timer?: TimerHandle;
  private stopped = false;
  private readonly name: string;

  constructor(private readonly opts: EmitterOptions<T>) {
    this.config = checkConfig({ ...FABRIC_EMITTER_DEFAULTS, ...stripUndefined(opts.config ?? {}) });
    this.name = opts.name ?? 'gossip';
  }

  /** Items waiting for a flush. */
  get size(): number {
    return this.buffer.length;
  }

  add(item: T): void {
    if (this.stopped || this.config.propagateIterations === 0) return;
    if (this.buffer.length >= this.config.maxPending) {
      this.buffer.shift();
      this.opts.metrics?.counter(METRICS.grapevineGossipEmitterDroppedTotal).inc({ emitter: this.name });
    }
    this.buffer.push({ item, iterationsLeft: this.config.propagateIterations });
    if (this.buffer.length >= this.config.maxPropagationBurstSize) this.flush();
    else this.arm();
  }

  /** Route everything buffered now (also called by the size and latency triggers). */
  flush(): void {
    if (this.timer) {
      this.opts.clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    if (this.stopped || this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.opts.route(batch.map((p) => p.item));
    } catch (e) {
      this.opts.metrics?.counter(METRICS.grapevineGossipEmitterRouteErrorsTotal).inc({ emitter: this.name });
      this.opts.logger?.debug({ err: e }, 'emitter route failed');
    }
    if (this.stopped) {
      this.buffer = [];
      return;
    }
    // Items that `route` itself added (re-entrancy) wait in this.buffer, after the older ones.
    for (const p of batch) p.iterationsLeft--;
    this.buffer = batch.filter((p) => p.iterationsLeft > 0).concat(this.buffer);
    if (this.buffer.length > 0) this.arm();
  }

  /** Drop everything and release the timer; idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.buffer = [];
  }

  private arm(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.config.maxPropagationBurstLatencyMs);
  }
}

function stripUndefined<O extends object>(o: O): Partial<O> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<O>;
}
