/**
 * The simulated network: hosts (endpoints), dials, and byte streams between them, on virtual
 * time with seeded randomness. SimTransport (transport.ts) runs the comm protocol over it.
 *
 * Model:
 * - A directed link a->b has latency (+ uniform jitter in [0, jitterMs)), bandwidth (a frame of
 *   n bytes occupies the link for n / bandwidth; frames queue behind each other) and loss (each
 *   data frame is dropped with that probability; a stand-in for messages lost above TCP, which
 *   itself never loses: 0 is the realistic default). A stream is FIFO per direction, as TCP is.
 * - dial(a, b): one RTT to a listening, reachable host; a host with no listener (crashed,
 *   stopped, unknown) refuses after one RTT; an unreachable one (partitioned) times out.
 * - Partitions split hosts into groups; a stream crossing the cut keeps its frames (TCP
 *   retransmits) and delivers them on heal, unless the cut lasts breakDetectMs (the gRPC
 *   keepalive), when both ends see the stream fail and the held frames are lost.
 * - crash(host): its listener and streams vanish at once; the other end of each stream sees a
 *   reset one latency later (the OS of a killed process resets its sockets); crash hooks run
 *   (the host's transport and timers are gone). restart(host) runs the host's boot function.
 * - Every delivery, drop and stream event is folded into a SHA-256 trace with its virtual time,
 *   so two runs can be compared by `traceHash()`.
 */
import { createHash, type Hash } from 'node:crypto';
import { GrapevineError } from '../base/errors.js';
import type { TimerHandle } from '../base/time.js';
import { NodeClock, VirtualClock } from './clock.js';
import { SeededRng } from './rng.js';
import { SimRpc } from './rpc.js';

export interface LinkSpec {
  readonly latencyMs: number;
  readonly jitterMs: number;
  /** Bytes per second; Infinity = no serialization delay. */
  readonly bandwidth: number;
  /** Probability that a data frame is lost. */
  readonly loss: number;
}

export const DEFAULT_LINK: LinkSpec = Object.freeze({
  latencyMs: 5,
  jitterMs: 2,
  bandwidth: 125_000_000,
  loss: 0,
});

export interface NetworkOptions {
  readonly seed: number;
  readonly clock?: VirtualClock;
  readonly link?: Partial<LinkSpec>;
  /** A stream whose path stays cut this long fails at both ends (gRPC keepalive: 20 s timeout). */
  readonly breakDetectMs?: number;
  /** Keep the last N trace lines in memory (debugging); 0 = none. */
  readonly traceLines?: number;
}

export class SimNetError extends GrapevineError {}

export interface NetStats {
  delivered: number;
  lost: number;
  droppedClosed: number;
  held: number;
  dialsRefused: number;
  dialsTimedOut: number;
  streamsBroken: number;
}

/** One end of a simulated stream. */
export class SimSocket {
  peer!: SimSocket;
  closed = false;
  onFrame: (bytes: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** Arrival time of the last frame scheduled towards the peer (keeps the stream FIFO). */
  lastArrival = 0;
  /** Frames that reached a cut path, waiting for heal (towards the peer). */
  held: Frame[] = [];
  /** A heal flush of `held` is scheduled. */
  flushing = false;
  /** Key of the link local -> remote (SimNetwork.links, busyUntil). */
  readonly linkKey: string;

  constructor(
    private readonly net: SimNetwork,
    readonly id: number,
    readonly local: string,
    readonly remote: string,
  ) {
    this.linkKey = linkKey(local, remote);
  }

  /** Send bytes; resolves when they are on the wire (after serialization), rejects once closed. */
  write(bytes: Uint8Array): Promise<void> {
    if (this.closed)
      return Promise.reject(
        new SimNetError('STREAM_CLOSED', `stream ${this.local} -> ${this.remote} is closed`),
      );
    return this.net.transmit(this, bytes);
  }

  /** Close our end; the peer learns it after the frames already sent. Idempotent. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.net.sendClose(this, reason);
  }
}

type Frame =
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'close'; reason: string }
  | { kind: 'open'; accept: () => void };

interface Host {
  up: boolean;
  /** Accept functions by service ('gossip', 'rpc'): one port, several gRPC services. */
  listeners: Map<string, (socket: SimSocket) => void>;
  sockets: Set<SimSocket>;
  crashHooks: Set<() => void>;
  boot?: () => void | Promise<void>;
  clock?: NodeClock;
}

export class SimNetwork {
  readonly clock: VirtualClock;
  readonly rng: SeededRng;
  readonly stats: NetStats = {
    delivered: 0,
    lost: 0,
    droppedClosed: 0,
    held: 0,
    dialsRefused: 0,
    dialsTimedOut: 0,
    streamsBroken: 0,
  };
  readonly breakDetectMs: number;
  private readonly linkRng: SeededRng;
  private readonly defaultLink: LinkSpec;
  private readonly links = new Map<string, LinkSpec>();
  private readonly busyUntil = new Map<string, number>();
  private readonly hosts = new Map<string, Host>();
  private group = new Map<string, number>();
  /** Keepalive break timers by the stream's initiator socket. */
  private readonly breakTimers = new Map<SimSocket, TimerHandle>();
  private nextSocketId = 1;
  private readonly trace: Hash = createHash('sha256');
  /** Trace lines not yet fed to the hash (fed in chunks: the same bytes, far fewer calls). */
  private traceChunk = '';
  private traceEvents = 0;
  private readonly traceLimit: number;
  readonly traceLog: string[] = [];
  private rpcFacility?: SimRpc;

