import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  fabricMspConfigFromFolder,
  loadMspFolder,
  mspFromFabricConfig,
  serializeIdentity,
  createMspManager,
  certToPem,
  type X509Msp,
} from '../../src/identity/index.js';
import { ConfigError, VerifyError } from '../../src/base/errors.js';
import {
  CombinedPrincipalSchema,
  MSPIdentityAnonymitySchema,
  MSPIdentityAnonymity_MSPIdentityAnonymityType as Anon,
  MSPPrincipalSchema,
  MSPPrincipal_Classification as Cls,
  MSPRoleSchema,
  MSPRole_MSPRoleType as Role,
  OrganizationUnitSchema,
  type MSPPrincipal,
} from '../../src/wire/gen/msp/msp_principal_pb.js';
import { SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';
import { T0, crl, issue, mspConfig, type Issued } from './pki.js';

const NOW = new Date('2026-06-01T00:00:00Z');
/** The vectors' certificates are valid 2026-11-20 .. 2036-11-17. */
const VNOW = new Date('2027-06-01T00:00:00Z');

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof VerifyError || e instanceof ConfigError, `typed error, got ${e}`);
    return (e as VerifyError).code;
  }
  return 'OK';
}

const rolePrincipal = (mspId: string, role: Role): MSPPrincipal =>
  create(MSPPrincipalSchema, {
    principalClassification: Cls.ROLE,
    principal: toBinary(MSPRoleSchema, create(MSPRoleSchema, { mspIdentifier: mspId, role })),
  });

function orgMsp(org: 'org1' | 'org2'): X509Msp {
  const id = org === 'org1' ? 'Org1MSP' : 'Org2MSP';
  return mspFromFabricConfig(
    fabricMspConfigFromFolder(
      loadMspFolder(vectorPath('crypto-config', 'peerOrganizations', `${org}.example.com`, 'msp')),
      id,
    ),
  );
}

function vectorCert(org: string, kind: 'peers' | 'users', name: string): Uint8Array {
  const node = kind === 'users' ? `${name}.example.com` : `${name}.${org}.example.com`;
  return loadMspFolder(
    vectorPath('crypto-config', 'peerOrganizations', `${org}.example.com`, kind, node, 'msp'),
  ).signcerts[0].bytes;
}

test(
  'vector identities validate against their org with the right NodeOU role and fail against the other org',
  { skip: SKIP_VECTORS },
  () => {
    const msps = { org1: orgMsp('org1'), org2: orgMsp('org2') };
    const cases: ['org1' | 'org2', 'peers' | 'users', string, string][] = [
      ['org1', 'peers', 'peer0', 'peer'],
      ['org1', 'peers', 'peer2', 'peer'],
      ['org1', 'users', 'Admin@org1', 'admin'],
      ['org1', 'users', 'User1@org1', 'client'],
      ['org2', 'peers', 'peer1', 'peer'],
      ['org2', 'users', 'Admin@org2', 'admin'],
    ];
    for (const [org, kind, name, role] of cases) {
      const pem = vectorCert(org, kind, name);
      const msp = msps[org];
      const other = msps[org === 'org1' ? 'org2' : 'org1'];
      const id = msp.deserialize(serializeIdentity(msp.id, pem));
      msp.validate(id, VNOW);
      assert.equal(msp.roleOf(id), role, name);
      assert.ok(msp.satisfiesPrincipal(id, rolePrincipal(msp.id, Role.MEMBER), VNOW));
      assert.equal(msp.satisfiesPrincipal(id, rolePrincipal(msp.id, Role.PEER), VNOW), role === 'peer', name);
      assert.equal(
        msp.satisfiesPrincipal(id, rolePrincipal(msp.id, Role.ADMIN), VNOW),
        role === 'admin',
        name,
      );
      assert.equal(
        msp.satisfiesPrincipal(id, rolePrincipal(msp.id, Role.CLIENT), VNOW),
        role === 'client',
        name,
      );
      assert.equal(msp.satisfiesPrincipal(id, rolePrincipal(other.id, Role.MEMBER), VNOW), false);
      // the other org's MSP refuses its MSP ID, and a forged MSP ID does not chain
      assert.equal(
        code(() => other.deserialize(serializeIdentity(msp.id, pem))),
        'WRONG_MSP',
      );
      const forged = other.deserialize(serializeIdentity(other.id, pem));
      assert.equal(
        code(() => other.validate(forged, VNOW)),
        'CHAIN',
      );
      assert.equal(other.satisfiesPrincipal(forged, rolePrincipal(other.id, Role.MEMBER), VNOW), false);
    }
    // the certificates were issued in 2026 and expire in 2036
    const id = msps.org1.deserialize(serializeIdentity('Org1MSP', vectorCert('org1', 'peers', 'peer0')));
    assert.equal(
      code(() => msps.org1.validate(id, new Date('2037-01-01T00:00:00Z'))),
      'EXPIRED',
    );
    assert.equal(
      code(() => msps.org1.validate(id, new Date('2020-01-01T00:00:00Z'))),
      'NOT_YET_VALID',
    );
    assert.equal(id.expiresAt.toISOString(), '2036-11-17T22:25:00.000Z');
    const mgr = createMspManager([msps.org1, msps.org2]);
    assert.equal(mgr.deserialize(id.serialized).msp.id, 'Org1MSP');
    assert.equal(
      code(() => mgr.deserialize(serializeIdentity('Org3MSP', vectorCert('org1', 'peers', 'peer0')))),
      'UNKNOWN_IDENTITY',
    );
  },
);

