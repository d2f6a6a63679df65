/**
 * The network view's state, assembled from the peers' reports (PeerStateSnapshot over IPC):
 * peers (org, endpoint, height, leader flag, connections by name, RSS), the orderer, and the
 * last blocks' paths: for each block, every peer's commit time, how the block reached it
 * (orderer / push / pull / state, and from which peer), its delay after the first commit in the
 * network and after its org's first commit. Also the start milestones (first block everywhere).
 * Pure bookkeeping: no I/O, the clock is injected.
 */
import type { CommitRecord, PeerStateSnapshot } from '../node/peerstate.js';

/** restarting: it died while the network ran; `network up` starts it again after a backoff. */
export type PeerStatus = 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';

export interface PeerView {
  readonly name: string;
  readonly org: string;
  readonly endpoint: string;
  status: PeerStatus;
  pid?: number;
  pkiId?: string;
  operations?: string;
  height: number;
  leader: boolean;
  /**
   * Block streams: the name of the peer it streams from, 'orderer' when it pulls as the org's
   * source (leader or acting), '' when it streams nothing; undefined when streams are off.
   */
  upstream?: string;
  /** Hops from the org's source in the stream tree. */
  depth?: number;
  /** Names of the peers this one has a gossip connection to. */
  connections: string[];
  rssBytes?: number;
  error?: string;
  /** Times `network up` restarted it after it died. */
  restarts?: number;
  /** When the peer reported ready (ms since the epoch). */
  readyAt?: number;
}

export interface BlockHop {
  readonly peer: string;
  readonly org: string;
  readonly at: number;
  readonly source: CommitRecord['source'];
  /** Name of the peer the first gossip copy came from. */
  readonly from?: string;
  /** ms after the first commit of this block anywhere. */
  readonly delayMs: number;
  /** ms after the first commit of this block in the peer's org. */
  readonly orgDelayMs: number;
}

export interface BlockPath {
  readonly number: number;
  readonly firstAt: number;
  /** Last commit minus first commit over the peers that committed it. */
  readonly latencyMs: number;
  readonly complete: boolean;
  readonly hops: readonly BlockHop[];
}

export interface NetworkSnapshot {
  readonly channel: string;
  readonly startedAt: number;
  readonly now: number;
  readonly orderer: {
    readonly name: string;
    readonly endpoint: string;
    status: PeerStatus;
    readonly restarts?: number;
  };
  readonly orgs: readonly {
    readonly mspId: string;
    readonly leader?: string;
    readonly peers: readonly string[];
  }[];
  readonly peers: readonly PeerView[];
  readonly blocks: readonly BlockPath[];
  readonly milestones: { allReadyAt?: number; firstBlockEverywhereAt?: number };
  readonly stats: {
    readonly txSent: number;
    readonly txAccepted: number;
    readonly medianLatencyMs?: number;
    readonly maxHeight: number;
    readonly minHeight: number;
  };
  readonly dashboard?: string;
}

const KEEP_BLOCKS = 40;

export class NetworkState {
  private readonly peers = new Map<string, PeerView>();
  private readonly byPkiId = new Map<string, string>();
  private readonly commits = new Map<number, Map<string, CommitRecord>>();
  private readonly milestones: { allReadyAt?: number; firstBlockEverywhereAt?: number } = {};
  readonly orderer: { name: string; endpoint: string; status: PeerStatus };
  txSent = 0;
  txAccepted = 0;
  dashboard?: string;
  /** Restarts by process name (peers and the orderer), kept by the supervisor. */
  readonly restarts = new Map<string, number>();

  constructor(
    readonly channel: string,
    peers: readonly { name: string; mspId: string; endpoint: string }[],
    orderer: { name: string; endpoint: string },
    readonly startedAt: number,
    private readonly now: () => number = Date.now,
  ) {
    for (const p of peers)
      this.peers.set(p.name, {
        name: p.name,
        org: p.mspId,
        endpoint: p.endpoint,
        status: 'starting',
        height: 0,
        leader: false,
        connections: [],
      });
    this.orderer = { ...orderer, status: 'starting' };
  }

  peerNames(): string[] {
    return [...this.peers.keys()];
  }

  setStatus(name: string, status: PeerStatus, error?: string): void {
    const p = this.peers.get(name);
    if (!p) return;
    p.status = status;
    if (error !== undefined) p.error = error;
    if (status !== 'running') p.leader = false;
  }

