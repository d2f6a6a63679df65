/**
 * EndpointProbe: whether the members' external endpoints accept a TCP connection, for the
 * `unreachable` alert (./alerts.ts). Every `everyMs` it dials up to PROBES_PER_ROUND endpoints of
 * the alive members (in turn, so a large membership is covered over several rounds), at most
 * PROBE_CONCURRENCY at once, each with a deadline of `timeoutMs`. A failure is remembered from its
 * first occurrence in a row until the endpoint answers again or is no longer a member's (bounded
 * by the members given, at most MAX_ENDPOINTS).
 */
import { connect } from 'node:net';
import { errorMessage } from '../base/errors.js';
import type { EndpointFailure } from './alerts.js';
import { MAX_ENDPOINTS } from './alerts.js';

export const PROBES_PER_ROUND = 64;
const PROBE_CONCURRENCY = 16;

/** TCP connect to host:port; undefined when it connected, else why not. */
export function dialTcp(address: string, timeoutMs: number): Promise<string | undefined> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    return Promise.resolve(`not host:port: ${address}`);
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
