import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GrapevineError } from '../../src/base/errors.js';
import {
  IdentityPuller,
  IdentityUpdateError,
  validateIdentityItem,
} from '../../src/core/gossip/identity-pull.js';
import { standalonePuller } from './blockpull-fixture.js';
import {
  digestEnvelope,
  helloEnvelope,
  requestEnvelope,
  updateEnvelope,
} from '../../src/core/pull/messages.js';
import { IdentityStore } from '../../src/identity/store.js';
import { SeededRng, SimTrust, VirtualClock, simCrypto } from '../../src/sim/index.js';
import { Metrics } from '../../src/base/metrics.js';
import { PullMsgType, Tag, openEnvelope, unsignedGossip } from '../../src/wire/gossip.js';
import { FakeNet } from './fakenet.js';

const bytes = fc.uint8Array({ maxLength: 200 });
const envelope = fc
  .record({ payload: bytes, signature: bytes })
  .map((e) => ({ $typeName: 'gossip.Envelope' as const, ...e }));

test('arbitrary digests, requests and update elements never make a pull instance throw', async () => {
  const sim = await simCrypto({ orgs: 2, peersPerOrg: 1 });
  const [me, other] = sim.peers as [(typeof sim.peers)[0], (typeof sim.peers)[0]];
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  const mine = net.node('me:1', me.pkiId, me.serialized);
  const them = net.node('them:1', other.pkiId, other.serialized);
  const trust = new SimTrust(sim.orgs, clock);
  const metrics = new Metrics();
  const identities = new IdentityPuller({
    transport: mine,
    clock,
    rng: new SeededRng(1),
    signer: me.signer,
    selfPkiId: me.pkiId,
    selfOrg: me.org.mspId,
    identities: new IdentityStore({
      self: { pkiId: me.pkiId, identity: me.serialized },
      validator: trust,
      clock,
    }),
    crypto: trust,
    membership: () => [{ pkiId: them.selfPkiId, endpoint: them.endpoint }],
    hasExternalEndpoint: () => true,
    metrics,
  });
  const blocks = standalonePuller({
    channel: 'ch',
    transport: mine,
    clock,
    rng: new SeededRng(2),
    membership: () => [{ pkiId: them.selfPkiId, endpoint: them.endpoint }],
    ledgerHeight: () => 0n,
    verifyBlock: () => undefined,
    onBlock: () => undefined,
    metrics,
  });
  const kinds = [
    { engine: identities.engine, kind: { msgType: PullMsgType.IDENTITY_MSG, tag: Tag.EMPTY, channel: '' } },
    { engine: blocks.engine, kind: { msgType: PullMsgType.BLOCK_MSG, tag: Tag.CHAN_AND_ORG, channel: 'ch' } },
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.array(bytes, { maxLength: 5 }),
      fc.array(envelope, { maxLength: 4 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      async (digests, data, nonce) => {
        for (const { engine, kind } of kinds) {
          engine.initiatePull();
          const last = net.sent('hello').at(-1)!;
          const n = (last.message.content.value as { nonce: bigint }).nonce;
          const feed = (env: ReturnType<typeof helloEnvelope>) =>
            engine.handleMessage(mine.received(env, them));
          feed(digestEnvelope(kind, n, digests));
          feed(helloEnvelope(kind, nonce));
          feed(requestEnvelope(kind, nonce, digests));
          await clock.runFor(1000);
          feed(updateEnvelope(kind, n, data));
          feed(updateEnvelope(kind, nonce, data));
          await clock.runFor(2000);
        }
      },
    ),
    { numRuns: 40 },
  );
  assert.ok((await metrics.value('grapevine_gossip_pull_dropped_total')) > 0);
  identities.stop();
  blocks.stop();
  assert.deepEqual(clock.errors, []);
});

test('validateIdentityItem throws only IdentityUpdateError on arbitrary PeerIdentity contents', async () => {
  const sim = await simCrypto({ orgs: 1, peersPerOrg: 1 });
  const trust = new SimTrust(sim.orgs, new VirtualClock());
  fc.assert(
    fc.property(bytes, bytes, bytes, (pkiId, cert, signature) => {
      const { envelope } = unsignedGossip({
        tag: Tag.EMPTY,
        content: { case: 'peerIdentity', value: { pkiId, cert } },
      });
      const item = {
        id: pkiId,
        envelope: { ...envelope, signature },
        message: openEnvelope(envelope).message,
      };
      try {
        validateIdentityItem(trust, item);
        assert.fail('arbitrary identities never validate');
      } catch (e) {
        assert.ok(e instanceof IdentityUpdateError && e instanceof GrapevineError, String(e));
      }
    }),
    { numRuns: 200 },
  );
});
