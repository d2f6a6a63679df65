/** The pure handshake (§3.2): each step's refusal reason, and no other exception on any input. */
import { realClock } from '../../src/base/real-clock.js';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { testCrypto } from '../helpers/crypto.js';
import { ManualClock, nodeIdentity, orgMsp } from './fixtures.js';
import {
  HandshakeError,
  buildConnEstablish,
  tlsCertHash,
  verifyConnEstablish,
  type HandshakeVerifier,
  type ReceivedHandshake,
} from '../../src/core/link/handshake.js';
import { commCryptoFromMsps } from '../../src/comm/identity.js';
import type { CommIdentity } from '../../src/core/link/types.js';
import { ownConnEstablish } from '../../src/core/link/exchange.js';
import { decodeFrame } from '../../src/core/link/frame.js';
import { IdentityStore } from '../../src/identity/store.js';
import { EnvelopeSchema } from '../../src/wire/gen/gossip/message_pb.js';
import { Tag, openEnvelope, signGossip, unsignedGossip } from '../../src/wire/gossip.js';

let root: string;
let me: CommIdentity;
let peer: CommIdentity;
let verifier: () => HandshakeVerifier;
const tlsA = new Uint8Array([1, 2, 3]);

before(async () => {
  root = await testCrypto({ orgs: 3, peersPerOrg: 2 });
  me = nodeIdentity(root, 1, 0);
  peer = nodeIdentity(root, 2, 0);
  const crypto = commCryptoFromMsps(() => [orgMsp(root, 1), orgMsp(root, 2)], realClock);
  verifier = () => {
    const store = new IdentityStore({
      self: { pkiId: me.pkiId, identity: me.signer.serializedIdentity },
      validator: crypto,
      clock: new ManualClock(Date.now()),
    });
    return {
      putIdentity: (p, i) => store.put(p, i),
      verifySignature: (i, s, d) => crypto.verifySignature(i, s, d),
    };
  };
});

const rx = (over: Partial<ReceivedHandshake> & Pick<ReceivedHandshake, 'envelope'>): ReceivedHandshake => ({
  tlsEnabled: true,
  remoteTlsCertDer: tlsA,
  endpoint: '127.0.0.1:1',
  role: 'responder',
  ...over,
});
const reason = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof HandshakeError, `not a HandshakeError: ${e}`);
    return e.reason;
  }
  return 'ok';
};

