// `npm run build`: compiles src/ to dist/ (ESM JavaScript, .d.ts declarations, source maps with the
// sources inlined, since src/ is not shipped) with tsconfig.build.json, then copies every non-TypeScript
// file of src/ (the dashboard's public/ folder) beside the compiled code, where the code reads it
// relative to its own module URL. The generated wire types (src/wire/gen, made at `npm install`)
// are compiled with the rest, so a packed install needs no dev dependency to produce them.
//
// `--out <dir>` builds into another folder (the package test stages a tarball this way without
// touching the checkout's dist/).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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
console.log(
  `build: wrote ${out.startsWith(root + sep) ? relative(root, out) : out} (${assets} asset file(s) copied)`,
);