  constructor(opts: NetworkOptions) {
    this.clock = opts.clock ?? new VirtualClock();
    this.rng = new SeededRng(opts.seed);
    this.linkRng = this.rng.fork('links');
    this.defaultLink = { ...DEFAULT_LINK, ...opts.link };
    this.breakDetectMs = opts.breakDetectMs ?? 20_000;
    this.traceLimit = opts.traceLines ?? 0;
  }

  // ---- topology -------------------------------------------------------------------------

  /** Override the link a -> b (and b -> a unless `oneWay`). */
  setLink(a: string, b: string, spec: Partial<LinkSpec>, oneWay = false): void {
    this.links.set(linkKey(a, b), { ...this.link(a, b), ...spec });
    if (!oneWay) this.links.set(linkKey(b, a), { ...this.link(b, a), ...spec });
  }

  link(a: string, b: string): LinkSpec {
    return this.links.get(linkKey(a, b)) ?? this.defaultLink;
  }

  private socketLink(s: SimSocket): LinkSpec {
    return this.links.get(s.linkKey) ?? this.defaultLink;
  }

  /** Split hosts into groups that cannot reach each other; hosts not listed form one more group. */
  partition(...groups: string[][]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((h) => this.group.set(h, i + 1)));
    this.record('partition', '', '', groups.map((g) => g.join(',')).join('|'));
    for (const host of this.hosts.values()) {
      for (const s of host.sockets) {
        if (!this.reachable(s.local, s.remote)) this.armBreak(s);
        else this.flushHeld(s);
      }
    }
  }

  /** Remove every partition; held frames are delivered in order. */
  heal(): void {
    this.group = new Map();
    this.record('heal', '', '', '');
    for (const t of this.breakTimers.values()) this.clock.clearTimer(t);
    const cut = [...this.breakTimers.keys()];
    this.breakTimers.clear();
    for (const s of cut) {
      this.flushHeld(s);
      this.flushHeld(s.peer);
    }
  }

