import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  EcdsaVerifier,
  checkEcdsa,
  encodeEcdsaSignature,
  identityFromSerialized,
  loadSigningIdentity,
  parseEcdsaSignature,
  serializeIdentity,
  signEcdsa,
  verifyEcdsa,
  LruCache,
} from '../../src/identity/index.js';
import { GrapevineError, VerifyError } from '../../src/base/errors.js';
import { decodeEnvelope } from '../../src/wire/index.js';
import { SKIP_VECTORS, peerDir, readVector, vectorIndex, vectorPath } from '../helpers/vectors.js';
import { P256_N } from './certsig.js';

const HALF = P256_N >> 1n;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const MSG = new TextEncoder().encode('grapevine');

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof VerifyError, `VerifyError, got ${e}`);
    return e.code;
  }
  return 'OK';
}

test('signatures are DER and always low-S, and verify', () => {
  for (let i = 0; i < 64; i++) {
    const sig = signEcdsa(privateKey, MSG);
    const { s } = parseEcdsaSignature(sig);
    assert.ok(s <= HALF);
    checkEcdsa(publicKey, MSG, sig);
  }
});

test('verifier rejects high-S, r or s <= 0, non-DER, wrong message', () => {
  const sig = signEcdsa(privateKey, MSG);
  const { r, s } = parseEcdsaSignature(sig);
  assert.equal(
    code(() => checkEcdsa(publicKey, MSG, encodeEcdsaSignature(r, P256_N - s))),
    'HIGH_S',
  );
  assert.equal(
    code(() => checkEcdsa(publicKey, MSG, encodeEcdsaSignature(0n, s))),
    'BAD_SIGNATURE',
  );
  assert.equal(
    code(() => checkEcdsa(publicKey, MSG, encodeEcdsaSignature(r, 0n))),
    'BAD_SIGNATURE',
  );
  // negative s: INTEGER 0xff...
  const neg = Buffer.concat([Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0xff])]);
  assert.equal(
    code(() => checkEcdsa(publicKey, MSG, neg)),
    'BAD_SIGNATURE',
  );
  // non-minimal integer, indefinite length, raw r||s
  const padded = Buffer.from(sig);
  assert.equal(
    code(() =>
      checkEcdsa(
        publicKey,
        MSG,
        Buffer.concat([Buffer.from([0x30, padded[1] + 1, 0x02, padded[3] + 1, 0x00]), padded.subarray(4)]),
      ),
    ),
    'BAD_SIGNATURE',
  );
  assert.equal(
    code(() => checkEcdsa(publicKey, MSG, Buffer.concat([Buffer.from([0x30, 0x80]), padded.subarray(2)]))),
    'BAD_SIGNATURE',
  );
  assert.equal(
    code(() =>
      checkEcdsa(publicKey, MSG, nodeSign('sha256', MSG, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
    ),
    'BAD_SIGNATURE',
  );
  assert.equal(
    code(() => checkEcdsa(publicKey, new TextEncoder().encode('other'), sig)),
    'BAD_SIGNATURE',
  );
  assert.equal(verifyEcdsa(publicKey, MSG, sig), true);
});

test('EcdsaVerifier caches parsed keys in a bounded LRU and counts evictions', () => {
  const v = new EcdsaVerifier(2);
  const keys = [0, 1, 2].map(() => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const spki = keys.map((k) => k.publicKey.export({ format: 'der', type: 'spki' }));
  const sigs = keys.map((k) => signEcdsa(k.privateKey, MSG));
  assert.ok(v.verify(spki[0], MSG, sigs[0]));
  assert.ok(v.verify(spki[0], MSG, sigs[0]));
  assert.equal(v.verify(spki[1], MSG, sigs[0]), false);
  assert.ok(v.verify(spki[2], MSG, sigs[2]));
  const st = v.stats();
  assert.equal(st.size, 2);
  assert.equal(st.evictions, 1);
  assert.equal(st.hits, 1);
  assert.equal(st.misses, 3);
  assert.equal(v.verify(Uint8Array.of(1, 2, 3), MSG, sigs[0]), false);
  const lru = new LruCache<string, number>(1);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), undefined);
  assert.equal(lru.get('b'), 2);
  assert.throws(() => new LruCache(0), RangeError);
});

test('signature parsing never throws anything but VerifyError on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      try {
        checkEcdsa(publicKey, MSG, bytes);
      } catch (e) {
        assert.ok(e instanceof VerifyError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test(
  'every signed gossip envelope of the vectors verifies with its signer certificate; a flipped bit fails',
  { skip: SKIP_VECTORS },
  () => {
    const signed = vectorIndex().gossip.filter((g) => g.signed && g.file);
    assert.ok(signed.length > 200);
    const peers = vectorIndex().peers as Record<string, { mspid: string }>;
    let n = 0;
    for (const g of signed) {
      const env = decodeEnvelope(readVector(g.file!));
      const mspId = peers[g.signer!].mspid;
      const id = identityFromSerialized(
        serializeIdentity(mspId, new Uint8Array(readFileSync(vectorPath(g.signer_cert!)))),
      );
      assert.ok(id.verify(env.payload, env.signature), `${g.file} verifies`);
      const flipped = Uint8Array.from(env.payload);
      flipped[(n * 7) % flipped.length] ^= 1 << (n % 8);
      assert.equal(id.verify(flipped, env.signature), false, `${g.file} with a flipped payload bit`);
      const badSig = Uint8Array.from(env.signature);
      badSig[badSig.length - 1] ^= 0x01;
      assert.equal(id.verify(env.payload, badSig), false, `${g.file} with a flipped signature bit`);
      n++;
    }
    assert.equal(n, signed.length);
  },
);

test(
  'local signing identity from a vector peer folder: signs what its org MSP verifies',
  { skip: SKIP_VECTORS },
  () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const local = loadSigningIdentity(join(peerDir('org2', 'peer1'), 'msp'), 'Org2MSP', { now });
    assert.equal(
      Buffer.from(local.identity.pkiId).toString('hex'),
      '60093a0737732581acc6ba3de0b892a1538d354474df0d876520afb3e8db2e3f',
    );
    assert.deepEqual(Buffer.from(local.signer.serializedIdentity), Buffer.from(local.identity.serialized));
    const sig = local.signer.sign(MSG);
    local.msp.validate(local.identity, now);
    assert.ok(local.identity.verify(MSG, sig));
    assert.equal(local.msp.roleOf(local.identity), 'peer');
    try {
      loadSigningIdentity(join(peerDir('org2', 'peer1'), 'msp'), 'Org2MSP', {
        now: new Date('2040-01-01T00:00:00Z'),
      });
      assert.fail('expired signing certificate accepted');
    } catch (e) {
      assert.ok(e instanceof GrapevineError);
      assert.equal(e.code, 'EXPIRED_SIGNCERT');
      assert.match(e.message, /signcerts\/peer1\.org2\.example\.com-cert\.pem/);
    }
  },
);
