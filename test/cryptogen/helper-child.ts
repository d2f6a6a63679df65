/** Child process for helper.test.ts: prints the testCrypto folder and its CA certificate. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCrypto } from '../helpers/crypto.js';

const root = await testCrypto({ orgs: 1, peersPerOrg: 1 });
const ca = readFileSync(
  join(root, 'peerOrganizations/org1.example.com/ca/ca.org1.example.com-cert.pem'),
  'utf8',
);
process.stdout.write(JSON.stringify({ root, ca }));
