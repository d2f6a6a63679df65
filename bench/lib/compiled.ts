/**
 * A benchmark's child process as Grapevine is deployed: compiled JavaScript, not TypeScript
 * compiled at run time by tsx. Under tsx every module a process (and each of its worker threads)
 * loads goes through tsx's loader thread, which no installed peer has: a peer's verifier worker,
 * started when a catch-up begins, took ~0.5 s to load that way, inside the measured window.
 *
 * compiledScript(entry) runs `npm run build` into a temporary folder (scripts/build.mjs --out:
 * tsc's module-per-file output, which is also what the library and the verifier worker of an
 * installed package are) and bundles `entry` (a bench file and the test helpers it uses) with
 * esbuild, every import of src/ pointing at its compiled twin in that folder. The folder gets a
 * package.json (ES modules, the checkout's version) and a node_modules link to the checkout's,
 * so packages resolve as in the checkout. Returns the bundle's path; remove() deletes the folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src') + sep;

export interface CompiledScript {
  /** The bundle to run with node (no --import tsx). */
  readonly path: string;
  remove(): void;
}

export async function compiledScript(entry: string): Promise<CompiledScript> {
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-bench-compiled-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', version }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const dist = join(dir, 'dist');
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--out', dist], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (b.status !== 0) throw new Error(`build for the compiled child failed:\n${b.stdout}\n${b.stderr}`);
    const path = join(dir, 'child.mjs');
    await build({
      entryPoints: [entry],
      outfile: path,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
      plugins: [
        {
          name: 'src-to-compiled',
          setup(p) {
            p.onResolve({ filter: /^\.\.?\// }, (args) => {
              const abs = resolve(args.resolveDir, args.path);
              if (!abs.startsWith(SRC)) return undefined;
              return { path: join(dist, relative(SRC, abs)), external: true };
            });
          },
        },
      ],
    });
    return { path, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
