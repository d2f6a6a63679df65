/**
 * `grapevine network up`: a local Fabric-shaped network on 127.0.0.1.
 *
 *   1. the working folder (layout.ts): crypto material, genesis block, one core.yaml per peer;
 *   2. the embedded orderer as a child process (orderer-child.ts), awaited until it listens;
 *   3. the dashboard server (state as JSON + server-sent events);
 *   4. the 6 peers as child processes (`grapevine peer start --config <core.yaml>`), each
 *      reporting its state over IPC; awaited until every one is running;
 *   5. a steady stream of signed transactions (submitter.ts) through Broadcast.
 * A start failure stops what was started and names the process and its log file. stop()
 * stops the submitter, every child (SIGTERM, then SIGKILL after a grace period) and the
 * dashboard; it resolves when every child process has exited.
 */
import { join } from 'node:path';
import { GrapevineError } from '../base/errors.js';
import type { PeerStateSnapshot } from '../node/peerstate.js';
import { DashboardServer } from '../dashboard/server.js';
import { Children, CLI_MAIN, ORDERER_CHILD, type Child } from './children.js';
import {
  genesisFile,
  logFile,
  ordererCryptoDir,
  peerHome,
  prepareLayout,
  userMspDir,
  type NetworkLayout,
} from './layout.js';
import { NetworkState, type NetworkSnapshot } from './state.js';
import { Submitter } from './submitter.js';

export interface NetworkUpOptions {
  readonly dir: string;
  readonly reset?: boolean;
  /** Transactions per second (default 20). */
  readonly rate?: number;
  /** Dashboard port (default: any free port). */
  readonly dashboardPort?: number;
  /** Progress lines (default: console.log). */
  readonly log?: (line: string) => void;
  /** When the command started (ms since the epoch); default: this process's start. */
  readonly startedAt?: number;
  /** Longest wait for a child to be ready (ms). Default 60 s. */
  readonly readyTimeoutMs?: number;
}

export class NetworkError extends GrapevineError {}

type IpcMessage =
  | { type: 'ready' | 'state'; state: PeerStateSnapshot }
  | { type: 'ready'; address: string; operations?: string }
  | { type: 'error'; message: string };

function tail(child: Child): string {
  return `see ${child.logFile}`;
}

function waitReady(child: Child, ready: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new NetworkError(
            'START_TIMEOUT',
            `${child.name} did not start within ${timeoutMs / 1000} s; ${tail(child)}`,
          ),
        ),
      timeoutMs,
    );
  });
  const exit = child.exited.then((code) => {
    throw new NetworkError('CHILD_EXITED', `${child.name} exited (${code}) while starting; ${tail(child)}`);
  });
  return Promise.race([ready, timeout, exit]).finally(() => clearTimeout(timer));
}

export class LocalNetwork {
  private submitter?: Submitter;
  private stopping?: Promise<void>;
  private stoppingFlag = false;

  private constructor(
    readonly layout: NetworkLayout,
    readonly state: NetworkState,
    readonly children: Children,
    readonly dashboard: DashboardServer,
    private readonly log: (line: string) => void,
  ) {}

  static async up(o: NetworkUpOptions): Promise<LocalNetwork> {
    const log = o.log ?? ((l: string) => console.log(l));
    const startedAt = o.startedAt ?? Math.round(performance.timeOrigin);
    const { layout, created } = await prepareLayout(o.dir, { reset: o.reset });
    log(
      created
        ? `created a new network in ${layout.dir}`
        : `reusing the network in ${layout.dir} (--reset makes a new one)`,
    );
    const state = new NetworkState(
      layout.channel,
      layout.peers.map((p) => ({ name: p.name, mspId: p.mspId, endpoint: `127.0.0.1:${p.port}` })),
      { name: layout.orderer.name, endpoint: `127.0.0.1:${layout.orderer.port}` },
      startedAt,
    );
    const children = new Children();
    const dashboard: DashboardServer = new DashboardServer({
      state: (): NetworkSnapshot => net.snapshot(),
      ...(o.dashboardPort !== undefined ? { port: o.dashboardPort } : {}),
    });
    const net: LocalNetwork = new LocalNetwork(layout, state, children, dashboard, log);
    try {
      state.dashboard = await dashboard.start();
      log(`dashboard: ${state.dashboard}`);
      // the peers start while the orderer does (each waits for it to answer): startup is mostly
      // loading code, so this overlaps the two
      const orderer = net.startOrderer(o.readyTimeoutMs ?? 60_000);
      const peers = net.startPeers(o.readyTimeoutMs ?? 60_000);
      peers.catch(() => undefined);
      await orderer;
      await peers;
      net.submitter = new Submitter({
        address: `127.0.0.1:${layout.orderer.port}`,
        tlsCaFile: join(ordererCryptoDir(layout), 'tls', 'ca.crt'),
        userMspDir: userMspDir(layout, 1),
        mspId: 'Org1MSP',
        channel: layout.channel,
        rate: o.rate ?? 20,
      });
      net.submitter.start();
      log(`submitting ${o.rate ?? 20} transactions per second as User1@org1.example.com`);
    } catch (e) {
      await net.stop();
      throw e;
    }
    return net;
  }

