/**
 * An in-memory mesh of election adapters on one VirtualClock (one org, one channel): a message
 * reaches each peer in the sender's view after `latencyMs`, unless the receiver crashed or a
 * partition separates them by then. A peer's view = the other started, reachable peers, minus
 * those hidden from it (e.g. no StateInfo yet). Every leadership change is logged with its time.
 */
import type { PkiId } from '../../src/base/pkiid.js';
import { LeaderElection } from '../../src/core/election/election.js';
import {
  electionConfig,
  type ElectionConfig,
  type ElectionConfigInput,
} from '../../src/core/election/config.js';
import type { ElectionAdapter, ElectionMessage } from '../../src/core/election/types.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { untilVirtual } from '../helpers/until.js';
import { Metrics } from '../../src/base/metrics.js';

export interface Change {
  readonly at: number;
  readonly node: string;
  readonly isLeader: boolean;
}

export class MeshNode {
  up = false;
  election?: LeaderElection;
  readonly metrics = new Metrics();
  readonly handlers = new Set<(m: ElectionMessage) => void>();
  readonly sent: { at: number; msg: ElectionMessage }[] = [];
  private seq = 0n;
  private incNum = 0n;

  constructor(
    readonly mesh: Mesh,
    readonly name: string,
    readonly pkiId: PkiId,
  ) {}

  get isLeader(): boolean {
    return this.up && (this.election?.isLeader() ?? false);
  }

  start(): void {
    this.up = true;
    this.incNum = this.mesh.clock.nowNs();
    this.seq = 0n;
    this.election = new LeaderElection({
      adapter: this.adapter(),
      selfPkiId: this.pkiId,
      channel: 'ch',
      config: this.mesh.config,
      clock: this.mesh.clock,
      metrics: this.metrics,
      onLeadershipChange: (isLeader) =>
        this.mesh.changes.push({ at: this.mesh.clock.now(), node: this.name, isLeader }),
    });
    this.election.start();
  }

  /** The process dies: its timers stop, its leadership ends. */
  crash(): void {
    if (!this.up) return;
    const wasLeader = this.isLeader;
    this.up = false;
    this.election?.stop();
    this.handlers.clear();
    if (wasLeader) this.mesh.changes.push({ at: this.mesh.clock.now(), node: this.name, isLeader: false });
  }

  private adapter(): ElectionAdapter {
    return {
      gossip: (msg) => {
        this.sent.push({ at: this.mesh.clock.now(), msg });
        for (const to of this.mesh.viewOf(this)) {
          this.mesh.clock.setTimeout(() => {
            if (to.up && this.mesh.reachable(this, to)) for (const h of [...to.handlers]) h(msg);
          }, this.mesh.latencyMs);
        }
      },
      accept: (h) => {
        this.handlers.add(h);
        return () => this.handlers.delete(h);
      },
      createMessage: (isDeclaration) => ({
        pkiId: this.pkiId,
        isDeclaration,
        timestamp: { incNum: this.incNum, seqNum: ++this.seq },
      }),
      peers: () => this.mesh.viewOf(this),
    };
  }
}

export class Mesh {
  readonly clock = new VirtualClock();
  readonly config: ElectionConfig;
  readonly nodes: MeshNode[] = [];
  readonly changes: Change[] = [];
  latencyMs = 5;
  private group = new Map<string, number>();
  private readonly hidden = new Set<string>();

  constructor(config: ElectionConfigInput = {}) {
    this.config = electionConfig({ useLeaderElection: true, ...config });
  }

  /** A peer whose PKI-ID is the given bytes (so order is explicit: [0x20] < [0x30]). */
  add(name: string, ...id: number[]): MeshNode {
    const n = new MeshNode(this, name, Uint8Array.from(id));
    this.nodes.push(n);
    return n;
  }

  node(name: string): MeshNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  viewOf(n: MeshNode): MeshNode[] {
    return this.nodes.filter(
      (m) => m !== n && m.up && this.reachable(n, m) && !this.hidden.has(`${n.name}>${m.name}`),
    );
  }

  reachable(a: MeshNode, b: MeshNode): boolean {
    return (this.group.get(a.name) ?? 0) === (this.group.get(b.name) ?? 0);
  }

  /** `viewer` does not see `target` (as before its StateInfo arrives) until shown. */
  hide(viewer: string, target: string): void {
    this.hidden.add(`${viewer}>${target}`);
  }

  show(viewer: string, target: string): void {
    this.hidden.delete(`${viewer}>${target}`);
  }

  partition(...groups: string[][]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((name) => this.group.set(name, i + 1)));
  }

  heal(): void {
    this.group = new Map();
  }

  leaders(): string[] {
    return this.nodes.filter((n) => n.isLeader).map((n) => n.name);
  }

  /** Sample the leader count every `everyMs` until stopped; returns the samples and a stopper. */
  monitor(everyMs = 50): { samples: { at: number; leaders: string[] }[]; stop(): void } {
    const samples: { at: number; leaders: string[] }[] = [];
    const t = this.clock.setInterval(
      () => samples.push({ at: this.clock.now(), leaders: this.leaders() }),
      everyMs,
    );
    return { samples, stop: () => this.clock.clearTimer(t) };
  }

  /** Run until some live node leads (returns the time it took), or throw after `maxMs`. */
  async untilLeader(
    maxMs: number,
    pred: (leaders: string[]) => boolean = (l) => l.length > 0,
  ): Promise<number> {
    return untilVirtual(
      this.clock,
      () => pred(this.leaders()),
      'a leader',
      maxMs,
      () => `leaders: ${this.leaders().join(',') || 'none'}`,
    );
  }

  stopAll(): void {
    for (const n of this.nodes) n.crash();
  }
}
