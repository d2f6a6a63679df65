/**
 * Block streams between real in-process peer daemons (`grapevine peer start`: core.yaml from
 * prepareLayout with its defaults, so grapevine.streams and grapevine.deliverServer are on;
 * MSPs, mutual TLS, BlockStore ledgers, the MCS) on 127.0.0.1. peer0.org1 holds 301 blocks
 * (genesis + 300 signed by the layout's orderer); peers 1 and 2 of org1 start at the genesis
 * block. The orderer is a stand-in that only accepts connections, so every block they get comes
 * from their org: they stream it from peer0 (the only up-to-date peer, so the tree's root) over
 * orderer.AtomicBroadcast/Deliver on its gossip port (grapevine_stream_role 1 = follower,
 * grapevine_stream_blocks_total, peer0's deliver_blocks_sent) and no block comes by state transfer.
 */
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import { peerHome, type NetworkLayout, type PeerSpec } from '../../src/network/layout.js';
import { until } from '../helpers/until.js';

const AHEAD = 300;

describe('block streams between peer daemons (default config)', { timeout: 90_000 }, () => {
  let fx: DaemonFixture;
  let layout: NetworkLayout;
  const logger = pino({ level: 'warn' }, { write: () => undefined });
  const running: PeerDaemon[] = [];

  const peer = (index: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === index)!;
  const configOf = (p: PeerSpec) =>
    loadPeerConfig({
      file: join(peerHome(layout, p), 'core.yaml'),
      env: {},
      overrides: { 'operations.listenAddress': '127.0.0.1:0' },
    });
  const start = async (p: PeerSpec): Promise<PeerDaemon> => {
    const d = await PeerDaemon.start({ config: configOf(p), logger });
    running.push(d);
    return d;
  };
  const height = (d: PeerDaemon): bigint => d.service.channel(layout.channel)!.height();
  const metric = (d: PeerDaemon, name: string, labels?: Record<string, string>) =>
    d.service.metrics.value(name, labels);

  before(async () => {
    fx = await daemonFixture('grapevine-streams-daemon-');
    layout = fx.layout;
    await fx.seedLedger(configOf(peer(0)).grapevine.ledgerPath, AHEAD);
  });
  after(async () => {
    for (const d of running.splice(0).reverse()) await d.stop();
    await fx.close();
  });

  test('peers behind their org stream every block from the up-to-date peer', async () => {
    const a = await start(peer(0));
    assert.ok(configOf(peer(0)).grapevine.streams.enabled, 'streams are on by default');
    const followers = [await start(peer(1)), await start(peer(2))];
    for (const d of followers)
      await until(() => height(d) === BigInt(AHEAD + 1), 'every block on the peers behind', {
        timeoutMs: 40_000,
        detail: () => followers.map((f) => String(height(f))).join(' '),
      });
    for (const d of followers) {
      // a follower (1), or the leader (3) once caught up: the election picks the lowest PKI-ID,
      // which the layout's fresh keys may give a peer that started behind (it leads only once it
      // has what the org has)
      assert.ok([1, 3].includes(await metric(d, 'grapevine_stream_role', { channel: layout.channel })));
      assert.equal(await metric(d, 'grapevine_stream_blocks_total'), AHEAD);
      assert.equal(
        await metric(d, 'grapevine_gossip_state_requests_sent_total'),
        0,
        'no block by state transfer',
      );
      assert.equal(await metric(d, 'grapevine_catchup_blocks_total'), 0, 'no block by catch-up');
    }
    assert.ok((await metric(a, 'deliver_blocks_sent')) >= AHEAD);
  });
});
