import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pemDecode, pemDecodeAll, pemEncode, parseCert, parseCrl } from '../../src/identity/index.js';
import { readTlv, integerValue, timeValue } from '../../src/identity/asn1.js';
import { GrapevineError, VerifyError } from '../../src/base/errors.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('pemEncode writes Go pem.EncodeToMemory: 64-char lines, LF endings', () => {
  const der = Uint8Array.from({ length: 100 }, (_, i) => i);
  const pem = dec(pemEncode('CERTIFICATE', der));
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.equal(lines[1].length, 64);
  assert.equal(lines[2].length, 64);
  assert.equal(lines[3].length, 8);
  assert.equal(lines[4], '-----END CERTIFICATE-----');
  assert.equal(lines[5], '');
  assert.equal(lines.length, 6);
  assert.ok(!pem.includes('\r'));
  assert.deepEqual(pemDecode(enc(pem))!.block.der, der);
  assert.equal(pemDecode(enc(pem))!.rest.length, 0);
});

test('pemDecode follows Go: leading text skipped, rest after the END line, CRLF, bad blocks skipped', () => {
  const body = pemEncode('CERTIFICATE', Uint8Array.of(1, 2, 3));
  assert.equal(dec(pemDecode(enc('junk\n' + dec(body) + 'tail'))!.rest), 'tail');
  assert.equal(dec(pemDecode(enc(dec(body) + '\n'))!.rest), '\n');
  const crlf = dec(body).replaceAll('\n', '\r\n');
  assert.deepEqual(pemDecode(enc(crlf))!.block.der, Uint8Array.of(1, 2, 3));
  assert.equal(pemDecode(enc('-----BEGIN X-----\nAQID\n-----END Y-----\n')), undefined);
  assert.equal(pemDecode(enc('-----BEGIN X-----\nA?ID\n-----END X-----\n')), undefined);
  assert.equal(pemDecode(enc('-----BEGIN X-----\nAQI\n-----END X-----\n')), undefined);
  const two = pemDecodeAll(enc('-----BEGIN A-----\nAQ==\n-----END A-----\n' + dec(body)));
  assert.deepEqual(
    two.map((b) => b.type),
    ['A', 'CERTIFICATE'],
  );
  const withHeaders = pemDecode(enc('-----BEGIN K-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END K-----\n'))!;
  assert.equal(withHeaders.block.headers['Proc-Type'], '4,ENCRYPTED');
});

test('DER reader: minimal lengths and integers, times', () => {
  assert.throws(() => readTlv(Uint8Array.of(0x02, 0x81, 0x01, 0x00)), VerifyError);
  assert.throws(() => integerValue(readTlv(Uint8Array.of(0x02, 0x02, 0x00, 0x01))), VerifyError);
  assert.equal(integerValue(readTlv(Uint8Array.of(0x02, 0x02, 0x00, 0x80))), 128n);
  assert.equal(integerValue(readTlv(Uint8Array.of(0x02, 0x01, 0xff))), -1n);
  assert.equal(
    timeValue(readTlv(Uint8Array.of(0x17, 13, ...enc('361117222500Z')))).toISOString(),
    '2036-11-17T22:25:00.000Z',
  );
  assert.equal(timeValue(readTlv(Uint8Array.of(0x17, 13, ...enc('991231235959Z')))).getUTCFullYear(), 1999);
  assert.equal(timeValue(readTlv(Uint8Array.of(0x18, 15, ...enc('20500101000000Z')))).getUTCFullYear(), 2050);
  assert.throws(() => timeValue(readTlv(Uint8Array.of(0x17, 13, ...enc('361317222500Z')))), VerifyError);
});

test('fast-check: PEM, certificate and CRL parsers never throw untyped errors', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 }).map(enc)),
      (bytes) => {
        pemDecodeAll(bytes);
        for (const f of [() => parseCert(bytes), () => parseCrl(bytes)]) {
          try {
            f();
          } catch (e) {
            assert.ok(e instanceof GrapevineError, String(e));
          }
        }
      },
    ),
    { numRuns: 2000 },
  );
});
