/**
 * The CLI for scripts and for Fabric operators' habits:
 * - `--json` on `block verify` and `probe`: one JSON object on stdout, exit 1 still on failure;
 * - `channel update` / `channel anchor-peers` with Fabric's `peer channel update` spellings
 *   (`-c/--channelID`, `-o/--orderer`, `--tls`, `--cafile`, `--ordererTLSHostnameOverride`)
 *   against the embedded orderer over TLS, the older spellings still working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { main } from '../../src/cli/main.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import { userCryptoPath } from '../../src/network/crypto-layout.js';
import { cryptoDir, genesisFile, ordererCryptoDir, prepareLayout } from '../../src/network/layout.js';
import { Orderer } from '../../src/orderer/server.js';
import { peerFolder, startNode } from '../comm/fixtures.js';
import { testCrypto } from '../helpers/crypto.js';
import { SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';

/** Run the CLI in this process, capturing the text it writes (byte chunks: the runner's, passed on). */
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

const blockFiles = (dir?: string): string[] =>
  Array.from({ length: 26 }, (_, i) =>
    dir ? join(dir, `block_${i + 1}.pb`) : vectorPath('blocks', `block_${i + 1}.pb`),
  );

test(
  'block verify --json: one object on stdout, every block with its verdict',
  { skip: SKIP_VECTORS },
  async () => {
    const config = vectorPath('blocks', 'block_0.pb');
    const good = await run('block', 'verify', '--json', '--config', config, ...blockFiles());
    assert.equal(good.code, 0, good.err);
    assert.equal(good.err, '');
    assert.equal(good.out.trimEnd().split('\n').length, 1, 'one line');
    const g = JSON.parse(good.out);
    assert.deepEqual(
      { ok: g.ok, config: g.config, verified: g.verified, failed: g.failed },
      { ok: true, config, verified: 26, failed: 0 },
    );
    assert.deepEqual(
      g.blocks,
      blockFiles().map((file) => ({ file, ok: true })),
    );

    const dir = mkdtempSync(join(tmpdir(), 'grapevine-verify-json-'));
    try {
      for (const [i, f] of blockFiles().entries()) copyFileSync(f, join(dir, `block_${i + 1}.pb`));
      const garbage = join(dir, 'block_12.pb');
      writeFileSync(garbage, 'not a block at all');
      const bad = await run('block', 'verify', '--config', config, '--json', ...blockFiles(dir));
      assert.equal(bad.code, 1);
      assert.equal(bad.err, '');
      const b = JSON.parse(bad.out);
      assert.equal(b.ok, false);
      assert.equal(b.failed, 1);
      assert.equal(b.verified, 25);
      const failed = b.blocks.filter((x: { ok: boolean }) => !x.ok);
      assert.equal(failed.length, 1);
      assert.equal(failed[0].file, garbage);
      assert.equal(typeof failed[0].reason, 'string');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('probe --json: who answered, or the failed step; exit 1 on failure', async () => {
  const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
  const b = await startNode(root, { org: 2, peer: 0 });
  const me = peerFolder(root, 1, 0);
  const base = ['--msp', `${me}/msp`, '--mspid', 'Org1MSP', '--tls', `${me}/tls`, '--json'];
  try {
    const ok = await run(
      'probe',
      b.endpoint,
      ...base,
      '--trust',
      `${root}/peerOrganizations/org2.example.com/msp:Org2MSP`,
    );
    assert.equal(ok.code, 0, ok.err);
    const r = JSON.parse(ok.out);
    assert.equal(r.ok, true);
    assert.equal(r.endpoint, b.endpoint);
    assert.equal(r.pkiId, Buffer.from(b.selfPkiId).toString('hex'));
    assert.equal(r.mspId, 'Org2MSP');
    assert.match(r.subject, /CN=peer0\.org2\.example\.com/);
    assert.equal(typeof r.rttMs, 'number');

    const ca = await run('probe', b.endpoint, ...base);
    assert.equal(ca.code, 1);
    assert.deepEqual(
      { ...JSON.parse(ca.out), error: undefined },
      { ok: false, endpoint: b.endpoint, step: 'CA', error: undefined },
    );
    const tcp = await run('probe', '127.0.0.1:1', ...base);
    assert.equal(tcp.code, 1);
    const f = JSON.parse(tcp.out);
    assert.equal(f.step, 'TCP');
    assert.match(f.error, /^TCP: /);
  } finally {
    await b.stop();
  }
});

test(
  "channel anchor-peers + channel update with peer channel update's flags, over TLS",
  { timeout: 60_000 },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'grapevine-fabric-flags-'));
    let orderer: Orderer | undefined;
    try {
      const layout = (await prepareLayout(join(root, 'net'))).layout;
      const ord = ordererCryptoDir(layout);
      orderer = await Orderer.start({
        signer: loadSigningIdentity(join(ord, 'msp'), 'OrdererMSP', { now: new Date() }).signer,
        listen: `127.0.0.1:${layout.orderer.port}`,
        dataDir: join(root, 'orderer'),
        genesis: new Uint8Array(readFileSync(genesisFile(layout))),
        tls: {
          certPem: readFileSync(join(ord, 'tls', 'server.crt')),
          keyPem: readFileSync(join(ord, 'tls', 'server.key')),
          clientAuthRequired: false,
        },
        logger: pino({ level: 'silent' }),
      });
      const address = `127.0.0.1:${layout.orderer.port}`;
      const ca = join(ord, 'tls', 'ca.crt');
      const admin = join(userCryptoPath(cryptoDir(layout), 1, 'Admin'), 'msp');
      const tx = join(root, 'anchors.tx');
      // Fabric's spellings: --channelID, -o, --tls --cafile, --ordererTLSHostnameOverride (the
      // certificate's DNS name, not the dialled IP)
      const fabricTls = ['--tls', '--cafile', ca, '--ordererTLSHostnameOverride', layout.orderer.name];
      const wrote = await run(
        'channel',
        'anchor-peers',
        '--channelID',
        layout.channel,
        '-o',
        address,
        ...fabricTls,
        '--msp',
        admin,
        '--mspid',
        'Org1MSP',
        '--anchor',
        '127.0.0.1:7051',
        '--output',
        tx,
      );
      assert.equal(wrote.code, 0, wrote.err);
      assert.match(wrote.out, /wrote the anchor peer update of Org1MSP/);

      // refused before anything is sent: another channel than the envelope's; --tls without a CA;
      // the two spellings of one flag with different values
      const other = await run(
        'channel',
        'update',
        '-c',
        'otherchannel',
        '-f',
        tx,
        '-o',
        address,
        ...fabricTls,
      );
      assert.equal(other.code, 1);
      assert.match(other.err, new RegExp(`config update for channel ${layout.channel}, not otherchannel`));
      const noCa = await run('channel', 'update', '-f', tx, '-o', address, '--tls');
      assert.equal(noCa.code, 1);
      assert.match(noCa.err, /--tls needs --cafile/);
      const both = await run(
        'channel',
        'update',
        '-f',
        tx,
        '-o',
        address,
        '--cafile',
        ca,
        '--ordererTLSHostnameOverride',
        'a.example.com',
        '--orderer-tls-hostname-override',
        'b.example.com',
      );
      assert.equal(both.code, 1);
      assert.match(both.err, /are the same flag/);

      const before = orderer.chain(layout.channel)!.height();
      const sent = await run(
        'channel',
        'update',
        '-c',
        layout.channel,
        '-f',
        tx,
        '--orderer',
        address,
        ...fabricTls,
      );
      assert.equal(sent.code, 0, sent.err);
      assert.match(sent.out, /accepted by .* \(SUCCESS\)/);
      await orderer.chain(layout.channel)!.waitForHeight(before + 1n);

      // the older spellings still work (the same update again: the orderer's refusal, reached over TLS)
      const again = await run(
        'channel',
        'update',
        '--file',
        tx,
        '--orderer',
        address,
        '--cafile',
        ca,
        '--orderer-tls-hostname-override',
        layout.orderer.name,
      );
      assert.equal(again.code, 1);
      assert.match(again.err, /refused by .*BAD_REQUEST/);
    } finally {
      await orderer?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
