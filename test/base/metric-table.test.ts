/**
 * The metrics table (src/base/metric-table.ts): names unique and in Prometheus's grammar, every
 * entry used in src, no metric registered outside the table, docs/metrics.md generated from it,
 * and running nodes (the simulated end-to-end world, the embedded orderer) expose only its names.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { METRIC_BY_NAME, METRIC_SECTIONS, METRICS, type MetricDef } from '../../src/base/metric-table.js';
import { METRICS_DOC_COMMAND, METRICS_DOC_PATH, metricsDoc } from '../../src/base/metric-doc.js';
import { Metrics } from '../../src/base/metrics.js';
import { OrdererMetrics } from '../../src/orderer/metrics.js';
import { e2eWorld } from '../sim/e2e-world.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entries = Object.entries(METRICS) as [string, MetricDef][];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (relative(root, p) !== join('src', 'wire', 'gen')) out.push(...sources(p));
    } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Metric names a registry exposes (histogram series names without _bucket/_sum/_count). */
async function exposedNames(m: Metrics): Promise<string[]> {
  return (await m.registry.getMetricsAsJSON()).map((x) => x.name);
}

test('metric names are unique, keyed by their camelCase, and the sections hold every entry once', () => {
  assert.equal(METRIC_BY_NAME.size, entries.length, 'a name appears twice');
  for (const [key, d] of entries)
    assert.equal(
      key,
      d.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      d.name,
    );
  const inSections = METRIC_SECTIONS.flatMap((s) => Object.values(s.metrics) as MetricDef[]);
  assert.equal(inSections.length, entries.length);
  assert.equal(new Set(inSections).size, entries.length);
});

test("metric and label names follow Prometheus's grammar", () => {
  for (const [, d] of entries) {
    // [a-zA-Z_:][a-zA-Z0-9_:]*, with colons left to recording rules
    assert.match(d.name, /^[a-zA-Z_][a-zA-Z0-9_]*$/, d.name);
    assert.ok(['counter', 'gauge', 'histogram'].includes(d.type), d.name);
    assert.ok(d.help.length > 0, `${d.name}: help`);
    assert.equal(new Set(d.labels).size, d.labels.length, `${d.name}: a label twice`);
    for (const l of d.labels) {
      assert.match(l, /^[a-zA-Z_][a-zA-Z0-9_]*$/, `${d.name}{${l}}`);
      assert.ok(!l.startsWith('__'), `${d.name}{${l}}: reserved`);
      assert.notEqual(l, 'peer', `${d.name}{${l}}: the registry's default label`);
    }
    if (d.type === 'histogram') {
      assert.ok(!d.labels.includes('le'), `${d.name}{le}: reserved for histograms`);
      if (d.buckets)
        assert.ok(
          d.buckets.every((b, i) => i === 0 || b > d.buckets![i - 1]!),
          `${d.name}: buckets increase`,
        );
    } else assert.equal(d.buckets, undefined, `${d.name}: buckets on a ${d.type}`);
  }
});

test('every table entry is used in src, and nothing in src registers a metric outside the table', () => {
  const files = sources(join(root, 'src')).filter((f) => !f.endsWith(join('base', 'metric-table.ts')));
  const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  const unused = entries
    .filter(([key]) => !new RegExp(`\\bMETRICS\\.${key}\\b`).test(text))
    .map(([, d]) => d.name);
  assert.deepEqual(unused, [], 'table entries no code uses: remove them from src/base/metric-table.ts');
  const outside: string[] = [];
  for (const f of files) {
    if (f.endsWith(join('base', 'metrics.ts'))) continue;
    const s = readFileSync(f, 'utf8');
    for (const re of [/\.(counter|gauge|histogram)\(\s*['"`]/, /new (Counter|Gauge|Histogram|Summary)\(/])
      if (re.test(s)) outside.push(`${relative(root, f)}: ${re.source}`);
  }
  assert.deepEqual(outside, [], 'metrics registered with a name, not a METRICS entry');
});

test('Metrics refuses a definition that is not a table entry', () => {
  const m = new Metrics();
  const copy = { ...METRICS.grapevineGossipChannels };
  assert.throws(() => m.gauge(copy), { code: 'UNKNOWN_METRIC' });
  assert.equal(m.gauge(METRICS.grapevineGossipChannels), m.gauge(METRICS.grapevineGossipChannels));
});

test(`${METRICS_DOC_PATH} is the table's rendering`, () => {
  const committed = readFileSync(join(root, METRICS_DOC_PATH), 'utf8');
  assert.ok(
    committed === metricsDoc(),
    `${METRICS_DOC_PATH} differs from src/base/metric-table.ts: run \`${METRICS_DOC_COMMAND}\``,
  );
});

test('the orderer and a simulated network of running peers expose only names from the table', async () => {
  const orderer = new OrdererMetrics();
  orderer.channelOpened('ch', 1n);
  for (const name of await exposedNames(orderer.metrics)) assert.ok(METRIC_BY_NAME.has(name), name);

  const w = await e2eWorld(3, { blocks: 5 });
  assert.ok(await w.net.clock.runUntil(() => w.leaders(1).length === 1 && w.leaders(2).length === 1, 60_000));
  for (let i = 0; i < 5; i++) {
    w.cut();
    await w.net.clock.runFor(250);
  }
  assert.ok(
    await w.net.clock.runUntil(() => w.behind(6n).length === 0, 60_000),
    'every peer has every block',
  );
  const seen = new Set<string>();
  for (const n of w.nodes)
    for (const name of await exposedNames(n.metrics)) {
      assert.ok(METRIC_BY_NAME.has(name), `${n.endpoint} exposes ${name}, not in the metrics table`);
      seen.add(name);
    }
  // the run did register metrics of every layer
  for (const d of [
    METRICS.gossipCommMessagesSent,
    METRICS.grapevineGossipDiscoveryMembers,
    METRICS.grapevineGossipPullRoundsTotal,
    METRICS.gossipLeaderElectionLeader,
    METRICS.gossipStateHeight,
    METRICS.grapevineDeliverBlocksReceivedTotal,
  ])
    assert.ok(seen.has(d.name), d.name);
});
