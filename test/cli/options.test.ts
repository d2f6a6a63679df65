/** Numbers and durations on the command line (src/cli/options.ts), and one refusal end to end. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GrapevineError } from '../../src/base/errors.js';
import { durationOption, positiveOption } from '../../src/cli/options.js';

const refused = (f: () => unknown, pattern: RegExp) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof GrapevineError);
    assert.equal(e.code, 'BAD_FLAG');
    assert.match(e.message, pattern);
    return true;
  });

test('durations: a bare number in the flag unit, or Go syntax; junk, negatives and too small refused', () => {
  assert.equal(durationOption('--orderer-wait', '5000', 1), 5000);
  assert.equal(durationOption('--orderer-wait', '0', 1), 0);
  assert.equal(durationOption('--orderer-wait', '2.5s', 1), 2500);
  assert.equal(durationOption('--orderer-wait', '1m30s', 1), 90_000);
  assert.equal(durationOption('--orderer-wait', '250ms', 1), 250);
  assert.equal(durationOption('--orderer-wait', '1500us', 1), 1.5);
  assert.equal(durationOption('--duration', '90', 1000), 90_000);
  assert.equal(durationOption('--duration', '5m', 1000), 300_000);
  refused(() => durationOption('--orderer-wait', 'banana', 1), /--orderer-wait: "banana" is not a duration/);
  refused(() => durationOption('--orderer-wait', '-5s', 1), /--orderer-wait: "-5s" is not a duration/);
  refused(() => durationOption('--orderer-wait', '5 s', 1), /not a duration/);
  refused(() => durationOption('--orderer-wait', '', 1), /not a duration/);
  refused(() => durationOption('--report-ms', '10', 1, 50), /--report-ms: "10" is below 50 ms/);
  refused(
    () => durationOption('--duration', '1000h', 1000),
    /--duration: "1000h" is longer than Node.js timers allow/,
  );
  refused(() => durationOption('--duration', '3000000', 1000), /is longer than Node.js timers allow/);
});

test('positive numbers: junk, 0 and negatives refused naming the flag', () => {
  assert.equal(positiveOption('--rate', '2'), 2);
  assert.equal(positiveOption('--rate', '0.5'), 0.5);
  refused(() => positiveOption('--rate', '0'), /--rate: "0" is not a positive number/);
  refused(() => positiveOption('--rate', '-1'), /not a positive number/);
  refused(() => positiveOption('--port', '80x'), /--port: "80x" is not a positive number/);
});

test('grapevine peer start --orderer-wait banana exits 1 naming the flag', async () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'grapevine.js');
  const p = spawn(process.execPath, [bin, 'peer', 'start', '--orderer-wait', 'banana'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FABRIC_CFG_PATH: '' },
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => p.once('close', r));
  assert.equal(code, 1, out);
  assert.match(out, /--orderer-wait: "banana" is not a duration/);
});
