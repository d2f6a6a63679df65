import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateCrypto, parseCryptoConfig, validityFor } from '../../src/cryptogen/index.js';
import { runCryptoGenerate } from '../../src/cli/commands/crypto.js';
import { ConfigError } from '../../src/base/errors.js';
import { certFields, certParts } from './certparts.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'grapevine-cryptogen-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function walk(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(root, p) : [relative(root, p)];
  });
}

describe('generateCrypto', () => {
  it('without NodeOUs: admincerts (Admin for org MSP and nodes, own cert for users), no config.yaml, no OUs', async () => {
    const out = tmp();
    await generateCrypto(
      parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Template: {Count: 1}\n    Users: {Count: 1}\n'),
      out,
    );
    const org = join(out, 'peerOrganizations', 'a.com');
    const files = walk(org).sort();
    assert.ok(!files.some((f) => f.endsWith('config.yaml')));
    assert.deepEqual(
      files.filter((f) => f.includes('admincerts')),
      [
        'msp/admincerts/Admin@a.com-cert.pem',
        'peers/peer0.a.com/msp/admincerts/Admin@a.com-cert.pem',
        'users/Admin@a.com/msp/admincerts/Admin@a.com-cert.pem',
        'users/User1@a.com/msp/admincerts/User1@a.com-cert.pem',
      ],
    );
    const admin = readFileSync(join(org, 'users/Admin@a.com/msp/signcerts/Admin@a.com-cert.pem'));
    assert.deepEqual(readFileSync(join(org, 'msp/admincerts/Admin@a.com-cert.pem')), admin);
    assert.deepEqual(readFileSync(join(org, 'peers/peer0.a.com/msp/admincerts/Admin@a.com-cert.pem')), admin);
    assert.deepEqual(
      readFileSync(join(org, 'users/User1@a.com/msp/admincerts/User1@a.com-cert.pem')),
      readFileSync(join(org, 'users/User1@a.com/msp/signcerts/User1@a.com-cert.pem')),
    );
    assert.deepEqual(certFields(admin).ous, []);
    assert.equal(certFields(admin).subject, 'C=US, ST=California, L=San Francisco, CN=Admin@a.com');
  });

  it('CA subject fields (OU, street, postal code) reach the CA and every issued certificate', async () => {
    const out = tmp();
    await generateCrypto(
      parseCryptoConfig(`
OrdererOrgs:
  - Domain: o.org
    EnableNodeOUs: true
    CA: {Hostname: rootca, Country: DE, Province: Berlin, Locality: Berlin, OrganizationalUnit: Hyperledger Fabric, StreetAddress: Main St 1, PostalCode: 10115}
    Specs: [{Hostname: ord, SANS: ["fe80::1", "::ffff:10.1.2.3"]}]
`),
      out,
    );
    const org = join(out, 'ordererOrganizations', 'o.org');
    const ca = certFields(readFileSync(join(org, 'ca', 'rootca.o.org-cert.pem')));
    assert.equal(
      ca.subject,
      'C=DE, ST=Berlin, L=Berlin, 2.5.4.9=Main St 1, 2.5.4.17=10115, O=o.org, OU=Hyperledger Fabric, CN=rootca.o.org',
    );
    assert.ok(existsSync(join(org, 'tlsca', 'tlsrootca.o.org-cert.pem')));
    const node = certFields(readFileSync(join(org, 'orderers/ord.o.org/msp/signcerts/ord.o.org-cert.pem')));
    assert.equal(
      node.subject,
      'C=DE, ST=Berlin, L=Berlin, 2.5.4.9=Main St 1, 2.5.4.17=10115, OU=orderer+OU=Hyperledger Fabric, CN=ord.o.org',
    );
    assert.deepEqual(node.ous, ['orderer', 'Hyperledger Fabric']); // one RDN, DER SET OF order (shorter first)
    const tls = certFields(readFileSync(join(org, 'orderers/ord.o.org/tls/server.crt')));
    assert.deepEqual(tls.ous, ['Hyperledger Fabric']);
    assert.deepEqual(tls.sans, [
      'dns:ord.o.org',
      'dns:ord',
      'dns:localhost',
      'ip:fe80::1',
      'ip:10.1.2.3',
      'ip:127.0.0.1',
    ]);
    assert.equal(
      readFileSync(join(org, 'msp/config.yaml'), 'utf8').split('cacerts/rootca.o.org-cert.pem').length,
      5,
    );
  });

  it('validity: now rounded to the minute minus 5 minutes, 3650 days; GeneralizedTime from 2050', async () => {
    assert.equal(
      validityFor(new Date('2026-11-20T22:29:31Z')).notBefore.toISOString(),
      '2026-11-20T22:25:00.000Z',
    );
    assert.equal(
      validityFor(new Date('2026-11-20T22:29:29.999Z')).notBefore.toISOString(),
      '2026-11-20T22:24:00.000Z',
    );
    assert.equal(
      validityFor(new Date('2026-11-20T22:29:30Z')).notAfter.toISOString(),
      '2036-11-17T22:25:00.000Z',
    );
    const out = tmp();
    await generateCrypto(parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n'), out, {
      now: new Date('2045-01-01T00:00:00Z'),
    });
    const p = certParts(readFileSync(join(out, 'peerOrganizations/a.com/ca/ca.a.com-cert.pem')));
    assert.equal(p.notBefore.tag, 0x17); // UTCTime, 2044
    assert.equal(p.notAfter.tag, 0x18); // GeneralizedTime, 2054 (3650 days: two leap days)
    assert.equal(p.notAfter.content.toString(), '20541229235500Z');
    assert.equal(
      new X509Certificate(readFileSync(join(out, 'peerOrganizations/a.com/ca/ca.a.com-cert.pem'))).validTo,
      'Dec 29 23:55:00 2054 GMT',
    );
  });

  it('refuses to overwrite an existing org folder', async () => {
    const out = tmp();
    const config = parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n');
    await generateCrypto(config, out);
    const before = readFileSync(join(out, 'peerOrganizations/a.com/ca/priv_sk'));
    await assert.rejects(
      generateCrypto(config, out),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.code === 'CRYPTO_OUTPUT_EXISTS' &&
        e.message.includes('a.com already exists'),
    );
    assert.deepEqual(readFileSync(join(out, 'peerOrganizations/a.com/ca/priv_sk')), before);
  });

  it('an output path that cannot be written is a ConfigError naming the file', async () => {
    const out = tmp();
    writeFileSync(join(out, 'file'), '');
    await assert.rejects(
      generateCrypto(parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n'), join(out, 'file')),
      (e: unknown) =>
        e instanceof ConfigError && e.code === 'CRYPTO_OUTPUT' && e.message.includes(join(out, 'file')),
    );
  });
});

