/**
 * Subcommands load on demand: `grapevine --help` loads the command definitions (src/cli/define/)
 * and commander only, and `grapevine block verify` what verification needs, never gRPC, the
 * logger, the ledger or the metrics. Every module a run resolves is recorded by a module hook.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MESSAGE_TYPES } from '../../src/blockjson/index.js';
import { INSPECT_TYPES } from '../../src/cli/define/block.js';
import { HAVE_VECTORS, SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** Packages no light command may load. */
const HEAVY = ['@grpc/grpc-js', 'pino', 'classic-level', 'prom-client', '@peculiar/x509', 'zod', 'yaml'];

/** The modules (repository paths, or package names) that `grapevine ...args` resolves, from the sources. */
function modulesLoadedBy(args: string[]): { code: number | null; out: string; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-lazy-'));
  try {
    const log = join(dir, 'resolved.txt');
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}\n`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', register, MAIN, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const modules = [
      ...new Set(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((u) => u.startsWith('file:'))
          .map((u) => {
            const path = fileURLToPath(u);
            const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
            return nm ? nm[1] : relative(ROOT, path);
          }),
      ),
    ].sort();
    return { code: r.status, out: r.stdout + r.stderr, modules };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('block inspect --type lists exactly the message types the implementation decodes', () => {
  assert.deepEqual([...INSPECT_TYPES].sort(), Object.keys(MESSAGE_TYPES).sort());
});

test('grapevine --help loads commander and the command definitions, nothing else', () => {
  const { code, out, modules } = modulesLoadedBy(['--help']);
  assert.equal(code, 0, out);
  assert.match(out, /Usage: grapevine/);
  const ours = modules.filter((m) => m.startsWith('src/'));
  const packages = modules.filter((m) => !m.startsWith('src/') && m !== 'tsx');
  assert.deepEqual(packages, ['commander']);
  const allowed = /^src\/(cli\/(main|common|output)\.ts|cli\/define\/[\w-]+\.ts|base\/(errors|version)\.ts)$/;
  assert.deepEqual(
    ours.filter((m) => !allowed.test(m)),
    [],
    'modules beyond the definitions',
  );
});

test(
  'grapevine block verify loads no gRPC, logger, ledger, metrics or YAML parser',
  { skip: SKIP_VECTORS },
  () => {
    if (!HAVE_VECTORS) return;
    const blocks = [1, 2].map((n) => vectorPath('blocks', `block_${n}.pb`));
    const { code, out, modules } = modulesLoadedBy([
      'block',
      'verify',
      '--config',
      vectorPath('blocks', 'block_0.pb'),
      ...blocks,
    ]);
    assert.equal(code, 0, out);
    assert.match(out, /2 block\(s\) verified/);
    assert.deepEqual(
      modules.filter((m) => HEAVY.includes(m)),
      [],
    );
    assert.ok(modules.includes('src/cli/commands/block.ts'), 'the implementation was loaded on demand');
    assert.deepEqual(
      modules.filter((m) =>
        /^src\/(comm|service|node|ledger\/(store|indexdb)|ops|orderer|network)\//.test(m),
      ),
      [],
    );
  },
);
