import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testCrypto, testOrdererDir, testOrgMspDir, testPeerDir, testUserDir } from '../helpers/crypto.js';
import { certFields } from './certparts.js';

const run = promisify(execFile);

describe('testCrypto helper', () => {
  it('returns the cached folder with the contracted orgs, nodes, users and SANs', async () => {
    const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
    assert.equal(await testCrypto({ orgs: 2, peersPerOrg: 2 }), root);
    assert.equal(await testCrypto(), root, 'defaults are 2 orgs x 2 peers');
    assert.ok(root.startsWith(join(tmpdir(), 'grapevine-test-crypto-')));
    assert.deepEqual(readdirSync(join(root, 'peerOrganizations')).sort(), [
      'org1.example.com',
      'org2.example.com',
    ]);
    assert.deepEqual(readdirSync(join(root, 'peerOrganizations/org2.example.com/peers')).sort(), [
      'peer0.org2.example.com',
      'peer1.org2.example.com',
    ]);
    assert.deepEqual(readdirSync(join(root, 'peerOrganizations/org1.example.com/users')).sort(), [
      'Admin@org1.example.com',
      'User1@org1.example.com',
    ]);
    assert.ok(existsSync(join(testOrdererDir(root), 'tls/server.key')));
    assert.ok(existsSync(join(testOrgMspDir(root, 'orderer'), 'config.yaml')));
    assert.ok(existsSync(join(testUserDir(root, 2, 'User1'), 'msp/keystore/priv_sk')));
    const tls = certFields(readFileSync(join(testPeerDir(root, 1, 1), 'tls/server.crt')));
    assert.deepEqual(tls.sans, ['dns:peer1.org1.example.com', 'dns:peer1', 'dns:localhost', 'ip:127.0.0.1']);
    const signer = certFields(
      readFileSync(join(testPeerDir(root, 2, 0), 'msp/signcerts/peer0.org2.example.com-cert.pem')),
    );
    assert.deepEqual(signer.ous, ['peer']);
    const orderer = new X509Certificate(readFileSync(join(testOrdererDir(root), 'tls/server.crt')));
    assert.equal(
      orderer.subjectAltName,
      'DNS:orderer0.example.com, DNS:orderer0, DNS:localhost, IP Address:127.0.0.1',
    );
  });

  it('different specs get different folders', async () => {
    const a = await testCrypto({ orgs: 1, peersPerOrg: 1 });
    const b = await testCrypto({ orgs: 2, peersPerOrg: 2 });
    assert.notEqual(a, b);
    assert.deepEqual(readdirSync(join(a, 'peerOrganizations')), ['org1.example.com']);
    await assert.rejects(testCrypto({ orgs: 0 }), RangeError);
  });

  it('parallel processes with an empty cache end up sharing one complete folder', async () => {
    const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'grapevine-helper-race-')));
    try {
      const child = fileURLToPath(new URL('./helper-child.ts', import.meta.url));
      const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
      const outs = await Promise.all(
        [0, 1].map(() => run(process.execPath, ['--import', 'tsx', child], { env, cwd: process.cwd() })),
      );
      const results = outs.map((o) => JSON.parse(o.stdout) as { root: string; ca: string });
      assert.ok(results[0].root.startsWith(join(tmp, 'grapevine-test-crypto-')));
      for (const r of results) assert.deepEqual(r, results[0]);
      // The one folder left is complete and no temporary folder is left behind.
      assert.deepEqual(
        readdirSync(tmp).filter((f) => f.startsWith('grapevine-')),
        [results[0].root.slice(tmp.length + 1)],
      );
      assert.equal(
        readFileSync(
          join(results[0].root, 'peerOrganizations/org1.example.com/ca/ca.org1.example.com-cert.pem'),
          'utf8',
        ),
        results[0].ca,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
