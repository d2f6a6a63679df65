/**
 * The dashboard over a set of peers' operations endpoints: a NetworkWatch polling their GET
 * /status and the DashboardServer serving the page and the watch's state. `grapevine dashboard
 * --peer ...` runs it on its own; `network up` runs the same over its peers' operations
 * endpoints, merging in what it knows of its processes over IPC (NetworkWatch.setLocal).
 */
import type { ConnLimits } from '../base/conn-gate.js';
import type { Metrics } from '../base/metrics.js';
import { DashboardServer } from '../dashboard/server.js';
import type { TlsFiles } from './client.js';
import { NetworkWatch, type DashboardState, type LocalInfo } from './model.js';

export interface DashboardRunOptions {
  readonly urls: readonly string[];
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Poll period of every URL (ms). Default 2000. */
  readonly intervalMs?: number;
  /** Time limit of one GET /status (ms). Default 5000. */
  readonly timeoutMs?: number;
  readonly tls?: TlsFiles;
  /** A height still for this long behind the channel's highest is logged as stalled (ms). */
  readonly stallMs?: number;
  /** `network up`'s process facts, merged into every state. */
  readonly local?: () => LocalInfo;
  readonly connLimits?: Partial<ConnLimits>;
  readonly metrics?: Metrics;
}

export interface RunningDashboard {
  /** The page's URL. */
  readonly url: string;
  readonly watch: NetworkWatch;
  readonly server: DashboardServer;
  state(): DashboardState;
  stop(): Promise<void>;
}

/** Listen and start polling; resolves once the page is served (polling goes on in the background). */
export async function startDashboard(o: DashboardRunOptions): Promise<RunningDashboard> {
  const watch = new NetworkWatch({
    urls: o.urls,
    ...(o.intervalMs !== undefined ? { intervalMs: o.intervalMs } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.stallMs !== undefined ? { stallMs: o.stallMs } : {}),
    ...(o.tls ? { tls: o.tls } : {}),
  });
  if (o.local) watch.setLocal(o.local);
  const server = new DashboardServer({
    state: () => watch.snapshot(),
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    // the page follows the polls: pushing faster than they change it would send the same state
    intervalMs: Math.min(1000, watch.intervalMs),
    ...(o.connLimits ? { connLimits: o.connLimits } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  const url = await server.start();
  void watch.start();
  return {
    url,
    watch,
    server,
    state: () => watch.snapshot(),
    stop: async () => {
      watch.stop();
      await server.stop();
    },
  };
}
