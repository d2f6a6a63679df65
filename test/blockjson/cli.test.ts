import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockToJson } from '../../src/blockjson/index.js';
import { main } from '../../src/cli/main.js';
import { SKIP_VECTORS, readVector, vectorPath } from '../helpers/vectors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
    const code = await main(['node', 'grapevine', ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'grapevine-blockjson-'));
}

function assertOneLineError(r: { code: number; out: string; err: string }, mentions: string): void {
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], /^grapevine: /);
  assert.ok(lines[0].includes(mentions), lines[0]);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

test('block inspect prints the block JSON to stdout, or to --output', { skip: SKIP_VECTORS }, async () => {
  const file = vectorPath('blocks', 'block_24.pb');
  const expected = blockToJson(readVector('blocks', 'block_24.pb'));
  const r = await run('block', 'inspect', file);
  assert.equal(r.code, 0);
  assert.equal(r.err, '');
  assert.equal(r.out, expected);

  const dir = tmp();
  try {
    const outFile = join(dir, 'b24.json');
    const w = await run('block', 'inspect', file, '--output', outFile);
    assert.equal(w.code, 0);
    assert.equal(w.out, '');
    assert.equal(readFileSync(outFile, 'utf8'), expected);
    const m = await run('block', 'inspect', '--decode-metadata', vectorPath('blocks', 'block_25.pb'));
    assert.equal(JSON.parse(m.out).metadata.metadata[1].value.index, '24');
    const t = await run(
      'block',
      'inspect',
      '--type',
      'common.Envelope',
      vectorPath('deliver', '0189_broadcast_req_config_update_Admin@org1_to_orderer0.pb'),
    );
    assert.equal(t.code, 0);
    assert.equal(JSON.parse(t.out).payload.data.config_update.channel_id, 'mychannel');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('block inspect on garbage, an empty file, a missing file: one line naming the file, exit 1', async () => {
  const dir = tmp();
  try {
    const garbage = join(dir, 'garbage.bin');
    writeFileSync(garbage, 'this is not a protobuf block\n');
    assertOneLineError(await run('block', 'inspect', garbage), garbage);
    const empty = join(dir, 'empty.pb');
    writeFileSync(empty, '');
    assertOneLineError(await run('block', 'inspect', empty), empty);
    // Parses as protobuf (one unknown varint field) but is no block.
    const notBlock = join(dir, 'not-a-block.pb');
    writeFileSync(notBlock, Buffer.from([0x20, 0x01]));
    assertOneLineError(await run('block', 'inspect', notBlock), 'not a common.Block');
    const missing = join(dir, 'missing.pb');
    assertOneLineError(await run('block', 'inspect', missing), missing);
    assertOneLineError(
      await run('block', 'inspect', '--type', 'x.Y', garbage),
      'unsupported message type x.Y',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'block inspect of a block whose inner transaction is corrupt: one line with the path inside the block',
  { skip: SKIP_VECTORS },
  async () => {
    const dir = tmp();
    try {
      const bytes = Buffer.from(readVector('blocks', 'block_1.pb'));
      // The first "mychannel" is the first envelope's ChannelHeader.channel_id: tag 0x22, length 9.
      const at = bytes.indexOf(Buffer.from('mychannel'));
      assert.deepEqual([bytes[at - 2], bytes[at - 1]], [0x22, 9]);
      bytes[at - 2] = 0x00; // field number 0: an illegal tag
      const file = join(dir, 'corrupt.pb');
      writeFileSync(file, bytes);
      const r = await run('block', 'inspect', file);
      assertOneLineError(
        r,
        `${file}: common.Block.data.data[0].payload.header.channel_header: not a valid common.ChannelHeader`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('the real process: exit status 1 and one line on stderr for garbage', () => {
  const dir = tmp();
  try {
    const garbage = join(dir, 'garbage.bin');
    writeFileSync(garbage, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]));
    const r = spawnSync(process.execPath, [join(root, 'bin', 'grapevine.js'), 'block', 'inspect', garbage], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^grapevine: .*garbage\.bin: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
