/**
 * Metrics: one prom-client Registry per node (several nodes share a process in tests and
 * benchmarks, so the global default registry is never used). Every metric is an entry of the
 * metrics table (./metric-table.ts): `metrics.counter(METRICS.gossipCommMessagesSent)` gets or
 * creates it, typed by its label names; a definition that is not in the table is refused, so a
 * registry exposes only the table's names.
 */
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CollectFunction,
} from 'prom-client';
import { GrapevineError } from './errors.js';
import {
  METRIC_BY_NAME,
  type CounterDef,
  type GaugeDef,
  type HistogramDef,
  type MetricDef,
} from './metric-table.js';

export class Metrics {
  readonly registry: Registry;
  private readonly counters = new Map<string, Counter<string>>();
  private readonly gauges = new Map<string, Gauge<string>>();
  private readonly histograms = new Map<string, Histogram<string>>();

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry = new Registry();
    this.registry.setDefaultLabels(defaultLabels);
  }

  /** Get or create a counter; the same entry always returns the same counter. */
  counter<L extends string>(def: CounterDef<L>): Counter<L> {
    let c = this.counters.get(def.name);
    if (!c) {
      c = new Counter({ ...base(def), registers: [this.registry] });
      this.counters.set(def.name, c);
    }
    return c as Counter<L>;
  }

  /**
   * Get or create a gauge. `collect`, if given, runs at every scrape; only the call that
   * creates the gauge sets it.
   */
  gauge<L extends string>(def: GaugeDef<L>, collect?: CollectFunction<Gauge<L>>): Gauge<L> {
    let g = this.gauges.get(def.name);
    if (!g) {
      g = new Gauge({
        ...base(def),
        registers: [this.registry],
        ...(collect ? { collect: collect as CollectFunction<Gauge<string>> } : {}),
      });
      this.gauges.set(def.name, g);
    }
    return g as Gauge<L>;
  }

  histogram<L extends string>(def: HistogramDef<L>): Histogram<L> {
    let h = this.histograms.get(def.name);
    if (!h) {
      h = new Histogram({
        ...base(def),
        registers: [this.registry],
        ...(def.buckets ? { buckets: [...def.buckets] } : {}),
      });
      this.histograms.set(def.name, h);
    }
    return h as Histogram<L>;
  }

  /**
   * Current value of a counter or gauge (summed over labels matching `labels`), for tests;
   * `metric` is a table entry or its name.
   */
  async value(metric: MetricDef | string, labels: Record<string, string> = {}): Promise<number> {
    const found = this.registry.getSingleMetric(typeof metric === 'string' ? metric : metric.name);
    if (!found) return 0;
    const data = await found.get();
    return data.values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }

  /**
   * Add prom-client's default process and Node.js metrics (process_cpu_seconds_total,
   * process_resident_memory_bytes, nodejs_heap_size_used_bytes, nodejs_eventloop_lag_seconds,
   * ...) to this registry: one per process (a peer or an orderer), not per simulated node.
   * Idempotent.
   */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }
  private processMetrics = false;

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Name, help and label names of a table entry; throws for a definition not in the table. */
function base(def: MetricDef): { name: string; help: string; labelNames: string[] } {
  if (METRIC_BY_NAME.get(def.name) !== def)
    throw new GrapevineError(
      'UNKNOWN_METRIC',
      `metric ${def.name} is not an entry of the metrics table (src/base/metric-table.ts)`,
    );
  return { name: def.name, help: def.help, labelNames: [...def.labels] };
}