describe('grapevine crypto generate', () => {
  it('reads the config file, writes the folders and reports each org', async () => {
    const dir = tmp();
    const cfg = join(dir, 'crypto-config.yaml');
    writeFileSync(
      cfg,
      'PeerOrgs:\n  - Domain: a.com\n    EnableNodeOUs: true\n    Template: {Count: 2}\n    Users: {Count: 1}\nOrdererOrgs:\n  - Domain: o.com\n    Specs: [{Hostname: orderer0}]\n',
    );
    const lines = await runCryptoGenerate({ config: cfg, output: join(dir, 'out') });
    assert.deepEqual(lines, [
      'peerOrganizations/a.com: 2 peers, 2 users, NodeOUs',
      'ordererOrganizations/o.com: 1 orderer, 1 user',
    ]);
    assert.ok(existsSync(join(dir, 'out/ordererOrganizations/o.com/orderers/orderer0.o.com/tls/server.key')));
  });

  it('names the file in errors', async () => {
    const dir = tmp();
    await assert.rejects(
      runCryptoGenerate({ config: join(dir, 'missing.yaml'), output: dir }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('missing.yaml'),
    );
    writeFileSync(join(dir, 'bad.yaml'), 'PeerOrgs:\n  - Name: Org1\n');
    await assert.rejects(
      runCryptoGenerate({ config: join(dir, 'bad.yaml'), output: dir }),
      (e: unknown) =>
        e instanceof ConfigError && e.message.startsWith(`${join(dir, 'bad.yaml')}: PeerOrgs[0].Domain`),
    );
  });
});
