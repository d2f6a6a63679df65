/**
 * The npm package as a user gets it: `npm run build` (into a staging copy, so the checkout's own
 * dist/ is never half-written under a test running the launcher beside this one), `npm pack`, then
 * `npm install --offline --omit=dev <tarball>` into an empty folder: production dependencies only,
 * from the npm cache the repository's own install filled, no network. The installed `grapevine`
 * prints its version and help and runs a block command, tsx is not installed, and a tiny ESM script
 * (and the TypeScript compiler, through the package's `exports` types) uses the library entry.
 * Skips, saying why, where npm or its cache is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HAVE_VECTORS, SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

/** npm's own environment variables of an enclosing `npm test` are dropped: the child npm reads its defaults. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'NODE_ENV') env[k] = v;
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout: timeoutMs });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Why this test cannot run here, or undefined. */
function cannotRun(): string | undefined {
  const v = run('npm', ['--version'], ROOT, 20_000);
  if (v.status !== 0) return `npm is not available (${v.error?.message ?? v.stderr.trim()})`;
  const cache = run('npm', ['config', 'get', 'cache'], ROOT, 20_000).stdout.trim();
  if (!cache || !existsSync(join(cache, '_cacache')))
    return `no npm cache at ${cache || '(unknown)'}: the offline install needs the packages a repository install put there`;
  if (!existsSync(join(ROOT, 'src', 'wire', 'gen')))
    return 'src/wire/gen is missing (run npm install, which generates it)';
  return undefined;
}

/** An app's lockfile holding the production entries of the repository's package-lock.json. */
function productionLock(): object {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const packages: Record<string, unknown> = { '': { name: 'app' } };
  for (const [path, entry] of Object.entries(lock.packages))
    if (path !== '' && !entry.dev) packages[path] = entry;
  return { name: 'app', lockfileVersion: 3, requires: true, packages };
}

const why = cannotRun();