test('orderer MSP of the vectors: orderer role', { skip: SKIP_VECTORS }, () => {
  const base = vectorPath('crypto-config', 'ordererOrganizations', 'example.com');
  const msp = mspFromFabricConfig(fabricMspConfigFromFolder(loadMspFolder(join(base, 'msp')), 'OrdererMSP'));
  const pem = loadMspFolder(join(base, 'orderers', 'orderer0.example.com', 'msp')).signcerts[0].bytes;
  const id = msp.deserialize(serializeIdentity('OrdererMSP', pem));
  msp.validate(id, VNOW);
  assert.equal(msp.roleOf(id), 'orderer');
  assert.ok(msp.satisfiesPrincipal(id, rolePrincipal('OrdererMSP', Role.ORDERER), VNOW));
  assert.equal(msp.satisfiesPrincipal(id, rolePrincipal('OrdererMSP', Role.PEER), VNOW), false);
});

interface Fixture {
  root: Issued;
  peer: Issued;
  client: Issued;
  admin: Issued;
  revoked: Issued;
  expired: Issued;
  future: Issued;
  twoOUs: Issued;
  noOU: Issued;
  foreign: Issued;
  foreignRoot: Issued;
  msp: X509Msp;
}

let fixture: Promise<Fixture> | undefined;
function fx(): Promise<Fixture> {
  fixture ??= (async () => {
    const root = await issue({ cn: 'ca.test', ca: true });
    const foreignRoot = await issue({ cn: 'ca.other', ca: true });
    const f = {
      root,
      foreignRoot,
      peer: await issue({ cn: 'peer0', ous: ['peer'] }, root),
      client: await issue({ cn: 'user1', ous: ['client'] }, root),
      admin: await issue({ cn: 'admin', ous: ['admin'] }, root),
      revoked: await issue({ cn: 'peer9', ous: ['peer'], serial: 'abcdef' }, root),
      expired: await issue({ cn: 'old', ous: ['peer'], notAfter: new Date(T0.getTime() + 86_400_000) }, root),
      future: await issue({ cn: 'new', ous: ['peer'], notBefore: new Date('2027-01-01T00:00:00Z') }, root),
      twoOUs: await issue({ cn: 'both', ous: ['peer', 'client'] }, root),
      noOU: await issue({ cn: 'none', ous: ['sales'] }, root),
      foreign: await issue({ cn: 'intruder', ous: ['peer'] }, foreignRoot),
    };
    const msp = mspFromFabricConfig(
      mspConfig({ mspId: 'TestMSP', roots: [root], crls: [await crl(root, ['abcdef'])], ouCert: root }),
    );
    return { ...f, msp };
  })();
  return fixture;
}

const sid = (msp: X509Msp, c: Issued) => msp.deserialize(serializeIdentity(msp.id, c.pem));

test('generated certificates: expired, not yet valid, unknown CA, revoked, NodeOU violations', async () => {
  const f = await fx();
  const v = (c: Issued) => code(() => f.msp.validate(sid(f.msp, c), NOW));
  assert.equal(v(f.peer), 'OK');
  assert.equal(v(f.client), 'OK');
  assert.equal(v(f.expired), 'EXPIRED');
  assert.equal(v(f.future), 'NOT_YET_VALID');
  assert.equal(v(f.foreign), 'CHAIN');
  assert.equal(v(f.revoked), 'REVOKED');
  assert.equal(v(f.twoOUs), 'NODE_OU');
  assert.equal(v(f.noOU), 'NODE_OU');
  // a CA certificate is never an identity
  assert.equal(v(f.root), 'CHAIN');
  assert.equal(
    f.msp.satisfiesPrincipal(sid(f.msp, f.revoked), rolePrincipal('TestMSP', Role.MEMBER), NOW),
    false,
  );
});