describe('handshake', () => {
  test('builds a signed EMPTY-tagged ConnEstablish with our TLS hash', () => {
    const env = buildConnEstablish({ pkiId: me.pkiId, signer: me.signer }, tlsA, true);
    const { message } = openEnvelope(env);
    assert.equal(message.tag, Tag.EMPTY);
    assert.equal(message.nonce, 0n);
    assert.equal(message.content.case, 'conn');
    const c = message.content.value as {
      pkiId: Uint8Array;
      tlsCertHash: Uint8Array;
      probe: boolean;
      identity: Uint8Array;
    };
    assert.deepEqual(c.pkiId, me.pkiId);
    assert.deepEqual(c.identity, me.signer.serializedIdentity);
    assert.deepEqual(c.tlsCertHash, tlsCertHash(tlsA));
    assert.equal(c.probe, true);
    assert.equal(tlsCertHash(undefined).length, 0);
  });

  test('our ConnEstablish is signed once per (signer, TLS leaf, probe) and each variant verifies', () => {
    let signs = 0;
    const counting = {
      pkiId: peer.pkiId,
      signer: { ...peer.signer, sign: (d: Uint8Array) => (signs++, peer.signer.sign(d)) },
    };
    const tlsB = new Uint8Array([4, 5, 6]);
    const a1 = ownConnEstablish(counting, tlsA, false);
    assert.equal(ownConnEstablish(counting, tlsA, false), a1, 'the same bytes again, not re-signed');
    const a2 = ownConnEstablish(counting, tlsA, true);
    const b1 = ownConnEstablish(counting, tlsB, false);
    const none = ownConnEstablish(counting, undefined, false);
    assert.equal(signs, 4);
    for (const [frame, leaf, probe] of [
      [a1, tlsA, false],
      [a2, tlsA, true],
      [b1, tlsB, false],
      [none, undefined, false],
    ] as const) {
      const r = verifyConnEstablish(
        rx({ envelope: decodeFrame(frame), remoteTlsCertDer: leaf, tlsEnabled: leaf !== undefined }),
        verifier(),
      );
      assert.equal(r.probe, probe);
      assert.deepEqual(r.info.pkiId, peer.pkiId);
    }
  });

  test('accepts a correct one and reports what it authenticated', () => {
    const env = buildConnEstablish({ pkiId: peer.pkiId, signer: peer.signer }, tlsA, false);
    const r = verifyConnEstablish(rx({ envelope: env }), verifier());
    assert.deepEqual(r.info.pkiId, peer.pkiId);
    assert.deepEqual(r.info.identity, peer.signer.serializedIdentity);
    assert.equal(r.info.endpoint, '127.0.0.1:1');
    assert.deepEqual(r.info.auth.signedData, env.payload);
    assert.equal(r.probe, false);
  });

  test('refuses each step with its reason', () => {
    const v = verifier();
    const good = buildConnEstablish({ pkiId: peer.pkiId, signer: peer.signer }, tlsA, false);
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: good, remoteTlsCertDer: undefined }), v)),
      'NO_TLS_CERT',
    );
    assert.equal(
      reason(() =>
        verifyConnEstablish(
          rx({
            envelope: unsignedGossip({ tag: Tag.EMPTY, content: { case: 'memReq', value: {} } }).envelope,
          }),
          v,
        ),
      ),
      'NOT_CONN',
    );
    assert.equal(
      reason(() =>
        verifyConnEstablish(rx({ envelope: create(EnvelopeSchema, { payload: new Uint8Array([0xff]) }) }), v),
      ),
      'NOT_CONN',
    );
    const emptyPki = signGossip(
      { tag: Tag.EMPTY, content: { case: 'conn', value: { identity: peer.signer.serializedIdentity } } },
      peer.signer,
    ).envelope;
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: emptyPki }), v)),
      'EMPTY_PKI_ID',
    );
    const wrongPki = signGossip(
      {
        tag: Tag.EMPTY,
        content: { case: 'conn', value: { pkiId: me.pkiId, identity: peer.signer.serializedIdentity } },
      },
      peer.signer,
    ).envelope;
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: wrongPki }), v)),
      'IDENTITY_REJECTED',
    );
    const stranger = nodeIdentity(root, 3, 0);
    const unknown = buildConnEstablish({ pkiId: stranger.pkiId, signer: stranger.signer }, tlsA, false);
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: unknown }), v)),
      'UNKNOWN_MSP',
    );
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: good, remoteTlsCertDer: new Uint8Array([9]) }), v)),
      'TLS_HASH_MISMATCH',
    );
    // TLS off: the hash is not checked.
    assert.equal(
      reason(() =>
        verifyConnEstablish(rx({ envelope: good, tlsEnabled: false, remoteTlsCertDer: undefined }), v),
      ),
      'ok',
    );
    const unsigned = create(EnvelopeSchema, { payload: good.payload });
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: unsigned }), v)),
      'BAD_SIGNATURE',
    );
    const otherSig = create(EnvelopeSchema, {
      payload: good.payload,
      signature: me.signer.sign(good.payload),
    });
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: otherSig }), v)),
      'BAD_SIGNATURE',
    );
    const probe = buildConnEstablish({ pkiId: peer.pkiId, signer: peer.signer }, tlsA, true);
    assert.equal(
      reason(() => verifyConnEstablish(rx({ envelope: probe, role: 'initiator' }), v)),
      'PROBE_UNEXPECTED',
    );
    assert.equal(verifyConnEstablish(rx({ envelope: probe }), v).probe, true);
  });

  test('arbitrary first messages raise only HandshakeError', () => {
    const v = verifier();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.boolean(),
        (payload, signature, tls) => {
          const r = reason(() =>
            verifyConnEstablish(
              rx({ envelope: create(EnvelopeSchema, { payload, signature }), tlsEnabled: tls }),
              v,
            ),
          );
          assert.notEqual(r, 'ok');
        },
      ),
      { numRuns: 300 },
    );
  });
});
