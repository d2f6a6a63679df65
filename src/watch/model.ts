/**
 * The dashboard's model: a network seen through the GET /status of one or more peers (Grapevine
 * observers, docs/operations.md). It polls every URL each `intervalMs` (at most one request in
 * flight per URL, each with a time limit) and builds, from the last good answer of each:
 *   sources   every URL: answering or not (the error), since when, the peer that answers;
 *   members   one per PKI-ID any answer lists (merge.ts): name, org, endpoint, liveness (answering,
 *             alive, dead, disputed), height and lag behind the channel's highest per channel,
 *             leadership, certificate expiry, since when its height stalls;
 *   orgs      the members by org, with the leader(s) of each channel where known;
 *   edges     the answering peers' gossip connections and block-stream upstreams;
 *   blocks    each block's arrival at the answering peers (their `commits`: when, how, from whom,
 *             the delay after its first arrival anywhere), the last `maxBlocks`;
 *   events    a bounded log of what changed: members joined, died, came back, heights stalled and
 *             moved again, URLs became unreachable or answered again, alerts raised and cleared;
 *   alerts    every answer's `alerts` merged (merge.ts), and one per URL that does not answer;
 *   refused   the answering peers' refused gossip handshakes (their `refusedHandshakes`), most
 *             recently refused first, at most MAX_REFUSED_VIEWS.
 * An unreachable URL is shown, never fatal; its last answer is no longer used (stale). Bounded:
 * the URLs given, the members of the answers (each bounded by its peer), the blocks kept, the
 * events kept. The clock and the fetch are injected (tests feed documents without sockets).
 */
import { errorMessage } from '../base/errors.js';
import type { PeerStatusDocument, RefusedHandshakeStatus } from '../node/status.js';
import { fetchStatus, statusUrl, type TlsFiles } from './client.js';
import { memberRows, mergeAlerts, severityRank, type MergedAlert, type MemberRow } from './merge.js';

export interface WatchOptions {
  /** Operations endpoints (`host:port` or URLs; see client.ts statusUrl). */
  readonly urls: readonly string[];
  /** Poll period (ms). Default 2000. */
  readonly intervalMs?: number;
  /** Time limit of one request (ms). Default 5000. */
  readonly timeoutMs?: number;
  readonly tls?: TlsFiles;
  /** A height that does not move for this long while the channel's highest is above it stalls (ms). Default 30 s. */
  readonly stallMs?: number;
  /** Events kept. Default 200. */
  readonly maxEvents?: number;
  /** Blocks kept (all channels). Default 40. */
  readonly maxBlocks?: number;
  /** Default Date.now. */
  readonly now?: () => number;
  /** Default client.ts fetchStatus. */
  readonly fetch?: (url: URL, timeoutMs: number, signal: AbortSignal) => Promise<PeerStatusDocument>;
}

export interface SourceView {
  readonly url: string;
  readonly ok: boolean;
  /** The last failure (when !ok). */
  readonly error?: string;
  /** peer.id and org of the peer that answers (or last answered). */
  readonly peer?: string;
  readonly org?: string;
  readonly pkiId?: string;
  /** When it last answered, ms since the epoch. */
  readonly lastOkAt?: number;
  /** Since when it fails (ms since the epoch), while !ok. */
  readonly failingSince?: number;
  /** Requests answered, and failed, so far. */
  readonly answers: number;
  readonly failures: number;
}

/** answering: it answered GET /status itself; disputed: views disagree on its liveness. */
export type MemberState = 'answering' | 'alive' | 'dead' | 'disputed' | 'unknown';

/** What `network up` knows of its own processes over IPC (merged by endpoint). */
export interface LocalProcess {
  readonly name: string;
  readonly org: string;
  /** Gossip endpoint (host:port). */
  readonly endpoint: string;
  readonly status: string;
  readonly restarts?: number;
  readonly error?: string;
  readonly rssBytes?: number;
  readonly pid?: number;
}

