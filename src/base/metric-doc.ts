/**
 * docs/metrics.md, rendered from the metrics table (./metric-table.ts). Regenerate with
 * `npm run gen:metrics-doc`; test/base/metric-table.test.ts fails when the committed file differs.
 */
import { METRIC_SECTIONS, type MetricDef } from './metric-table.js';

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
    "Names follow Fabric v2.4.9 where Fabric has one. Every series also carries the registry's",
    'default labels (`peer` on a peer). Which ones to watch, and what label values mean:',
    '[operations.md](operations.md#operations-endpoints).',
  ];
  for (const s of METRIC_SECTIONS) {
    out.push('', `## ${s.title}`, '', '| metric | type | labels | help |', '| --- | --- | --- | --- |');
    for (const d of Object.values(s.metrics) as MetricDef[]) out.push(row(d));
  }
  return out.join('\n') + '\n';
}
