// `npm run build`: compiles src/ to dist/ (ESM JavaScript, .d.ts declarations, source maps with the
// sources inlined, since src/ is not shipped) with tsconfig.build.json, then copies every non-TypeScript
// file of src/ (the dashboard's public/ folder) beside the compiled code, where the code reads it
// relative to its own module URL. The generated wire types (src/wire/gen, made at `npm install`)
// are compiled with the rest, so a packed install needs no dev dependency to produce them.
//
// Then the two programs, `grapevine` (dist/cli/main.js) and the orderer child of `network up`
// (dist/network/orderer-child.js), are written again by esbuild as bundles with their dependencies
// (native addons excepted), split into shared chunks under dist/chunks/ so that subcommands still
// load on demand. A bundle loads a few files instead of ~500 modules: start-up time and the code
// a process keeps in memory both shrink (issue 14; `npm run bench footprint`). The library
// (`exports`, dist/index.js) and the verifier worker stay tsc's module-per-file output.
//
// Paths from `import.meta.url` (the worker, the dashboard's public/, package.json) are kept as they
// are in tsc's layout: every output file sits one folder below dist/, so each source file's
// `import.meta.url` becomes the URL of its own tsc-compiled twin.
//
// `--out <dir>` builds into another folder (the package test stages a tarball this way without
// touching the checkout's dist/).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 && args[outAt + 1] ? resolve(args[outAt + 1]) : join(root, 'dist');

if (!existsSync(join(src, 'wire', 'gen'))) {
  console.error('build: src/wire/gen is missing; run `npm install` (or `npm run gen`) first');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    out,
  ],
  { stdio: 'inherit', cwd: root },
);
if (tsc.status !== 0) {
  console.error('build: tsc failed');
  process.exit(tsc.status ?? 1);
}

let assets = 0;
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) copyAssets(p);
    else if (!name.endsWith('.ts')) {
      const to = join(out, relative(src, p));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(p, to);
      assets++;
    }
  }
}
copyAssets(src);
/** import.meta.url in a bundled source file: the URL of its twin in tsc's layout under dist/. */
const metaUrlOfTwin = {
  name: 'meta-url-of-twin',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      if (text.includes('import.meta.url')) {
        const twin = relative(src, args.path).split(sep).join('/').replace(/\.ts$/, '.js');
        text = text.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify('../' + twin)}, import.meta.url).href`,
        );
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

/**
 * Node's built-in modules by require(), not import: importing one builds its ES module namespace,
 * which reads every export, so `import { readFileSync } from 'node:fs'` also loads fs streams and
 * `node:crypto` WebCrypto (~20 ms of every command's start). As CommonJS, a name is read when used.
 */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    const names = new Set(builtinModules);
    b.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
      const bare = args.path.replace(/^node:/, '');
      if (!names.has(bare) || args.namespace === 'builtin') return undefined;
      // commander loads child_process (and with it net and streams, ~15 ms) for executable
      // subcommands, which grapevine has none of: there it is loaded on first use
      const lazy = bare === 'child_process' && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer);
      return { path: `node:${bare}${lazy ? '?lazy' : ''}`, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const name = JSON.stringify(args.path.replace(/\?lazy$/, ''));
      return {
        contents: args.path.endsWith('?lazy')
          ? `let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require(${name}))[k] });`
          : `module.exports = require(${name});`,
        loader: 'js',
      };
    });
  },
};

const bundled = await build({
  entryPoints: {
    'cli/main': join(src, 'cli', 'main.ts'),
    'network/orderer-child': join(src, 'network', 'orderer-child.ts'),
  },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // no identifier mangling: stack traces and logged errors keep their names
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  external: ['classic-level', '@node-rs/crc32'],
  // CommonJS dependencies inside an ES module bundle call require()
  banner: {
    js: "import { createRequire as __gvRequire } from 'node:module'; const require = __gvRequire(import.meta.url);",
  },
  plugins: [metaUrlOfTwin, builtinsByRequire],
  logLevel: 'warning',
  metafile: true,
});
const outputs = Object.entries(bundled.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);

console.log(
  `build: bundled grapevine and the orderer child (${outputs.length} files, ${(bytes / 1048576).toFixed(1)} MiB)`,
);
console.log(
  `build: wrote ${out.startsWith(root + sep) ? relative(root, out) : out} (${assets} asset file(s) copied)`,
);
