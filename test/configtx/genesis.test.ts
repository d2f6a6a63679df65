/**
 * The genesis block built from the vectors' configtx.yaml (profile TwoOrgsApplicationRaft,
 * channel mychannel) against blocks/block_0.pb, which configtxgen v2.4.9 wrote: the decoded
 * Config must match field by field (map keys, versions, mod_policies, every value's and
 * policy's bytes), and with the vector's timestamp and nonce injected everything outside the
 * Config's maps is byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { buildGenesisBlock, loadConfigtx } from '../../src/configtx/index.js';
import { runChannelGenesis } from '../../src/cli/commands/channel.js';
import { main } from '../../src/cli/main.js';
import { configEnvelopeOf, decodeBlock, decodeTx, encodeBlock, sha256 } from '../../src/wire/block.js';
import { encode } from '../../src/wire/codec.js';
import { PayloadSchema, type Block } from '../../src/wire/gen/common/common_pb.js';
import {
  ConfigEnvelopeSchema,
  ConfigGroupSchema,
  type Config,
  type ConfigGroup,
} from '../../src/wire/gen/common/configtx_pb.js';
import { SKIP_VECTORS, readVector, vectorPath } from '../helpers/vectors.js';

const PROFILE = 'TwoOrgsApplicationRaft';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function vectorBlock0(): Block {
  return decodeBlock(readVector('blocks', 'block_0.pb'));
}

function fixedOpts(vector: Block) {
  const tx = decodeTx(vector.data!.data[0]);
  const nonce = tx.signatureHeader.nonce;
  return {
    now: new Date(Number(tx.channelHeader.timestamp!.seconds) * 1000 + 999),
    rng: { bytes: (n: number) => (assert.equal(n, 24), nonce) },
  };
}

function build(opts?: ReturnType<typeof fixedOpts>): Block {
  return buildGenesisBlock(loadConfigtx(vectorPath('config', 'configtx.yaml')), PROFILE, 'mychannel', opts);
}

/** Walk two config groups and assert equality of every key, version, mod_policy and byte string. */
function assertSameGroup(actual: ConfigGroup, expected: ConfigGroup, path: string): void {
  assert.equal(actual.version, expected.version, `${path} version`);
  assert.equal(actual.modPolicy, expected.modPolicy, `${path} mod_policy`);
  const keys = (o: object) => Object.keys(o).sort();
  assert.deepEqual(keys(actual.groups), keys(expected.groups), `${path} group keys`);
  assert.deepEqual(keys(actual.values), keys(expected.values), `${path} value keys`);
  assert.deepEqual(keys(actual.policies), keys(expected.policies), `${path} policy keys`);
  for (const [k, v] of Object.entries(expected.values)) {
    const a = actual.values[k];
    assert.equal(a.version, v.version, `${path}/values/${k} version`);
    assert.equal(a.modPolicy, v.modPolicy, `${path}/values/${k} mod_policy`);
    assert.equal(hex(a.value), hex(v.value), `${path}/values/${k} bytes`);
  }
  for (const [k, p] of Object.entries(expected.policies)) {
    const a = actual.policies[k];
    assert.equal(a.version, p.version, `${path}/policies/${k} version`);
    assert.equal(a.modPolicy, p.modPolicy, `${path}/policies/${k} mod_policy`);
    assert.equal(a.policy?.type, p.policy?.type, `${path}/policies/${k} type`);
    assert.equal(hex(a.policy!.value), hex(p.policy!.value), `${path}/policies/${k} bytes`);
  }
  for (const [k, g] of Object.entries(expected.groups)) assertSameGroup(actual.groups[k], g, `${path}/${k}`);
}

/** The group with every map in sorted key order, so two equal configs encode identically. */
function canonical(g: ConfigGroup): ConfigGroup {
  const sortRec = <T>(r: Record<string, T>, f: (t: T) => T) =>
    Object.fromEntries(
      Object.keys(r)
        .sort()
        .map((k) => [k, f(r[k])]),
    );
  return create(ConfigGroupSchema, {
    version: g.version,
    modPolicy: g.modPolicy,
    groups: sortRec(g.groups, canonical),
    values: sortRec(g.values, (v) => v),
    policies: sortRec(g.policies, (p) => p),
  });
}

function configBytes(config: Config): Uint8Array {
  return encode(ConfigEnvelopeSchema, {
    config: { sequence: config.sequence, channelGroup: canonical(config.channelGroup!) },
  });
}

