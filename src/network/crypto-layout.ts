/**
 * The crypto material of a local network, in cryptogen's folder layout: orderer org example.com
 * (OrdererMSP, one node orderer0.example.com) and peer orgs org1.example.com.. (Org1MSP..) with
 * peers peer0.. and users Admin + User1, NodeOUs on, TLS SANs localhost and 127.0.0.1.
 * Used by `network up` and by the tests' cached crypto (test/helpers/crypto.ts).
 */
import { join } from 'node:path';
import { validateCryptoConfig, type CryptoConfig } from '../cryptogen/index.js';

/** org1.example.com, ... */
export const orgDomain = (org: number): string => `org${org}.example.com`;

/** MSP ID of peer org `org` (1-based): Org1MSP, ...; of the orderer org: OrdererMSP. */
export function orgMspId(org: number | 'orderer'): string {
  return org === 'orderer' ? 'OrdererMSP' : `Org${org}MSP`;
}

/** The crypto-config (cryptogen's crypto-config.yaml) for `orgs` peer orgs of `peersPerOrg` peers. */
export function localCryptoConfig(orgs: number, peersPerOrg: number): CryptoConfig {
  const sans = ['localhost', '127.0.0.1'];
  return validateCryptoConfig({
    OrdererOrgs: [
      {
        Name: 'Orderer',
        Domain: 'example.com',
        EnableNodeOUs: true,
        Specs: [{ Hostname: 'orderer0', SANS: sans }],
      },
    ],
    PeerOrgs: Array.from({ length: orgs }, (_, k) => ({
      Name: `Org${k + 1}`,
      Domain: orgDomain(k + 1),
      EnableNodeOUs: true,
      Template: { Count: peersPerOrg, SANS: sans },
      Users: { Count: 1 },
    })),
  });
}

/** Folder of peer `index` (0..) of org `org` (1..) under the crypto root. */
export function peerCryptoPath(root: string, org: number, index: number): string {
  return join(root, 'peerOrganizations', orgDomain(org), 'peers', `peer${index}.${orgDomain(org)}`);
}

/** Folder of a user of a peer org: 'Admin' or 'User1'. */
export function userCryptoPath(root: string, org: number, user: 'Admin' | 'User1'): string {
  return join(root, 'peerOrganizations', orgDomain(org), 'users', `${user}@${orgDomain(org)}`);
}

/** Folder of the orderer node orderer0.example.com. */
export function ordererCryptoPath(root: string): string {
  return join(root, 'ordererOrganizations', 'example.com', 'orderers', 'orderer0.example.com');
}

/** Verifying MSP folder of a peer org (or the orderer org). */
export function orgMspPath(root: string, org: number | 'orderer'): string {
  return org === 'orderer'
    ? join(root, 'ordererOrganizations', 'example.com', 'msp')
    : join(root, 'peerOrganizations', orgDomain(org), 'msp');
}
