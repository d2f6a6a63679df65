/** `grapevine probe`: success prints who answered; failures name the step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testCrypto } from '../helpers/crypto.js';
import { peerFolder, startNode } from '../comm/fixtures.js';
import { runProbe } from '../../src/cli/commands/probe.js';

test('grapevine probe: identity on success, the failed step otherwise', async () => {
  const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
  const b = await startNode(root, { org: 2, peer: 0 });
  const me = peerFolder(root, 1, 0);
  const base = { msp: `${me}/msp`, mspid: 'Org1MSP', tls: `${me}/tls`, timeout: '3000' };
  try {
    const out = await runProbe(b.endpoint, {
      ...base,
      trust: [`${root}/peerOrganizations/org2.example.com/msp:Org2MSP`],
    });
    assert.match(out, new RegExp(`pki-id +${Buffer.from(b.selfPkiId).toString('hex')}`));
    assert.match(out, /msp id +Org2MSP/);
    assert.match(out, /CN=peer0\.org2\.example\.com/);
    assert.match(out, /rtt +[\d.]+ ms/);
    await assert.rejects(runProbe(b.endpoint, { ...base, trust: [] }), { code: 'CA' });
    await assert.rejects(runProbe('127.0.0.1:1', { ...base, trust: [] }), { code: 'TCP' });
  } finally {
    await b.stop();
  }
});
