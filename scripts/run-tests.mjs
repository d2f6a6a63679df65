// `npm test`: type-check, lint, then run every test file under test/ with node:test (through tsx).
// Optional arguments filter test files by substring: `npm test -- identity comm`.
// GRAPEVINE_TEST_FULL=1 (npm run test:full) lets long suites run their full sample.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (filters.length === 0) {
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', root],
    {
      stdio: 'inherit',
      cwd: root,
    },
  );
  if (tsc.status !== 0) {
    console.error('run-tests: type check failed');
    process.exit(tsc.status ?? 1);
  }
  // Lint, which also enforces the protocol core's no-I/O rule (eslint.config.js).
  const lint = spawnSync(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.'], {
    stdio: 'inherit',
    cwd: root,
  });
  if (lint.status !== 0) {
    console.error('run-tests: lint failed');
    process.exit(lint.status ?? 1);
  }
}

if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
