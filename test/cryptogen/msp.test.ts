/**
 * Generated MSP folders are usable by the identity layer: every org MSP builds a verifying MSP,
 * every node and user MSP loads as a signing identity that the org MSP validates, with the
 * NodeOU role (or admincerts listing) cryptogen intends, and signs verifiably.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCrypto, parseCryptoConfig } from '../../src/cryptogen/index.js';
import {
  fabricMspConfigFromFolder,
  loadMspFolder,
  loadSigningIdentity,
  mspFromFabricConfig,
} from '../../src/identity/index.js';
import { testCrypto, testMspId } from '../helpers/crypto.js';

interface Member {
  dir: string;
  mspId: string;
  role: 'peer' | 'orderer' | 'client' | 'admin';
}

/** Every org of a crypto-config folder with its members; MSP IDs from `mspIdOf(domain)`. */
function orgsOf(root: string, mspIdOf: (kind: string, domain: string) => string) {
  const out: { orgMsp: string; mspId: string; members: Member[] }[] = [];
  for (const kind of ['peerOrganizations', 'ordererOrganizations']) {
    for (const domain of readdirSync(join(root, kind))) {
      const org = join(root, kind, domain);
      const mspId = mspIdOf(kind, domain);
      const nodes = kind === 'peerOrganizations' ? 'peers' : 'orderers';
      const members: Member[] = [
        ...readdirSync(join(org, nodes)).map((n) => ({
          dir: join(org, nodes, n),
          mspId,
          role: (kind === 'peerOrganizations' ? 'peer' : 'orderer') as Member['role'],
        })),
        ...readdirSync(join(org, 'users')).map((u) => ({
          dir: join(org, 'users', u),
          mspId,
          role: (u.startsWith('Admin@') ? 'admin' : 'client') as Member['role'],
        })),
      ];
      out.push({ orgMsp: join(org, 'msp'), mspId, members });
    }
  }
  return out;
}

function checkFolder(
  root: string,
  mspIdOf: (kind: string, domain: string) => string,
  nodeOUs: boolean,
): number {
  let checked = 0;
  for (const org of orgsOf(root, mspIdOf)) {
    const folder = loadMspFolder(org.orgMsp);
    assert.equal(folder.nodeOUs !== undefined, nodeOUs, org.orgMsp);
    const msp = mspFromFabricConfig(fabricMspConfigFromFolder(folder, org.mspId));
    assert.equal(msp.tlsRootCerts.length, 1);
    for (const m of org.members) {
      const local = loadSigningIdentity(join(m.dir, 'msp'), m.mspId, { now: new Date() });
      msp.validate(local.identity, new Date());
      const signcert = join(m.dir, 'msp', 'signcerts', readdirSync(join(m.dir, 'msp', 'signcerts'))[0]);
      assert.deepEqual(
        Buffer.from(local.identity.idBytes),
        readFileSync(signcert),
        `${m.dir}: identity bytes are the signcert file`,
      );
      if (nodeOUs) assert.equal(msp.roleOf(local.identity), m.role, m.dir);
      else assert.equal(msp.isListedAdmin(local.identity), m.role === 'admin', m.dir);
      const data = new TextEncoder().encode(`hello from ${m.dir}`);
      assert.ok(local.identity.verify(data, local.signer.sign(data)), m.dir);
      checked++;
    }
  }
  return checked;
}

describe('generated MSP folders load and validate with the identity layer', () => {
  let off = '';
  before(async () => {
    off = mkdtempSync(join(tmpdir(), 'grapevine-cryptogen-msp-'));
    await generateCrypto(
      parseCryptoConfig(
        'PeerOrgs:\n  - Domain: a.com\n    Template: {Count: 2}\n    Users: {Count: 2}\nOrdererOrgs:\n  - Domain: o.com\n    Specs: [{Hostname: orderer0}]\n',
      ),
      off,
    );
  });
  after(() => rmSync(off, { recursive: true, force: true }));

  it('NodeOUs on (testCrypto material): roles peer, orderer, client, admin', async () => {
    const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
    const mspIdOf = (kind: string, domain: string) =>
      kind === 'ordererOrganizations'
        ? testMspId('orderer')
        : testMspId(Number(/^org(\d+)\./.exec(domain)![1]));
    assert.equal(checkFolder(root, mspIdOf, true), 2 * (2 + 2) + 2);
  });

  it('NodeOUs off: Admin is the listed admin, others are not', () => {
    assert.equal(
      checkFolder(off, (_k, d) => `${d}MSP`, false),
      2 + 3 + 1 + 1,
    );
  });

  it('a member of one org does not validate in another org', async () => {
    const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
    const org2 = mspFromFabricConfig(
      fabricMspConfigFromFolder(
        loadMspFolder(join(root, 'peerOrganizations/org2.example.com/msp')),
        'Org1MSP',
      ),
    );
    const peer = loadSigningIdentity(
      join(root, 'peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp'),
      'Org1MSP',
      { now: new Date() },
    );
    assert.throws(() => org2.validate(org2.deserialize(peer.identity.serialized), new Date()));
  });
});
