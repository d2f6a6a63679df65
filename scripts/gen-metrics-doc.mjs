// `npm run gen:metrics-doc`: write docs/metrics.md from the metrics table (src/base/metric-table.ts).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { metricsDoc, METRICS_DOC_PATH } = await import('../src/base/metric-doc.ts');
writeFileSync(join(root, METRICS_DOC_PATH), metricsDoc());
console.log(`wrote ${METRICS_DOC_PATH}`);