test('genesis config equals configtxgen block_0 field by field', { skip: SKIP_VECTORS }, () => {
  const expected = configEnvelopeOf(vectorBlock0());
  const actual = configEnvelopeOf(build());
  assert.equal(actual.lastUpdate, undefined);
  assert.equal(expected.lastUpdate, undefined);
  assert.equal(actual.config!.sequence, expected.config!.sequence);
  assertSameGroup(actual.config!.channelGroup!, expected.config!.channelGroup!, '/Channel');
  assert.equal(hex(configBytes(actual.config!)), hex(configBytes(expected.config!)));
  // Spot checks of what the walk covers, so a failure here reads plainly.
  const root = actual.config!.channelGroup!;
  assert.deepEqual(Object.keys(root.groups).sort(), ['Application', 'Orderer']);
  assert.equal(root.values.OrdererAddresses, undefined);
  assert.deepEqual(Object.keys(root.groups.Orderer.groups.OrdererOrg.values).sort(), ['Endpoints', 'MSP']);
  assert.deepEqual(Object.keys(root.groups.Application.groups.Org1MSP.values).sort(), ['AnchorPeers', 'MSP']);
});

test(
  'with the vector nonce and time, everything outside the config maps is byte-identical',
  { skip: SKIP_VECTORS },
  () => {
    const vector = vectorBlock0();
    const block = build(fixedOpts(vector));
    assert.equal(block.header!.number, 0n);
    assert.equal(block.header!.previousHash.length, 0);
    assert.equal(hex(block.header!.dataHash), hex(sha256(block.data!.data[0])));
    assert.equal(block.data!.data.length, 1);
    assert.deepEqual(block.metadata!.metadata.map(hex), vector.metadata!.metadata.map(hex));

    const ours = decodeTx(block.data!.data[0]);
    const theirs = decodeTx(vector.data!.data[0]);
    assert.equal(ours.envelope.signature.length, 0);
    assert.equal(hex(ours.payload.header!.channelHeader), hex(theirs.payload.header!.channelHeader));
    assert.equal(hex(ours.payload.header!.signatureHeader), hex(theirs.payload.header!.signatureHeader));
    assert.equal(ours.channelHeader.txId, hex(sha256(theirs.signatureHeader.nonce)));

    // Put the vector's config (maps in sorted order) into its payload: our payload bytes must equal it.
    const expectedPayload = encode(PayloadSchema, {
      header: theirs.payload.header,
      data: configBytes(configEnvelopeOf(vector).config!),
    });
    assert.equal(hex(ours.envelope.payload), hex(expectedPayload));
    // Same nonce and time -> same block bytes.
    assert.equal(hex(encodeBlock(build(fixedOpts(vector)))), hex(encodeBlock(block)));
  },
);

test(
  'without injected time and nonce: fresh 24-byte nonce, tx_id = sha256(nonce), current time',
  { skip: SKIP_VECTORS },
  () => {
    const before = Math.floor(Date.now() / 1000);
    const a = decodeTx(build().data!.data[0]);
    const b = decodeTx(build().data!.data[0]);
    assert.equal(a.signatureHeader.nonce.length, 24);
    assert.equal(a.signatureHeader.creator.length, 0);
    assert.notEqual(hex(a.signatureHeader.nonce), hex(b.signatureHeader.nonce));
    assert.equal(a.channelHeader.txId, hex(sha256(a.signatureHeader.nonce)));
    const secs = Number(a.channelHeader.timestamp!.seconds);
    assert.ok(secs >= before && secs <= Math.floor(Date.now() / 1000), `timestamp ${secs}`);
    assert.equal(a.channelHeader.timestamp!.nanos, 0);
    assert.equal(a.channelHeader.channelId, 'mychannel');
    assert.equal(a.channelHeader.epoch, 0n);
    assert.equal(a.channelHeader.version, 1);
  },
);

test(
  'grapevine channel genesis writes the block (CLI registration and errors)',
  { skip: SKIP_VECTORS },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grapevine-genesis-'));
    try {
      const out = join(dir, 'genesis.pb');
      const line = runChannelGenesis({
        configtx: vectorPath('config', 'configtx.yaml'),
        profile: PROFILE,
        channel: 'mychannel',
        output: out,
      });
      assert.match(line, /mychannel/);
      const written = configEnvelopeOf(decodeBlock(new Uint8Array(readFileSync(out))));
      assertSameGroup(
        written.config!.channelGroup!,
        configEnvelopeOf(vectorBlock0()).config!.channelGroup!,
        '/Channel',
      );

      const out2 = join(dir, 'via-main.pb');
      const log = console.log;
      const err = console.error;
      const printed: string[] = [];
      console.log = (s: string) => printed.push(s);
      console.error = (s: string) => printed.push(s);
      try {
        const argv = [
          'node',
          'grapevine',
          'channel',
          'genesis',
          '--configtx',
          vectorPath('config', 'configtx.yaml'),
          '--profile',
          PROFILE,
          '--channel',
          'mychannel',
          '--output',
          out2,
        ];
        assert.equal(await main(argv), 0);
        assert.ok(existsSync(out2));
        const bad = [...argv.slice(0, 7), 'NoSuchProfile', ...argv.slice(8)];
        assert.equal(await main(bad), 1);
      } finally {
        console.log = log;
        console.error = err;
      }
      assert.ok(
        printed.some((s) => /unknown profile 'NoSuchProfile'/.test(s) && s.includes('configtx.yaml')),
        printed.join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