  /** A peer's report. */
  report(name: string, s: PeerStateSnapshot): void {
    const p = this.peers.get(name);
    if (!p) return;
    if (p.status === 'starting' || p.status === 'restarting') {
      p.status = 'running';
      p.error = undefined;
      p.readyAt = this.now();
      if (!this.milestones.allReadyAt && [...this.peers.values()].every((q) => q.status === 'running'))
        this.milestones.allReadyAt = this.now();
    }
    p.pid = s.pid;
    p.pkiId = s.pkiId;
    this.byPkiId.set(s.pkiId, name);
    if (s.operations) p.operations = s.operations;
    p.rssBytes = s.rssBytes;
    const ch = s.channels.find((c) => c.name === this.channel);
    p.height = ch?.height ?? 0;
    p.leader = ch?.leader ?? false;
    const st = ch?.stream;
    p.upstream = !st
      ? undefined
      : st.upstream
        ? (this.byPkiId.get(st.upstream.pkiId) ?? st.upstream.endpoint)
        : st.plan === 'leader' || st.plan === 'source'
          ? 'orderer'
          : '';
    p.depth = st?.depth;
    p.connections = s.connections.map((id) => this.byPkiId.get(id) ?? `${id.slice(0, 8)}…`);
    for (const c of s.commits) {
      if (c.channel !== this.channel) continue;
      let m = this.commits.get(c.block);
      if (!m) {
        m = new Map();
        this.commits.set(c.block, m);
        if (this.commits.size > KEEP_BLOCKS * 2) {
          const oldest = Math.min(...this.commits.keys());
          this.commits.delete(oldest);
        }
      }
      m.set(name, c);
    }
    if (!this.milestones.firstBlockEverywhereAt && [...this.peers.values()].every((q) => q.height >= 2)) {
      this.milestones.firstBlockEverywhereAt = this.now();
    }
  }

  private path(n: number, m: Map<string, CommitRecord>): BlockPath {
    const recs = [...m.entries()].map(([peer, c]) => ({ peer, c, org: this.peers.get(peer)?.org ?? '?' }));
    const firstAt = Math.min(...recs.map((r) => r.c.at));
    const orgFirst = new Map<string, number>();
    for (const r of recs) orgFirst.set(r.org, Math.min(orgFirst.get(r.org) ?? Infinity, r.c.at));
    const hops = recs
      .map((r) => ({
        peer: r.peer,
        org: r.org,
        at: r.c.at,
        source: r.c.source,
        ...(r.c.from ? { from: this.byPkiId.get(r.c.from) ?? `${r.c.from.slice(0, 8)}…` } : {}),
        delayMs: round(r.c.at - firstAt),
        orgDelayMs: round(r.c.at - (orgFirst.get(r.org) ?? r.c.at)),
      }))
      .sort((a, b) => a.at - b.at);
    const lastAt = Math.max(...recs.map((r) => r.c.at));
    return {
      number: n,
      firstAt,
      latencyMs: round(lastAt - firstAt),
      complete: recs.length === this.peers.size,
      hops,
    };
  }

  snapshot(): NetworkSnapshot {
    const peers = [...this.peers.values()].map((p) => {
      const restarts = this.restarts.get(p.name);
      return { ...p, connections: [...p.connections], ...(restarts ? { restarts } : {}) };
    });
    const ordererRestarts = this.restarts.get(this.orderer.name);
    const orgNames = [...new Set(peers.map((p) => p.org))].sort();
    const blocks = [...this.commits.entries()]
      .sort((a, b) => b[0] - a[0])
      .slice(0, KEEP_BLOCKS)
      .map(([n, m]) => this.path(n, m));
    const complete = blocks
      .filter((b) => b.complete)
      .map((b) => b.latencyMs)
      .sort((a, b) => a - b);
    const heights = peers.map((p) => p.height);
    return {
      channel: this.channel,
      startedAt: this.startedAt,
      now: this.now(),
      orderer: { ...this.orderer, ...(ordererRestarts ? { restarts: ordererRestarts } : {}) },
      orgs: orgNames.map((mspId) => {
        const leader = peers.find((p) => p.org === mspId && p.leader)?.name;
        return {
          mspId,
          ...(leader ? { leader } : {}),
          peers: peers.filter((p) => p.org === mspId).map((p) => p.name),
        };
      }),
      peers,
      blocks,
      milestones: { ...this.milestones },
      stats: {
        txSent: this.txSent,
        txAccepted: this.txAccepted,
        ...(complete.length > 0 ? { medianLatencyMs: complete[Math.floor(complete.length / 2)] } : {}),
        maxHeight: Math.max(0, ...heights),
        minHeight: heights.length ? Math.min(...heights) : 0,
      },
      ...(this.dashboard ? { dashboard: this.dashboard } : {}),
    };
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
