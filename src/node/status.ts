/**
 * GET /status of a peer's operations server (docs/operations.md, "GET /status"): what this peer
 * sees of its network's gossip, as one JSON document:
 *   peer         this peer (id, org, endpoint, PKI-ID, version, start time);
 *   channels     per channel: height, leader flag, election mode, block stream plan/upstream/depth
 *                (the daemon's ChannelState, as `network up` gets it over IPC);
 *   members      discovery's view (alive and dead, bounded by discovery's own member limit): PKI-ID,
 *                org, endpoints, since when alive/dead, the certificate's subject and expiry (from
 *                the identity store, parsed once per PKI-ID), per channel the StateInfo height
 *                and, for our own org, whether it declared leadership within leaderAliveThreshold;
 *   connections  our open gossip connections;
 *   commits      the last RECENT_COMMITS blocks committed (CommitTracker.recent());
 *   refused      the non-zero series of the registry's dropped/refused/rejected counters;
 *   refusedHandshakes  the comm link's bounded record of refused gossip handshakes (who, why, how
 *                often, since when, the certificate presented, claimed vs expected PKI-ID);
 *   alerts       what needs a person (./alerts.ts), from this same view.
 * Work per request is bounded by those limits (members, the LRU of parsed certificates, the
 * commit ring, the counters' label sets).
 */
import type { ServerResponse } from 'node:http';
import { pkiIdKey, type PkiId } from '../base/pkiid.js';
import { METRIC_BY_NAME } from '../base/metric-table.js';
import type { Metrics } from '../base/metrics.js';
import type { Unsubscribe } from '../core/link/types.js';
import type { LeadershipEvent } from '../core/channel/types.js';
import type { MembershipEvent } from '../core/discovery/types.js';
import { identityFromSerialized } from '../identity/x509identity.js';
import { LruCache } from '../identity/lru.js';
import type { ChannelState, CommitRecord, StreamState } from './peerstate.js';
import type { Alert, AlertInput, AlertMember, EndpointFailure } from './alerts.js';
import type { RefusedHandshake } from '../core/link/refused.js';

/** Certificate facts of a member. */
export interface CertStatus {
  /** The subject DN, RFC 4514-like ("C=US, O=org1.example.com, CN=peer0.org1.example.com"). */
  readonly subject: string;
  /** notAfter, ISO 8601. */
  readonly notAfter: string;
  readonly expired: boolean;
}

export interface MemberChannelStatus {
  readonly name: string;
  /** Ledger height from its StateInfo. */
  readonly height: number;
  /** Own-org members only (from LeadershipMessages); absent when unknown. */
  readonly leader?: boolean;
}

export interface MemberStatus {
  readonly pkiId: string;
  /** MSP ID of its identity, when known. */
  readonly mspId?: string;
  readonly endpoint: string;
  readonly internalEndpoint: string;
  readonly alive: boolean;
  /** When its last alive message was accepted (dead members: when last seen alive), ISO 8601. */
  readonly lastSeen: string;
  /**
   * Since when it is alive (learned, or back from the dead) or dead (declared), in this peer's
   * view, ISO 8601; a member known before the status began counts from then.
   */
  readonly since?: string;
  readonly cert?: CertStatus;
  readonly channels: readonly MemberChannelStatus[];
}

export interface ConnectionStatus {
  readonly pkiId: string;
  readonly endpoint: string;
  readonly direction: 'in' | 'out';
}

export interface CommitStatus {
  readonly channel: string;
  readonly block: number;
  /** ISO 8601 */
  readonly at: string;
  readonly source: CommitRecord['source'];
  /** PKI-ID (hex) of the sender (push/pull) or upstream (stream). */
  readonly from?: string;
  /** That peer's endpoint, when discovery knows it. */
  readonly fromEndpoint?: string;
  readonly latencyMs?: number;
}

