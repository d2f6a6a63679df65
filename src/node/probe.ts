/**
 * EndpointProbe: whether the members' external endpoints accept a connection, for the
 * `unreachable` alert (./alerts.ts). With TLS (peer.tls.enabled) a probe completes a TLS
 * handshake with our client pair (dialTls), then closes: a bare TCP connection closed before TLS
 * makes Fabric's peer log "Server TLS handshake failed ... EOF" as an error at every probe. Every `everyMs` it dials up to PROBES_PER_ROUND endpoints of
 * the alive members (in turn, so a large membership is covered over several rounds), at most
 * PROBE_CONCURRENCY at once, each with a deadline of `timeoutMs`. A failure is remembered from its
 * first occurrence in a row until the endpoint answers again or is no longer a member's (bounded
 * by the members given, at most MAX_ENDPOINTS).
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { errorMessage } from '../base/errors.js';
import type { EndpointFailure } from './alerts.js';
import { MAX_ENDPOINTS } from './alerts.js';

export const PROBES_PER_ROUND = 64;
const PROBE_CONCURRENCY = 16;

function hostPort(address: string): { host: string; port: number } | undefined {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

/** TCP connect to host:port; undefined when it connected, else why not. */
export function dialTcp(address: string, timeoutMs: number): Promise<string | undefined> {
  const hp = hostPort(address);
  if (!hp) return Promise.resolve(`not host:port: ${address}`);
  const { host, port } = hp;
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (err?: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(err);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    s.once('connect', () => done());
    s.once('error', (e) => done(errorMessage(e)));
  });
}

/** Our TLS client material for dialTls. */
export interface ProbeTls {
  readonly certPem: Uint8Array;
  readonly keyPem: Uint8Array;
  readonly rootCAs: readonly Uint8Array[];
}

/**
 * TLS handshake with host:port (ALPN h2, our client pair), then close; undefined when it
 * completed, else why not. The server's certificate is not checked against a host name (the
 * endpoint is an address discovery gave us): reachability is the question, and gossip's own
 * handshake authenticates the peer.
 */
export function dialTls(address: string, timeoutMs: number, tls: ProbeTls): Promise<string | undefined> {
  const hp = hostPort(address);
  if (!hp) return Promise.resolve(`not host:port: ${address}`);
  const { host, port } = hp;
  return new Promise((resolve) => {
    const s = tlsConnect({
      host,
      port,
      cert: Buffer.from(tls.certPem),
      key: Buffer.from(tls.keyPem),
      ca: tls.rootCAs.map((c) => Buffer.from(c)),
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    });
    let settled = false;
    const done = (err?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(err);
    };
    const timer = setTimeout(() => {
      s.destroy();
      done(`no TLS handshake within ${timeoutMs} ms`);
    }, timeoutMs);
    // our last handshake flight (certificate, Finished) may still be queued at secureConnect: end()
    // flushes it before the FIN, so the server's handshake completes (a destroy() here makes
    // Fabric log "Server TLS handshake failed ... EOF"); the socket closes when the server does
    s.once('secureConnect', () => {
      s.end();
      const linger = setTimeout(() => s.destroy(), timeoutMs);
      linger.unref();
      s.once('close', () => clearTimeout(linger));
      done();
    });
    s.on('error', (e) => {
      s.destroy();
      done(errorMessage(e));
    });
  });
}

export interface ProbeTarget {
  readonly endpoint: string;
  readonly pkiId: string;
}

export class EndpointProbe {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private next = 0;
  private readonly failing = new Map<string, EndpointFailure>();

  constructor(
    private readonly o: {
      /** The alive members' external endpoints (not ours). */
      readonly targets: () => readonly ProbeTarget[];
      readonly everyMs: number;
      readonly timeoutMs: number;
      readonly now: () => number;
      readonly dial?: (address: string, timeoutMs: number) => Promise<string | undefined>;
    },
  ) {}

  start(): void {
    if (this.o.everyMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.round(), this.o.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Endpoints failing now (of members still given). */
  failures(): EndpointFailure[] {
    return [...this.failing.values()];
  }

  /** One round of probes (exported for tests). */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const targets = this.o.targets().filter((t) => t.endpoint !== '');
      const known = new Set(targets.map((t) => t.endpoint));
      for (const e of this.failing.keys()) if (!known.has(e)) this.failing.delete(e);
      if (targets.length === 0) return;
      const n = Math.min(PROBES_PER_ROUND, targets.length);
      const batch: ProbeTarget[] = [];
      for (let i = 0; i < n; i++) batch.push(targets[(this.next + i) % targets.length]!);
      this.next = (this.next + n) % targets.length;
      const dial = this.o.dial ?? dialTcp;
      for (let i = 0; i < batch.length; i += PROBE_CONCURRENCY) {
        await Promise.all(
          batch.slice(i, i + PROBE_CONCURRENCY).map(async (t) => {
            const err = await dial(t.endpoint, this.o.timeoutMs);
            if (err === undefined) {
              this.failing.delete(t.endpoint);
              return;
            }
            const prev = this.failing.get(t.endpoint);
            if (prev && prev.pkiId === t.pkiId) {
              this.failing.set(t.endpoint, { ...prev, error: err });
              return;
            }
            if (!prev && this.failing.size >= MAX_ENDPOINTS) return;
            this.failing.set(t.endpoint, {
              endpoint: t.endpoint,
              pkiId: t.pkiId,
              sinceMs: this.o.now(),
              error: err,
            });
          }),
        );
      }
    } finally {
      this.running = false;
    }
  }
}
