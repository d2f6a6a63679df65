/**
 * The catch-up stream served on the gossip port (GrpcTransportOptions.services), over
 * 127.0.0.1 with mutual TLS: a channel member streams 2,000 blocks from the transport's own
 * endpoint while gossip keeps working on the same connection port; a requester outside the
 * channel gets PERMISSION_DENIED and no block; a transport that does not register the service
 * (as a Fabric peer) answers UNIMPLEMENTED -> StateError UNSUPPORTED, and a StateProvider
 * catching up from it falls back to RemoteStateRequest and still commits every block.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadCommIdentity } from '../../src/comm/identity.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { stateConfig, StateError, StateProvider, type StateLedger } from '../../src/core/state/index.js';
import { CatchupClient, catchupHandlers, CatchupService } from '../../src/comm/catchup/index.js';
import { commCryptoFromMcs } from '../../src/service/index.js';
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import { silentLogger } from '../../src/base/log.js';
import { Metrics } from '../../src/base/metrics.js';
import { Tag, unsignedGossip } from '../../src/wire/gossip.js';
import { until } from '../helpers/until.js';
import { testPeerDir } from '../helpers/crypto.js';
import { MemLedger } from '../state/fixtures.js';
import { blocksAfter, localOf, mcsOf, ordererSignerOf, tlsOf } from './catchup-fixtures.js';
import { CHANNEL, netChannel, type NetChannel } from './e2e-world.js';

let net: NetChannel;
let blocks: Uint8Array[];
const cleanup: (() => Promise<void> | void)[] = [];

before(async () => {
  // Org1 and Org2 are channel members; Org3 has crypto material but is not in the channel
  net = await netChannel({ orgs: 2, peersPerOrg: 2, outsiderOrgs: 1 });
  blocks = [net.genesis, ...blocksAfter(net.genesis, ordererSignerOf(net), 2000)];
});
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** A gossip transport of peer<n>.org<org>; with `ledger`, it also serves catch-up from it. */
async function transport(org: number, n: number, ledger?: StateLedger): Promise<GrpcTransport> {
  const mcs = mcsOf(net, org, n);
  const metrics = new Metrics();
  const t = await GrpcTransport.start({
    clock: realClock,
    rng: cryptoRng,
    identity: loadCommIdentity(join(testPeerDir(net.root, org, n), 'msp'), `Org${org}MSP`),
    crypto: commCryptoFromMcs(mcs),
    tls: tlsOf(net, org, n),
    listenAddress: '127.0.0.1:0',
    metrics,
    services: ledger
      ? [
          {
            definition: CatchupService,
            implementation: catchupHandlers({
              ledger: (ch) => (ch === CHANNEL ? ledger : undefined),
              crypto: mcs,
              clock: realClock,
              config: stateConfig().catchup,
              tls: true,
              logger: silentLogger,
              metrics,
            }),
          },
        ]
      : undefined,
  });
  cleanup.push(() => t.stop());
  return t;
}

function client(org: number, n: number): CatchupClient {
  const c = new CatchupClient({
    signer: localOf(net, org, n).signer,
    clock: realClock,
    rng: cryptoRng,
    tls: tlsOf(net, org, n),
    idleTimeoutMs: 10_000,
  });
  cleanup.push(() => c.close());
  return c;
}

test('catch-up on the gossip port: a member streams 2,000 blocks, an outsider is refused, gossip still flows', async () => {
  const a = await transport(1, 0, new MemLedger(blocks));
  const got: Uint8Array[] = [];
  const count = await client(2, 0).stream(a.endpoint, CHANNEL, 1n, 2000n, async (seq, bytes) => {
    assert.equal(seq, BigInt(got.length + 1));
    got.push(new Uint8Array(bytes));
    return true;
  });
  assert.equal(count, 2000);
  assert.deepEqual(got[1233], blocks[1234]);
  assert.equal(await a.metrics.value('grapevine_catchup_blocks_sent_total'), 2000);

  let outsiderGot = 0;
  await assert.rejects(
    client(3, 0).stream(a.endpoint, CHANNEL, 1n, 10n, async () => ++outsiderGot > 0),
    (e: unknown) => e instanceof StateError && e.code === 'CATCHUP_FAILED' && /may not read/.test(e.message),
  );
  assert.equal(outsiderGot, 0);
  assert.equal(await a.metrics.value('grapevine_catchup_refused_total', { reason: 'PERMISSION_DENIED' }), 1);

  // the same port still speaks gossip.Gossip (handshake, a message delivered)
  const b = await transport(2, 1);
  const heard: string[] = [];
  a.subscribe(
    (m) => m.message.content.case === 'memReq',
    (m) => heard.push(pkiIdKey(m.conn.pkiId)),
  );
  const memReq = unsignedGossip({
    tag: Tag.EMPTY,
    nonce: 1n,
    content: { case: 'memReq', value: {} },
  }).envelope;
  b.send(memReq, { endpoint: a.endpoint, pkiId: a.selfPkiId });
  await until(() => heard.length === 1, 'A to hear B over gossip');
  assert.equal(heard[0], pkiIdKey(b.selfPkiId));
});

test('a gossip server without the service (as a Fabric peer): UNIMPLEMENTED -> UNSUPPORTED, then RemoteStateRequest catches up', async () => {
  const plain = await transport(1, 1);
  await assert.rejects(
    client(2, 0).stream(plain.endpoint, CHANNEL, 1n, 10n, async () => true),
    (e: unknown) => e instanceof StateError && e.code === 'UNSUPPORTED',
  );

  // the source serves RemoteStateRequests over that same plain transport
  const sourceLedger = new MemLedger(blocks);
  const source = new StateProvider({
    channel: CHANNEL,
    ledger: sourceLedger,
    crypto: mcsOf(net, 1, 1),
    transport: plain,
    view: { peersOfChannel: () => [] },
    clock: realClock,
    rng: cryptoRng,
    config: stateConfig({ enabled: true, checkIntervalMs: 600_000 }),
    logger: silentLogger,
  });
  source.start();
  cleanup.push(() => source.stop());
  const t = await transport(2, 1);
  const behind = new MemLedger(blocks.slice(0, 1));
  const p = new StateProvider({
    channel: CHANNEL,
    ledger: behind,
    crypto: mcsOf(net, 2, 1),
    transport: t,
    view: {
      peersOfChannel: () => [
        { pkiId: plain.selfPkiId, endpoint: plain.endpoint, ledgerHeight: sourceLedger.height() },
      ],
    },
    clock: realClock,
    rng: cryptoRng,
    config: stateConfig({ enabled: true, checkIntervalMs: 600_000 }),
    metrics: new Metrics(),
    logger: silentLogger,
    catchup: client(2, 1),
  });
  p.start();
  cleanup.push(() => p.stop());
  await p.syncNow();
  await until(() => behind.height() === 2001n, 'the behind peer to commit all 2,000 blocks', 60_000);
  assert.equal(await p.metrics.value('grapevine_catchup_streams_total', { outcome: 'unsupported' }), 1);
  assert.equal(await p.metrics.value('grapevine_catchup_blocks_total'), 0);
  assert.equal(await p.metrics.value('grapevine_gossip_state_requests_sent_total'), Math.ceil(2000 / 11));
  assert.ok(Buffer.from((await behind.getBlockBytes(1999n))!).equals(blocks[1999]));
});
