/**
 * docs/joining-fabric.md, followed step by step against a real, unmodified Fabric v2.4.9 peer
 * (../shared/fabric; skipped where absent). The "existing network" is Grapevine's embedded orderer
 * (in this process, TLS; a real etcdraft orderer takes longer to set up than this test's budget)
 * and Fabric's peer0.org1 (static org leader) that has joined the channel and committed some blocks.
 * Then, as the guide says:
 *   1. the identity: peer1.org1's enrolment (MSP folder with NodeOUs, TLS pair), made by the layout
 *      as cryptogen would;
 *   2. the join block: `peer channel fetch 0` with Fabric's CLI from the orderer (and, the same
 *      block, from the Fabric peer without -o);
 *   3. a core.yaml written as the guide shows (grapevine.profile: fabric, bootstrap = the Fabric
 *      peer, externalEndpoint, TLS, operations + prometheus, and the org's leader setting: as
 *      Fabric's sample core.yaml, every peer a static org leader pulling from the orderer);
 *   4. `grapevine peer node start --config core.yaml --join <block>` as a separate process;
 *   5. the checks: /healthz answers 200, ledger_blockchain_height reaches the channel's height, and
 *      a block cut afterwards reaches it too; /readyz 200 (a gossip connection) and the Fabric
 *      peer counts it in gossip_membership_total_peers_known.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { userCryptoPath } from '../../src/network/crypto-layout.js';
import {
  cryptoDir,
  freePort,
  genesisFile,
  peerCryptoDir,
  prepareLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import { Orderer } from '../../src/orderer/server.js';
import { decodeBlock } from '../../src/wire/block.js';
import { FabricPeer, fabricOrSkip } from '../helpers/fabric.js';
import { startLayoutOrderer } from '../helpers/layout-orderer.js';
import { until } from '../helpers/until.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'grapevine.js');
const BLOCKS_BEFORE = 3;

/** ledger_blockchain_height{channel} on an operations server (0 when absent or unreachable). */
async function metricHeight(opsUrl: string, channel: string): Promise<number> {
  const res = await fetch(`${opsUrl}/metrics`).catch(() => undefined);
  if (!res?.ok) return 0;
  const m = new RegExp(`^ledger_blockchain_height\\{channel="${channel}"\\} (\\d+)`, 'm').exec(
    await res.text(),
  );
  return m ? Number(m[1]) : 0;
}