export interface LocalInfo {
  /** The local orderer, drawn above the orgs. */
  readonly orderer?: {
    readonly name: string;
    readonly endpoint: string;
    readonly status: string;
    readonly restarts?: number;
  };
  readonly processes?: readonly LocalProcess[];
  readonly txSent?: number;
  readonly txAccepted?: number;
  /** A title for the page ("local network"). */
  readonly title?: string;
}

export interface MemberView {
  /** '' for a local process no answer lists yet. */
  readonly pkiId: string;
  readonly name: string;
  readonly org: string;
  readonly endpoint: string;
  /** No view knows an external endpoint for it: `endpoint` is its internal one. */
  readonly internalOnly?: true;
  readonly state: MemberState;
  /** Views saying alive / dead. */
  readonly votes: { readonly alive: number; readonly dead: number };
  readonly lastSeen?: number;
  /** Height per channel (the highest any view reports). */
  readonly heights: Readonly<Record<string, number>>;
  /** A member no view lists a height for (a dead one): the last heights seen, per channel. */
  readonly lastHeights?: Readonly<Record<string, number>>;
  /** Blocks behind the channel's highest height, per channel. */
  readonly lag: Readonly<Record<string, number>>;
  readonly leaderOf: readonly string[];
  readonly cert?: { readonly notAfter: string; readonly expired: boolean };
  /** Since when (ms) its height on some channel stalls behind the highest. */
  readonly stalledSince?: number;
  /** An answering peer: its URL, connections, block streams per channel. */
  readonly observer?: {
    readonly url: string;
    readonly connections: number;
    readonly streams: readonly {
      readonly channel: string;
      readonly plan: string;
      readonly upstream?: string;
      readonly depth?: number;
    }[];
    readonly refused: number;
  };
  /** `network up`'s process facts. */
  readonly local?: Omit<LocalProcess, 'name' | 'org' | 'endpoint'>;
  /** Kinds of the peers' alerts about it (by PKI-ID or endpoint). */
  readonly alerts?: readonly string[];
}

export interface OrgView {
  readonly mspId: string;
  /** PKI-IDs (or endpoints of local processes not seen yet), by name. */
  readonly members: readonly string[];
  /** Per channel: the PKI-IDs of the members that lead it ([] none; absent: not known). */
  readonly leaders: Readonly<Record<string, readonly string[]>>;
}

export interface ChannelView {
  readonly name: string;
  readonly maxHeight: number;
  readonly minHeight: number;
}

export interface Edge {
  readonly from: string;
  readonly to: string;
  /** gossip: an open gossip connection; stream: `from` streams its blocks from `to`. */
  readonly kind: 'gossip' | 'stream';
}

export interface Arrival {
  /** The answering peer (name) that committed it. */
  readonly peer: string;
  readonly at: number;
  readonly source: string;
  /** Name (or endpoint) of the peer the block came from. */
  readonly from?: string;
  readonly latencyMs?: number;
  /** ms after its first arrival at any answering peer. */
  readonly delayMs: number;
}

export interface BlockView {
  readonly channel: string;
  readonly number: number;
  readonly firstAt: number;
  /** Last arrival minus first, over the answering peers that have it. */
  readonly spreadMs: number;
  readonly arrivals: readonly Arrival[];
}

export type EventKind =
  'joined' | 'died' | 'back' | 'stalled' | 'moving' | 'unreachable' | 'answering' | 'alert' | 'cleared';

export interface WatchEvent {
  readonly at: number;
  readonly kind: EventKind;
  /** Who: a member's name, a URL, an alert's kind. */
  readonly subject: string;
  readonly message: string;
}

export interface AlertView extends MergedAlert {
  /** 'peer': from an answer's alerts; 'dashboard': raised here (an unreachable URL). */
  readonly origin: 'peer' | 'dashboard';
}

/** A refused handshake as an answering peer reports it. */
export interface RefusedView extends RefusedHandshakeStatus {
  /** The answering peer's id. */
  readonly seenBy: string;
}

