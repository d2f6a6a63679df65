/**
 * A network of real Fabric v2.4.9 peers watched by ONE Grapevine observer peer daemon (its own
 * process, real sockets), for the tests of /status, alerts and the dashboard:
 *
 *   const net = await startFabricObserverNetwork({ fabric });   // fabric: fabricOrSkip(t)
 *   try { const doc = await net.status(); ... } finally { await net.stop(); }
 *
 * The layout of src/network/layout.ts (channel `grapevine`, anchors = each org's peer0) with its
 * embedded orderer (test/helpers/layout-orderer.ts, in this process) and:
 *   - peer0.org1 and peer1.org1: Fabric peers, dynamic election (one of them leads and pulls
 *     blocks from the orderer, the other gets them by gossip);
 *   - peer0.org2: a Fabric peer alone in its org with neither election nor static leader: it
 *     never receives a block (blocks do not cross orgs in gossip), so once blocks are cut it is
 *     left behind at genesis: the `lag` alert's peer;
 *   - peer2.org1: the Grapevine observer (`grapevine.observer: true`), operations on
 *     `observerUrl`, bootstrapped on peer0.org1.
 * Gossip timers are shortened on every peer (TIMERS; alive expiration 5 s) so that a peer killed
 * is dead within seconds; the observer's alerts act fast (lag > 2 blocks for 1 s, probes every
 * 500 ms). Fabric peer0s listen on the layout's ports (the anchor peers of the genesis block).
 * Resolves once the observer's /status lists every Fabric peer, alive, with its height on the
 * channel. stop() stops everything started and deletes the folder (kept with keepDir).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import {
  cryptoDir,
  genesisFile,
  peerCryptoDir,
  peerHome,
  prepareLayout,
  type NetworkLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import { userCryptoPath } from '../../src/network/crypto-layout.js';
import type { PeerStatusDocument } from '../../src/node/status.js';
import { FabricPeer } from './fabric.js';
import { startLayoutOrderer, type LayoutOrderer } from './layout-orderer.js';
import { until } from './until.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The gossip timers of every peer of the network (Fabric's keys; CORE_* variables). */
export const TIMERS = {
  CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '1s',
  CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT: '5s',
  CORE_PEER_GOSSIP_RECONNECTINTERVAL: '2s',
  CORE_PEER_GOSSIP_PULLINTERVAL: '1s',
  CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL: '1s',
  CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL: '1s',
  CORE_PEER_GOSSIP_ELECTION_STARTUPGRACEPERIOD: '2s',
  CORE_PEER_GOSSIP_ELECTION_MEMBERSHIPSAMPLEINTERVAL: '500ms',
  CORE_PEER_GOSSIP_ELECTION_LEADERALIVETHRESHOLD: '4s',
  CORE_PEER_GOSSIP_ELECTION_LEADERELECTIONDURATION: '1s',
} as const;
/** CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT in ms. */
export const ALIVE_EXPIRATION_MS = 5000;
/** The observer's grapevine.alerts.* (besides the defaults). */
export const OBSERVER_ALERTS = {
  CORE_GRAPEVINE_ALERTS_LAGBLOCKS: '2',
  CORE_GRAPEVINE_ALERTS_AFTER: '1s',
  CORE_GRAPEVINE_ALERTS_PROBEINTERVAL: '500ms',
} as const;

export interface FabricNetPeer {
  readonly name: string;
  readonly mspId: string;
  readonly org: number;
  /** 127.0.0.1:port, its gossip (and external) endpoint. */
  readonly address: string;
  readonly peer: FabricPeer;
  /** The org admin's MSP folder (for `peer channel ...`). */
  readonly adminMsp: string;
}

export interface FabricObserverNetwork {
  readonly root: string;
  readonly layout: NetworkLayout;
  readonly channel: string;
  /** The observer's operations server: http://127.0.0.1:<port> (GET /status, /metrics). */
  readonly observerUrl: string;
  /** The observer's gossip endpoint. */
  readonly observerEndpoint: string;
  /** The observer's peer.id (peer2.org1.example.com). */
  readonly observerName: string;
  /** peer0.org1, peer1.org1, peer0.org2 (left behind: no leader in its org). */
  readonly fabricPeers: readonly FabricNetPeer[];
  readonly orderer: LayoutOrderer;
  /** The observer's GET /status. */
  status(): Promise<PeerStatusDocument>;
  /** Cut `n` blocks (one transaction each) and wait until both org1 Fabric peers hold them. */
  cutBlocks(n: number): Promise<void>;
  /** The end of the observer's log. */
  observerLog(lines?: number): string;
  stop(): Promise<void>;
}

export interface FabricObserverOptions {
  /** The Fabric folder (fabricOrSkip(t)). */
  readonly fabric: string;
  /** Keep the network folder after stop() (default: deleted). */
  readonly keepDir?: boolean;
  /** More CORE_* variables for the observer (e.g. other grapevine.alerts.*). */
  readonly observerEnv?: Readonly<Record<string, string>>;
}

const observers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of observers) p.kill('SIGKILL');
});

