/**
 * Test fixtures for comm: nodes' crypto material from a cryptogen-layout folder, and a
 * manual clock for the pure modules.
 */
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../src/base/time.js';

function firstFile(dir: string): string {
  const f = readdirSync(dir).filter((n) => !n.startsWith('.'))[0];
  if (!f) throw new Error(`no file in ${dir}`);
  return join(dir, f);
}

/** The folder of one peer in a crypto-config tree, e.g. peerFolder(root, 1, 0). */
export function peerFolder(root: string, org: number, peer: number): string {
  return join(
    root,
    'peerOrganizations',
    `org${org}.example.com`,
    'peers',
    `peer${peer}.org${org}.example.com`,
  );
}

export function orgMspFolder(root: string, org: number): string {
  return join(root, 'peerOrganizations', `org${org}.example.com`, 'msp');
}

export function orgCaPem(root: string, org: number): Buffer {
  return readFileSync(firstFile(join(orgMspFolder(root, org), 'cacerts')));
}

export function orgTlsCaPem(root: string, org: number): Buffer {
  return readFileSync(firstFile(join(orgMspFolder(root, org), 'tlscacerts')));
}

/** A clock whose time moves only when told. */
export class ManualClock implements Clock {
  private t: number;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void; every?: number }>();
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  nowNs(): bigint {
    return BigInt(this.t) * 1_000_000n;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn, every: ms });
    return { id };
  }
  clearTimer(h: TimerHandle): void {
    this.timers.delete(h.id);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Advance time, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; every?: number }] | undefined;
      for (const kv of this.timers) if (kv[1].at <= end && (!next || kv[1].at < next[1].at)) next = kv;
      if (!next) break;
      const [id, timer] = next;
      this.t = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.t = end;
  }
}

import { loadMspFolder, fabricMspConfigFromFolder } from '../../src/identity/mspdir.js';
import { mspFromFabricConfig } from '../../src/identity/msp.js';
import type { Msp } from '../../src/identity/types.js';
import { commCryptoFromMsps, loadCommIdentity, loadCommTls } from '../../src/comm/identity.js';
import type { CommIdentity } from '../../src/core/link/types.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import type { CommConfig } from '../../src/core/link/comm-config.js';
import { Metrics } from '../../src/base/metrics.js';
import { until } from '../helpers/until.js';

const mspCache = new Map<string, Msp>();

/** The verifying MSP of peer org `org` (Org<org>MSP). */
export function orgMsp(root: string, org: number): Msp {
  const key = `${root}#${org}`;
  let msp = mspCache.get(key);
  if (!msp) {
    msp = mspFromFabricConfig(
      fabricMspConfigFromFolder(loadMspFolder(orgMspFolder(root, org)), `Org${org}MSP`),
    );
    mspCache.set(key, msp);
  }
  return msp;
}

export function nodeIdentity(root: string, org: number, peer: number): CommIdentity {
  return loadCommIdentity(join(peerFolder(root, org, peer), 'msp'), `Org${org}MSP`);
}

export interface NodeSpec {
  readonly org: number;
  readonly peer: number;
  /** Orgs whose MSPs validate remote identities and whose TLS CAs are trusted (default [1, 2]). */
  readonly trust?: readonly number[];
  readonly config?: Partial<CommConfig>;
  readonly tls?: boolean;
  readonly identity?: CommIdentity;
  /** Injected time (default: the real clock). */
  readonly clock?: Clock;
  /** Count Fabric's grpc_server_* / grpc_comm_conn_* metrics (GrpcTransportOptions.grpcMetrics). */
  readonly grpcMetrics?: boolean;
}

/** A real transport for peer<peer>.org<org> on 127.0.0.1. */
export async function startNode(root: string, spec: NodeSpec): Promise<GrpcTransport> {
  const trust = spec.trust ?? [1, 2];
  const msps = trust.map((o) => orgMsp(root, o));
  const tls =
    spec.tls === false
      ? undefined
      : loadCommTls(
          join(peerFolder(root, spec.org, spec.peer), 'tls'),
          trust.map((o) => orgTlsCaPem(root, o)),
        );
  return GrpcTransport.start({
    identity: spec.identity ?? nodeIdentity(root, spec.org, spec.peer),
    crypto: commCryptoFromMsps(() => msps, realClock),
    tls,
    listenAddress: '127.0.0.1:0',
    config: spec.config,
    clock: spec.clock ?? realClock,
    rng: cryptoRng,
    metrics: new Metrics(),
    ...(spec.grpcMetrics ? { grpcMetrics: true } : {}),
  });
}

/** Resource types alive now, as a sorted list (for "stop leaves nothing behind"). */
export function activeResources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r !== 'Immediate')
    .sort();
}

/** Wait until every resource alive now beyond `baseline` is gone (a leak fails after 3 s). */
export async function noResourcesBeyond(baseline: readonly string[]): Promise<void> {
  const extra = (): string[] => {
    const left = [...baseline];
    const out: string[] = [];
    for (const r of activeResources()) {
      const i = left.indexOf(r);
      if (i >= 0) left.splice(i, 1);
      else out.push(r);
    }
    return out;
  };
  try {
    await until(() => extra().length === 0, 'handles to close', 3000);
  } catch {
    throw new Error(`resources left after stop: ${extra().join(', ')}`);
  }
}