/** Refused handshakes shown at most (the peers' records hold up to 256 each). */
export const MAX_REFUSED_VIEWS = 50;

export interface DashboardState {
  readonly title: string;
  readonly now: number;
  readonly startedAt: number;
  readonly intervalMs: number;
  readonly sources: readonly SourceView[];
  readonly channels: readonly ChannelView[];
  readonly orgs: readonly OrgView[];
  readonly members: readonly MemberView[];
  readonly edges: readonly Edge[];
  readonly blocks: readonly BlockView[];
  readonly events: readonly WatchEvent[];
  readonly alerts: readonly AlertView[];
  readonly refused: readonly RefusedView[];
  readonly local?: {
    readonly orderer?: LocalInfo['orderer'];
    readonly txSent?: number;
    readonly txAccepted?: number;
  };
}

interface Source {
  readonly url: string;
  readonly target?: URL;
  readonly badUrl?: string;
  doc?: PeerStatusDocument;
  error?: string;
  lastOkAt?: number;
  failingSince?: number;
  answers: number;
  failures: number;
  inFlight?: Promise<void>;
}

interface Known {
  name: string;
  dead: boolean;
  /** Per channel: the height and when it last changed. */
  heights: Map<string, { height: number; changedAt: number }>;
  stalled: Set<string>;
  stalledSince?: number;
}

interface BlockEntry {
  readonly channel: string;
  readonly number: number;
  /** By the answering peer's PKI-ID. */
  readonly arrivals: Map<string, Omit<Arrival, 'delayMs'>>;
}

/** Most members remembered for the event log (those no answer lists any more go first). */
const MAX_KNOWN = 20_000;

export class NetworkWatch {
  private readonly sources: Source[];
  private readonly known = new Map<string, Known>();
  private readonly blockMap = new Map<string, BlockEntry>();
  private readonly eventLog: WatchEvent[] = [];
  private alertKeys = new Set<string>();
  /** Every URL was asked once: members seen from now on are logged as joined. */
  private firstRoundDone = false;
  private timer?: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private readonly startedAt: number;
  private readonly now: () => number;
  private view: Omit<DashboardState, 'now' | 'title' | 'local' | 'events'>;
  private local?: () => LocalInfo;

  constructor(private readonly o: WatchOptions) {
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    this.sources = [...new Set(o.urls)].map((url) => {
      try {
        return { url, target: statusUrl(url), answers: 0, failures: 0 };
      } catch (e) {
        return { url, badUrl: errorMessage(e), answers: 0, failures: 0 };
      }
    });
    this.view = this.build();
  }

  get intervalMs(): number {
    return this.o.intervalMs ?? 2000;
  }

  /** Merge what `network up` knows over IPC into every snapshot. */
  setLocal(local: () => LocalInfo): void {
    this.local = local;
  }

  /** Start polling (a first round at once); resolves when the first round settled. */
  start(): Promise<void> {
    const round = this.poll().then(() => {
      if (this.firstRoundDone) return;
      this.firstRoundDone = true;
      const ok = this.sources.filter((s) => s.doc).length;
      this.event(
        'answering',
        'dashboard',
        `first view: ${this.view.members.length} members in ${this.view.orgs.length} orgs, through ${ok} of ${this.sources.length} status URLs`,
      );
    });
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    return round;
  }