  private async startOrderer(timeoutMs: number): Promise<void> {
    const l = this.layout;
    const dir = ordererCryptoDir(l);
    const flags = {
      genesis: genesisFile(l),
      msp: join(dir, 'msp'),
      mspid: 'OrdererMSP',
      tls: join(dir, 'tls'),
      listen: `127.0.0.1:${l.orderer.port}`,
      data: join(l.dir, 'orderer'),
      // the orderer's operations server (/metrics, /healthz) on a free port, logged when ready
      operations: '127.0.0.1:0',
    };
    let onReady!: () => void;
    let operationsUrl: string | undefined;
    let failure = '';
    const ready = new Promise<void>((r) => (onReady = r));
    const child = this.children.spawn(
      l.orderer.name,
      ORDERER_CHILD,
      [JSON.stringify(flags)],
      logFile(l, l.orderer.name),
      (m) => {
        const msg = m as IpcMessage;
        if (msg.type === 'ready') {
          if ('operations' in msg) operationsUrl = msg.operations;
          onReady();
        }
        if (msg.type === 'error') failure = msg.message;
      },
    );
    try {
      await waitReady(child, ready, timeoutMs);
    } catch (e) {
      throw failure ? new NetworkError('ORDERER_FAILED', `orderer: ${failure}; ${tail(child)}`) : e;
    }
    this.state.orderer.status = 'running';
    void child.exited.then((code) => {
      this.state.orderer.status = this.stoppingFlag ? 'stopped' : 'failed';
      if (!this.stoppingFlag) this.log(`orderer exited unexpectedly (${code}); ${tail(child)}`);
    });
    this.log(
      `orderer ${l.orderer.name} listening on 127.0.0.1:${l.orderer.port}` +
        (operationsUrl ? `, metrics on ${operationsUrl}/metrics` : ''),
    );
  }

  private async startPeers(timeoutMs: number): Promise<void> {
    const l = this.layout;
    const waits: Promise<void>[] = [];
    for (const p of l.peers) {
      let onReady!: () => void;
      let failure = '';
      const ready = new Promise<void>((r) => (onReady = r));
      const child = this.children.spawn(
        p.name,
        CLI_MAIN,
        ['peer', 'start', '--config', join(peerHome(l, p), 'core.yaml')],
        logFile(l, p.name),
        (m) => {
          const msg = m as IpcMessage;
          if (msg.type === 'error') failure = msg.message;
          else if ('state' in msg) {
            this.state.report(p.name, msg.state);
            if (msg.type === 'ready') onReady();
          }
        },
      );
      void child.exited.then((code) => {
        this.state.setStatus(
          p.name,
          this.stoppingFlag ? 'stopped' : 'failed',
          this.stoppingFlag ? undefined : `exited (${code})`,
        );
        if (!this.stoppingFlag) this.log(`${p.name} exited unexpectedly (${code}); ${tail(child)}`);
      });
      waits.push(
        waitReady(child, ready, timeoutMs).catch((e: unknown) => {
          throw failure ? new NetworkError('PEER_FAILED', `${p.name}: ${failure}; ${tail(child)}`) : e;
        }),
      );
    }
    await Promise.all(waits);
    this.log(
      `${l.peers.length} peers running: ${l.peers.map((p) => `${p.name} 127.0.0.1:${p.port}`).join(', ')}`,
    );
  }

  snapshot(): NetworkSnapshot {
    if (this.submitter) {
      this.state.txSent = this.submitter.stats.sent;
      this.state.txAccepted = this.submitter.stats.accepted;
    }
    return this.state.snapshot();
  }

  /** PIDs of the child processes started (running or not). */
  pids(): number[] {
    return this.children.pids();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stoppingFlag = true;
      this.submitter?.stop();
      await this.children.stopAll();
      await this.dashboard.stop();
    })();
    return this.stopping;
  }
}
