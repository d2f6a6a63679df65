/**
 * The dashboard's HTTP server (127.0.0.1 by default): the page (public/index.html, app.js,
 * style.css: plain HTML + JS, no build step), the network's state as JSON at GET /api/network,
 * and the same state pushed every `intervalMs` as server-sent events at GET /api/events
 * (`event: state`). Bounded: at most `maxClients` event streams, and connections limited as the
 * operations server's (ops/http-limits.ts: caps, first-request deadline, Node's HTTP timeouts).
 * stop() ends every stream and closes every connection.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrapevineError, errorMessage } from '../base/errors.js';
import type { ConnLimits } from '../base/conn-gate.js';
import type { Metrics } from '../base/metrics.js';
import { limitHttpServer } from '../ops/http-limits.js';

export interface DashboardOptions {
  /** The current state (serialisable to JSON). */
  readonly state: () => unknown;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** SSE push interval (ms). Default 500. */
  readonly intervalMs?: number;
  readonly maxClients?: number;
  /** Connection limits (default DEFAULT_CONN_LIMITS). */
  readonly connLimits?: Partial<ConnLimits>;
  /** Where grapevine_conn_*{server="dashboard"} go (absent: not counted). */
  readonly metrics?: Metrics;
}

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export class DashboardServer {
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private readonly clients = new Set<ServerResponse>();
  private bound?: AddressInfo;
  private stopping?: Promise<void>;

  constructor(private readonly o: DashboardOptions) {}

  /** Listen; resolves with the page's URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    limitHttpServer(server, 'dashboard', false, this.o.connLimits, this.o.metrics);
    const host = this.o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(
          new GrapevineError(
            'LISTEN_FAILED',
            `dashboard: cannot listen on ${host}:${this.o.port ?? 0}: ${errorMessage(e)}`,
          ),
        ),
      );
      server.listen(this.o.port ?? 0, host, () => resolve());
    });
    this.server = server;
    this.bound = server.address() as AddressInfo;
    this.timer = setInterval(() => this.push(), this.o.intervalMs ?? 500);
    return this.url();
  }

  url(): string {
    const a = this.bound;
    return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/` : '';
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    if (path === '/api/network') {
      res
        .writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(`${JSON.stringify(this.o.state())}\n`);
      return;
    }
    if (path === '/api/events') return this.events(req, res);
    const asset = ASSETS[path];
    if (!asset) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(join(PUBLIC, asset.file));
    } catch {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' }).end(body);
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= (this.o.maxClients ?? 32)) {
      res.writeHead(503, { 'Retry-After': '5' }).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    this.send(res, JSON.stringify(this.o.state()));
    req.on('close', () => this.clients.delete(res));
  }

  private send(res: ServerResponse, data: string): void {
    res.write(`event: state\ndata: ${data}\n\n`);
  }

  private push(): void {
    if (this.clients.size === 0) return;
    const data = JSON.stringify(this.o.state());
    for (const c of this.clients) this.send(c, data);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      for (const c of this.clients) c.end();
      this.clients.clear();
      const s = this.server;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    })();
    return this.stopping;
  }
}