export async function startFabricObserverNetwork(o: FabricObserverOptions): Promise<FabricObserverNetwork> {
  const root = mkdtempSync(join(tmpdir(), 'grapevine-fabric-observer-'));
  const stops: (() => Promise<void> | void)[] = [
    () => (o.keepDir ? undefined : rmSync(root, { recursive: true, force: true })),
  ];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await Promise.resolve(s()).catch(() => undefined);
  };
  const observerLogFile = join(root, 'observer.log');
  const observerLog = (lines = 40) => {
    try {
      return readFileSync(observerLogFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  try {
    const layout = (await prepareLayout(join(root, 'net'))).layout;
    const spec = (org: number, i: number): PeerSpec =>
      layout.peers.find((p) => p.org === org && p.index === i)!;
    const orderer = await startLayoutOrderer(layout, join(root, 'orderer'), pino({ level: 'silent' }));
    stops.push(() => orderer.orderer.stop());

    const obs = spec(1, 2);
    const observerUrl = `http://127.0.0.1:${obs.opsPort}`;
    const observerEndpoint = `127.0.0.1:${obs.port}`;
    const peer0org1 = `127.0.0.1:${spec(1, 0).port}`;

    // the Fabric peers, started together
    const fabricSpecs = [
      { s: spec(1, 0), elect: true, bootstrap: peer0org1 },
      { s: spec(1, 1), elect: true, bootstrap: peer0org1 },
      { s: spec(2, 0), elect: false, bootstrap: `127.0.0.1:${spec(2, 0).port}` },
    ];
    const started = await Promise.allSettled(
      fabricSpecs.map(({ s, elect, bootstrap }) => {
        const c = peerCryptoDir(layout, s);
        return FabricPeer.start({
          fabric: o.fabric,
          dir: join(root, `fabric-${s.name}`),
          name: s.name,
          mspId: s.mspId,
          mspDir: join(c, 'msp'),
          tlsDir: join(c, 'tls'),
          port: s.port,
          bootstrap,
          env: {
            ...TIMERS,
            CORE_PEER_GOSSIP_USELEADERELECTION: String(elect),
            CORE_PEER_GOSSIP_ORGLEADER: 'false',
          },
        });
      }),
    );
    const fabricPeers: FabricNetPeer[] = [];
    for (const [i, r] of started.entries()) {
      if (r.status === 'fulfilled') {
        const p = r.value;
        stops.push(() => p.stop());
        const s = fabricSpecs[i]!.s;
        fabricPeers.push({
          name: s.name,
          mspId: s.mspId,
          org: s.org,
          address: p.address,
          peer: p,
          adminMsp: join(userCryptoPath(cryptoDir(layout), s.org, 'Admin'), 'msp'),
        });
      }
    }
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    for (const f of fabricPeers) await f.peer.joinChannel(genesisFile(layout), f.adminMsp);

    // the observer, as deployed: `grapevine peer node start` in a process of its own
    const fd = openSync(observerLogFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(
        process.execPath,
        [
          join(ROOT, 'bin', 'grapevine.js'),
          'peer',
          'node',
          'start',
          '--config',
          join(peerHome(layout, obs), 'core.yaml'),
        ],
        {
          cwd: root,
          env: {
            ...process.env,
            GRAPEVINE_FROM_SOURCE: '1',
            FABRIC_LOGGING_SPEC: 'info',
            CORE_GRAPEVINE_PROFILE: 'fabric',
            CORE_GRAPEVINE_OBSERVER: 'true',
            CORE_PEER_GOSSIP_BOOTSTRAP: peer0org1,
            ...TIMERS,
            ...OBSERVER_ALERTS,
            ...o.observerEnv,
          },
          stdio: ['ignore', fd, fd],
        },
      );
    } finally {
      closeSync(fd);
    }
    observers.add(proc);
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    let exitCode: number | null | undefined;
    void exited.then(() => {
      exitCode = proc.exitCode;
      observers.delete(proc);
    });
    stops.push(async () => {
      if (exitCode !== undefined) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    });

    const status = async (): Promise<PeerStatusDocument> => {
      const r = await fetch(`${observerUrl}/status`);
      if (!r.ok) throw new Error(`${observerUrl}/status: HTTP ${r.status}`);
      return (await r.json()) as PeerStatusDocument;
    };
    let last: PeerStatusDocument | undefined;
    await until(
      async () => {
        if (exitCode !== undefined) throw new Error(`the observer exited with ${exitCode}`);
        last = await status().catch(() => undefined);
        if (!last) return false;
        return fabricPeers.every((f) =>
          last!.members.some(
            (m) =>
              m.alive &&
              (m.endpoint === f.address || m.internalEndpoint === f.address) &&
              m.channels.some((c) => c.name === layout.channel),
          ),
        );
      },
      "the observer's /status lists every Fabric peer, alive, in the channel",
      {
        timeoutMs: 45_000,
        intervalMs: 250,
        detail: () =>
          `members: ${JSON.stringify(last?.members.map((m) => [m.endpoint || m.internalEndpoint, m.alive, m.channels]))}\nobserver log:\n${observerLog()}`,
      },
    );

    const org1 = fabricPeers.filter((f) => f.org === 1);
    let cut = 0;
    return {
      root,
      layout,
      channel: layout.channel,
      observerUrl,
      observerEndpoint,
      observerName: obs.name,
      fabricPeers,
      orderer,
      status,
      async cutBlocks(n) {
        for (let i = 0; i < n; i++) {
          await orderer.cutBlock(new Uint8Array([cut & 0xff]), `observer-net-${cut}`);
          cut++;
        }
        await until(
          async () =>
            (await Promise.all(org1.map((f) => f.peer.metricHeight(layout.channel)))).every(
              (h) => h >= cut + 1,
            ),
          `both org1 Fabric peers at height ${cut + 1}`,
          {
            timeoutMs: 30_000,
            intervalMs: 200,
            detail: () => org1.map((f) => `${f.name}:\n${f.peer.tail(15)}`).join('\n'),
          },
        );
      },
      observerLog,
      stop: stopAll,
    };
  } catch (e) {
    const log = observerLog();
    await stopAll();
    if (e instanceof Error) e.message += `\nobserver log:\n${log}`;
    throw e;
  }
}