test(
  'docs/joining-fabric.md: a Grapevine peer joins an existing Fabric network with Fabric’s join block',
  { timeout: 90_000 },
  async (t) => {
    const fabric = fabricOrSkip(t);
    if (!fabric) return;
    const root = mkdtempSync(join(tmpdir(), 'grapevine-joining-fabric-'));
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
    let orderer: Orderer | undefined;
    let fab: FabricPeer | undefined;
    let gv: ChildProcess | undefined;
    let gvExit: Promise<void> | undefined;
    const gvLog = join(root, 'grapevine-peer', 'peer.log');
    const tailGv = (): string => {
      try {
        return readFileSync(gvLog, 'utf8').split('\n').slice(-30).join('\n');
      } catch {
        return '(no log)';
      }
    };
    try {
      // ---- the existing network: orderer + Fabric's peer0.org1 on the channel, some blocks ----
      const layout = (await prepareLayout(join(root, 'net'))).layout;
      const peer = (i: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === i)!;
      const lo = await startLayoutOrderer(layout, join(root, 'orderer'), logger);
      orderer = lo.orderer;
      const ordererCa = lo.caFile;
      const ordererAddress = lo.address;
      const chain = orderer.chain(layout.channel)!;
      const fabCrypto = peerCryptoDir(layout, peer(0));
      fab = await FabricPeer.start({
        fabric,
        dir: join(root, 'fabric-peer0'),
        name: peer(0).name,
        mspId: 'Org1MSP',
        mspDir: join(fabCrypto, 'msp'),
        tlsDir: join(fabCrypto, 'tls'),
        env: { CORE_PEER_GOSSIP_USELEADERELECTION: 'false', CORE_PEER_GOSSIP_ORGLEADER: 'true' },
      });
      const fp = fab;
      const admin = join(userCryptoPath(cryptoDir(layout), 1, 'Admin'), 'msp');
      await fp.joinChannel(genesisFile(layout), admin);

      let txs = 0;
      const cutBlock = async (): Promise<void> => {
        const n = txs++;
        await lo.cutBlock(new Uint8Array([n]), `join${n}`);
      };
      for (let i = 0; i < BLOCKS_BEFORE; i++) await cutBlock();
      const detail = (): string => `Fabric peer log:\n${fp.tail()}\nGrapevine peer log:\n${tailGv()}`;
      await until(
        async () => (await fp.metricHeight(layout.channel)) === Number(chain.height()),
        'the Fabric peer at the channel height',
        { timeoutMs: 20_000, detail },
      );

      // ---- step 2: the join block, with Fabric's CLI ----
      const home = join(root, 'grapevine-peer');
      mkdirSync(home, { recursive: true });
      const joinBlock = join(home, `${layout.channel}.block`);
      await fp.cli(
        [
          'channel',
          'fetch',
          '0',
          joinBlock,
          '-c',
          layout.channel,
          '-o',
          ordererAddress,
          '--tls',
          '--cafile',
          ordererCa,
        ],
        admin,
      );
      assert.deepEqual(
        readFileSync(joinBlock),
        readFileSync(genesisFile(layout)),
        'peer channel fetch 0 gives the genesis block',
      );
      // the guide's other way: without -o, Fabric's CLI fetches from the peer at CORE_PEER_ADDRESS
      const fromPeer = join(root, 'from-peer.block');
      await fp.cli(['channel', 'fetch', '0', fromPeer, '-c', layout.channel], admin);
      // (the peer's copy carries the metadata its committer added; header and data are the same)
      const [a, b] = [fromPeer, joinBlock].map((f) => decodeBlock(new Uint8Array(readFileSync(f))));
      assert.deepEqual(a!.header, b!.header, 'the same block header from the peer');
      assert.deepEqual(a!.data, b!.data, 'the same block data from the peer');

      // ---- steps 1 and 3: the peer's enrolment and core.yaml, as the guide shows ----
      const gvCrypto = peerCryptoDir(layout, peer(1));
      const [port, opsPort] = [await freePort(), await freePort()];
      const endpoint = `127.0.0.1:${port}`;
      const opsUrl = `http://127.0.0.1:${opsPort}`;
      writeFileSync(
        join(home, 'core.yaml'),
        `peer:
  id: ${peer(1).name}
  networkId: dev
  address: ${endpoint}
  listenAddress: ${endpoint}
  fileSystemPath: ${join(home, 'data')}
  mspConfigPath: ${join(gvCrypto, 'msp')}
  localMspId: Org1MSP
  tls:
    enabled: true
    cert: { file: ${join(gvCrypto, 'tls', 'server.crt')} }
    key: { file: ${join(gvCrypto, 'tls', 'server.key')} }
    rootcert: { file: ${join(gvCrypto, 'tls', 'ca.crt')} }
  gossip:
    bootstrap: ${fp.address}
    endpoint: ${endpoint}
    externalEndpoint: ${endpoint}
    useLeaderElection: false
    orgLeader: true
operations:
  listenAddress: 127.0.0.1:${opsPort}
metrics:
  provider: prometheus
grapevine:
  profile: fabric
`,
      );

      // ---- step 4: grapevine peer node start --join <block> ----
      const fd = openSync(gvLog, 'a');
      try {
        gv = spawn(
          process.execPath,
          [BIN, 'peer', 'node', 'start', '--config', join(home, 'core.yaml'), '--join', joinBlock],
          {
            cwd: home,
            // no CORE_* from the test's environment: the file says everything
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GRAPEVINE_FROM_SOURCE: '1' },
            stdio: ['ignore', fd, fd],
          },
        );
      } finally {
        closeSync(fd);
      }
      const proc = gv;
      let exitCode: number | null | undefined;
      gvExit = new Promise<void>((r) =>
        proc.once('exit', (code) => {
          exitCode = code;
          r();
        }),
      );
      const alive = (): void => {
        if (exitCode !== undefined) throw new Error(`grapevine peer exited with ${exitCode}:\n${tailGv()}`);
      };

      // ---- step 5: the checks ----
      await until(
        async () => {
          alive();
          return (await fetch(`${opsUrl}/healthz`).catch(() => undefined))?.status === 200;
        },
        'the Grapevine peer /healthz 200',
        { timeoutMs: 30_000, intervalMs: 100, detail },
      );
      await until(
        async () => {
          alive();
          return (await metricHeight(opsUrl, layout.channel)) === Number(chain.height());
        },
        'the Grapevine peer at the channel height (blocks committed before it joined)',
        { timeoutMs: 30_000, intervalMs: 200, detail },
      );
      await cutBlock();
      const height = Number(chain.height());
      assert.equal(height, BLOCKS_BEFORE + 2);
      await until(
        async () => {
          alive();
          return (await metricHeight(opsUrl, layout.channel)) === height;
        },
        'the Grapevine peer at the new height (a block cut after it joined)',
        { timeoutMs: 20_000, intervalMs: 200, detail },
      );
      assert.equal(
        await fp.channelHeight(layout.channel, admin),
        height,
        'peer channel getinfo on the Fabric peer',
      );
      await until(
        async () => {
          const res = await fetch(`${fp.operationsUrl}/metrics`).catch(() => undefined);
          const text = res?.ok ? await res.text() : '';
          const m = new RegExp(
            `^gossip_membership_total_peers_known\\{channel="${layout.channel}"\\} (\\d+)`,
            'm',
          ).exec(text);
          return m !== null && Number(m[1]) >= 1;
        },
        'the Fabric peer knows the Grapevine peer (gossip_membership_total_peers_known)',
        { timeoutMs: 20_000, intervalMs: 200, detail },
      );
      const ready = await fetch(`${opsUrl}/readyz`);
      assert.equal(ready.status, 200, 'readyz: the Grapevine peer has a gossip connection');
      assert.match(readFileSync(gvLog, 'utf8'), /peer started/, 'the start line in the log');
    } catch (e) {
      if (fab) t.diagnostic(`Fabric peer log (${fab.logFile}):\n${fab.tail()}`);
      t.diagnostic(`Grapevine peer log:\n${tailGv()}`);
      t.diagnostic(`orderer logs:\n${logs.slice(-20).join('')}`);
      throw e;
    } finally {
      if (gv && gvExit) {
        gv.kill('SIGTERM');
        const proc = gv;
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await gvExit;
        clearTimeout(timer);
      }
      await fab?.stop();
      await orderer?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
