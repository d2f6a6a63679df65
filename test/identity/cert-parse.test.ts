/**
 * parseCert keeps what it parsed (src/identity/cert.ts): a channel config names the same CA
 * certificate many times. Shared results must not depend on the caller's buffer, and a
 * certificate that does not parse is refused every time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCert } from '../../src/identity/cert.js';
import { VerifyError } from '../../src/base/errors.js';
import { issue } from './pki.js';

test('parseCert: the same DER gives the same parsed certificate, from its own copy of the bytes', async () => {
  const ca = await issue({ cn: 'ca.parse.example.com', ca: true });
  const other = await issue({ cn: 'other.parse.example.com', ca: true });
  // the DER as a view into a larger buffer the caller reuses (as a block or a frame buffer is)
  const frame = new Uint8Array(ca.der.length + 10);
  frame.set(ca.der, 5);
  const view = frame.subarray(5, 5 + ca.der.length);
  const first = parseCert(view);
  frame.fill(0xee); // the caller reuses its buffer
  assert.deepEqual(first.der, ca.der);
  const again = parseCert(ca.der);
  assert.equal(again, first);
  assert.equal(again.subjectOUs, first.subjectOUs);
  const o = parseCert(other.der);
  assert.notEqual(o, first);
  assert.deepEqual(o.der, other.der);
  assert.match(o.x509.subject, /^CN=other.parse.example.com$/m);
});

test('parseCert: a certificate that does not parse is refused each time (nothing kept)', async () => {
  const ca = await issue({ cn: 'ca.bad.example.com', ca: true });
  const cut = ca.der.subarray(0, ca.der.length - 3);
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => parseCert(cut),
      (e: unknown) => e instanceof VerifyError && e.code === 'BAD_CERT',
    );
  }
  const ok = parseCert(ca.der);
  assert.notEqual(ok, undefined);
});
