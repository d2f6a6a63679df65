/**
 * The relay with a real, unmodified Fabric v2.4.9 peer (../shared/fabric; skipped where absent):
 * our embedded orderer; a Grapevine peer, peer0.org1, static org leader pulling from it; and
 * Fabric's peer1.org1, static org leader too, whose peer.deliveryclient.addressOverrides maps the
 * orderer's endpoint to the Grapevine peer's gossip endpoint (caCertsFile = its TLS CA). Blocks
 * are cut only once the Fabric peer's Deliver stream is open on the relay, so every block reaches
 * it on that stream: its ledger reaches the orderer's height, the relay sent it every block
 * after genesis on one stream, and the orderer served one Deliver stream only (the relay's).
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
import { FabricPeer, fabricOrSkip, setAddressOverrides } from '../helpers/fabric.js';
import { startLayoutOrderer } from '../helpers/layout-orderer.js';
import { until } from '../helpers/until.js';

const BLOCKS = 4;

test(
  'an unmodified Fabric peer pulls every block through a Grapevine peer',
  { timeout: 120_000 },
  async (t) => {
    const fabric = fabricOrSkip(t);
    if (!fabric) return;
    const root = mkdtempSync(join(tmpdir(), 'grapevine-fabric-relay-'));
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
    let orderer: Orderer | undefined;
    let relay: PeerDaemon | undefined;
    let fab: FabricPeer | undefined;
    try {
      const layout = (await prepareLayout(join(root, 'net'))).layout;
      const peer = (i: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === i)!;
      const lo = await startLayoutOrderer(layout, join(root, 'orderer'), logger);
      orderer = lo.orderer;
      const ordererAddress = lo.address;
      const om = lo.orderer.metrics;

      relay = await PeerDaemon.start({
        config: loadPeerConfig({
          file: join(peerHome(layout, peer(0)), 'core.yaml'),
          env: {},
          overrides: {
            'grapevine.profile': 'fabric',
            'peer.gossip.useLeaderElection': false,
            'peer.gossip.orgLeader': true,
            'operations.listenAddress': '',
          },
        }),
        logger,
      });
      const gv = relay;
      // the relay's own stream to the orderer
      await until(async () => (await om.value('deliver_streams_opened')) === 1, "the relay's orderer stream");

      const fabDir = join(root, 'fabric-peer1');
      const fabCrypto = peerCryptoDir(layout, peer(1));
      const relayCa = join(peerCryptoDir(layout, peer(0)), 'tls', 'ca.crt');
      fab = await FabricPeer.start({
        fabric,
        dir: fabDir,
        name: peer(1).name,
        mspId: 'Org1MSP',
        mspDir: join(fabCrypto, 'msp'),
        tlsDir: join(fabCrypto, 'tls'),
        bootstrap: gv.transport.endpoint,
        env: {
          CORE_PEER_GOSSIP_USELEADERELECTION: 'false',
          CORE_PEER_GOSSIP_ORGLEADER: 'true',
        },
        core: (doc) =>
          setAddressOverrides(doc, [
            { from: ordererAddress, to: gv.transport.endpoint, caCertsFile: relayCa },
          ]),
      });
      const fp = fab;
      const admin = join(userCryptoPath(cryptoDir(layout), 1, 'Admin'), 'msp');
      const detail = () => `Fabric peer log:\n${fp.tail()}\nGrapevine logs:\n${logs.slice(-20).join('')}`;
      await fp.joinChannel(genesisFile(layout), admin);

      // the Fabric peer's deliver client is on the relay, seeking from its height (1)
      const ch = { channel: layout.channel, filtered: 'false', data_type: 'block' };
      const rm = gv.service.metrics;
      await until(
        async () => (await rm.value('deliver_requests_received', ch)) >= 1,
        'the Fabric peer on the relay',
        {
          timeoutMs: 30_000,
          detail,
        },
      );

      // BLOCKS blocks, one transaction each (Org1's User1 passes the Writers policy)
      for (let i = 0; i < BLOCKS; i++) await lo.cutBlock(new Uint8Array([i]), `relay${i}`);
      const height = Number(lo.orderer.chain(layout.channel)!.height());
      assert.equal(height, BLOCKS + 1);

      await until(
        async () => (await fp.metricHeight(layout.channel)) === height,
        'the Fabric peer at the orderer height',
        {
          timeoutMs: 30_000,
          detail,
        },
      );
      assert.equal(await fp.channelHeight(layout.channel, admin), height, 'peer channel getinfo');
      assert.equal(
        await rm.value('deliver_blocks_sent', ch),
        BLOCKS,
        'the relay sent every block after genesis',
      );
      assert.equal(await rm.value('deliver_streams_opened'), 1, 'on one stream');
      assert.equal(await om.value('deliver_streams_opened'), 1, "the orderer served the relay's stream only");
      assert.equal(
        await om.value('deliver_requests_received', ch),
        1,
        "the orderer's only request is the relay's",
      );
    } catch (e) {
      if (fab) t.diagnostic(`Fabric peer log (${fab.logFile}):\n${fab.tail()}`);
      t.diagnostic(`Grapevine logs:\n${logs.slice(-20).join('')}`);
      throw e;
    } finally {
      await fab?.stop();
      await relay?.stop();
      await orderer?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
