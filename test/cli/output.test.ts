/**
 * The CLI's output (src/cli/output.ts) to pipes: written in order and whole, a closed reader is
 * not a crash, and Node's stdout stream (and with it net and the stream stack) is never created.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const OUTPUT = pathToFileURL(
  join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'output.ts'),
).href;

/** node --import tsx -e `code` (an ES module with printOut/printErr in scope). */
function script(code: string): string[] {
  return [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    `import { printDirectly, printOut, printErr } from ${JSON.stringify(OUTPUT)};\nprintDirectly();\n${code}`,
  ];
}

test('printOut to a pipe: every byte in order, stdout stream and net never loaded', () => {
  const r = spawnSync(
    process.execPath,
    script(`
      const loaded = () => process.moduleLoadList.filter((m) => m === 'NativeModule net' || m === 'NativeModule tty');
      const before = loaded().length;
      for (let i = 0; i < 2000; i++) printOut('line ' + i + ' ' + 'x'.repeat(500) + '\\n');
      printErr('done ' + (loaded().length - before) + '\\n');
    `),
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 2001);
  for (let i = 0; i < 2000; i++) assert.equal(lines[i], `line ${i} ${'x'.repeat(500)}`);
  assert.equal(r.stderr.trim(), 'done 0');
});

test('printOut into a pipe its reader drains slowly (the pipe fills): nothing lost', async () => {
  const child = spawn(
    process.execPath,
    script(`for (let i = 0; i < 400; i++) printOut(String(i).padStart(6, '0') + 'y'.repeat(4089) + '\\n');`),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let got = 0;
  let text = '';
  child.stdout.setEncoding('utf8');
  for await (const chunk of child.stdout) {
    text += chunk;
    got += chunk.length;
    child.stdout.pause(); // let the 64 KiB pipe fill behind us
    await new Promise((r) => setImmediate(r));
    child.stdout.resume();
  }
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0);
  assert.equal(got, 400 * 4096);
  const lines = text.split('\n').slice(0, -1);
  assert.deepEqual(
    lines.map((l) => Number(l.slice(0, 6))),
    lines.map((_, i) => i),
  );
});

test('printOut after the reader closed the pipe: the process ends normally', async () => {
  const child = spawn(
    process.execPath,
    script(`for (let i = 0; i < 100000; i++) printOut('z'.repeat(100) + '\\n'); printErr('finished\\n');`),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout.once('data', () => child.stdout.destroy()); // as `| head -1` does
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0, err);
  assert.match(err, /finished/);
});

test('without printDirectly (a program running main() itself), printOut goes through process.stdout', async () => {
  const { printOut } = (await import(OUTPUT)) as typeof import('../../src/cli/output.js');
  const original = process.stdout.write;
  let seen = '';
  process.stdout.write = ((s: string) => ((seen += s), true)) as typeof process.stdout.write;
  try {
    printOut('through the stream\n');
  } finally {
    process.stdout.write = original;
  }
  assert.equal(seen, 'through the stream\n');
});
