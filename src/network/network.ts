/**
 * `grapevine network up`: a local Fabric-shaped network on 127.0.0.1.
 *
 *   1. the working folder (layout.ts): crypto material, genesis block, one core.yaml per peer;
 *   2. the embedded orderer as a child process (orderer-child.ts), awaited until it listens;
 *   3. the dashboard (src/watch/dashboard.ts, as `grapevine dashboard`): it polls the peers'
 *      operations endpoints (GET /status) and merges in what the peers report here over IPC
 *      (process status, restarts, RSS) and the orderer's and the submitter's state;
 *   4. the 6 peers as child processes (`grapevine peer start --config <core.yaml>`), each
 *      reporting its state over IPC; awaited until every one is running;
 *   5. a steady stream of signed transactions (submitter.ts) through Broadcast.
 * A start failure stops what was started and names the process and its log file. Once up, a
 * child that dies is restarted (supervision): after 1 s, doubling to 30 s for one that dies
 * again soon, back to 1 s once it ran for a minute; the view and the dashboard show it as
 * restarting, with its restart count. stop() stops the submitter, every child (SIGTERM, then
 * SIGKILL after a grace period) and the dashboard; it resolves when every child process has exited.
 */
import { join } from 'node:path';
import { GrapevineError, errorMessage } from '../base/errors.js';
import type { PeerStateSnapshot } from '../node/peerstate.js';
import type { LocalInfo } from '../watch/model.js';
import { startDashboard, type RunningDashboard } from '../watch/dashboard.js';
import { Children, CLI_MAIN, ORDERER_CHILD, type Child } from './children.js';
import {
  genesisFile,
  logFile,
  ordererCryptoDir,
  peerHome,
  prepareLayout,
  userMspDir,
  type NetworkLayout,
  type PeerSpec,
} from './layout.js';
import { NetworkState, type NetworkSnapshot, type PeerStatus } from './state.js';
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
  /** Restart waits of dead children. Default 1 s doubling to 30 s. */
  readonly restartBackoff?: RestartBackoff;
}

export class NetworkError extends GrapevineError {}

const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A child that ran this long before it died starts again after RESTART_FIRST_MS. */
const RESTART_RESET_AFTER_MS = 60_000;

/** The wait before restarting a child that died after running `ranMs`; `previous`: the last wait. */
export function restartDelayMs(
  previous: number | undefined,
  ranMs: number,
  backoff: RestartBackoff = { firstMs: RESTART_FIRST_MS, maxMs: RESTART_MAX_MS },
): number {
  if (previous === undefined || ranMs >= RESTART_RESET_AFTER_MS) return backoff.firstMs;
  return Math.min(backoff.maxMs, previous * 2);
}