  /** One round: a request to every URL with none in flight; resolves when they settled. */
  poll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const s of this.sources) {
      if (s.inFlight) {
        waits.push(s.inFlight);
        continue;
      }
      if (!s.target) {
        if (s.failures === 0) this.failed(s, s.badUrl ?? 'bad URL');
        continue;
      }
      const fetch = this.o.fetch ?? ((u, t, signal) => fetchStatus(u, t, this.o.tls, signal));
      s.inFlight = fetch(s.target, this.o.timeoutMs ?? 5000, this.abort.signal).then(
        (doc) => {
          s.inFlight = undefined;
          if (this.abort.signal.aborted) return;
          const wasFailing = s.failingSince !== undefined;
          const failingSince = s.failingSince;
          s.doc = doc;
          s.error = undefined;
          s.failingSince = undefined;
          s.lastOkAt = this.now();
          s.answers++;
          try {
            this.update();
          } catch (e) {
            // a document this model cannot read (fields of the wrong type): not used, shown
            s.doc = undefined;
            s.answers--;
            s.failingSince = failingSince;
            this.failed(s, `bad answer: ${errorMessage(e)}`);
            return;
          }
          if (wasFailing) this.event('answering', s.url, `${s.url} answers again (${doc.peer.id})`);
        },
        (e: unknown) => {
          s.inFlight = undefined;
          if (this.abort.signal.aborted) return;
          this.failed(s, errorMessage(e));
        },
      );
      waits.push(s.inFlight);
    }
    return Promise.all(waits).then(() => undefined);
  }

  private failed(s: Source, error: string): void {
    const first = s.failingSince === undefined;
    s.error = error;
    s.doc = undefined;
    s.failures++;
    if (first) {
      s.failingSince = this.now();
      this.event('unreachable', s.url, `${s.url} does not answer: ${error}`);
    }
    this.update();
  }

  /** Stop polling and abort the requests in flight. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
  }

  private event(kind: EventKind, subject: string, message: string): void {
    this.eventLog.push({ at: this.now(), kind, subject, message });
    const max = this.o.maxEvents ?? 200;
    if (this.eventLog.length > max) this.eventLog.splice(0, this.eventLog.length - max);
  }

  /** Rebuild the view from the answers, logging what changed since the last one. */
  private update(): void {
    this.view = this.build();
  }

  private build(): Omit<DashboardState, 'now' | 'title' | 'local' | 'events'> {
    const now = this.now();
    const answering = this.sources.filter((s) => s.doc);
    const docs = answering.map((s) => s.doc!);
    const { rows, channels } = memberRows(docs);
    const byPki = new Map(rows.map((r) => [r.pkiId, r]));
    const nameOf = (r: MemberRow) => r.name || r.endpoint || `${r.pkiId.slice(0, 12)}…`;

    const channelViews: ChannelView[] = channels.map((name) => {
      const hs = rows.filter((r) => r.heights.has(name)).map((r) => r.heights.get(name)!);
      return { name, maxHeight: Math.max(0, ...hs), minHeight: hs.length ? Math.min(...hs) : 0 };
    });
    const maxOf = new Map(channelViews.map((c) => [c.name, c.maxHeight]));

    // what changed: members joined, died, came back; heights stalled or moved again
    const stallMs = this.o.stallMs ?? 30_000;
    const present = new Set<string>();
    for (const r of rows) {
      present.add(r.pkiId);
      const dead = !r.observer && r.alive === 0 && r.dead > 0;
      let k = this.known.get(r.pkiId);
      if (!k) {
        k = { name: nameOf(r), dead, heights: new Map(), stalled: new Set() };
        this.known.set(r.pkiId, k);
        if (this.firstRoundDone)
          this.event(
            'joined',
            k.name,
            `${k.name} (${r.org || 'org unknown'}, ${r.endpoint || 'no endpoint'}) joined${dead ? ', dead' : ''}`,
          );
      } else {
        if (r.name && k.name !== r.name) k.name = r.name;
        if (dead !== k.dead) {
          k.dead = dead;
          this.event(dead ? 'died' : 'back', k.name, dead ? `${k.name} is dead` : `${k.name} is alive again`);
        }
      }
      for (const [ch, h] of r.heights) {
        const was = k.heights.get(ch);
        if (!was || was.height !== h) {
          k.heights.set(ch, { height: h, changedAt: now });
          if (k.stalled.delete(ch))
            this.event('moving', k.name, `${k.name} moves again on ${ch}: height ${h}`);
        } else if (
          !dead &&
          !k.stalled.has(ch) &&
          h < (maxOf.get(ch) ?? 0) &&
          now - was.changedAt >= stallMs
        ) {
          k.stalled.add(ch);
          this.event(
            'stalled',
            k.name,
            `${k.name} stalls on ${ch} at height ${h}, ${(maxOf.get(ch) ?? 0) - h} behind, for ${Math.round((now - was.changedAt) / 1000)} s`,
          );
        }
      }
      if (k.stalled.size === 0) k.stalledSince = undefined;
      else k.stalledSince ??= Math.min(...[...k.stalled].map((ch) => k!.heights.get(ch)?.changedAt ?? now));
    }
    if (this.known.size > MAX_KNOWN) {
      for (const key of this.known.keys()) {
        if (this.known.size <= MAX_KNOWN) break;
        if (!present.has(key)) this.known.delete(key);
      }
    }

    const members: MemberView[] = rows.map((r) => {
      const src = answering.find((s) => s.doc!.peer.pkiId === r.pkiId);
      const k = this.known.get(r.pkiId);
      const lag: Record<string, number> = {};
      for (const [ch, h] of r.heights) lag[ch] = (maxOf.get(ch) ?? h) - h;
      const state: MemberState = r.observer
        ? 'answering'
        : r.alive > 0 && r.dead > 0
          ? 'disputed'
          : r.alive > 0
            ? 'alive'
            : r.dead > 0
              ? 'dead'
              : 'unknown';
      const doc = src?.doc;
      return {
        pkiId: r.pkiId,
        name: nameOf(r),
        org: r.org,
        endpoint: r.endpoint,
        ...(r.internalOnly && r.endpoint ? { internalOnly: true as const } : {}),
        state,
        votes: { alive: r.alive, dead: r.dead },
        ...(r.lastSeen !== undefined ? { lastSeen: r.lastSeen } : {}),
        heights: Object.fromEntries(r.heights),
        ...(r.heights.size === 0 && k && k.heights.size > 0
          ? { lastHeights: Object.fromEntries([...k.heights].map(([ch, v]) => [ch, v.height])) }
          : {}),
        lag,
        leaderOf: [...r.leaderOf].sort(),
        ...(r.expires ? { cert: { notAfter: r.expires, expired: r.expired === true } } : {}),
        ...(k?.stalledSince !== undefined ? { stalledSince: k.stalledSince } : {}),
        ...(doc
          ? {
              observer: {
                url: src.url,
                connections: doc.connections.length,
                streams: doc.channels.flatMap((c) =>
                  c.stream
                    ? [
                        {
                          channel: c.name,
                          plan: c.stream.plan,
                          ...(c.stream.upstream
                            ? {
                                upstream: byPki.get(c.stream.upstream.pkiId)
                                  ? nameOf(byPki.get(c.stream.upstream.pkiId)!)
                                  : c.stream.upstream.endpoint,
                              }
                            : {}),
                          ...(c.stream.depth !== undefined ? { depth: c.stream.depth } : {}),
                        },
                      ]
                    : [],
                ),
                refused: doc.refused.reduce((n, x) => n + x.value, 0),
              },
            }
          : {}),
      };
    });

    const edges: Edge[] = [];
    const seenEdge = new Set<string>();
    for (const s of answering) {
      const d = s.doc!;
      for (const c of d.connections) {
        const key = [d.peer.pkiId, c.pkiId].sort().join('|');
        if (seenEdge.has(key)) continue;
        seenEdge.add(key);
        edges.push({ from: d.peer.pkiId, to: c.pkiId, kind: 'gossip' });
      }
      for (const ch of d.channels) {
        const up = ch.stream?.upstream?.pkiId;
        const key = `${d.peer.pkiId}>${up}`;
        if (!up || seenEdge.has(key)) continue;
        seenEdge.add(key);
        edges.push({ from: d.peer.pkiId, to: up, kind: 'stream' });
      }
    }

    this.collectBlocks(answering, byPki, nameOf);
    const blocks = this.blockViews();

    const alerts: AlertView[] = [
      ...mergeAlerts(docs).map((a) => ({ ...a, origin: 'peer' as const })),
      ...this.sources
        .filter((s) => s.failingSince !== undefined)
        .map((s): AlertView => ({
          key: `unreachable|${s.url}`,
          kind: 'status_unreachable',
          severity: 'warning',
          since: new Date(s.failingSince!).toISOString(),
          message: `${s.url} does not answer GET /status: ${s.error ?? ''}`,
          endpoint: s.url,
          reportedBy: [],
          origin: 'dashboard',
        })),
    ].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
    const flagged = members.map((m) => {
      const kinds = alerts
        .filter(
          (a) =>
            a.origin === 'peer' &&
            ((a.pkiId !== undefined && a.pkiId === m.pkiId) ||
              (a.endpoint !== undefined && m.endpoint !== '' && a.endpoint === m.endpoint)),
        )
        .map((a) => a.kind);
      return kinds.length > 0 ? { ...m, alerts: [...new Set(kinds)] } : m;
    });
    const keys = new Set(alerts.map((a) => a.key));
    for (const a of alerts)
      if (!this.alertKeys.has(a.key) && a.origin === 'peer')
        this.event('alert', a.kind, `${a.severity}: ${a.message || a.kind}`);
    for (const key of this.alertKeys)
      if (!keys.has(key) && !key.startsWith('unreachable|'))
        this.event('cleared', key.split('|')[0], `cleared: ${key.split('|').filter(Boolean).join(' ')}`);
    this.alertKeys = keys;

    const orgNames = [...new Set(flagged.map((m) => m.org))].sort();
    const orgs: OrgView[] = orgNames.map((mspId) => {
      const ms = flagged.filter((m) => m.org === mspId);
      const leaders: Record<string, string[]> = {};
      for (const ch of channels) {
        // leadership is known for an org when an answering peer belongs to it
        if (
          ms.some((m) => m.state === 'answering' && ch in m.heights) ||
          ms.some((m) => m.leaderOf.includes(ch))
        )
          leaders[ch] = ms.filter((m) => m.leaderOf.includes(ch) && m.state !== 'dead').map((m) => m.pkiId);
      }
      return { mspId, members: ms.map((m) => m.pkiId), leaders };
    });

    return {
      startedAt: this.startedAt,
      intervalMs: this.intervalMs,
      sources: this.sources.map((s) => ({
        url: s.url,
        ok: s.doc !== undefined,
        ...(s.error !== undefined ? { error: s.error } : {}),
        ...(s.doc ? { peer: s.doc.peer.id, org: s.doc.peer.mspId, pkiId: s.doc.peer.pkiId } : {}),
        ...(s.lastOkAt !== undefined ? { lastOkAt: s.lastOkAt } : {}),
        ...(s.failingSince !== undefined ? { failingSince: s.failingSince } : {}),
        answers: s.answers,
        failures: s.failures,
      })),
      channels: channelViews,
      orgs,
      members: flagged,
      edges,
      blocks,
      alerts,
      refused: answering
        .flatMap((s) => (s.doc!.refusedHandshakes ?? []).map((r) => ({ ...r, seenBy: s.doc!.peer.id })))
        .sort((a, b) => b.last.localeCompare(a.last))
        .slice(0, MAX_REFUSED_VIEWS),
    };
  }

  private collectBlocks(
    answering: readonly Source[],
    byPki: Map<string, MemberRow>,
    nameOf: (r: MemberRow) => string,
  ): void {
    const max = this.o.maxBlocks ?? 40;
    for (const s of answering) {
      const d = s.doc!;
      for (const c of d.commits) {
        const at = Date.parse(c.at);
        if (Number.isNaN(at)) continue;
        const key = `${c.channel}/${c.block}`;
        let b = this.blockMap.get(key);
        if (!b) {
          if (this.blockMap.size >= max) {
            // full: a block that arrived before every block kept is not worth a slot (the
            // commits ring of each answer holds blocks already dropped here); else the oldest goes
            const oldest = this.oldestBlock();
            if (oldest && at <= oldest.at) continue;
            if (oldest) this.blockMap.delete(oldest.key);
          }
          b = { channel: c.channel, number: c.block, arrivals: new Map() };
          this.blockMap.set(key, b);
        }
        if (b.arrivals.has(d.peer.pkiId)) continue;
        const from = c.from ? byPki.get(c.from) : undefined;
        b.arrivals.set(d.peer.pkiId, {
          peer: d.peer.id,
          at,
          source: c.source,
          ...(c.from ? { from: from ? nameOf(from) : c.fromEndpoint || `${c.from.slice(0, 12)}…` } : {}),
          ...(c.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}),
        });
      }
    }
  }

  /** The kept block whose first arrival is the earliest, with that time. */
  private oldestBlock(): { key: string; at: number } | undefined {
    let oldest: { key: string; at: number } | undefined;
    for (const [key, b] of this.blockMap) {
      let at = Infinity;
      for (const a of b.arrivals.values()) at = Math.min(at, a.at);
      if (!oldest || at < oldest.at) oldest = { key, at };
    }
    return oldest;
  }

  private blockViews(): BlockView[] {
    return [...this.blockMap.values()]
      .map((b) => {
        const arr = [...b.arrivals.values()];
        const firstAt = Math.min(...arr.map((a) => a.at));
        const lastAt = Math.max(...arr.map((a) => a.at));
        return {
          channel: b.channel,
          number: b.number,
          firstAt,
          spreadMs: round(lastAt - firstAt),
          arrivals: arr.map((a) => ({ ...a, delayMs: round(a.at - firstAt) })).sort((x, y) => x.at - y.at),
        };
      })
      .sort((x, y) => y.firstAt - x.firstAt || y.number - x.number);
  }

  /** The state the page renders (JSON). */
  snapshot(): DashboardState {
    const local = this.local?.();
    let members = this.view.members;
    let orgs = this.view.orgs;
    if (local?.processes?.length) {
      const byEndpoint = new Map(local.processes.map((p) => [p.endpoint, p]));
      const matched = new Set<string>();
      members = members.map((m) => {
        const p = byEndpoint.get(m.endpoint);
        if (!p) return m;
        matched.add(p.endpoint);
        const { name: _n, org: _o, endpoint: _e, ...facts } = p;
        return { ...m, name: m.name || p.name, local: facts };
      });
      const unseen = local.processes.filter((p) => !matched.has(p.endpoint));
      if (unseen.length > 0) {
        members = [
          ...members,
          ...unseen.map((p): MemberView => ({
            pkiId: '',
            name: p.name,
            org: p.org,
            endpoint: p.endpoint,
            state: 'unknown',
            votes: { alive: 0, dead: 0 },
            heights: {},
            lag: {},
            leaderOf: [],
            local: {
              status: p.status,
              ...(p.restarts ? { restarts: p.restarts } : {}),
              ...(p.error ? { error: p.error } : {}),
            },
          })),
        ].sort((a, b) => a.org.localeCompare(b.org) || a.name.localeCompare(b.name));
        const orgNames = [...new Set(members.map((m) => m.org))].sort();
        orgs = orgNames.map(
          (mspId) => this.view.orgs.find((o) => o.mspId === mspId) ?? { mspId, members: [], leaders: {} },
        );
        orgs = orgs.map((o) => ({
          ...o,
          members: members.filter((m) => m.org === o.mspId).map((m) => m.pkiId || m.endpoint),
        }));
      }
    }
    return {
      ...this.view,
      title: local?.title ?? 'network',
      now: this.now(),
      events: [...this.eventLog].reverse(),
      members,
      orgs,
      ...(local
        ? {
            local: {
              ...(local.orderer ? { orderer: local.orderer } : {}),
              ...(local.txSent !== undefined ? { txSent: local.txSent } : {}),
              ...(local.txAccepted !== undefined ? { txAccepted: local.txAccepted } : {}),
            },
          }
        : {}),
    };
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
