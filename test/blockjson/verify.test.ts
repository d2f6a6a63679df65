import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyFiles } from '../../src/cli/commands/block.js';
import { main } from '../../src/cli/main.js';
import { SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';

const blockFiles = (dir?: string): string[] =>
  Array.from({ length: 26 }, (_, i) =>
    dir ? join(dir, `block_${i + 1}.pb`) : vectorPath('blocks', `block_${i + 1}.pb`),
  );

/**
 * Runs the CLI in this process, capturing the text it writes. Byte chunks pass through: they are
 * the test runner's own reports, which it may write while a command awaits its implementation.
 */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((out += s), true) : o(s, ...rest)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((err += s), true) : e(s, ...rest)) as typeof process.stderr.write;
  try {
    return { code: await main(['node', 'grapevine', ...args]), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

test(
  'block verify: vector blocks 1-26 all verify against config block 0; the CLI exits 0',
  { skip: SKIP_VECTORS },
  async () => {
    const config = vectorPath('blocks', 'block_0.pb');
    assert.deepEqual(verifyFiles(config, blockFiles(), new Date()), {
      ok: true,
      lines: [`26 block(s) verified against ${config}`],
    });
    const r = await run('block', 'verify', '--config', config, ...blockFiles());
    assert.deepEqual(r, { code: 0, out: `26 block(s) verified against ${config}\n`, err: '' });
  },
);

test(
  'block verify: corrupted copies fail with their file names, one line each; exit 1',
  { skip: SKIP_VECTORS },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grapevine-verify-'));
    try {
      for (const [i, f] of blockFiles().entries()) copyFileSync(f, join(dir, `block_${i + 1}.pb`));
      const badSig = join(dir, 'block_7.pb');
      const bytes = readFileSync(badSig);
      // The last 8 bytes are the 4 empty metadata entries; before them ends the orderer's signature.
      bytes[bytes.length - 20] ^= 0xff;
      writeFileSync(badSig, bytes);
      const garbage = join(dir, 'block_12.pb');
      writeFileSync(garbage, 'not a block at all');
      const report = verifyFiles(vectorPath('blocks', 'block_0.pb'), blockFiles(dir), new Date());
      assert.equal(report.ok, false);
      assert.equal(report.lines.length, 2, report.lines.join('\n'));
      assert.ok(report.lines[0].startsWith(`${badSig}: `), report.lines[0]);
      assert.ok(report.lines[1].startsWith(`${garbage}: `), report.lines[1]);

      const r = await run(
        'block',
        'verify',
        '--config',
        vectorPath('blocks', 'block_0.pb'),
        ...blockFiles(dir),
      );
      assert.equal(r.code, 1);
      assert.equal(r.out, '');
      assert.deepEqual(r.err.trimEnd().split('\n'), report.lines);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'block verify: an unusable config block or a missing file is one line naming the file',
  { skip: SKIP_VECTORS },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grapevine-verify-'));
    try {
      const badConfig = join(dir, 'config.pb');
      writeFileSync(badConfig, 'garbage');
      for (const [args, mentions] of [
        [['--config', badConfig, vectorPath('blocks', 'block_1.pb')], badConfig],
        [['--config', vectorPath('blocks', 'block_0.pb'), join(dir, 'missing.pb')], join(dir, 'missing.pb')],
      ] as const) {
        const r = await run('block', 'verify', ...args);
        assert.equal(r.code, 1);
        const lines = r.err.trimEnd().split('\n');
        assert.equal(lines.length, 1, r.err);
        assert.match(lines[0], /^grapevine: /);
        assert.ok(lines[0].includes(mentions), lines[0]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
