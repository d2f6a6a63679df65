/**
 * The operations server (Fabric's operations service, core/operations @v2.4.9): plain HTTP, or
 * HTTPS when TLS is configured, serving
 *
 *   GET /healthz  200 {"status":"OK","time":...}, or 503 {"status":"Service Unavailable","time":...,
 *                 "failed_checks":[{"component","reason"}]} when a registered checker fails;
 *                 408 when the checks take longer than the timeout (30 s); other methods 405.
 *                 Liveness, as Fabric's: a peer with no gossip connection is still healthy.
 *   GET /readyz   Grapevine's own (Fabric has none): the same answers over the readiness checkers
 *                 (registerReadinessChecker), e.g. "has a gossip connection".
 *   GET /metrics  Prometheus text of the Metrics registry (only when one is given: provider
 *                 prometheus); other methods 405.
 *   /logspec      GET 200 {"spec":"info"}; PUT {"spec":"..."} 204, bad JSON or spec 400
 *                 {"error":"..."}; other methods 400.
 *   GET /version  200 {"CommitSHA","Version"} (empty fields left out); other methods 400 {"Error"}.
 *   more paths    added by their owners with registerRoute (the peer's GET /status).
 *
 * With TLS, client certificates are verified when given (Fabric's VerifyClientCertIfGiven), or
 * required at the handshake with `clientAuthRequired`; /logspec and /metrics then answer 401 to
 * a client without a verified certificate, as Fabric's RequireCert middleware. Request bodies
 * are bounded. Connections are limited (http-limits.ts: caps, TLS handshake and first-request
 * deadlines, Node's HTTP timeouts; grapevine_conn_*{server="operations"}). start() and stop() are idempotent; stop() closes every connection and aborts
 * running checks, leaving no handle behind.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ConfigError, errorMessage, GrapevineError } from '../base/errors.js';
import { silentLogger, type Logger } from '../base/log.js';
import type { Metrics } from '../base/metrics.js';
import type { ConnLimits } from '../base/conn-gate.js';
import { limitHttpServer } from './http-limits.js';
import { byCodeUnits } from '../base/order.js';

/** What the operations server's /logspec drives. */
export interface LogSpecTarget {
  spec(): string;
  /** Throws ConfigError (code BAD_LOGSPEC) on a bad spec, leaving the levels unchanged. */
  activateSpec(spec: string): void;
}

/** A health check: resolve when healthy, throw (reason = message) when not. `signal` aborts on timeout/stop. */
export type HealthCheck = (signal: AbortSignal) => void | Promise<void>;
export interface HealthChecker {
  healthCheck(signal: AbortSignal): void | Promise<void>;
}

export interface OperationsTlsOptions {
  readonly cert: string | Uint8Array;
  readonly key: string | Uint8Array;
  /** PEM CAs for client certificates. */
  readonly clientRootCAs?: readonly (string | Uint8Array)[];
  readonly clientAuthRequired?: boolean;
}

export interface OperationsServerOptions {
  /** host:port; port 0 picks a free port (see address()). */
  readonly listenAddress: string;
  readonly tls?: OperationsTlsOptions;
  /** The registry behind /metrics; absent = metrics disabled (404). */
  readonly metrics?: Metrics;
  /** What /logspec reads and changes; absent = 404. */
  readonly logSpec?: LogSpecTarget;
  readonly version?: { readonly version?: string; readonly commitSHA?: string };
  readonly logger?: Logger;
  /** Longest wait for all health checks (ms). Default 30 s, as Fabric. */
  readonly healthTimeoutMs?: number;
  /** Largest accepted request body (bytes). Default 64 KiB. */
  readonly maxBodyBytes?: number;
  readonly now?: () => Date;
  /** Connection limits (default DEFAULT_CONN_LIMITS). */
  readonly connLimits?: Partial<ConnLimits>;
  /** Where grapevine_conn_*{server="operations"} go; default `metrics`. */
  readonly connMetrics?: Metrics;
}

export class OperationsError extends GrapevineError {}

