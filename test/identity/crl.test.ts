/**
 * CRLs read with Grapevine's own DER reader (src/identity/crl.ts) give the same revoked serials and
 * AuthorityKeyIdentifier as @peculiar/x509's parser, for CRLs made by that library (several
 * serials, a serial with its high bit set, none at all); junk and a truncated CRL are refused.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { parseCrl } from '../../src/identity/crl.js';
import { crl, issue } from './pki.js';

test('parseCrl: serials and AKI as @peculiar/x509 reads them', async () => {
  const root = await issue({ cn: 'root', ca: true });
  for (const serials of [['abcdef', '01', '7f'], ['00ff00', '80'], []]) {
    const pem = await crl(root, serials);
    const theirs = new x509.X509Crl(new TextDecoder().decode(pem));
    const ours = parseCrl(pem);
    assert.deepEqual(
      [...ours.serials].sort(),
      theirs.entries.map((e) => BigInt('0x' + e.serialNumber)).sort(),
      serials.join(','),
    );
    assert.equal(ours.aki, theirs.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId?.toLowerCase());
    assert.ok(ours.aki && ours.aki.length === 40, ours.aki);
    assert.equal(ours.sigAlgOid, '1.2.840.10045.4.3.2');
  }
});

test('parseCrl: junk and a truncated CRL are refused with BAD_CRL', async () => {
  const root = await issue({ cn: 'root', ca: true });
  const der = new Uint8Array(new x509.X509Crl(new TextDecoder().decode(await crl(root, ['01']))).rawData);
  for (const bad of [new Uint8Array([1, 2, 3]), der.subarray(0, der.length - 5)])
    assert.throws(
      () => parseCrl(bad, 'x.crl'),
      (e: Error & { code?: string }) => e.code === 'BAD_CRL' && e.message.startsWith('x.crl'),
    );
});
