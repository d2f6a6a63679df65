/**
 * Several peers' GET /status answers merged into one view of the network: one row per PKI-ID any
 * of them sees (the answering peers included, from their own `peer` and `channels`), with the
 * views' votes on its liveness, its height per channel (the highest any view reports), the
 * channels it leads, its certificate's expiry; and the alerts of every answer, normalised (a field
 * an older peer does not send is empty) and merged (one per kind and subject, the peers that
 * raise it listed). Pure functions, no I/O: `grapevine status` prints these rows, the dashboard's
 * model (model.ts) builds on them.
 */
import type { PeerStatusDocument } from '../node/status.js';

export interface MemberRow {
  readonly pkiId: string;
  /** peer.id of an answering peer, else its certificate's CN; '' when neither is known. */
  name: string;
  /** External endpoint, else the internal one. */
  endpoint: string;
  /** No view knows an external endpoint for it (its org's peers only can reach it). */
  internalOnly: boolean;
  org: string;
  /** Views saying alive / dead (an answering peer counts itself alive). */
  alive: number;
  dead: number;
  /** The latest lastSeen of the views (ms since the epoch), when any says. */
  lastSeen?: number;
  heights: Map<string, number>;
  leaderOf: Set<string>;
  expires?: string;
  expired?: boolean;
  /** It answered GET /status itself. */
  observer: boolean;
}

const cnOf = (subject: string | undefined): string | undefined =>
  subject
    ?.split(', ')
    .find((p) => p.startsWith('CN='))
    ?.slice(3);

/** The rows: one per PKI-ID seen by any answering peer (the peers themselves included). */
export function memberRows(docs: readonly PeerStatusDocument[]): { rows: MemberRow[]; channels: string[] } {
  const rows = new Map<string, MemberRow>();
  const channels = new Set<string>();
  const row = (pkiId: string, endpoint: string, org: string | undefined, external = true): MemberRow => {
    let r = rows.get(pkiId);
    if (!r) {
      r = {
        pkiId,
        name: '',
        endpoint,
        internalOnly: !external,
        org: org ?? '',
        alive: 0,
        dead: 0,
        heights: new Map(),
        leaderOf: new Set(),
        observer: false,
      };
      rows.set(pkiId, r);
    }
    if (endpoint && (!r.endpoint || (r.internalOnly && external))) r.endpoint = endpoint;
    if (external && endpoint) r.internalOnly = false;
    if (!r.org && org) r.org = org;
    return r;
  };
  for (const d of docs) {
    const self = row(d.peer.pkiId, d.peer.endpoint, d.peer.mspId);
    self.name = d.peer.id;
    self.alive++;
    const cert = (d.peer as { cert?: { notAfter?: unknown; expired?: unknown } }).cert;
    if (cert && typeof cert.notAfter === 'string' && !self.expires) {
      self.expires = cert.notAfter;
      self.expired = cert.expired === true;
    }
    self.observer = true;
    const t = Date.parse(d.time);
    if (!Number.isNaN(t)) self.lastSeen = Math.max(self.lastSeen ?? 0, t);
    for (const ch of d.channels) {
      channels.add(ch.name);
      self.heights.set(ch.name, ch.height);
      if (ch.leader) self.leaderOf.add(ch.name);
    }
  }
  for (const d of docs) {
    for (const m of d.members) {
      const r = row(m.pkiId, m.endpoint || m.internalEndpoint, m.mspId, m.endpoint !== '');
      if (!r.name) r.name = cnOf(m.cert?.subject) ?? '';
      if (m.cert && !r.expires) {
        r.expires = m.cert.notAfter;
        r.expired = m.cert.expired;
      }
      if (r.observer) continue;
      if (m.alive) r.alive++;
      else r.dead++;
      const seen = Date.parse(m.lastSeen);
      if (!Number.isNaN(seen)) r.lastSeen = Math.max(r.lastSeen ?? 0, seen);
      for (const c of m.channels) {
        channels.add(c.name);
        r.heights.set(c.name, Math.max(r.heights.get(c.name) ?? 0, c.height));
        if (c.leader) r.leaderOf.add(c.name);
      }
    }
  }
  const list = [...rows.values()].sort(
    (a, b) => a.org.localeCompare(b.org) || (a.name || a.endpoint).localeCompare(b.name || b.endpoint),
  );
  return { rows: list, channels: [...channels].sort() };
}

/** An alert as GET /status lists it (`alerts[]`); a field the peer did not send is '' or absent. */
export interface StatusAlert {
  readonly kind: string;
  readonly severity: string;
  /** ISO 8601, '' when not given. */
  readonly since: string;
  readonly message: string;
  readonly pkiId?: string;
  readonly endpoint?: string;
  readonly org?: string;
  readonly channel?: string;
  readonly value?: number;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The alerts of one answer (none when it has no `alerts` list, as peers before alerts). */
export function alertsOf(doc: PeerStatusDocument): StatusAlert[] {
  const list = (doc as { alerts?: unknown }).alerts;
  if (!Array.isArray(list)) return [];
  const out: StatusAlert[] = [];
  for (const a of list as unknown[]) {
    if (!a || typeof a !== 'object') continue;
    const x = a as Record<string, unknown>;
    const opt = (k: string) => (str(x[k]) ? { [k]: str(x[k]) } : {});
    out.push({
      kind: str(x.kind) || 'alert',
      severity: str(x.severity) || 'warning',
      since: str(x.since),
      message: str(x.message),
      ...opt('pkiId'),
      ...opt('endpoint'),
      ...opt('org'),
      ...opt('channel'),
      ...(typeof x.value === 'number' && Number.isFinite(x.value) ? { value: x.value } : {}),
    });
  }
  return out;
}

/** An alert raised by one or more answering peers. */
export interface MergedAlert extends StatusAlert {
  /** The key it is merged on: kind and subject. */
  readonly key: string;
  /** peer.id of each answering peer that raises it. */
  readonly reportedBy: readonly string[];
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, error: 1, warning: 2, info: 3 };
export const severityRank = (s: string): number => SEVERITY_RANK[s] ?? 2;

/**
 * Every answer's alerts, one per kind and subject (PKI-ID, endpoint, org, channel): the earliest
 * `since`, the first message, every peer that raises it; most severe first, then oldest.
 */
export function mergeAlerts(docs: readonly PeerStatusDocument[]): MergedAlert[] {
  const byKey = new Map<string, { a: StatusAlert; by: string[] }>();
  for (const d of docs) {
    for (const a of alertsOf(d)) {
      const key = [a.kind, a.pkiId ?? '', a.endpoint ?? '', a.org ?? '', a.channel ?? ''].join('|');
      const m = byKey.get(key);
      if (!m) byKey.set(key, { a, by: [d.peer.id] });
      else {
        if (!m.by.includes(d.peer.id)) m.by.push(d.peer.id);
        if (a.since && (!m.a.since || a.since < m.a.since)) m.a = { ...m.a, since: a.since };
        if (severityRank(a.severity) < severityRank(m.a.severity)) m.a = { ...m.a, severity: a.severity };
      }
    }
  }
  return [...byKey.entries()]
    .map(([key, { a, by }]) => ({ ...a, key, reportedBy: by }))
    .sort(
      (x, y) =>
        severityRank(x.severity) - severityRank(y.severity) ||
        (x.since || '~').localeCompare(y.since || '~') ||
        x.key.localeCompare(y.key),
    );
}