test('a CRL signed by another CA does not revoke', async () => {
  const f = await fx();
  const forgedCrl = await crl(f.foreignRoot, ['abcdef']);
  const msp = mspFromFabricConfig(mspConfig({ mspId: 'TestMSP', roots: [f.root], crls: [forgedCrl] }));
  msp.validate(sid(msp, f.revoked), NOW);
});

test('without NodeOUs: roles need admincerts, CLIENT/PEER principals are unsatisfiable', async () => {
  const f = await fx();
  assert.equal(
    code(() => mspFromFabricConfig(mspConfig({ mspId: 'X', roots: [f.root], nodeOUs: false }))),
    'MSP_SETUP',
  );
  const msp = mspFromFabricConfig(
    mspConfig({ mspId: 'X', roots: [f.root], nodeOUs: false, admins: [f.client] }),
  );
  const client = sid(msp, f.client);
  const twoOUs = sid(msp, f.twoOUs);
  msp.validate(twoOUs, NOW);
  assert.equal(msp.roleOf(client), undefined);
  assert.ok(msp.satisfiesPrincipal(client, rolePrincipal('X', Role.ADMIN), NOW));
  assert.equal(msp.satisfiesPrincipal(twoOUs, rolePrincipal('X', Role.ADMIN), NOW), false);
  assert.equal(msp.satisfiesPrincipal(client, rolePrincipal('X', Role.CLIENT), NOW), false);
});

test('intermediate CAs: chain through them, leaf-CA rule, NodeOU certifiers', async () => {
  const root = await issue({ cn: 'root', ca: true });
  const inter = await issue({ cn: 'inter', ca: true }, root);
  const viaInter = await issue({ cn: 'p1', ous: ['peer'] }, inter);
  const viaRoot = await issue({ cn: 'p2', ous: ['peer'] }, root);
  const msp = mspFromFabricConfig(mspConfig({ mspId: 'I', roots: [root], intermediates: [inter] }));
  msp.validate(sid(msp, viaInter), NOW);
  // the root issued an intermediate, so it may not issue identities directly
  assert.equal(
    code(() => msp.validate(sid(msp, viaRoot), NOW)),
    'CHAIN',
  );
  // NodeOUs pinned to the intermediate
  const pinned = mspFromFabricConfig(
    mspConfig({ mspId: 'I', roots: [root], intermediates: [inter], ouCert: inter }),
  );
  pinned.validate(sid(pinned, viaInter), NOW);
  // NodeOUs pinned to a root that is not the identity's issuer path
  const root2 = await issue({ cn: 'root2', ca: true });
  const viaRoot2 = await issue({ cn: 'p3', ous: ['peer'] }, root2);
  const two = mspFromFabricConfig(
    mspConfig({ mspId: 'I', roots: [root, root2], intermediates: [inter], ouCert: inter }),
  );
  assert.equal(
    code(() => two.validate(sid(two, viaRoot2), NOW)),
    'NODE_OU',
  );
  // an intermediate revoked by the root's CRL breaks the MSP setup
  const revokedInter = await crl(root, [inter.cert.serialNumber]);
  assert.equal(
    code(() =>
      mspFromFabricConfig(
        mspConfig({ mspId: 'I', roots: [root], intermediates: [inter], crls: [revokedInter] }),
      ),
    ),
    'MSP_SETUP',
  );
  // an OU certificate that is not one of the MSP's CAs is a setup error
  assert.equal(
    code(() => mspFromFabricConfig(mspConfig({ mspId: 'I', roots: [root], ouCert: root2 }))),
    'MSP_SETUP',
  );
});

test('certificates with extended key usages that exclude server auth do not chain (Go default)', async () => {
  const f = await fx();
  const clientOnly = await issue({ cn: 'tls', ous: ['peer'], ekus: ['1.3.6.1.5.5.7.3.2'] }, f.root);
  const both = await issue(
    { cn: 'tls2', ous: ['peer'], ekus: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] },
    f.root,
  );
  assert.equal(
    code(() => f.msp.validate(sid(f.msp, clientOnly), NOW)),
    'CHAIN',
  );
  f.msp.validate(sid(f.msp, both), NOW);
});

