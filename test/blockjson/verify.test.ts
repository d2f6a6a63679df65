import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyFiles } from '../../src/cli/commands/block.js';
import { main } from '../../src/cli/main.js';
import { HAVE_VECTORS, vectorPath } from '../helpers/vectors.js';

async function haveVerifier(t: TestContext): Promise<boolean> {
  if (!HAVE_VECTORS) {
    t.skip('fabric vectors not found');
    return false;
  }
  const specifier = '../../src/channelconfig/index.js';
  const mod = (await import(specifier).catch(() => ({}))) as { verifyBlocks?: unknown };
  if (typeof mod.verifyBlocks !== 'function') {
    t.skip('verifyBlocks has not landed in src/channelconfig yet');
    return false;
  }
  return true;
}

const blockFiles = (dir?: string): string[] =>
  Array.from({ length: 26 }, (_, i) =>
    dir ? join(dir, `block_${i + 1}.pb`) : vectorPath('blocks', `block_${i + 1}.pb`),
  );

test('block verify: vector blocks 1-26 all verify against config block 0', async (t) => {
  if (!(await haveVerifier(t))) return;
  const report = await verifyFiles(vectorPath('blocks', 'block_0.pb'), blockFiles());
  assert.deepEqual(report, {
    ok: true,
    lines: [`26 block(s) verified against ${vectorPath('blocks', 'block_0.pb')}`],
  });
});

test('block verify: a corrupted copy fails with its file name; the CLI exits 1 with one line per failing block', async (t) => {
  if (!(await haveVerifier(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-verify-'));
  try {
    for (const [i, f] of blockFiles().entries()) copyFileSync(f, join(dir, `block_${i + 1}.pb`));
    const bad = join(dir, 'block_7.pb');
    const bytes = readFileSync(bad);
    bytes[bytes.length - 20] ^= 0xff; // inside the orderer's signature in metadata[SIGNATURES]
    writeFileSync(bad, bytes);
    const report = await verifyFiles(vectorPath('blocks', 'block_0.pb'), blockFiles(dir));
    assert.equal(report.ok, false);
    assert.ok(report.lines.length >= 1);
    assert.ok(report.lines[0].startsWith(`${bad}: `), report.lines[0]);

    let err = '';
    const e = process.stderr.write.bind(process.stderr);
    const o = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main([
        'node',
        'grapevine',
        'block',
        'verify',
        '--config',
        vectorPath('blocks', 'block_0.pb'),
        ...blockFiles(dir),
      ]);
    } finally {
      process.stderr.write = e;
      process.stdout.write = o;
    }
    assert.equal(code, 1);
    assert.deepEqual(err.trimEnd().split('\n'), report.lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
