/**
 * State transfer over real sockets (127.0.0.1, mutual TLS, testCrypto identities): a peer 2,000
 * blocks behind catches up (1) with RemoteStateRequest batches over the gossip transport,
 * (2) with the fast catch-up stream into a real BlockStore, (3) falling back to
 * RemoteStateRequest when the catch-up endpoint answers UNIMPLEMENTED (as a Fabric peer does);
 * (4) a requester outside the channel gets PERMISSION_DENIED and no block.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GrpcTransport } from '../../src/comm/transport.js';
import { BlockStore } from '../../src/ledger/index.js';
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import { Metrics } from '../../src/base/metrics.js';
import {
  stateConfig,
  StateError,
  StateProvider,
  type StateLedger,
  type StatePeer,
} from '../../src/core/state/index.js';
import { CatchupClient, CatchupServer } from '../../src/comm/catchup/index.js';
import { silentLogger } from '../../src/base/log.js';
import { testCrypto } from '../helpers/crypto.js';
import { startNode } from '../comm/fixtures.js';
import { until } from '../helpers/until.js';
import { MemLedger, chain } from '../state/fixtures.js';
import { mspStateCrypto, ordererSigner, peerSigner, peerTls } from './state-fixtures.js';

const CHANNEL = 'netchannel';
const TRUST = [1, 2, 3];
let root: string;
let blocks: Uint8Array[];
let dir: string;
const cleanup: (() => Promise<void> | void)[] = [];

before(async () => {
  root = await testCrypto({ orgs: 3, peersPerOrg: 2 });
  blocks = chain(CHANNEL, ordererSigner(root), 2001);
  dir = await mkdtemp(join(tmpdir(), 'grapevine-state-net-'));
});
after(async () => {
  for (const f of cleanup.reverse()) await f();
  await rm(dir, { recursive: true, force: true });
});

async function peer(
  org: number,
  n: number,
  ledger: StateLedger,
  view: () => StatePeer[],
  extra: Partial<ConstructorParameters<typeof StateProvider>[0]> = {},
  enabled = true,
) {
  const transport: GrpcTransport = await startNode(root, { org, peer: n, trust: TRUST });
  cleanup.push(() => transport.stop());
  const provider = new StateProvider({
    channel: CHANNEL,
    ledger,
    crypto: mspStateCrypto(root, CHANNEL, [1, 2], TRUST),
    transport,
    view: { peersOfChannel: view },
    clock: realClock,
    rng: cryptoRng,
    config: stateConfig({ enabled, checkIntervalMs: 600_000 }),
    metrics: new Metrics(),
    logger: silentLogger,
    ...extra,
  });
  provider.start();
  cleanup.push(() => provider.stop());
  return {
    transport,
    provider,
    ledger,
    self: (): StatePeer => ({
      pkiId: transport.selfPkiId,
      endpoint: transport.endpoint,
      ledgerHeight: ledger.height(),
    }),
  };
}

async function source() {
  return peer(1, 0, new MemLedger(blocks), () => []);
}

test('2,000 blocks behind: RemoteStateRequest batches over the TLS gossip transport', async () => {
  const a = await source();
  const b = await peer(2, 0, new MemLedger(blocks.slice(0, 1)), () => [a.self()]);
  await b.provider.syncNow();
  await until(() => b.ledger.height() === 2001n, 'B to commit all 2,000 blocks', 60_000);
  assert.equal(b.ledger.height(), 2001n);
  assert.equal(
    await b.provider.metrics.value('grapevine_gossip_state_requests_sent_total'),
    Math.ceil(2000 / 11),
  );
  assert.equal(await b.provider.metrics.value('grapevine_gossip_state_dropped_total'), 0);
});

test('2,000 blocks behind: the catch-up stream into a BlockStore, then UNIMPLEMENTED falls back to RemoteStateRequest', async () => {
  const a = await source();
  const server = await CatchupServer.start('127.0.0.1:0', peerTls(root, 1, 0, TRUST), {
    ledger: (ch) => (ch === CHANNEL ? a.ledger : undefined),
    crypto: mspStateCrypto(root, CHANNEL, [1, 2], TRUST),
    clock: realClock,
    config: a.provider.config.catchup,
    logger: silentLogger,
  });
  cleanup.push(() => server.stop());
  const store = await BlockStore.open(join(dir, 'b'));
  cleanup.push(() => store.close());
  await store.append(blocks[0]);
  const client = new CatchupClient({
    signer: peerSigner(root, 2, 1),
    clock: realClock,
    rng: cryptoRng,
    tls: peerTls(root, 2, 1, TRUST),
    idleTimeoutMs: 10_000,
  });
  cleanup.push(() => client.close());
  const b = await peer(
    2,
    1,
    store,
    () => [a.self()],
    { catchup: client, catchupEndpointOf: () => `127.0.0.1:${server.port}` },
    false,
  );
  await b.provider.syncNow();
  await until(() => store.height() === 2001n, 'B to commit the streamed blocks', 60_000);
  assert.equal(store.height(), 2001n);
  assert.equal(await b.provider.metrics.value('grapevine_catchup_blocks_total'), 2000);
  assert.equal(
    await b.provider.metrics.value('grapevine_gossip_state_requests_sent_total'),
    0,
    'no RemoteStateRequest needed',
  );
  assert.deepEqual(await store.getBlockBytes(1234n), blocks[1234]);

  // a peer whose "catch-up endpoint" is a plain gossip server (like a Fabric peer): UNIMPLEMENTED -> fallback
  const c = await peer(2, 1, new MemLedger(blocks.slice(0, 1)), () => [a.self()], { catchup: client }, true);
  await c.provider.syncNow();
  await until(() => c.ledger.height() === 2001n, 'C to commit all blocks after the fallback', 60_000);
  assert.equal(c.ledger.height(), 2001n);
  assert.equal(
    await c.provider.metrics.value('grapevine_catchup_streams_total', { outcome: 'unsupported' }),
    1,
  );
  assert.equal(
    await c.provider.metrics.value('grapevine_gossip_state_requests_sent_total'),
    Math.ceil(2000 / 11),
  );
});

test('catch-up: a requester outside the channel (Org3) is refused PERMISSION_DENIED and gets no block', async () => {
  const a = await source();
  const server = await CatchupServer.start('127.0.0.1:0', peerTls(root, 1, 0, TRUST), {
    ledger: () => a.ledger,
    crypto: mspStateCrypto(root, CHANNEL, [1, 2], TRUST),
    clock: realClock,
    config: a.provider.config.catchup,
    logger: silentLogger,
  });
  cleanup.push(() => server.stop());
  const outsider = new CatchupClient({
    signer: peerSigner(root, 3, 0),
    clock: realClock,
    rng: cryptoRng,
    tls: peerTls(root, 3, 0, TRUST),
    idleTimeoutMs: 5_000,
  });
  cleanup.push(() => outsider.close());
  let got = 0;
  await assert.rejects(
    outsider.stream(`127.0.0.1:${server.port}`, CHANNEL, 1n, 10n, async () => ++got > 0),
    (e: unknown) => e instanceof StateError && e.code === 'CATCHUP_FAILED' && /may not read/.test(e.message),
  );
  assert.equal(got, 0);
  // the same server serves a channel member (Org1) signing with its own identity over its own TLS session
  const mixed = new CatchupClient({
    signer: peerSigner(root, 1, 1),
    clock: realClock,
    rng: cryptoRng,
    tls: peerTls(root, 1, 1, TRUST),
    idleTimeoutMs: 5_000,
  });
  cleanup.push(() => mixed.close());
  const count = await mixed.stream(`127.0.0.1:${server.port}`, CHANNEL, 1n, 10n, async () => true);
  assert.equal(count, 10, 'a channel member with its own TLS certificate is served');
});
