/**
 * The memory-lean V8 flags (src/base/node-flags.ts) reach every Grapevine process: the
 * `grapevine` command by its `#!` line (executed as a file, as npm's bin link and an operator run
 * it), and the children `network up` starts by their command line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LEAN_NODE_FLAGS } from '../../src/base/node-flags.js';
import { Children } from '../../src/network/children.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'grapevine.js');

test('bin/grapevine.js: its #! line gives Node the lean flags, and runs as a file', () => {
  const first = readFileSync(BIN, 'utf8').split('\n')[0];
  assert.equal(first, `#!/usr/bin/env -S node ${LEAN_NODE_FLAGS.join(' ')}`);
  const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
  assert.equal(r.stderr, '', 'no V8 warning about conflicting flags');
});

test('network children run with the lean flags: a 2 MiB young generation', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-node-flags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const entry = join(dir, 'probe.mjs');
  writeFileSync(
    entry,
    [
      "import v8 from 'node:v8';",
      "const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');",
      'process.send({ execArgv: process.execArgv, youngMax: young.space_size }, () => process.exit(0));',
    ].join('\n'),
  );
  const children = new Children();
  let answer: { execArgv: string[]; youngMax: number } | undefined;
  const child = children.spawn('probe', entry, [], join(dir, 'probe.log'), (m) => {
    answer = m as typeof answer;
  });
  assert.equal(await child.exited, 0, readFileSync(join(dir, 'probe.log'), 'utf8'));
  assert.ok(answer, 'the child answered');
  for (const f of LEAN_NODE_FLAGS)
    assert.ok(answer.execArgv.includes(f), `${f} in ${answer.execArgv.join(' ')}`);
  assert.ok(answer.youngMax <= 2 * 1024 * 1024, `young generation ${answer.youngMax} bytes`);
});
