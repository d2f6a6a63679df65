/**
 * `grapevine orderer start`: config errors name the file/flag and exit non-zero; an orderer
 * started from flags serves its channel and, restarted on the same data folder without the
 * genesis flag, continues from its ledger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { runOrdererStart } from '../../src/cli/commands/orderer.js';
import { loadOrdererConfig } from '../../src/orderer/config.js';
import { ConfigError } from '../../src/base/errors.js';
import { encode } from '../../src/wire/codec.js';
import { signedEnvelope } from '../../src/wire/index.js';
import { EnvelopeSchema, HeaderType, Status } from '../../src/wire/gen/common/common_pb.js';
import { processBroadcast } from '../../src/orderer/broadcast.js';
import { ORDERER_MSP, ORDERER_TLS, fixture } from './fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'grapevine-orderer-cli-'));

async function exitCode(args: string[]): Promise<{ code: number; err: string }> {
  const errs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => errs.push(a.join(' '));
  try {
    return { code: await main(['node', 'grapevine', ...args]), err: errs.join('\n') };
  } finally {
    console.error = orig;
  }
}

test('config file: keys, relative paths, durations; errors name the file and the key', () => {
  const dir = tmp();
  const file = join(dir, 'orderer.yaml');
  writeFileSync(
    file,
    `General:
  ListenAddress: 127.0.0.1
  ListenPort: 7150
  BootstrapFile: genesis.block
  LocalMSPDir: msp
  LocalMSPID: OrdererMSP
  TLS:
    Enabled: true
    Certificate: tls/server.crt
    PrivateKey: tls/server.key
    ClientAuthRequired: true
  Authentication:
    TimeWindow: 5m
FileLedger:
  Location: data
`,
  );
  const cfg = loadOrdererConfig({ config: file });
  assert.equal(cfg.listen, '127.0.0.1:7150');
  assert.equal(cfg.genesisFile, join(dir, 'genesis.block'));
  assert.equal(cfg.mspDir, join(dir, 'msp'));
  assert.equal(cfg.dataDir, join(dir, 'data'));
  assert.equal(cfg.tls?.certFile, join(dir, 'tls/server.crt'));
  assert.equal(cfg.tls?.clientAuthRequired, true);
  assert.equal(cfg.timeWindowMs, 300_000);
  // flags win
  assert.equal(loadOrdererConfig({ config: file, listen: '127.0.0.1:1' }).listen, '127.0.0.1:1');

  writeFileSync(file, 'General:\n  Authentication:\n    TimeWindow: soon\n');
  assert.throws(
    () => loadOrdererConfig({ config: file, msp: 'm', data: 'd' }),
    (e: Error) => e instanceof ConfigError && e.message.includes(file) && e.message.includes('TimeWindow'),
  );
  writeFileSync(file, 'General: [1, 2]\n');
  assert.throws(() => loadOrdererConfig({ config: file }), /General must be a mapping/);
  assert.throws(() => loadOrdererConfig({ msp: 'm' }), /FileLedger.Location/);
  assert.throws(
    () => loadOrdererConfig({ msp: 'm', data: 'd', listen: 'nope' }),
    /--listen: listen address must be host:port/,
  );
  assert.throws(
    () => loadOrdererConfig({ config: join(dir, 'missing.yaml') }),
    /cannot read orderer config .*missing.yaml/,
  );
});

test('CLI: bad genesis file or missing MSP exit 1 with a message naming the file', async () => {
  const f = await fixture();
  const dir = tmp();
  const bad = join(dir, 'bad.block');
  writeFileSync(bad, 'not a block');
  const msp = join(f.root, ORDERER_MSP);
  let r = await exitCode([
    'orderer',
    'start',
    '--genesis',
    bad,
    '--msp',
    msp,
    '--data',
    join(dir, 'd'),
    '--listen',
    '127.0.0.1:0',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad\.block/);
  r = await exitCode([
    'orderer',
    'start',
    '--msp',
    join(dir, 'nomsp'),
    '--data',
    join(dir, 'd'),
    '--listen',
    '127.0.0.1:0',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.err, /nomsp/);
  r = await exitCode([
    'orderer',
    'start',
    '--msp',
    msp,
    '--data',
    join(dir, 'empty'),
    '--listen',
    '127.0.0.1:0',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no genesis block given/);
});

test('started from flags, the orderer serves its channel and continues from its ledger after a restart', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const dir = tmp();
  const genesis = join(dir, 'genesis.block');
  writeFileSync(genesis, f.genesis);
  const flags = {
    genesis,
    msp: join(f.root, ORDERER_MSP),
    tls: join(f.root, ORDERER_TLS),
    data: join(dir, 'data'),
    listen: '127.0.0.1:0',
  };
  const order = async (o: Awaited<ReturnType<typeof runOrdererStart>>, n: number) => {
    const chain = o.chain(f.channel)!;
    const env = signedEnvelope(
      {
        type: HeaderType.ENDORSER_TRANSACTION,
        channelId: f.channel,
        data: new Uint8Array([n]),
        nowMs: Date.now(),
        txId: `t${n}`,
      },
      f.user.signer,
    );
    const r = await processBroadcast(env, encode(EnvelopeSchema, env), {
      chain: () => chain,
      now: () => Date.now(),
    });
    assert.equal(r.status, Status.SUCCESS, r.info);
    await chain.waitForHeight(BigInt(n + 1));
  };
  let o = await runOrdererStart(flags);
  try {
    assert.deepEqual(o.channelIds(), [f.channel]);
    await order(o, 1);
    await order(o, 2);
  } finally {
    await o.stop();
  }
  o = await runOrdererStart({ ...flags, genesis: undefined });
  try {
    assert.equal(o.chain(f.channel)!.height(), 3n);
    await order(o, 3);
    const b3 = await o.chain(f.channel)!.getBlockBytes(3n);
    assert.ok(b3);
  } finally {
    await o.stop();
  }
  // a different genesis for the same data folder is refused
  const other = await fixture({ maxMessageCount: 2 });
  const otherFile = join(dir, 'other.block');
  writeFileSync(otherFile, other.genesis);
  await assert.rejects(runOrdererStart({ ...flags, genesis: otherFile }), /different block 0/);
});