  reachable(a: string, b: string): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0);
  }

  isUp(endpoint: string): boolean {
    return this.hosts.get(endpoint)?.up ?? false;
  }

  endpoints(): string[] {
    return [...this.hosts.keys()];
  }

  // ---- hosts ----------------------------------------------------------------------------

  /** Register a host; `boot` runs now and on every restart. Returns the host's first clock. */
  addHost(endpoint: string, boot?: () => void | Promise<void>): void {
    if (this.hosts.has(endpoint)) throw new SimNetError('DUPLICATE_HOST', `host ${endpoint} already exists`);
    this.hosts.set(endpoint, {
      up: true,
      listeners: new Map(),
      sockets: new Set(),
      crashHooks: new Set(),
      boot,
    });
    void boot?.();
  }

  /** A clock scoped to the host's current incarnation (halted when it crashes). */
  hostClock(endpoint: string): NodeClock {
    const host = this.mustHost(endpoint);
    if (!host.clock || host.clock.isHalted) host.clock = new NodeClock(this.clock);
    return host.clock;
  }

  /** Run `hook` when the host crashes (once per incarnation); returns a remover. */
  onCrash(endpoint: string, hook: () => void): () => void {
    const host = this.mustHost(endpoint);
    host.crashHooks.add(hook);
    return () => host.crashHooks.delete(hook);
  }

  /** Accept streams opened to `service` on this host (gossip by default); returns a remover. */
  listen(endpoint: string, accept: (socket: SimSocket) => void, service = 'gossip'): () => void {
    const host = this.mustHost(endpoint);
    if (host.listeners.has(service))
      throw new SimNetError('ADDRESS_IN_USE', `${endpoint} is already listening for ${service}`);
    host.listeners.set(service, accept);
    return () => {
      if (host.listeners.get(service) === accept) host.listeners.delete(service);
    };
  }

  crash(endpoint: string): void {
    const host = this.mustHost(endpoint);
    if (!host.up) return;
    host.up = false;
    host.listeners.clear();
    this.record('crash', endpoint, '', '');
    for (const s of [...host.sockets]) {
      s.closed = true;
      s.onFrame = () => {};
      s.onClose = () => {};
      this.sendClose(s, 'connection reset by peer');
      host.sockets.delete(s);
    }
    host.clock?.halt();
    const hooks = [...host.crashHooks];
    host.crashHooks.clear();
    for (const h of hooks) h();
  }

  restart(endpoint: string): void {
    const host = this.mustHost(endpoint);
    if (host.up) return;
    host.up = true;
    this.record('restart', endpoint, '', '');
    void host.boot?.();
  }

  /** Request/response and server-streaming calls between hosts (rpc.ts). */
  get rpc(): SimRpc {
    return (this.rpcFacility ??= new SimRpc(this));
  }

  // ---- dialling -------------------------------------------------------------------------

  /** TCP connect (and, with `ping`, a unary Ping): one RTT each. Rejects REFUSED or TIMEOUT. */
  async dial(from: string, to: string, timeoutMs: number): Promise<void> {
    const rtt = this.rtt(from, to);
    const target = this.hosts.get(to);
    if (!this.reachable(from, to)) {
      await this.sleepOrNothing(from, timeoutMs);
      this.stats.dialsTimedOut++;
      this.record('dial-timeout', from, to, '');
      throw new SimNetError('TIMEOUT', `dial ${to}: context deadline exceeded`);
    }
    await this.sleepOrNothing(from, Math.min(rtt, timeoutMs));
    if (!target || !target.up || target.listeners.size === 0 || !this.isUp(from)) {
      this.stats.dialsRefused++;
      this.record('dial-refused', from, to, '');
      throw new SimNetError('REFUSED', `dial ${to}: connection refused`);
    }
    if (rtt > timeoutMs) throw new SimNetError('TIMEOUT', `dial ${to}: context deadline exceeded`);
    this.record('dial-ok', from, to, '');
  }

  /**
   * Open a stream to `service` (a gRPC method's call in gRPC terms): our end at once; the
   * listener gets the other end one latency later (none: the stream is refused).
   */
  openStream(from: string, to: string, service = 'gossip'): SimSocket {
    const a = new SimSocket(this, this.nextSocketId++, from, to);
    const b = new SimSocket(this, this.nextSocketId++, to, from);
    a.peer = b;
    b.peer = a;
    this.mustHost(from).sockets.add(a);
    this.record('open', from, to, String(a.id));
    if (!this.reachable(from, to)) this.armBreak(a);
    this.schedule(a, {
      kind: 'open',
      accept: () => {
        const host = this.hosts.get(to);
        const listener = host?.up ? host.listeners.get(service) : undefined;
        if (!host || !listener) {
          b.closed = true;
          this.deliverClose(b, 'connection refused');
          return;
        }
        host.sockets.add(b);
        listener(b);
      },
    });
    return a;
  }

  // ---- frames ---------------------------------------------------------------------------

  /** @internal (SimSocket.write) */
  transmit(s: SimSocket, bytes: Uint8Array): Promise<void> {
    const link = this.socketLink(s);
    const key = s.linkKey;
    const now = this.clock.now();
    const start = Math.max(now, this.busyUntil.get(key) ?? 0);
    const done =
      start +
      (Number.isFinite(link.bandwidth) && link.bandwidth > 0 ? (bytes.length * 1000) / link.bandwidth : 0);
    this.busyUntil.set(key, done);
    if (link.loss > 0 && this.linkRng.chance(link.loss)) {
      this.stats.lost++;
      this.record('lost', s.local, s.remote, digest(bytes));
    } else {
      this.schedule(s, { kind: 'data', bytes }, done - now);
    }
    return new Promise((resolve) => this.clock.setTimeout(resolve, done - now));
  }

  /** @internal (SimSocket.close / crash) */
  sendClose(s: SimSocket, reason: string): void {
    this.hosts.get(s.local)?.sockets.delete(s);
    this.record('close', s.local, s.remote, reason);
    this.schedule(s, { kind: 'close', reason });
  }

  private schedule(s: SimSocket, frame: Frame, extraMs = 0): void {
    const link = this.socketLink(s);
    const jitter = link.jitterMs > 0 ? this.linkRng.float() * link.jitterMs : 0;
    const at = Math.max(this.clock.now() + extraMs + link.latencyMs + jitter, s.lastArrival);
    s.lastArrival = at;
    this.clock.setTimeout(() => this.arrive(s, frame), at - this.clock.now());
  }

  private arrive(s: SimSocket, frame: Frame): void {
    if (s.peer.closed) {
      if (frame.kind === 'data') this.stats.droppedClosed++;
      return;
    }
    if (!this.reachable(s.local, s.remote) || s.held.length > 0) {
      s.held.push(frame);
      this.stats.held++;
      return;
    }
    this.deliver(s, frame);
  }

  private deliver(s: SimSocket, frame: Frame): void {
    const dst = s.peer;
    if (dst.closed) return;
    switch (frame.kind) {
      case 'open':
        return frame.accept();
      case 'close':
        return this.deliverClose(s, frame.reason);
      case 'data':
        this.stats.delivered++;
        this.record('deliver', s.local, s.remote, digest(frame.bytes));
        dst.onFrame(frame.bytes);
    }
  }

  /** The peer of `s` learns that the stream ended. */
  private deliverClose(s: SimSocket, reason: string): void {
    const dst = s.peer;
    if (dst.closed && reason !== 'connection refused') return;
    dst.closed = true;
    this.hosts.get(dst.local)?.sockets.delete(dst);
    this.record('closed', s.local, s.remote, reason);
    dst.onClose(reason);
  }

  /** After a heal: deliver what the cut held, in order, one latency later. */
  private flushHeld(s: SimSocket): void {
    if (s.held.length === 0 || s.flushing) return;
    s.flushing = true;
    this.clock.setTimeout(() => {
      s.flushing = false;
      if (!this.reachable(s.local, s.remote)) return;
      while (s.held.length > 0) this.deliver(s, s.held.shift()!);
    }, this.link(s.local, s.remote).latencyMs);
  }

  /** The stream of `s` crosses a cut: if it still does after breakDetectMs, both ends fail. */
  private armBreak(s: SimSocket): void {
    const key = s.id < s.peer.id ? s : s.peer;
    if (this.breakTimers.has(key)) return;
    const t = this.clock.setTimeout(() => {
      this.breakTimers.delete(key);
      if (this.reachable(s.local, s.remote)) {
        this.flushHeld(key);
        this.flushHeld(key.peer);
        return;
      }
      this.stats.streamsBroken++;
      this.record('broken', key.local, key.remote, '');
      for (const end of [key, key.peer]) {
        end.held = [];
        if (end.closed) continue;
        end.closed = true;
        this.hosts.get(end.local)?.sockets.delete(end);
        end.onClose('keepalive timeout: transport is closing');
      }
    }, this.breakDetectMs);
    this.breakTimers.set(key, t);
  }

  // ---- trace ----------------------------------------------------------------------------

  private record(kind: string, from: string, to: string, detail: string): void {
    const line = `${this.clock.elapsed().toFixed(3)} ${kind} ${from} ${to} ${detail}`;
    this.traceChunk += line + '\n';
    if (this.traceChunk.length >= 65_536) this.flushTrace();
    this.traceEvents++;
    if (this.traceLimit > 0) {
      this.traceLog.push(line);
      if (this.traceLog.length > this.traceLimit) this.traceLog.shift();
    }
  }

  /** SHA-256 (hex) over every network event so far, with virtual times. */
  traceHash(): string {
    this.flushTrace();
    return this.trace.copy().digest('hex');
  }

  private flushTrace(): void {
    if (this.traceChunk === '') return;
    this.trace.update(this.traceChunk);
    this.traceChunk = '';
  }

  get traceCount(): number {
    return this.traceEvents;
  }

  // ---- helpers --------------------------------------------------------------------------

  private rtt(a: string, b: string): number {
    return this.link(a, b).latencyMs + this.link(b, a).latencyMs;
  }

  private sleepOrNothing(from: string, ms: number): Promise<void> {
    return this.hostClock(from).sleep(ms);
  }

  private mustHost(endpoint: string): Host {
    const h = this.hosts.get(endpoint);
    if (!h) throw new SimNetError('UNKNOWN_HOST', `no simulated host ${endpoint}`);
    return h;
  }
}

/**
 * A frame's short digest for the trace. Memoised per byte array: a message sent to several peers
 * is one array (encoded once), and a frame is never changed after it was written.
 */
const digests = new WeakMap<Uint8Array, string>();
function digest(bytes: Uint8Array): string {
  let d = digests.get(bytes);
  if (d === undefined) {
    d = `${bytes.length}:${createHash('sha256').update(bytes).digest('base64').slice(0, 16)}`;
    digests.set(bytes, d);
  }
  return d;
}

const linkKey = (a: string, b: string): string => `${a}>${b}`;