test(
  'npm pack: the tarball installs offline with production dependencies only, and runs',
  { skip: why ?? false, timeout: 200_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'grapevine-pack-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));

    // stage: the package's shipped files, and the build written into the stage
    const stage = join(work, 'stage');
    mkdirSync(stage);
    for (const f of ['package.json', 'README.md', 'bin', 'config', 'docs'])
      if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
    ok(run('npm', ['run', 'build', '--', '--out', join(stage, 'dist')], ROOT, 90_000), 'npm run build');
    assert.ok(existsSync(join(stage, 'dist', 'cli', 'main.js')));
    assert.ok(existsSync(join(stage, 'dist', 'index.d.ts')));
    assert.ok(
      existsSync(join(stage, 'dist', 'wire', 'gen', 'common', 'common_pb.js')),
      'generated wire types compiled',
    );
    assert.ok(
      existsSync(join(stage, 'dist', 'dashboard', 'public', 'index.html')),
      'dashboard assets copied',
    );

    // pack (the build is done: no prepack/prepare scripts, which would build again)
    const packed = JSON.parse(
      ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage), 'npm pack'),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = join(work, packed[0].filename);
    const paths = packed[0].files.map((f) => f.path);
    assert.ok(paths.includes('dist/cli/main.js') && paths.includes('bin/grapevine.js'), paths.join(' '));
    assert.ok(
      !paths.some((p) => p.startsWith('src/') || p.startsWith('test/')),
      'no sources or tests in the tarball',
    );

    // install into an empty folder: production dependencies only, offline
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const install = ['install', '--offline', '--omit=dev', '--no-audit', '--no-fund', tarball];
    let r = run('npm', install, app, 90_000);
    if (r.status !== 0 && /ENOTCACHED/.test(r.stderr)) {
      // Without a lockfile npm resolves the tarball's dependencies by name, which needs their registry
      // metadata (packuments); `npm ci` fills the cache with tarballs only (it installs from the
      // lockfile's resolved URLs), so a cache filled by `npm ci` cannot answer. The app then gets
      // the repository's lockfile entries for the production dependencies (the versions tested),
      // as an app that has them locked: npm takes every tarball from the cache by its integrity.
      t.diagnostic(
        'npm install --offline <tarball> without a lockfile: ENOTCACHED (no packuments in the cache); retrying with the production entries of package-lock.json',
      );
      writeFileSync(join(app, 'package-lock.json'), JSON.stringify(productionLock()));
      r = run('npm', install, app, 90_000);
    }
    ok(r, 'npm install --offline --omit=dev <tarball>');
    const mods = readdirSync(join(app, 'node_modules'));
    assert.ok(mods.includes(PKG.name));
    assert.ok(
      !mods.includes('tsx') && !mods.includes('typescript'),
      `dev dependencies installed: ${mods.join(' ')}`,
    );

    const bin = join(app, 'node_modules', '.bin', 'grapevine');
    assert.equal(ok(run(bin, ['--version'], app), 'grapevine --version').trim(), PKG.version);
    const help = ok(run(bin, ['--help'], app), 'grapevine --help');
    for (const c of ['block', 'channel', 'orderer', 'peer', 'network', 'probe'])
      assert.match(help, new RegExp(`\\n  ${c}\\b`));

    if (HAVE_VECTORS) {
      const blocks = Array.from({ length: 3 }, (_, i) => vectorPath('blocks', `block_${i + 1}.pb`));
      const config = vectorPath('blocks', 'block_0.pb');
      assert.equal(
        ok(
          run(bin, ['block', 'verify', '--config', config, ...blocks], app),
          'grapevine block verify',
        ).trim(),
        `3 block(s) verified against ${config}`,
      );
      const json = JSON.parse(ok(run(bin, ['block', 'inspect', blocks[0]], app), 'grapevine block inspect'));
      assert.equal(json.header.number, '1');
    } else t.diagnostic(`block commands not run: ${SKIP_VECTORS}`);

    // the library entry, from plain ESM
    writeFileSync(
      join(app, 'use.mjs'),
      [
        `import { grapevineVersion, decodeBlock, blockToJson, verifyBlocks, PeerDaemon } from '${PKG.name}';`,
        `import { readFileSync } from 'node:fs';`,
        `const out = { version: grapevineVersion(), peer: typeof PeerDaemon.start };`,
        `const [config, block] = process.argv.slice(2);`,
        `if (block) {`,
        `  const bytes = new Uint8Array(readFileSync(block));`,
        `  out.number = String(decodeBlock(bytes).header.number);`,
        `  out.json = JSON.parse(blockToJson(bytes)).header.number;`,
        `  out.verified = verifyBlocks(new Uint8Array(readFileSync(config)), [{ name: 'b', bytes }], new Date())[0].ok;`,
        `}`,
        `console.log(JSON.stringify(out));`,
      ].join('\n'),
    );
    const args = HAVE_VECTORS ? [vectorPath('blocks', 'block_0.pb'), vectorPath('blocks', 'block_1.pb')] : [];
    const used = JSON.parse(ok(run(process.execPath, ['use.mjs', ...args], app), 'the library from ESM'));
    assert.deepEqual(
      used,
      HAVE_VECTORS
        ? { version: PKG.version, peer: 'function', number: '1', json: '1', verified: true }
        : { version: PKG.version, peer: 'function' },
    );

    // the README's library example, verbatim, on two vector blocks
    if (HAVE_VECTORS) {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
      assert.ok(example.includes(`from '${PKG.name}'`), 'the README has a library example');
      writeFileSync(join(app, 'readme.mjs'), example);
      for (const n of [0, 1]) cpSync(vectorPath('blocks', `block_${n}.pb`), join(app, `block_${n}.pb`));
      const printed = ok(run(process.execPath, ['readme.mjs'], app), "the README's example");
      assert.ok(printed.startsWith("[ { name: 'block_1.pb', ok: true } ]\n{"), printed.slice(0, 200));
    }

    // the types, resolved through `exports` as a TypeScript user's compiler resolves them
    writeFileSync(
      join(app, 'use.ts'),
      [
        `import { verifyBlocks, type BlockResult, type PeerConfig, loadPeerConfig } from '${PKG.name}';`,
        `const r: BlockResult[] = verifyBlocks(new Uint8Array(), [], new Date());`,
        `const c: (o?: { file?: string }) => PeerConfig = loadPeerConfig;`,
        `export { r, c };`,
      ].join('\n'),
    );
    ok(
      run(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          '--typeRoots',
          join(ROOT, 'node_modules', '@types'),
          '--types',
          'node',
          'use.ts',
        ],
        app,
      ),
      'tsc over a file using the package types',
    );
    // the bundled programs end to end: `network up` from the installed package (the orderer child,
    // the peers, their verifier workers and the dashboard's files all found from the bundle's chunks)
    const up = run(
      bin,
      ['network', 'up', '--dir', join(work, 'net'), '--no-view', '--rate', '5', '--duration', '10s'],
      app,
      90_000,
    );
    const upOut = ok(up, 'grapevine network up');
    assert.match(upOut, /first block committed on every peer/);
    assert.match(upOut, /dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(upOut, /network stopped; heights (peer\S+=[1-9]\d* ?){6}/);
  },
);
