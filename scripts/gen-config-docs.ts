/**
 * `npm run docs:config`: regenerate the key tables of docs/configuration.md from the config
 * table (src/config/table.ts). The prose around the tables is kept as written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDoc } from '../src/config/docs.js';

const file = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const before = readFileSync(file, 'utf8');
const after = renderConfigDoc(before);
if (after === before) {
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(file, after);
  console.log('docs/configuration.md: key tables regenerated from src/config/table.ts');
}
