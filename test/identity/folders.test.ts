import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMspFolder, loadSigningIdentity } from '../../src/identity/index.js';
import { ConfigError } from '../../src/base/errors.js';
import { issue, type Issued } from './pki.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const root = mkdtempSync(join(tmpdir(), 'grapevine-identity-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const CONFIG = `NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
`;

let n = 0;
function writeMsp(ca: Issued, leaf: Issued, key = leaf): string {
  const dir = join(root, `msp${n++}`);
  for (const d of ['cacerts', 'signcerts', 'keystore', 'tlscacerts'])
    mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'cacerts', 'ca.pem'), ca.pem);
  writeFileSync(join(dir, 'tlscacerts', 'tlsca.pem'), ca.pem);
  writeFileSync(join(dir, 'signcerts', 'peer-cert.pem'), leaf.pem);
  writeFileSync(join(dir, 'keystore', 'priv_sk'), key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  return dir;
}

function fails(f: () => unknown, code: string, mention: string | RegExp): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `ConfigError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (typeof mention === 'string')
      assert.ok(e.message.includes(mention), `"${e.message}" names ${mention}`);
    else assert.match(e.message, mention);
    return;
  }
  assert.fail(`expected ConfigError ${code}`);
}

let pki: Promise<{ ca: Issued; peer: Issued; other: Issued; expired: Issued }> | undefined;
const material = () =>
  (pki ??= (async () => {
    const ca = await issue({ cn: 'ca', ca: true });
    return {
      ca,
      peer: await issue({ cn: 'peer0', ous: ['peer'] }, ca),
      other: await issue({ cn: 'peer1', ous: ['peer'] }, ca),
      expired: await issue({ cn: 'old', ous: ['peer'], notAfter: new Date('2026-03-01T00:00:00Z') }, ca),
    };
  })());

test('a good folder loads, signs and validates', async () => {
  const m = await material();
  const dir = writeMsp(m.ca, m.peer);
  const local = loadSigningIdentity(dir, 'TestMSP', { now: NOW });
  assert.equal(local.msp.roleOf(local.identity), 'peer');
  assert.ok(local.identity.verify(Uint8Array.of(1), local.signer.sign(Uint8Array.of(1))));
  assert.equal(loadMspFolder(dir).tlscacerts.length, 1);
});

test('missing folders and files are named', async () => {
  const m = await material();
  fails(() => loadMspFolder(join(root, 'nope')), 'MISSING_FOLDER', join(root, 'nope'));
  const noCa = writeMsp(m.ca, m.peer);
  rmSync(join(noCa, 'cacerts'), { recursive: true });
  fails(() => loadMspFolder(noCa), 'MISSING_FOLDER', join(noCa, 'cacerts'));
  const emptyCa = writeMsp(m.ca, m.peer);
  rmSync(join(emptyCa, 'cacerts', 'ca.pem'));
  fails(() => loadMspFolder(emptyCa), 'MISSING_FILE', join(emptyCa, 'cacerts'));
  const noKeystore = writeMsp(m.ca, m.peer);
  rmSync(join(noKeystore, 'keystore'), { recursive: true });
  fails(
    () => loadSigningIdentity(noKeystore, 'TestMSP', { now: NOW }),
    'MISSING_KEYSTORE',
    join(noKeystore, 'keystore'),
  );
  const noSigncert = writeMsp(m.ca, m.peer);
  rmSync(join(noSigncert, 'signcerts', 'peer-cert.pem'));
  fails(
    () => loadSigningIdentity(noSigncert, 'TestMSP', { now: NOW }),
    'MISSING_SIGNCERT',
    join(noSigncert, 'signcerts'),
  );
  const ouMissing = writeMsp(m.ca, m.peer);
  writeFileSync(
    join(ouMissing, 'config.yaml'),
    CONFIG.replace(
      'PeerOUIdentifier:\n    Certificate: cacerts/ca.pem',
      'PeerOUIdentifier:\n    Certificate: cacerts/gone.pem',
    ),
  );
  fails(() => loadMspFolder(ouMissing), 'MISSING_FILE', join(ouMissing, 'cacerts', 'gone.pem'));
});

test('corrupt PEM, corrupt certificate and bad config.yaml are named', async () => {
  const m = await material();
  const corrupt = writeMsp(m.ca, m.peer);
  writeFileSync(
    join(corrupt, 'cacerts', 'ca.pem'),
    '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
  );
  fails(() => loadMspFolder(corrupt), 'BAD_PEM', join(corrupt, 'cacerts', 'ca.pem'));
  const badCert = writeMsp(m.ca, m.peer);
  writeFileSync(
    join(badCert, 'signcerts', 'peer-cert.pem'),
    '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  );
  fails(() => loadMspFolder(badCert), 'BAD_CERT', join(badCert, 'signcerts', 'peer-cert.pem'));
  const badKey = writeMsp(m.ca, m.peer);
  writeFileSync(join(badKey, 'keystore', 'priv_sk'), 'not a key');
  fails(() => loadMspFolder(badKey), 'BAD_PEM', join(badKey, 'keystore', 'priv_sk'));
  const badYaml = writeMsp(m.ca, m.peer);
  writeFileSync(join(badYaml, 'config.yaml'), 'NodeOUs: [unclosed');
  fails(() => loadMspFolder(badYaml), 'BAD_CONFIG', join(badYaml, 'config.yaml'));
  const badEnable = writeMsp(m.ca, m.peer);
  writeFileSync(join(badEnable, 'config.yaml'), 'NodeOUs:\n  Enable: maybe\n');
  fails(() => loadMspFolder(badEnable), 'BAD_CONFIG', /NodeOUs\.Enable/);
});

test('key that does not match, expired signing certificate, no admins without NodeOUs', async () => {
  const m = await material();
  const mismatch = writeMsp(m.ca, m.peer, m.other);
  fails(
    () => loadSigningIdentity(mismatch, 'TestMSP', { now: NOW }),
    'KEY_MISMATCH',
    join(mismatch, 'keystore'),
  );
  const expired = writeMsp(m.ca, m.expired);
  fails(
    () => loadSigningIdentity(expired, 'TestMSP', { now: NOW }),
    'EXPIRED_SIGNCERT',
    join(expired, 'signcerts', 'peer-cert.pem'),
  );
  const noOus = writeMsp(m.ca, m.peer);
  rmSync(join(noOus, 'config.yaml'));
  fails(
    () => loadSigningIdentity(noOus, 'TestMSP', { now: NOW }),
    'MSP_SETUP',
    /administrators must be declared/,
  );
  // with an admincerts folder it loads
  mkdirSync(join(noOus, 'admincerts'));
  writeFileSync(join(noOus, 'admincerts', 'admin.pem'), m.other.pem);
  assert.equal(
    loadSigningIdentity(noOus, 'TestMSP', { now: NOW }).msp.roleOf(
      loadSigningIdentity(noOus, 'TestMSP', { now: NOW }).identity,
    ),
    undefined,
  );
  // a signcert from another CA
  const foreignCa = await issue({ cn: 'other-ca', ca: true });
  const foreign = writeMsp(m.ca, m.peer);
  writeFileSync(join(foreign, 'cacerts', 'ca.pem'), foreignCa.pem);
  writeFileSync(join(foreign, 'config.yaml'), '');
  cpSync(join(foreign, 'cacerts', 'ca.pem'), join(foreign, 'tlscacerts', 'tlsca.pem'));
  mkdirSync(join(foreign, 'admincerts'));
  fails(() => loadSigningIdentity(foreign, 'TestMSP', { now: NOW }), 'MSP_SETUP', /administrators/);
  writeFileSync(join(foreign, 'admincerts', 'a.pem'), (await issue({ cn: 'adm' }, foreignCa)).pem);
  fails(
    () => loadSigningIdentity(foreign, 'TestMSP', { now: NOW }),
    'INVALID_SIGNCERT',
    join(foreign, 'signcerts', 'peer-cert.pem'),
  );
});

test('every signing folder made by the cryptogen test helper loads with its NodeOU role', async () => {
  const { testCrypto } = await import('../helpers/crypto.js');
  const { readdirSync, statSync } = await import('node:fs');
  const base = await testCrypto({ orgs: 2, peersPerOrg: 2 });
  const roles: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (!statSync(p).isDirectory()) continue;
      if (name !== 'msp') walk(p);
      else if (loadMspFolder(p).signcerts.length > 0) {
        const mspId = p.includes('ordererOrganizations') ? 'OrdererMSP' : `Org${/org(\d+)\./.exec(p)![1]}MSP`;
        const local = loadSigningIdentity(p, mspId, { now: new Date() });
        roles.push(`${mspId}:${local.msp.roleOf(local.identity)}`);
      }
    }
  };
  walk(base);
  assert.deepEqual(
    roles.sort(),
    [
      'Org1MSP:admin',
      'Org1MSP:client',
      'Org1MSP:peer',
      'Org1MSP:peer',
      'Org2MSP:admin',
      'Org2MSP:client',
      'Org2MSP:peer',
      'Org2MSP:peer',
      'OrdererMSP:admin',
      'OrdererMSP:orderer',
    ].sort(),
  );
});
