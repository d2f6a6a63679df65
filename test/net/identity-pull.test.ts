/**
 * Identity pull on real sockets (gRPC + TLS on 127.0.0.1): peer A (Org1) talks only to B (Org1),
 * B also talks to C (Org2). A learns C's identity by pull through B and then verifies a message
 * C signed, without ever connecting to C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { commCryptoFromMsps } from '../../src/comm/identity.js';
import type { GrpcTransport } from '../../src/comm/transport.js';
import { IdentityPuller } from '../../src/core/gossip/identity-pull.js';
import type { PullMember } from '../../src/core/pull/index.js';
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import { Tag, signGossip } from '../../src/wire/gossip.js';
import { testCrypto } from '../helpers/crypto.js';
import { nodeIdentity, orgMsp, startNode } from '../comm/fixtures.js';
import { until } from '../helpers/until.js';
import { pullConfig } from '../../src/core/pull/config.js';

test('identity pull lets a peer verify a message signed by a peer it never connected to', async () => {
  const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
  const crypto = commCryptoFromMsps(() => [orgMsp(root, 1), orgMsp(root, 2)], realClock);
  const specs = [
    { org: 1, peer: 0 },
    { org: 1, peer: 1 },
    { org: 2, peer: 0 },
  ];
  const nodes: GrpcTransport[] = [];
  const pullers: IdentityPuller[] = [];
  try {
    for (const s of specs) nodes.push(await startNode(root, s));
    const [a, b, c] = nodes as [GrpcTransport, GrpcTransport, GrpcTransport];
    const member = (t: GrpcTransport): PullMember => ({ pkiId: t.selfPkiId, endpoint: t.endpoint });
    const links = new Map<GrpcTransport, PullMember[]>([
      [a, [member(b)]],
      [b, [member(a), member(c)]],
      [c, [member(b)]],
    ]);
    nodes.forEach((t, i) => {
      const id = nodeIdentity(root, specs[i]!.org, specs[i]!.peer);
      const puller = new IdentityPuller({
        transport: t,
        clock: realClock,
        rng: cryptoRng,
        signer: id.signer,
        selfPkiId: t.selfPkiId,
        selfOrg: id.mspId,
        identities: t.identityStore,
        crypto: {
          pkiIdOf: crypto.pkiIdOf,
          validateIdentity: crypto.validateIdentity,
          verify: crypto.verifySignature,
        },
        membership: () => links.get(t)!,
        hasExternalEndpoint: () => true,
        config: pullConfig({
          pullIntervalMs: 100,
          digestWaitTimeMs: 60,
          requestWaitTimeMs: 200,
          responseWaitTimeMs: 120,
        }),
      });
      pullers.push(puller);
      puller.start();
    });
    assert.equal(a.identityStore.has(c.selfPkiId), false);
    await until(() => a.identityStore.has(c.selfPkiId), "C's identity at A");
    const signed = signGossip(
      { tag: Tag.EMPTY, content: { case: 'memReq', value: {} } },
      nodeIdentity(root, 2, 0).signer,
    ).envelope;
    const identity = a.identityStore.get(c.selfPkiId)!;
    assert.equal(crypto.verifySignature(identity, signed.signature, signed.payload), true, 'A verifies C');
    assert.equal(
      crypto.verifySignature(identity, signed.signature, new Uint8Array([1, ...signed.payload])),
      false,
    );
    assert.ok(
      !a.connectedPeers().some((p) => pkiIdKey(p) === pkiIdKey(c.selfPkiId)),
      'A never connected to C',
    );
    assert.ok(pullers[0]!.engine.has(c.selfPkiId), 'A holds it for further pulls');
  } finally {
    for (const p of pullers) p.stop();
    await Promise.all(nodes.map((t) => t.stop()));
  }
});