/** A route added with registerRoute: it answers the request (any method) itself. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const buf = (v: string | Uint8Array): Buffer => (typeof v === 'string' ? Buffer.from(v) : Buffer.from(v));

function splitListen(addr: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[2]) > 65535)
    throw new ConfigError('BAD_VALUE', `operations.listenAddress: ${JSON.stringify(addr)} is not host:port`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

class BodyTooLarge extends Error {}

export class OperationsServer {
  private readonly checkers = new Map<string, HealthCheck>();
  private readonly readiness = new Map<string, HealthCheck>();
  private readonly inflight = new Set<AbortController>();
  private readonly routes = new Map<string, { handler: RouteHandler; requireCert: boolean }>();
  private readonly log: Logger;
  private server: Server | undefined;
  private starting: Promise<AddressInfo> | undefined;
  private stopping: Promise<void> | undefined;
  private bound: AddressInfo | undefined;

  constructor(private readonly opts: OperationsServerOptions) {
    splitListen(opts.listenAddress);
    this.log = (opts.logger ?? silentLogger).child({ component: 'operations' });
  }

  /** Add a named checker; a name can be registered once (Fabric's AlreadyRegisteredError). */
  registerChecker(component: string, checker: HealthChecker | HealthCheck): void {
    if (this.checkers.has(component))
      throw new OperationsError('ALREADY_REGISTERED', `'${component}' is already registered`);
    this.checkers.set(component, typeof checker === 'function' ? checker : (s) => checker.healthCheck(s));
  }

  deregisterChecker(component: string): void {
    this.checkers.delete(component);
  }

  /** Add a named readiness checker (GET /readyz); a name can be registered once. */
  registerReadinessChecker(component: string, checker: HealthChecker | HealthCheck): void {
    if (this.readiness.has(component))
      throw new OperationsError('ALREADY_REGISTERED', `'${component}' is already registered`);
    this.readiness.set(component, typeof checker === 'function' ? checker : (s) => checker.healthCheck(s));
  }

  /**
   * Serve `path` (exact) with `handler`; a path can be registered once. With TLS and
   * `requireCert` (default), a client without a verified certificate gets 401, as /metrics.
   */
  registerRoute(path: string, handler: RouteHandler, opts: { requireCert?: boolean } = {}): void {
    if (ROUTES.has(path) || this.routes.has(path))
      throw new OperationsError('ALREADY_REGISTERED', `'${path}' is already registered`);
    this.routes.set(path, { handler, requireCert: opts.requireCert ?? true });
  }

  /** The bound address once started. */
  address(): AddressInfo | undefined {
    return this.bound;
  }

  /** Listen; resolves with the bound address. Idempotent. */
  start(): Promise<AddressInfo> {
    if (this.stopping) return Promise.reject(new OperationsError('STOPPED', 'operations server: stopped'));
    this.starting ??= Promise.resolve().then(() => this.listen());
    return this.starting;
  }

  /** Close the listener and every connection, abort running checks. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      for (const c of this.inflight) c.abort();
      const server = this.server;
      if (!server) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      this.server = undefined;
    })();
    return this.stopping;
  }

  private listen(): Promise<AddressInfo> {
    const { host, port } = splitListen(this.opts.listenAddress);
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e) => {
        this.log.error({ err: errorMessage(e), url: req.url }, 'operations request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    };
    let server: Server;
    try {
      server = this.createServer(handler);
    } catch (e) {
      throw new OperationsError(
        'BAD_TLS',
        `operations server: unusable TLS certificate or key (operations.tls.cert.file, operations.tls.key.file): ${errorMessage(e)}`,
      );
    }
    const connMetrics = this.opts.connMetrics ?? this.opts.metrics;
    limitHttpServer(server, 'operations', this.opts.tls !== undefined, this.opts.connLimits, connMetrics);
    this.server = server;
    return new Promise<AddressInfo>((resolve, reject) => {
      const onError = (e: Error) => {
        this.server = undefined;
        reject(
          new OperationsError(
            'LISTEN_FAILED',
            `operations server: cannot listen on ${this.opts.listenAddress} (operations.listenAddress): ${errorMessage(e)}`,
          ),
        );
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (e) => this.log.warn({ err: errorMessage(e) }, 'operations server error'));
        this.bound = server.address() as AddressInfo;
        this.log.info({ address: this.bound }, 'operations server listening');
        resolve(this.bound);
      });
    });
  }

  private createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
    const tls = this.opts.tls;
    if (!tls) return createHttpServer(handler);
    return createHttpsServer(
      {
        cert: buf(tls.cert),
        key: buf(tls.key),
        ...(tls.clientRootCAs && tls.clientRootCAs.length > 0 ? { ca: tls.clientRootCAs.map(buf) } : {}),
        requestCert: true,
        rejectUnauthorized: tls.clientAuthRequired === true,
        minVersion: 'TLSv1.2',
      },
      handler,
    ) as unknown as Server;
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.opts.tls) return true;
    const socket = req.socket as TLSSocket;
    return socket.authorized === true && Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://operations').pathname;
    this.log.debug({ method: req.method, path }, 'operations request');
    const route = this.routes.get(path);
    const secure = path === '/logspec' || path === '/metrics' || route?.requireCert === true;
    if (
      !route &&
      ((path === '/logspec' && !this.opts.logSpec) ||
        (path === '/metrics' && !this.opts.metrics) ||
        !ROUTES.has(path))
    ) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (secure && !this.authorized(req)) {
      this.log.warn(
        { path, method: req.method, remote: req.socket.remoteAddress },
        'client must present a valid client certificate for this operation',
      );
      res.writeHead(401).end();
      return;
    }
    if (route) return route.handler(req, res);
    if (path === '/healthz') return this.healthz(req, res, this.checkers);
    if (path === '/readyz') return this.healthz(req, res, this.readiness);
    if (path === '/metrics') return this.metrics(req, res);
    if (path === '/logspec') return this.logspec(req, res);
    return this.version(req, res);
  }

  private async healthz(
    req: IncomingMessage,
    res: ServerResponse,
    checkers: ReadonlyMap<string, HealthCheck>,
  ): Promise<void> {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const controller = new AbortController();
    this.inflight.add(controller);
    let timer: NodeJS.Timeout | undefined;
    try {
      const checks = [...checkers].map(async ([component, check]) => {
        try {
          await check(controller.signal);
          return undefined;
        } catch (e) {
          return { component, reason: errorMessage(e) };
        }
      });
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.opts.healthTimeoutMs ?? 30_000);
      });
      const aborted = new Promise<'timeout'>((resolve) =>
        controller.signal.addEventListener('abort', () => resolve('timeout'), { once: true }),
      );
      const result = await Promise.race([Promise.all(checks), timeout, aborted]);
      if (result === 'timeout') {
        controller.abort();
        res.writeHead(408).end();
        return;
      }
      const failed = result
        .filter((f) => f !== undefined)
        .sort((a, b) => byCodeUnits(a.component, b.component));
      const time = (this.opts.now ?? (() => new Date()))().toISOString();
      const body =
        failed.length === 0
          ? { status: 'OK', time }
          : { status: 'Service Unavailable', time, failed_checks: failed };
      json(res, failed.length === 0 ? 200 : 503, body);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  private async metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const registry = (this.opts.metrics as Metrics).registry;
    const text = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType }).end(text);
  }

  private async logspec(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.opts.logSpec as LogSpecTarget;
    if (req.method === 'GET') return json(res, 200, { spec: target.spec() });
    if (req.method !== 'PUT') return json(res, 400, { error: `invalid request method: ${req.method}` });
    let body: string;
    try {
      body = await readBody(req, this.opts.maxBodyBytes ?? 64 * 1024);
    } catch (e) {
      if (e instanceof BodyTooLarge) return json(res, 413, { error: e.message });
      throw e;
    }
    let spec: unknown;
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('the body must be a JSON object such as {"spec":"info"}');
      spec = (parsed as { spec?: unknown }).spec ?? '';
      if (typeof spec !== 'string') throw new Error('"spec" must be a string');
    } catch (e) {
      return json(res, 400, { error: errorMessage(e) });
    }
    try {
      target.activateSpec(spec as string);
    } catch (e) {
      return json(res, 400, { error: errorMessage(e) });
    }
    this.log.info({ spec: target.spec() }, 'log spec changed');
    res.writeHead(204).end();
  }

  private version(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') return json(res, 400, { Error: `invalid request method: ${req.method}` });
    const v = this.opts.version ?? {};
    json(res, 200, {
      ...(v.commitSHA ? { CommitSHA: v.commitSHA } : {}),
      ...(v.version ? { Version: v.version } : {}),
    });
  }
}

const ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/logspec', '/version']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new BodyTooLarge(`request body larger than ${max} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface OperationsDeps {
  readonly metrics?: Metrics;
  readonly logSpec?: LogSpecTarget;
  readonly version?: { readonly version?: string; readonly commitSHA?: string };
  readonly logger?: Logger;
  readonly readFile?: (path: string) => Uint8Array;
}
