/**
 * Test crypto material in cryptogen's layout, generated once per spec and cached in
 * os.tmpdir()/grapevine-test-crypto-<hash>/ across test processes.
 *
 *   const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
 *   // root/peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp ...
 *   // root/ordererOrganizations/example.com/orderers/orderer0.example.com/tls ...
 *
 * Orgs org1.example.com.. (MSP IDs Org1MSP..), an orderer org example.com (OrdererMSP, orderer0),
 * peers peer0.., users Admin + User1, NodeOUs on, TLS SANs include localhost and 127.0.0.1.
 * A new cache folder is generated in a temp folder and renamed into place, so parallel test
 * processes never see a half-written folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCrypto, type CryptoConfig } from '../../src/cryptogen/index.js';
import {
  localCryptoConfig,
  ordererCryptoPath,
  orgMspId,
  orgMspPath,
  peerCryptoPath,
  userCryptoPath,
} from '../../src/network/crypto-layout.js';

export interface TestCryptoSpec {
  /** Number of peer orgs (default 2). */
  orgs?: number;
  /** Peers per org (default 2). */
  peersPerOrg?: number;
}

/** Bump when the generator's output changes, so stale caches are not reused. */
const CACHE_VERSION = 1;
const DONE_MARKER = '.grapevine-complete';

const inProcess = new Map<string, Promise<string>>();

function normalize(spec: TestCryptoSpec = {}): Required<TestCryptoSpec> {
  const orgs = spec.orgs ?? 2;
  const peersPerOrg = spec.peersPerOrg ?? 2;
  if (!Number.isInteger(orgs) || orgs < 1 || orgs > 50)
    throw new RangeError(`testCrypto: orgs must be 1..50, got ${orgs}`);
  if (!Number.isInteger(peersPerOrg) || peersPerOrg < 1 || peersPerOrg > 50) {
    throw new RangeError(`testCrypto: peersPerOrg must be 1..50, got ${peersPerOrg}`);
  }
  return { orgs, peersPerOrg };
}

/** The crypto-config that testCrypto(spec) generates (the layout `network up` uses). */
export function testCryptoConfig(spec?: TestCryptoSpec): CryptoConfig {
  const { orgs, peersPerOrg } = normalize(spec);
  return localCryptoConfig(orgs, peersPerOrg);
}

async function generateCached(key: string, config: CryptoConfig): Promise<string> {
  const dir = join(tmpdir(), `grapevine-test-crypto-${key}`);
  if (existsSync(join(dir, DONE_MARKER))) return dir;
  const tmp = await mkdtemp(join(tmpdir(), `grapevine-test-crypto-${key}.tmp-`));
  try {
    await generateCrypto(config, tmp);
    await writeFile(join(tmp, DONE_MARKER), '');
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another process renamed its copy first (ENOTEMPTY/EEXIST): use that one.
      if (!existsSync(join(dir, DONE_MARKER))) throw e;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/** A cached cryptogen-layout folder for `spec`; see the file comment for its contents. */
export async function testCrypto(spec?: TestCryptoSpec): Promise<string> {
  const n = normalize(spec);
  const key = createHash('sha256')
    .update(JSON.stringify({ v: CACHE_VERSION, ...n }))
    .digest('hex')
    .slice(0, 16);
  let p = inProcess.get(key);
  if (!p) {
    p = generateCached(key, testCryptoConfig(n));
    p.catch(() => inProcess.delete(key));
    inProcess.set(key, p);
  }
  return p;
}

/** MSP ID of peer org k (1-based) in testCrypto material: Org1MSP, Org2MSP, ...; orderer: OrdererMSP. */
export const testMspId = orgMspId;
/** Folder of a peer (org and peer numbers as in the names: org 1.., peer 0..). */
export const testPeerDir = peerCryptoPath;
/** Folder of a user of a peer org: 'Admin' or 'User1'. */
export const testUserDir = userCryptoPath;
/** Folder of the orderer node orderer0.example.com. */
export const testOrdererDir = ordererCryptoPath;
/** Verifying MSP folder of a peer org (or the orderer org). */
export const testOrgMspDir = orgMspPath;

/** TLS files of an HTTPS server (peer0.org1's server pair) and its client (Admin@org1's pair), from testCrypto's tree. */
export interface ServerClientTls {
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly ca: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
}

export function serverClientTls(root: string): ServerClientTls {
  const org = join(root, 'peerOrganizations', 'org1.example.com');
  const peerTls = join(org, 'peers', 'peer0.org1.example.com', 'tls');
  const userTls = join(org, 'users', 'Admin@org1.example.com', 'tls');
  return {
    serverCert: readFileSync(join(peerTls, 'server.crt')),
    serverKey: readFileSync(join(peerTls, 'server.key')),
    ca: readFileSync(join(peerTls, 'ca.crt')),
    clientCert: readFileSync(join(userTls, 'client.crt')),
    clientKey: readFileSync(join(userTls, 'client.key')),
  };
}
