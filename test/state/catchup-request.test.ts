/**
 * The fast catch-up request checks (catchup/request.ts): a good request passes; TLS binding,
 * clock skew, policy, shape failures are refused with their code; arbitrary bytes only ever give
 * a CatchupRequestError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { simOrg, simPeer } from '../../src/sim/index.js';
import { VerifyError } from '../../src/base/errors.js';
import { buildCatchupRequest, verifyCatchupRequest, CatchupRequestError, type StateCrypto } from '../../src/core/state/index.js';
import { sha256 } from '../../src/core/state/catchup/request.js';
import { fastSigner } from './fixtures.js';

const NOW = Date.UTC(2030, 0, 1);
const cert = new Uint8Array([1, 2, 3]);

async function setup() {
  const signer = fastSigner(await simPeer(await simOrg(1), 0));
  const calls: string[] = [];
  const crypto: StateCrypto = {
    verifyBlock: () => {},
    verifyByChannel: (channel, identity) => {
      calls.push(channel);
      if (channel !== 'ch' || !Buffer.from(identity).equals(Buffer.from(signer.serializedIdentity)))
        throw new VerifyError('POLICY', 'not a reader');
    },
  };
  const req = (o: Partial<Parameters<typeof buildCatchupRequest>[0]> = {}) =>
    buildCatchupRequest({
      channel: 'ch',
      start: 5n,
      end: 9n,
      signer,
      nowMs: NOW,
      nonce: new Uint8Array(24),
      tlsCertHash: sha256(cert),
      ...o,
    });
  const ctx = { crypto, nowMs: NOW, maxClockSkewMs: 60_000, tls: true, clientCertDer: cert };
  return { req, ctx, calls };
}

const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof CatchupRequestError, String(e));
    return e.code;
  }
};

test('a good request passes; mismatched TLS, skew, unknown channel, bad range are refused', async () => {
  const { req, ctx } = await setup();
  assert.deepEqual(
    { ...verifyCatchupRequest(req(), ctx), creator: undefined },
    { channel: 'ch', start: 5n, end: 9n, creator: undefined },
  );
  assert.equal(
    code(() => verifyCatchupRequest(req(), { ...ctx, clientCertDer: undefined })),
    'UNAUTHENTICATED',
  );
  assert.equal(
    code(() => verifyCatchupRequest(req({ tlsCertHash: sha256(new Uint8Array([9])) }), ctx)),
    'UNAUTHENTICATED',
  );
  assert.equal(
    code(() =>
      verifyCatchupRequest(req({ tlsCertHash: undefined }), { ...ctx, tls: false, clientCertDer: undefined }),
    ),
    'ok',
  );
  assert.equal(
    code(() => verifyCatchupRequest(req({ nowMs: NOW - 120_000 }), ctx)),
    'PERMISSION_DENIED',
  );
  assert.equal(
    code(() => verifyCatchupRequest(req({ channel: 'other' }), ctx)),
    'PERMISSION_DENIED',
  );
  assert.equal(
    code(() => verifyCatchupRequest(req({ start: 10n, end: 9n }), ctx)),
    'INVALID_ARGUMENT',
  );
});

test('arbitrary bytes never throw anything but CatchupRequestError', async () => {
  const { req, ctx } = await setup();
  const good = req();
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const b = good.slice();
          b[i] ^= x;
          return b;
        }),
      ),
      (bytes) => {
        code(() => verifyCatchupRequest(bytes, ctx));
      },
    ),
  );
});