export interface RefusedCount {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A refused gossip handshake (the comm link's record, src/core/link/refused.ts). */
export interface RefusedHandshakeStatus {
  /** 'in': a remote dialled us; 'out': we dialled it. */
  readonly direction: 'in' | 'out';
  /** The remote's address (inbound: the last one, its port changes per retry) or the endpoint dialled. */
  readonly endpoint: string;
  /** The handshake failure reason (grapevine_gossip_comm_handshake_failures_total's label). */
  readonly reason: string;
  readonly count: number;
  /** First and last refusal, ISO 8601. */
  readonly first: string;
  readonly last: string;
  /** The last refusal's error. */
  readonly error: string;
  /** What the remote presented: its ConnEstablish identity's certificate, else its TLS leaf. */
  readonly cert?: CertStatus & { readonly from: 'identity' | 'tls'; readonly mspId?: string };
  /** PKI-IDs (hex): what the remote claimed, what we dialled for. */
  readonly claimedPkiId?: string;
  readonly expectedPkiId?: string;
  /** We dialled expectedPkiId and the remote claimed another: "claims to be a different peer". */
  readonly identityMismatch: boolean;
}

/** The /status form of a record entry; `cert.expired` = expired at its last refusal. */
export function refusedHandshakeStatus(r: RefusedHandshake): RefusedHandshakeStatus {
  return {
    direction: r.direction,
    endpoint: r.endpoint,
    reason: r.reason,
    count: r.count,
    first: new Date(r.firstMs).toISOString(),
    last: new Date(r.lastMs).toISOString(),
    error: r.error,
    ...(r.cert
      ? {
          cert: {
            subject: r.cert.subject,
            notAfter: new Date(r.cert.notAfterMs).toISOString(),
            expired: r.expired,
            from: r.cert.from,
            ...(r.cert.mspId ? { mspId: r.cert.mspId } : {}),
          },
        }
      : {}),
    ...(r.claimedPkiId ? { claimedPkiId: r.claimedPkiId } : {}),
    ...(r.expectedPkiId ? { expectedPkiId: r.expectedPkiId } : {}),
    identityMismatch: r.identityMismatch,
  };
}

export interface PeerStatusDocument {
  /** When the document was made, ISO 8601. */
  readonly time: string;
  readonly peer: {
    readonly id: string;
    readonly mspId: string;
    readonly endpoint: string;
    readonly pkiId: string;
    readonly version: string;
    readonly startedAt: string;
    /** Observer mode (grapevine.observer): never a leader, never a stream source or upstream. */
    readonly observer: boolean;
    /** Its own certificate (subject, expiry); absent when it cannot be parsed. */
    readonly cert?: CertStatus;
  };
  readonly channels: readonly (Omit<ChannelState, 'members'> & { readonly stream?: StreamState })[];
  readonly members: readonly MemberStatus[];
  readonly connections: readonly ConnectionStatus[];
  readonly commits: readonly CommitStatus[];
  readonly refused: readonly RefusedCount[];
  /** Refused gossip handshakes, most recently refused first (bounded: 256); absent from older peers. */
  readonly refusedHandshakes?: readonly RefusedHandshakeStatus[];
  /** Active alerts (./alerts.ts), critical first. */
  readonly alerts: readonly Alert[];
}

/** Counters listed under `refused`: what was dropped, refused or rejected, by reason. */
export const REFUSED_METRICS: readonly string[] = [...METRIC_BY_NAME.values()]
  .filter(
    (d) =>
      d.type === 'counter' &&
      /(dropped|refused|rejected|bad_input|handshake_failures|full)_total$|overflow_count$/.test(d.name),
  )
  .map((d) => d.name);

/** At most this many members are listed (discovery bounds them well below). */
export const MAX_STATUS_MEMBERS = 10_000;
const MAX_DECLARERS = 64;
const MAX_ELECTED_CHANNELS = 4096;

/**
 * Who declared leadership of which channel, and when (verified LeadershipMessages with
 * is_declaration); bounded per channel.
 */
export class LeaderWatch {
  private readonly seen = new Map<string, Map<string, number>>();
  /** Channels (ours: bounded) on which our org's LeadershipMessages were seen. */
  private readonly elected = new Set<string>();
  private readonly unsubscribe: Unsubscribe;

  constructor(
    onLeadership: (handler: (e: LeadershipEvent) => void) => Unsubscribe,
    private readonly now: () => number,
    private readonly aliveThresholdMs: number,
  ) {
    this.unsubscribe = onLeadership((e) => {
      if (this.elected.size < MAX_ELECTED_CHANNELS) this.elected.add(e.channel);
      if (!e.message.isDeclaration) return;
      let m = this.seen.get(e.channel);
      if (!m) this.seen.set(e.channel, (m = new Map()));
      const key = pkiIdKey(e.message.pkiId);
      m.delete(key);
      if (m.size >= MAX_DECLARERS) {
        const oldest = m.keys().next().value;
        if (oldest !== undefined) m.delete(oldest);
      }
      m.set(key, this.now());
    });
  }

  /** Whether `pkiId` declared leadership of `channel` within the leader alive threshold. */
  declared(channel: string, pkiId: string): boolean {
    const at = this.seen.get(channel)?.get(pkiId);
    return at !== undefined && this.now() - at <= this.aliveThresholdMs;
  }

  /** Our org's members declaring leadership of `channel` now (within the threshold). */
  declarers(channel: string): string[] {
    const m = this.seen.get(channel);
    if (!m) return [];
    const now = this.now();
    return [...m].filter(([, at]) => now - at <= this.aliveThresholdMs).map(([k]) => k);
  }

  /** Whether our org's LeadershipMessages (proposals or declarations) of `channel` were ever seen. */
  electionSeen(channel: string): boolean {
    return this.elected.has(channel);
  }

  stop(): void {
    this.unsubscribe();
  }
}

/** At most this many members' "since" are remembered (removed members are forgotten). */
const MAX_SINCE = 2 * MAX_STATUS_MEMBERS;

/** Since when each member is alive or dead, from discovery's membership events; bounded. */
export class MemberSince {
  private readonly at = new Map<string, { alive: boolean; since: number }>();
  private readonly unsubscribe: Unsubscribe;

  constructor(
    onChange: (handler: (e: MembershipEvent) => void) => Unsubscribe,
    private readonly now: () => number,
  ) {
    this.unsubscribe = onChange((e) => {
      if (e.kind === 'removed') this.at.delete(pkiIdKey(e.pkiId));
      else this.mark(pkiIdKey(e.member.pkiId), e.kind === 'alive');
    });
  }

  private mark(key: string, alive: boolean): void {
    const prev = this.at.get(key);
    if (prev?.alive === alive || (!prev && this.at.size >= MAX_SINCE)) return;
    this.at.set(key, { alive, since: this.now() });
  }

  /** Since when (ms) the member `key` is alive (or dead); from now when not known yet. */
  of(key: string, alive: boolean): number {
    this.mark(key, alive);
    const s = this.at.get(key);
    return s?.alive === alive ? s.since : this.now();
  }

  stop(): void {
    this.unsubscribe();
  }
}

const dnOf = (subject: string): string =>
  subject
    .split('\n')
    .filter((s) => s !== '')
    .join(', ');

/** Certificate subject and expiry per PKI-ID, parsed once (bounded LRU). */
export class CertCache {
  private readonly cache = new LruCache<string, { subject: string; notAfter: Date } | null>(1024);

  of(pkiId: string, identity: () => Uint8Array | undefined, now: Date): CertStatus | undefined {
    let c = this.cache.get(pkiId);
    if (c === undefined) {
      const bytes = identity();
      if (!bytes) return undefined;
      try {
        const id = identityFromSerialized(bytes);
        c = { subject: dnOf(id.cert.subject), notAfter: id.expiresAt };
      } catch {
        c = null;
      }
      this.cache.set(pkiId, c);
    }
    if (!c) return undefined;
    return { subject: c.subject, notAfter: c.notAfter.toISOString(), expired: c.notAfter <= now };
  }
}

/** The alert evaluator's input from a status document (./alerts.ts). */
export function alertInputOf(
  doc: Omit<PeerStatusDocument, 'alerts'>,
  o: {
    /** Our org elects the channel's leader (its LeadershipMessages seen, or we take part). */
    readonly elected: (channel: string) => boolean;
    /** Our org's members that declared leadership of the channel within the threshold (LeaderWatch). */
    readonly declarers: (channel: string) => readonly string[];
    /** Our certificate's expiry (ms). */
    readonly selfNotAfterMs?: number;
    readonly selfSubject?: string;
    readonly unreachable: readonly EndpointFailure[];
  },
): AlertInput {
  const members: AlertMember[] = doc.members.map((m) => ({
    pkiId: m.pkiId,
    ...(m.mspId ? { mspId: m.mspId } : {}),
    endpoint: m.endpoint,
    internalEndpoint: m.internalEndpoint,
    alive: m.alive,
    lastSeenMs: Date.parse(m.lastSeen),
    ...(m.cert ? { notAfterMs: Date.parse(m.cert.notAfter), subject: m.cert.subject } : {}),
    heights: m.channels.map((c) => ({ name: c.name, height: c.height })),
  }));
  // this peer: its lag, its certificate
  members.push({
    pkiId: doc.peer.pkiId,
    mspId: doc.peer.mspId,
    endpoint: doc.peer.endpoint,
    internalEndpoint: '',
    alive: true,
    lastSeenMs: Date.parse(doc.time),
    ...(o.selfNotAfterMs !== undefined ? { notAfterMs: o.selfNotAfterMs } : {}),
    ...(o.selfSubject !== undefined ? { subject: o.selfSubject } : {}),
    heights: doc.channels.map((c) => ({ name: c.name, height: c.height })),
  });
  return {
    self: { pkiId: doc.peer.pkiId, mspId: doc.peer.mspId },
    channels: doc.channels.map((c) => ({
      name: c.name,
      height: c.height,
      elected: o.elected(c.name),
      leaders: [...(c.leader ? [doc.peer.pkiId] : []), ...o.declarers(c.name)],
      ...(c.anchors ? { anchors: c.anchors } : {}),
    })),
    members,
    unreachable: o.unreachable,
    refused: (doc.refusedHandshakes ?? []).map((r) => ({
      direction: r.direction,
      endpoint: r.endpoint,
      reason: r.reason,
      count: r.count,
      firstMs: Date.parse(r.first),
      lastMs: Date.parse(r.last),
      ...(r.cert
        ? {
            subject: r.cert.subject,
            notAfterMs: Date.parse(r.cert.notAfter),
            expired: r.cert.expired,
            ...(r.cert.mspId ? { mspId: r.cert.mspId } : {}),
          }
        : {}),
      ...(r.claimedPkiId ? { claimedPkiId: r.claimedPkiId } : {}),
      ...(r.expectedPkiId ? { expectedPkiId: r.expectedPkiId } : {}),
      identityMismatch: r.identityMismatch,
    })),
  };
}

/** The non-zero series of REFUSED_METRICS in `metrics`, sorted by name. */
export async function refusedCounts(metrics: Metrics): Promise<RefusedCount[]> {
  const out: RefusedCount[] = [];
  for (const name of REFUSED_METRICS) {
    const m = metrics.registry.getSingleMetric(name);
    if (!m) continue;
    const data = await m.get();
    for (const v of data.values) {
      if (v.value === 0) continue;
      const labels: Record<string, string> = {};
      for (const [k, l] of Object.entries(v.labels)) if (l !== undefined) labels[k] = String(l);
      out.push({ metric: name, labels, value: v.value });
    }
  }
  return out;
}

/** What the daemon hands buildStatus. */
export interface StatusSources {
  readonly now: Date;
  readonly peer: PeerStatusDocument['peer'];
  readonly channels: readonly ChannelState[];
  readonly alive: readonly StatusMember[];
  readonly dead: readonly StatusMember[];
  /** Channel members with their StateInfo height, per channel. */
  readonly channelPeers: (channel: string) => readonly { pkiId: PkiId; height: number }[];
  readonly identity: (pkiId: PkiId) => Uint8Array | undefined;
  readonly connections: readonly { pkiId: PkiId; endpoint: string; direction: 'in' | 'out' }[];
  readonly commits: readonly CommitRecord[];
  readonly refused: readonly RefusedCount[];
  readonly refusedHandshakes?: readonly RefusedHandshake[];
  readonly leaders: LeaderWatch;
  readonly certs: CertCache;
  /** Since when each member is alive or dead (absent: no `since`). */
  readonly since?: MemberSince;
  /** Channels whose leader is elected (own-org members get leader: false unless declared). */
  readonly dynamic: (channel: string) => boolean;
}

/** The parts of discovery's MemberInfo the status reads. */
export interface StatusMember {
  readonly pkiId: PkiId;
  readonly endpoint: string;
  readonly internalEndpoint: string;
  readonly mspId: string | undefined;
  readonly lastSeenMs: number;
}

export function buildStatus(s: StatusSources): Omit<PeerStatusDocument, 'alerts'> {
  const heights = new Map<string, MemberChannelStatus[]>();
  for (const ch of s.channels) {
    for (const p of s.channelPeers(ch.name)) {
      const key = pkiIdKey(p.pkiId);
      let list = heights.get(key);
      if (!list) heights.set(key, (list = []));
      list.push({ name: ch.name, height: p.height });
    }
  }
  const endpoints = new Map<string, string>();
  const members: MemberStatus[] = [];
  const add = (m: StatusMember, alive: boolean) => {
    if (members.length >= MAX_STATUS_MEMBERS) return;
    const key = pkiIdKey(m.pkiId);
    const ownOrg = m.mspId !== undefined && m.mspId === s.peer.mspId;
    endpoints.set(key, m.endpoint || m.internalEndpoint);
    const cert = s.certs.of(key, () => s.identity(m.pkiId), s.now);
    members.push({
      pkiId: key,
      ...(m.mspId ? { mspId: m.mspId } : {}),
      endpoint: m.endpoint,
      internalEndpoint: m.internalEndpoint,
      alive,
      lastSeen: new Date(m.lastSeenMs).toISOString(),
      ...(s.since ? { since: new Date(s.since.of(key, alive)).toISOString() } : {}),
      ...(cert ? { cert } : {}),
      channels: (heights.get(key) ?? []).map((c) => {
        const declared = ownOrg && s.leaders.declared(c.name, key);
        return {
          ...c,
          ...(declared || (ownOrg && s.dynamic(c.name)) ? { leader: declared } : {}),
        };
      }),
    });
  };
  for (const m of s.alive) add(m, true);
  for (const m of s.dead) add(m, false);
  return {
    time: s.now.toISOString(),
    peer: s.peer,
    channels: s.channels.map(({ members: _members, ...rest }) => rest),
    members,
    connections: s.connections.map((c) => ({
      pkiId: pkiIdKey(c.pkiId),
      endpoint: c.endpoint || endpoints.get(pkiIdKey(c.pkiId)) || '',
      direction: c.direction,
    })),
    commits: s.commits.map((c) => {
      const ep = c.from ? endpoints.get(c.from) : undefined;
      return {
        channel: c.channel,
        block: c.block,
        at: new Date(c.at).toISOString(),
        source: c.source,
        ...(c.from ? { from: c.from } : {}),
        ...(ep ? { fromEndpoint: ep } : {}),
        ...(c.latencyMs !== undefined ? { latencyMs: Math.round(c.latencyMs * 1000) / 1000 } : {}),
      };
    }),
    refused: s.refused,
    refusedHandshakes: (s.refusedHandshakes ?? []).map(refusedHandshakeStatus),
  };
}

/** Answer GET /status with `doc()`; other methods 405. */
export async function serveStatus(
  method: string | undefined,
  res: ServerResponse,
  doc: () => Promise<PeerStatusDocument>,
): Promise<void> {
  if (method !== 'GET') {
    res.writeHead(405, { Allow: 'GET' }).end();
    return;
  }
  const body = await doc();
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
