/**
 * Peer daemons in processes of their own, for the benchmarks that kill and restart them
 * (streams-failover.ts, restart.bench.ts, footprint.bench.ts): start one and wait for its ready
 * message, start a whole `network up` layout of them beside its orderer, read their /metrics, and
 * check every ledger against the orderer's chain once they are stopped. A daemon is started as an operator starts one: bin/grapevine.js executed itself (its
 * `#!` line, with whatever Node flags it carries), which runs dist/ when built (COMPILED), else
 * the sources through tsx.
 */
import { join } from 'node:path';
import pino from 'pino';
import { BlockStore } from '../../src/ledger/index.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { existsSync } from 'node:fs';
import { Children, GRAPEVINE_BIN, type Child } from '../../src/network/children.js';
import {
  logFile,
  peerHome,
  prepareLayout,
  type NetworkLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import type { Chain } from '../../src/orderer/chain.js';
import { blockHeaderHash, decodeBlock } from '../../src/wire/block.js';
import { startLayoutOrderer, type LayoutOrderer } from '../../test/helpers/layout-orderer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Whether bin/grapevine.js runs the compiled dist/ (else the sources through tsx). */
export const COMPILED = existsSync(join(GRAPEVINE_BIN, '..', '..', 'dist', 'cli', 'main.js'));

/** One value of a Prometheus text exposition: `name{labels} value`; undefined when absent. */
export function metricOf(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!want.every((w) => line.includes(w))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** The text of a /metrics URL, or undefined when it does not answer (within `timeoutMs`). */
export async function scrapeText(url: string, timeoutMs = 2000): Promise<string | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return res.text().catch(() => undefined);
}

/**
 * `grapevine peer node start --config <config>` (bin/grapevine.js itself) as child `name` of
 * `children`, logging to `logFile`, with `env` added (CORE_* overrides); resolves once it reported
 * ready over IPC, rejects when it exits first or is not ready in 60 s.
 */
export async function startPeerDaemon(
  children: Children,
  name: string,
  config: string,
  logFile: string,
  env: Readonly<Record<string, string>> = {},
): Promise<Child> {
  let onReady!: () => void;
  let failure = '';
  const ready = new Promise<void>((r) => (onReady = r));
  const child = children.spawnCommand(
    name,
    GRAPEVINE_BIN,
    ['peer', 'node', 'start', '--config', config],
    logFile,
    (m) => {
      const msg = m as { type: string; message?: string };
      if (msg.type === 'ready') onReady();
      if (msg.type === 'error') failure = msg.message ?? '';
    },
    env,
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ready,
    child.exited.then((code) => {
      throw new Error(`${name} exited (${code}) while starting: ${failure}; see ${logFile}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s; see ${logFile}`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return child;
}

/** A peer daemon of a DaemonNetwork: its place in the layout, its core.yaml, /metrics and log. */
export interface DaemonPeer {
  readonly spec: PeerSpec;
  readonly config: string;
  readonly metricsUrl: string;
  readonly logFile: string;
  child?: Child;
  alive: boolean;
}

/** `network up`'s layout as daemons: the orderer in this process, every peer a process. */
export interface DaemonNetwork {
  readonly layout: NetworkLayout;
  readonly channel: string;
  readonly orderer: LayoutOrderer;
  readonly chain: Chain;
  readonly children: Children;
  readonly peers: readonly DaemonPeer[];
  /** Start `p`'s daemon (again) and wait until it is ready. */
  start(p: DaemonPeer): Promise<void>;
  /** The peers started and not stopped since (by the caller, who sets `alive`). */
  live(): DaemonPeer[];
  /** Stop every daemon, then the orderer. */
  stop(): Promise<void>;
}

/**
 * The layout of `network up` in `dir` with one transaction per block, each peer's core.yaml handed
 * to `configure` first, the layout's orderer started in this process and then every peer daemon
 * (in parallel, as `network up` does: start-up is mostly loading code). What was started is
 * stopped again when a step fails.
 */
export async function startDaemonNetwork(
  dir: string,
  configure: (config: string, spec: PeerSpec) => void = () => undefined,
): Promise<DaemonNetwork> {
  const layout = (await prepareLayout(dir, { batch: { maxMessageCount: 1, timeout: '250ms' } })).layout;
  const peers: DaemonPeer[] = layout.peers.map((spec) => {
    const config = join(peerHome(layout, spec), 'core.yaml');
    configure(config, spec);
    return {
      spec,
      config,
      metricsUrl: `http://127.0.0.1:${spec.opsPort}/metrics`,
      logFile: logFile(layout, spec.name),
      alive: false,
    };
  });
  const children = new Children();
  const orderer = await startLayoutOrderer(layout, join(dir, 'orderer'), pino({ level: 'error' }));
  const net: DaemonNetwork = {
    layout,
    channel: layout.channel,
    orderer,
    chain: orderer.orderer.chain(layout.channel)!,
    children,
    peers,
    async start(p) {
      p.child = await startPeerDaemon(children, p.spec.name, p.config, p.logFile);
      p.alive = true;
    },
    live: () => peers.filter((p) => p.alive),
    async stop() {
      await children.stopAll();
      await orderer.orderer.stop();
    },
  };
  try {
    await Promise.all(peers.map((p) => net.start(p)));
  } catch (e) {
    await net.stop();
    throw e;
  }
  return net;
}

/**
 * Every stopped peer's ledger (read from its core.yaml's ledger path) holds exactly blocks
 * 0..height-1 of `chain`, in order, with the orderer's header hashes; throws naming the first
 * difference.
 */
export async function checkLedgers(
  chain: Chain,
  channel: string,
  peers: readonly { readonly name: string; readonly config: string }[],
  height: number,
): Promise<void> {
  const want: string[] = [];
  for (let n = 0; n < height; n++)
    want.push(hex(blockHeaderHash(decodeBlock((await chain.getBlockBytes(BigInt(n)))!).header!)));
  for (const p of peers) {
    const cfg = loadPeerConfig({ file: p.config, env: {} });
    const store = await BlockStore.open(join(cfg.grapevine.ledgerPath, channel));
    try {
      if (store.height() !== BigInt(height))
        throw new Error(`${p.name}: ledger height ${store.height()}, the orderer's ${height}`);
      for (let n = 0; n < height; n++) {
        const b = (await store.getBlock(BigInt(n)))!.block;
        if (b.header!.number !== BigInt(n) || hex(blockHeaderHash(b.header!)) !== want[n])
          throw new Error(
            `${p.name}: block at position ${n} (number ${b.header!.number}) differs from the orderer's`,
          );
      }
    } finally {
      await store.close();
    }
  }
}