/** A dead child's first restart wait, doubled while it keeps dying, up to maxMs. */
export interface RestartBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

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
  /** The last restart wait per child (restartDelayMs), and the restarts scheduled. */
  private readonly restartWaits = new Map<string, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** The orderer's operations server (/metrics, /healthz) since it last started (its port is any free one). */
  ordererOperationsUrl?: string;

  private constructor(
    readonly layout: NetworkLayout,
    readonly state: NetworkState,
    readonly children: Children,
    private readonly dashboardRun: RunningDashboard,
    private readonly log: (line: string) => void,
    private readonly restartBackoff?: RestartBackoff,
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
    // the dashboard may be asked for its state before the network object exists
    const started: { net?: LocalNetwork } = {};
    const dashboard = await startDashboard({
      urls: layout.peers.map((p) => `http://127.0.0.1:${p.opsPort}`),
      ...(o.dashboardPort !== undefined ? { port: o.dashboardPort } : {}),
      intervalMs: 1000,
      timeoutMs: 3000,
      local: () => started.net?.localInfo() ?? { title: 'local network' },
    });
    const net: LocalNetwork = new LocalNetwork(layout, state, children, dashboard, log, o.restartBackoff);
    started.net = net;
    try {
      state.dashboard = dashboard.url;
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
      if (child.exitInfo === undefined) child.proc.kill('SIGKILL'); // timed out: not half-running
      throw failure ? new NetworkError('ORDERER_FAILED', `orderer: ${failure}; ${tail(child)}`) : e;
    }
    this.state.orderer.status = 'running';
    this.ordererOperationsUrl = operationsUrl;
    this.supervise(child, {
      restart: () => this.startOrderer(timeoutMs),
      status: (s) => (this.state.orderer.status = s),
    });
    this.log(
      `orderer ${l.orderer.name} listening on 127.0.0.1:${l.orderer.port}` +
        (operationsUrl ? `, metrics on ${operationsUrl}/metrics` : ''),
    );
  }

  /** Start the peers (`only`: these, as restarts); resolves once every one reported ready. */
  private async startPeers(timeoutMs: number, only?: readonly PeerSpec[]): Promise<void> {
    const l = this.layout;
    const waits: Promise<void>[] = [];
    for (const p of only ?? l.peers) {
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
      waits.push(
        waitReady(child, ready, timeoutMs).then(
          () =>
            this.supervise(child, {
              restart: () => this.startPeers(timeoutMs, [p]),
              status: (s, detail) => this.state.setStatus(p.name, s, detail),
            }),
          (e: unknown) => {
            if (child.exitInfo === undefined) child.proc.kill('SIGKILL'); // timed out: not half-running
            this.state.setStatus(p.name, 'failed', failure || 'did not start');
            throw failure ? new NetworkError('PEER_FAILED', `${p.name}: ${failure}; ${tail(child)}`) : e;
          },
        ),
      );
    }
    await Promise.all(waits);
    if (only) return;
    this.log(
      `${l.peers.length} peers running: ${l.peers.map((p) => `${p.name} 127.0.0.1:${p.port}`).join(', ')}`,
    );
  }

  /**
   * Restart `child` when it dies while the network runs: status 'restarting' (with why), then
   * `restart()` after restartDelayMs; a restart that does not come up is stopped and tried again
   * after the next, longer wait. A restart that came up is supervised by its own call.
   */
  private supervise(
    child: Child,
    s: { restart(): Promise<void>; status(st: PeerStatus, detail?: string): void },
  ): void {
    const startedAt = Date.now();
    const attempt = (why: string, ranMs: number): void => {
      const waitMs = restartDelayMs(this.restartWaits.get(child.name), ranMs, this.restartBackoff);
      this.restartWaits.set(child.name, waitMs);
      const n = (this.state.restarts.get(child.name) ?? 0) + 1;
      s.status('restarting', `${why}; restart ${n} in ${waitMs / 1000} s`);
      this.log(`${child.name} ${why}; restarting it in ${waitMs / 1000} s (restart ${n}); ${tail(child)}`);
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        if (this.stoppingFlag) return;
        this.state.restarts.set(child.name, n);
        s.status('starting');
        s.restart().then(
          () => this.log(`${child.name} running again (restart ${n})`),
          (e: unknown) => {
            if (!this.stoppingFlag) attempt(`did not start again (${errorMessage(e)})`, 0);
          },
        );
      }, waitMs);
      this.restartTimers.add(timer);
    };
    void child.exited.then((code) => {
      if (this.stoppingFlag) return s.status('stopped');
      attempt(`exited unexpectedly (${code})`, Date.now() - startedAt);
    });
  }

  snapshot(): NetworkSnapshot {
    if (this.submitter) {
      this.state.txSent = this.submitter.stats.sent;
      this.state.txAccepted = this.submitter.stats.accepted;
    }
    return this.state.snapshot();
  }

  /** The dashboard's page URL. */
  dashboardUrl(): string {
    return this.dashboardRun.url;
  }

  /** The dashboard's state (what the page renders). */
  dashboardState(): ReturnType<RunningDashboard['state']> {
    return this.dashboardRun.state();
  }

  /** What only this process knows (over IPC and as the parent), for the dashboard. */
  localInfo(): LocalInfo {
    const s = this.snapshot();
    return {
      title: 'local network',
      orderer: s.orderer,
      txSent: s.stats.txSent,
      txAccepted: s.stats.txAccepted,
      processes: s.peers.map((p) => ({
        name: p.name,
        org: p.org,
        endpoint: p.endpoint,
        status: p.status,
        ...(p.restarts ? { restarts: p.restarts } : {}),
        ...(p.error ? { error: p.error } : {}),
        ...(p.rssBytes ? { rssBytes: p.rssBytes } : {}),
        ...(p.pid ? { pid: p.pid } : {}),
      })),
    };
  }

  /** PIDs of the child processes started (running or not). */
  pids(): number[] {
    return this.children.pids();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stoppingFlag = true;
      for (const t of this.restartTimers) clearTimeout(t);
      this.restartTimers.clear();
      this.submitter?.stop();
      await this.children.stopAll();
      await this.dashboardRun.stop();
    })();
    return this.stopping;
  }
}
