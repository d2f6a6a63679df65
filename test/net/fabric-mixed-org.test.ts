/**
 * A mixed org with a real, unmodified Fabric v2.4.9 peer (../shared/fabric; skipped where absent):
 * our embedded orderer; Org1's peer0 and peer2 are Grapevine peer daemons with their defaults
 * (block streams on, dynamic election), peer1 is Fabric's peer with dynamic election. Whoever the
 * election picks, every block reaches every peer: Fabric's peer by Fabric's election, push and
 * pull (it accepts the stream marker in our alive messages), the Grapevine peers by their stream
 * (one of them pulls from the orderer, the other streams from it) and by what Fabric pushes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { userCryptoPath } from '../../src/network/crypto-layout.js';
import {
  cryptoDir,
  genesisFile,
  peerCryptoDir,
  peerHome,
  prepareLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import { Orderer } from '../../src/orderer/server.js';
import { FabricPeer, fabricOrSkip } from '../helpers/fabric.js';
import { startLayoutOrderer } from '../helpers/layout-orderer.js';
import { until } from '../helpers/until.js';

const BLOCKS = 6;

test(
  'a mixed org (Fabric and streaming Grapevine peers) commits every block on every peer',
  { timeout: 180_000 },
  async (t) => {
    const fabric = fabricOrSkip(t);
    if (!fabric) return;
    const root = mkdtempSync(join(tmpdir(), 'grapevine-fabric-mixed-'));
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
    let orderer: Orderer | undefined;
    const gvs: PeerDaemon[] = [];
    let fab: FabricPeer | undefined;
    try {
      const layout = (await prepareLayout(join(root, 'net'))).layout;
      const peer = (i: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === i)!;
      const lo = await startLayoutOrderer(layout, join(root, 'orderer'), logger);
      orderer = lo.orderer;
      for (const i of [0, 2]) {
        gvs.push(
          await PeerDaemon.start({
            config: loadPeerConfig({
              file: join(peerHome(layout, peer(i)), 'core.yaml'),
              env: {},
              overrides: {
                'grapevine.profile': 'fabric',
                'peer.gossip.useLeaderElection': true,
                'peer.gossip.orgLeader': false,
                'operations.listenAddress': '',
              },
            }),
            logger,
          }),
        );
      }
      const [gv0, gv2] = gvs as [PeerDaemon, PeerDaemon];
      assert.ok(gv0.service.streaming && gv2.service.streaming, 'streams are on by default');

      const fabCrypto = peerCryptoDir(layout, peer(1));
      fab = await FabricPeer.start({
        fabric,
        dir: join(root, 'fabric-peer1'),
        name: peer(1).name,
        mspId: 'Org1MSP',
        mspDir: join(fabCrypto, 'msp'),
        tlsDir: join(fabCrypto, 'tls'),
        bootstrap: gv0.transport.endpoint,
        env: {
          CORE_PEER_GOSSIP_USELEADERELECTION: 'true',
          CORE_PEER_GOSSIP_ORGLEADER: 'false',
        },
      });
      const fp = fab;
      const admin = join(userCryptoPath(cryptoDir(layout), 1, 'Admin'), 'msp');
      const detail = () => `Fabric peer log:\n${fp.tail()}\nGrapevine logs:\n${logs.slice(-20).join('')}`;
      await fp.joinChannel(genesisFile(layout), admin);

      // the two Grapevine peers find each other (marker, StateInfo): one streams from the other
      const planOf = (g: PeerDaemon) => g.service.channel(layout.channel)!.follower!.lastPlan.kind;
      await until(() => gvs.some((g) => planOf(g) === 'upstream'), 'a Grapevine peer streaming', {
        timeoutMs: 60_000,
        detail: () => `plans: ${gvs.map(planOf).join(', ')}`,
      });
      for (let i = 0; i < BLOCKS; i++) await lo.cutBlock(new Uint8Array([i]), `mixed${i}`);
      const height = BigInt(BLOCKS + 1);
      const channel = layout.channel;
      await until(
        async () =>
          gvs.every((g) => g.service.channel(channel)!.height() === height) &&
          (await fp.metricHeight(channel)) === Number(height),
        'every peer at the orderer height',
        // the first blocks wait for Fabric's election (startup grace + leaderElectionDuration)
        { timeoutMs: 90_000, detail },
      );
      assert.equal(await fp.channelHeight(channel, admin), Number(height), 'peer channel getinfo');
      // the two Grapevine peers found each other by the marker: one pulls (leader or acting
      // source), or Fabric leads and one of ours sources; the other streams at some point
      // (the election may end while the blocks go: the plans follow within a few checks)
      const plans = () => gvs.map((g) => g.service.channel(channel)!.follower!.lastPlan.kind);
      await until(() => plans().some((k) => k === 'upstream'), 'the plans to follow the election', {
        timeoutMs: 20_000,
        detail: () => `plans: ${plans().join(', ')}`,
      });
      const roles = plans();
      t.diagnostic(
        `Grapevine plans: ${roles.join(', ')}; leaders: ${gvs.map((g) => g.service.isLeader(channel)).join(', ')}; ` +
          `stream blocks: ${(await Promise.all(gvs.map((g) => g.service.metrics.value('grapevine_stream_blocks_total', { channel })))).join(', ')}`,
      );
      assert.ok(
        roles.some((k) => k === 'upstream'),
        `one Grapevine peer streams from the other (plans: ${roles.join(', ')})`,
      );
      const streamed = await Promise.all(
        gvs.map((g) => g.service.metrics.value('grapevine_stream_blocks_total', { channel })),
      );
      assert.ok(streamed[0]! + streamed[1]! >= 1, 'blocks came through the stream');
    } catch (e) {
      if (fab) t.diagnostic(`Fabric peer log (${fab.logFile}):\n${fab.tail()}`);
      t.diagnostic(`Grapevine logs:\n${logs.slice(-20).join('')}`);
      throw e;
    } finally {
      await fab?.stop();
      for (const g of gvs) await g.stop();
      await orderer?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
