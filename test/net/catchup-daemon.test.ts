/**
 * Catch-up between real in-process peer daemons (`grapevine peer start`: core.yaml from
 * prepareLayout, MSPs, mutual TLS, BlockStore ledgers, the MCS) on 127.0.0.1:
 *   1. peer0.org1 holds 2,001 blocks (genesis + 2,000 signed by the layout's orderer), peer1.org1
 *      starts at the genesis block: it catches up through grapevine.Catchup/StreamBlockFrames on
 *      peer0's gossip port (stream counters on both sides, no RemoteStateRequest sent), its
 *      streamed blocks verified by the MCS worker verifier (no worker start failure logged).
 *   2. peer0.org1 restarted with grapevine.catchup.serve false (its gRPC server then answers
 *      UNIMPLEMENTED, as a Fabric peer): peer2.org1 falls back to RemoteStateRequest and still
 *      commits every block.
 * No peer is a leader (no orderer traffic): every block after genesis comes from state transfer.
 */
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import { peerHome, type NetworkLayout, type PeerSpec } from '../../src/network/layout.js';
import { until } from '../helpers/until.js';

const BEHIND = 2000;

describe('catch-up between peer daemons', { timeout: 120_000 }, () => {
  let fx: DaemonFixture;
  let layout: NetworkLayout;
  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
  const running: PeerDaemon[] = [];

  const peer = (index: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === index)!;
  const configOf = (p: PeerSpec, overrides: Record<string, unknown> = {}) =>
    loadPeerConfig({
      file: join(peerHome(layout, p), 'core.yaml'),
      env: {},
      overrides: {
        'peer.gossip.useLeaderElection': false,
        'peer.gossip.orgLeader': false,
        'peer.gossip.state.enabled': true,
        'peer.gossip.state.checkInterval': '1s',
        // block streams off: Grapevine peers streaming from each other leave catch-up out
        // (test/net/streams-daemon.test.ts covers them)
        'grapevine.streams.enabled': false,
        'operations.listenAddress': '127.0.0.1:0',
        ...overrides,
      },
    });
  const start = async (p: PeerSpec, overrides: Record<string, unknown> = {}): Promise<PeerDaemon> => {
    const d = await PeerDaemon.start({ config: configOf(p, overrides), logger });
    running.push(d);
    return d;
  };
  const height = (d: PeerDaemon): bigint => d.service.channel(layout.channel)!.height();
  const metric = (d: PeerDaemon, name: string, labels?: Record<string, string>) =>
    d.service.metrics.value(name, labels);

  before(async () => {
    // nobody delivers (no leader); the start-up check only needs the orderer port to answer
    fx = await daemonFixture('grapevine-catchup-daemon-');
    layout = fx.layout;
    assert.equal(await fx.seedLedger(configOf(peer(0)).grapevine.ledgerPath, BEHIND), BigInt(BEHIND + 1));
  });
  afterEach(async () => {
    for (const d of running.splice(0).reverse()) await d.stop();
  });
  after(() => fx.close());

  test(`a peer ${BEHIND} blocks behind its org peer catches up through the stream`, async () => {
    const a = await start(peer(0));
    assert.equal(height(a), BigInt(BEHIND + 1));
    const c = await start(peer(1));
    await until(() => height(c) === BigInt(BEHIND + 1), 'peer1 to commit every block', 50_000);
    assert.equal(await metric(c, 'grapevine_catchup_blocks_total'), BEHIND);
    assert.ok((await metric(c, 'grapevine_catchup_streams_total', { outcome: 'ok' })) >= 1);
    assert.equal(await metric(c, 'grapevine_catchup_streams_total', { outcome: 'unsupported' }), 0);
    assert.equal(
      await metric(c, 'grapevine_gossip_state_requests_sent_total'),
      0,
      'no RemoteStateRequest was needed',
    );
    assert.equal(await metric(c, 'grapevine_gossip_state_dropped_total'), 0);
    assert.equal(await metric(a, 'grapevine_catchup_blocks_sent_total'), BEHIND);
    assert.ok(!logs.some((l) => /verifier workers did not start/.test(l)), logs.join('\n'));
    const [x, y] = await Promise.all([a, c].map((d) => d.service.getBlock(layout.channel, 1234n)));
    assert.deepEqual(x?.header, y?.header);
  });

  test('a remote without the service (serve false, as a Fabric peer): RemoteStateRequest still catches up', async () => {
    const a = await start(peer(0), { 'grapevine.catchup.serve': false });
    const d = await start(peer(2));
    await until(() => height(d) === BigInt(BEHIND + 1), 'peer2 to commit every block', 50_000);
    assert.ok((await metric(d, 'grapevine_catchup_streams_total', { outcome: 'unsupported' })) >= 1);
    assert.equal(await metric(d, 'grapevine_catchup_blocks_total'), 0);
    assert.ok((await metric(d, 'grapevine_gossip_state_requests_sent_total')) >= Math.ceil(BEHIND / 11));
    assert.equal(await metric(a, 'grapevine_catchup_blocks_sent_total'), 0);
  });
});