test('principals: IDENTITY, ORGANIZATION_UNIT, ANONYMITY, COMBINED', async () => {
  const f = await fx();
  const peer = sid(f.msp, f.peer);
  const client = sid(f.msp, f.client);
  const p = (principalClassification: Cls, principal: Uint8Array) =>
    create(MSPPrincipalSchema, { principalClassification, principal });
  const identityP = p(Cls.IDENTITY, peer.serialized);
  assert.ok(f.msp.satisfiesPrincipal(peer, identityP, NOW));
  assert.equal(f.msp.satisfiesPrincipal(client, identityP, NOW), false);
  const certifiers = f.msp.certifiersOfIdentity(peer);
  const ouP = (ou: string, c: Uint8Array, mspIdentifier = 'TestMSP') =>
    p(
      Cls.ORGANIZATION_UNIT,
      toBinary(
        OrganizationUnitSchema,
        create(OrganizationUnitSchema, {
          mspIdentifier,
          organizationalUnitIdentifier: ou,
          certifiersIdentifier: c,
        }),
      ),
    );
  assert.ok(f.msp.satisfiesPrincipal(peer, ouP('peer', certifiers), NOW));
  assert.equal(f.msp.satisfiesPrincipal(peer, ouP('peer', new Uint8Array(32)), NOW), false);
  assert.equal(f.msp.satisfiesPrincipal(peer, ouP('client', certifiers), NOW), false);
  assert.equal(f.msp.satisfiesPrincipal(peer, ouP('peer', certifiers, 'Other'), NOW), false);
  const anon = (t: Anon) =>
    p(
      Cls.ANONYMITY,
      toBinary(MSPIdentityAnonymitySchema, create(MSPIdentityAnonymitySchema, { anonymityType: t })),
    );
  assert.ok(f.msp.satisfiesPrincipal(peer, anon(Anon.NOMINAL), NOW));
  assert.equal(f.msp.satisfiesPrincipal(peer, anon(Anon.ANONYMOUS), NOW), false);
  const combined = (...principals: MSPPrincipal[]) =>
    p(Cls.COMBINED, toBinary(CombinedPrincipalSchema, create(CombinedPrincipalSchema, { principals })));
  assert.ok(
    f.msp.satisfiesPrincipal(peer, combined(rolePrincipal('TestMSP', Role.PEER), anon(Anon.NOMINAL)), NOW),
  );
  assert.equal(
    f.msp.satisfiesPrincipal(
      peer,
      combined(rolePrincipal('TestMSP', Role.PEER), rolePrincipal('TestMSP', Role.CLIENT)),
      NOW,
    ),
    false,
  );
  assert.equal(f.msp.satisfiesPrincipal(peer, combined(), NOW), false);
  assert.equal(f.msp.satisfiesPrincipal(peer, p(Cls.ROLE, Uint8Array.of(0xff, 0xff)), NOW), false);
  assert.ok(f.msp.satisfiesPrincipal(sid(f.msp, f.admin), rolePrincipal('TestMSP', Role.ADMIN), NOW));
  // expired identities satisfy nothing that needs validity
  assert.equal(
    f.msp.satisfiesPrincipal(sid(f.msp, f.expired), rolePrincipal('TestMSP', Role.MEMBER), NOW),
    false,
  );
});

test('well-formedness: trailing bytes, PEM type, non-canonical certificate signature; high-S certificate signatures are accepted', async () => {
  const f = await fx();
  const withNl = new Uint8Array([...f.peer.pem, 0x0a]);
  assert.equal(
    code(() => f.msp.deserialize(serializeIdentity('TestMSP', withNl))),
    'NOT_WELL_FORMED',
  );
  const asKey = new TextEncoder().encode(
    new TextDecoder().decode(f.peer.pem).replaceAll('CERTIFICATE', 'PUBLIC KEY'),
  );
  assert.equal(
    code(() => f.msp.deserialize(serializeIdentity('TestMSP', asKey))),
    'NOT_WELL_FORMED',
  );
  assert.equal(
    code(() => f.msp.deserialize(serializeIdentity('TestMSP', new TextEncoder().encode('hello')))),
    'NOT_WELL_FORMED',
  );
  // leading text before the block is skipped by Go's PEM decoder, so it is well-formed
  f.msp.deserialize(
    serializeIdentity('TestMSP', new Uint8Array([...new TextEncoder().encode('junk\n'), ...f.peer.pem])),
  );
  const { rebuildWithSignature, flipS } = await import('./certsig.js');
  const nonCanonical = rebuildWithSignature(f.peer.der, (r, s) =>
    Buffer.concat([Buffer.from([0x30, r.length + s.length + 2]), r, s, Buffer.from([0x05, 0x00])]),
  );
  assert.equal(
    code(() => f.msp.deserialize(serializeIdentity('TestMSP', certToPem(nonCanonical)))),
    'NOT_WELL_FORMED',
  );
  const highS = flipS(f.peer.der);
  const id = f.msp.deserialize(serializeIdentity('TestMSP', certToPem(highS)));
  f.msp.validate(id, NOW);
  // Fabric compares sanitized (low-S) certificates: both forms are the same identity
  assert.ok(
    f.msp.satisfiesPrincipal(
      id,
      create(MSPPrincipalSchema, {
        principalClassification: Cls.IDENTITY,
        principal: sid(f.msp, f.peer).serialized,
      }),
      NOW,
    ),
  );
});
