/**
 * docs/metrics.md, rendered from the metrics table (./metric-table.ts). Regenerate with
 * `npm run gen:metrics-doc`; test/base/metric-table.test.ts fails when the committed file differs.
 */
import { METRIC_SECTIONS, RENAMED_METRICS, type MetricDef } from './metric-table.js';

export const METRICS_DOC_PATH = 'docs/metrics.md';
export const METRICS_DOC_COMMAND = 'npm run gen:metrics-doc';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

function row(d: MetricDef): string {
  const type = d.buckets ? `${d.type} (buckets ${d.buckets.join(', ')})` : d.type;
  const labels = d.labels.map((l) => `\`${l}\``).join(', ');
  return `| \`${d.name}\` | ${type} | ${labels} | ${cell(d.help)} |`;
}

/** The whole of docs/metrics.md. */
export function metricsDoc(): string {
  const out = [
    '# Metrics reference',
    '',
    `<!-- Generated from src/base/metric-table.ts by \`${METRICS_DOC_COMMAND}\`; do not edit by hand. -->`,
    '',
    'Every metric Grapevine registers, from the one metrics table (`src/base/metric-table.ts`).',
    'Where Fabric v2.4.9 has the metric, its exact name, type, help and labels, so the series drop',
    "into a Fabric dashboard; Fabric's counters carry no `_total` suffix, so neither do these.",
    "Grapevine's own metrics are under `grapevine_` and follow Prometheus's conventions (every",
    'counter ends in `_total`). No series carries a `peer` label (Fabric has none). Which ones to',
    'watch, and what label values mean: [operations.md](operations.md#operations-endpoints).',
    '',
    "The peer and the orderer also export prom-client's default process and Node.js metrics",
    '(`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_start_time_seconds`,',
    '`process_open_fds`, `nodejs_heap_size_used_bytes`, `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`, ...),',
    "in place of a Go process's `process_*` and `go_*` series.",
  ];
  for (const s of METRIC_SECTIONS) {
    out.push('', `## ${s.title}`, '', '| metric | type | labels | help |', '| --- | --- | --- | --- |');
    for (const d of Object.values(s.metrics) as MetricDef[]) out.push(row(d));
  }
  out.push(
    '',
    '## Renamed metrics',
    '',
    "Grapevine's own metrics left Fabric's `gossip_` namespace, and its counters took the `_total`",
    'suffix. Old name, new name:',
    '',
    '| old | new |',
    '| --- | --- |',
  );
  for (const [from, to] of RENAMED_METRICS) out.push(`| \`${from}\` | \`${to}\` |`);
  return out.join('\n') + '\n';
}
