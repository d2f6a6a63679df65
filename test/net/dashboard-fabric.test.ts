/**
 * `grapevine dashboard` shows real Fabric v2.4.9 peers (../shared/fabric; skipped where absent)
 * seen through one Grapevine peer: our embedded orderer; Org1's peer0 is a Grapevine peer daemon
 * (the org's static leader: it pulls the blocks), peer1 and peer2 are unmodified Fabric peers
 * (static followers, bootstrapped from it). The dashboard, a child process attached to the
 * Grapevine peer's operations endpoint only, shows in Chromium the two Fabric peers by their
 * certificate's name with their height (from their StateInfo), the leader, the block arrivals at
 * the Grapevine peer; a Fabric peer stopped is shown dead and its death logged. Alive messages
 * every second and a 5 s expiration on every peer keep the death quick. Screenshots' paths are
 * printed. Skips with a message without chromium.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import {
  cryptoDir,
  genesisFile,
  peerCryptoDir,
  peerHome,
  prepareLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import { userCryptoPath } from '../../src/network/crypto-layout.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import type { Orderer } from '../../src/orderer/server.js';
import {
  CHROMIUM_SKIP,
  checkDashboardPage,
  startDashboardProcess,
  type DashboardProcess,
} from '../helpers/dashboard-page.js';
import { FabricPeer, fabricOrSkip } from '../helpers/fabric.js';
import { startLayoutOrderer } from '../helpers/layout-orderer.js';
import { until } from '../helpers/until.js';

const BLOCKS = 4;

test(
  'grapevine dashboard shows Fabric peers through a Grapevine peer: names, heights, the leader, a death',
  { skip: CHROMIUM_SKIP, timeout: 240_000 },
  async (t) => {
    const fabric = fabricOrSkip(t);
    if (!fabric) return;
    const root = mkdtempSync(join(tmpdir(), 'grapevine-dashboard-fabric-'));
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
    let orderer: Orderer | undefined;
    let gv: PeerDaemon | undefined;
    let dash: DashboardProcess | undefined;
    const fabs: FabricPeer[] = [];
    try {
      const layout = (await prepareLayout(join(root, 'net'))).layout;
      const peer = (i: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === i)!;
      const lo = await startLayoutOrderer(layout, join(root, 'orderer'), logger);
      orderer = lo.orderer;
      gv = await PeerDaemon.start({
        config: loadPeerConfig({
          file: join(peerHome(layout, peer(0)), 'core.yaml'),
          env: {},
          overrides: {
            'grapevine.profile': 'fabric',
            'peer.gossip.useLeaderElection': false,
            'peer.gossip.orgLeader': true,
            'peer.gossip.aliveTimeInterval': '1s',
            'peer.gossip.aliveExpirationTimeout': '5s',
            'operations.listenAddress': '127.0.0.1:0',
          },
        }),
        logger,
      });
      const admin = join(userCryptoPath(cryptoDir(layout), 1, 'Admin'), 'msp');
      for (const i of [1, 2]) {
        const c = peerCryptoDir(layout, peer(i));
        const fab = await FabricPeer.start({
          fabric,
          dir: join(root, `fabric-peer${i}`),
          name: peer(i).name,
          mspId: 'Org1MSP',
          mspDir: join(c, 'msp'),
          tlsDir: join(c, 'tls'),
          bootstrap: gv.transport.endpoint,
          env: {
            CORE_PEER_GOSSIP_USELEADERELECTION: 'false',
            CORE_PEER_GOSSIP_ORGLEADER: 'false',
            CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '1s',
            CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT: '5s',
          },
        });
        fabs.push(fab);
        await fab.joinChannel(genesisFile(layout), admin);
      }
      for (let i = 0; i < BLOCKS; i++) await lo.cutBlock(new Uint8Array([i]), `dash${i}`);
      const channel = layout.channel;
      const height = BLOCKS + 1;
      await until(
        async () =>
          gv!.service.channel(channel)!.height() === BigInt(height) &&
          (await Promise.all(fabs.map((f) => f.metricHeight(channel)))).every((h) => h === height),
        'every peer at the orderer height',
        { timeoutMs: 90_000, detail: () => fabs.map((f) => f.tail()).join('\n') },
      );

      dash = await startDashboardProcess([gv.operationsUrl()!], ['--interval', '500']);
      const names = [0, 1, 2].map((i) => peer(i).name);
      await checkDashboardPage(
        dash.url,
        {
          peers: [
            { name: names[0], height, state: 'answering' },
            { name: names[1], height, state: 'alive' },
            { name: names[2], height, state: 'alive' },
          ],
          leaders: { Org1MSP: names[0] },
        },
        {
          name: 'fabric',
          timeoutMs: 60_000,
          more: async (page) => {
            const block = await page.getByTestId('block').first().innerText();
            assert.match(block, new RegExp(`#${height - 1}`));
            assert.match(block, /from orderer/);
          },
        },
      );

      // a Fabric peer stops: the Grapevine peer's view says dead once its alive messages expire
      await fabs[1].stop();
      await checkDashboardPage(
        dash.url,
        {
          peers: [
            { name: names[0], height, state: 'answering' },
            { name: names[1], height, state: 'alive' },
            { name: names[2], state: 'dead' },
          ],
          event: new RegExp(`${names[2].replace(/\./g, '\\.')} is dead`),
        },
        { name: 'fabric-peer-stopped', timeoutMs: 60_000 },
      );
    } catch (e) {
      for (const f of fabs) t.diagnostic(`Fabric peer log (${f.logFile}):\n${f.tail()}`);
      t.diagnostic(`Grapevine logs:\n${logs.slice(-20).join('')}`);
      if (dash) t.diagnostic(`dashboard output:\n${dash.output()}`);
      throw e;
    } finally {
      if (dash) await dash.stop();
      for (const f of fabs) await f.stop();
      await gv?.stop();
      await orderer?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
