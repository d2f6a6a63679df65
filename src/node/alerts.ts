/**
 * Alerts of a peer's /status (docs/operations.md, "Alerts") and of the `grapevine_alerts{kind}`
 * gauge: what in this peer's view of the network needs a person. Pure logic: no I/O, time from the
 * injected Clock; the daemon feeds it the status document's view (plus its endpoint probes) every
 * second and on every /status request.
 *
 *   lag               an alive member (or this peer) more than `lagBlocks` below the highest height
 *                     known on a channel (its StateInfo, ours) for at least `afterMs`; warning.
 *   no-leader         our org runs leader election on a channel (we saw its LeadershipMessages,
 *                     or we take part) and nobody declared leadership within the leader alive
 *                     threshold for at least `afterMs`; critical. Other orgs' leadership messages
 *                     never reach us, and an org of static leaders sends none: not judged.
 *   two-leaders       more than one member of our org declared (same rules); warning.
 *   cert-expiring     a member's certificate (or ours) expires within `certExpiryMs`; warning,
 *                     since notAfter - certExpiryMs, value = days left.
 *   cert-expired      ... has expired; critical, since notAfter. Also a remote whose gossip handshakes
 *                     we refused (the comm link's record) with a certificate expired at the last
 *                     refusal, unless it is a member already alerted; critical, since the first
 *                     refusal, held REFUSED_HOLD_MS after the last one; names endpoint and subject.
 *   unreachable       a member dead in discovery (alive messages expired); critical, since it was
 *                     last seen. An alive member whose external endpoint refused our probe for at
 *                     least `afterMs`, or a channel's anchor peer (its config's AnchorPeers) that
 *                     no alive member answers for and whose endpoint refused it as long; warning.
 *   identity-changed  an endpoint now claimed by another PKI-ID than the one seen there before
 *                     (a restart with a renewed or different certificate, two peers configured
 *                     with one endpoint); warning, held IDENTITY_CHANGE_HOLD_MS after it was seen.
 *                     Also an endpoint we dialled for one PKI-ID whose handshake claimed another
 *                     of a different org, so we refused it ("claims to be a different peer");
 *                     warning, held as long after the last refusal.
 * State is bounded: the "since when" maps hold only what the last evaluation saw (and at most
 * MAX_TRACKED entries), the endpoint history holds MAX_ENDPOINTS (oldest claim evicted), the changes at most
 * MAX_CHANGES; the list returned is cut at MAX_ALERTS (the counts are not).
 */
import type { Clock } from '../base/time.js';

export const ALERT_KINDS = [
  'lag',
  'no-leader',
  'two-leaders',
  'cert-expiring',
  'cert-expired',
  'unreachable',
  'identity-changed',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertSeverity = 'warning' | 'critical';

/** One alert, as /status lists it. */
export interface Alert {
  readonly kind: AlertKind;
  readonly severity: AlertSeverity;
  /** Since when the condition holds, ISO 8601. */
  readonly since: string;
  /** One line, for people. */
  readonly message: string;
  readonly pkiId?: string;
  readonly endpoint?: string;
  /** MSP ID. */
  readonly org?: string;
  readonly channel?: string;
  /** lag: blocks behind; two-leaders: how many; cert-expiring: days left. */
  readonly value?: number;
}

export interface AlertConfig {
  /** grapevine.alerts.lagBlocks */
  readonly lagBlocks: number;
  /** grapevine.alerts.after */
  readonly afterMs: number;
  /** grapevine.alerts.certExpiryDays, in ms */
  readonly certExpiryMs: number;
}

/** A member as the evaluator sees it (this peer may be one, alive). */
export interface AlertMember {
  /** PKI-ID, lowercase hex. */
  readonly pkiId: string;
  readonly mspId?: string;
  readonly endpoint: string;
  readonly internalEndpoint: string;
  readonly alive: boolean;
  readonly lastSeenMs: number;
  /** Certificate expiry, when its identity is known. */
  readonly notAfterMs?: number;
  /** Certificate subject (for messages). */
  readonly subject?: string;
  /** Ledger height per channel (StateInfo). */
  readonly heights: readonly { readonly name: string; readonly height: number }[];
}

export interface AlertChannel {
  readonly name: string;
  /** Our ledger height. */
  readonly height: number;
  /** Our org elects the channel's leader: we saw its LeadershipMessages, or we take part. */
  readonly elected: boolean;
  /** PKI-IDs of our org's members (us included) that lead the channel now. */
  readonly leaders: readonly string[];
  /** The anchor peers of the channel's config. */
  readonly anchors?: readonly { readonly org: string; readonly endpoint: string }[];
}

/** An external endpoint our probe could not connect to, since its first failure in a row. */
export interface EndpointFailure {
  readonly endpoint: string;
  /** The member claiming it; '' for an anchor peer's endpoint that no member claims. */
  readonly pkiId: string;
  readonly sinceMs: number;
  readonly error: string;
}

/** A refused-handshake record entry (GET /status refusedHandshakes). */
export interface RefusedAlertInput {
  readonly direction: 'in' | 'out';
  readonly endpoint: string;
  readonly reason: string;
  readonly count: number;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly subject?: string;
  readonly mspId?: string;
  readonly notAfterMs?: number;
  /** The certificate had expired at the last refusal. */
  readonly expired?: boolean;
  readonly claimedPkiId?: string;
  readonly expectedPkiId?: string;
  readonly identityMismatch: boolean;
}

export interface AlertInput {
  readonly self: { readonly pkiId: string; readonly mspId: string };
  readonly channels: readonly AlertChannel[];
  readonly members: readonly AlertMember[];
  readonly unreachable: readonly EndpointFailure[];
  /** Refused gossip handshakes (absent: none). */
  readonly refused?: readonly RefusedAlertInput[];
}

export const MAX_TRACKED = 100_000;
/** Endpoints remembered: two per member of a status document (external, internal). */
export const MAX_ENDPOINTS = 20_000;
export const MAX_CHANGES = 256;
export const MAX_ALERTS = 1000;
/** How long an identity change stays an alert after it was seen. */
export const IDENTITY_CHANGE_HOLD_MS = 15 * 60_000;
/** How long after the last refused handshake its alert (cert-expired, identity-changed) holds. */
export const REFUSED_HOLD_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

const SEVERITY_ORDER: Record<AlertSeverity, number> = { critical: 0, warning: 1 };
const KIND_ORDER = new Map<AlertKind, number>(ALERT_KINDS.map((k, i) => [k, i]));

const iso = (ms: number): string => new Date(ms).toISOString();

function nameOf(m: Pick<AlertMember, 'endpoint' | 'internalEndpoint' | 'pkiId'>): string {
  return m.endpoint || m.internalEndpoint || `PKI-ID ${m.pkiId.slice(0, 16)}`;
}

function orgOf(m: Pick<AlertMember, 'mspId'>): { org?: string } {
  return m.mspId ? { org: m.mspId } : {};
}

/** An alert found, made (message and all) only if it is listed. */
interface Pending {
  readonly kind: AlertKind;
  readonly severity: AlertSeverity;
  readonly sinceMs: number;
  readonly make: () => Omit<Alert, 'kind' | 'severity' | 'since'>;
}

const pend = (kind: AlertKind, severity: AlertSeverity, sinceMs: number, make: Pending['make']): Pending => ({
  kind,
  severity,
  sinceMs,
  make,
});

interface Change {
  readonly old: string;
  readonly now: string;
  readonly sinceMs: number;
  readonly mspId?: string;
}

export class AlertEvaluator {
  private lagSince = new Map<string, number>();
  private leaderSince = new Map<string, { kind: 'no-leader' | 'two-leaders'; since: number }>();
  private probeSeen = new Map<string, number>();
  /** endpoint -> PKI-ID last seen claiming it (oldest claim first). */
  private readonly owners = new Map<string, string>();
  /** endpoint -> the change seen there. */
  private readonly changes = new Map<string, Change>();
  private last: readonly Alert[] = [];
  private lastCounts: ReadonlyMap<AlertKind, number> = new Map(ALERT_KINDS.map((k) => [k, 0]));

  constructor(
    private readonly config: AlertConfig,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** The alerts of the last evaluation. */
  current(): readonly Alert[] {
    return this.last;
  }

  /** Active alerts of each kind at the last evaluation (every kind present). */
  counts(): ReadonlyMap<AlertKind, number> {
    return this.lastCounts;
  }

  evaluate(input: AlertInput): readonly Alert[] {
    const now = this.clock.now();
    // every alert is counted; only the MAX_ALERTS listed are made (messages cost)
    const out: Pending[] = [];
    this.lag(input, now, out);
    this.leaders(input, now, out);
    this.certs(input, now, out);
    this.unreachable(input, now, out);
    this.identities(input, now, out);
    this.refusals(input, now, out);
    out.sort(
      (a, b) =>
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
        KIND_ORDER.get(a.kind)! - KIND_ORDER.get(b.kind)! ||
        a.sinceMs - b.sinceMs,
    );
    const counts = new Map<AlertKind, number>(ALERT_KINDS.map((k) => [k, 0]));
    for (const a of out) counts.set(a.kind, counts.get(a.kind)! + 1);
    this.lastCounts = counts;
    this.last = out.slice(0, MAX_ALERTS).map((p) => ({
      kind: p.kind,
      severity: p.severity,
      since: iso(p.sinceMs),
      ...p.make(),
    }));
    return this.last;
  }

  private lag(input: AlertInput, now: number, out: Pending[]): void {
    const next = new Map<string, number>();
    const alive = input.members.filter((m) => m.alive);
    for (const ch of input.channels) {
      let max = ch.height;
      const at: { m: AlertMember; height: number }[] = [];
      for (const m of alive) {
        const h = m.heights.find((x) => x.name === ch.name);
        if (!h) continue;
        at.push({ m, height: h.height });
        if (h.height > max) max = h.height;
      }
      for (const { m, height } of at) {
        const behind = max - height;
        if (behind <= this.config.lagBlocks) continue;
        const key = `${ch.name}\n${m.pkiId}`;
        const since = this.lagSince.get(key) ?? now;
        if (next.size < MAX_TRACKED) next.set(key, since);
        if (now - since < this.config.afterMs) continue;
        out.push(
          pend('lag', 'warning', since, () => ({
            message: `${nameOf(m)}${m.mspId ? ` (${m.mspId})` : ''} is ${behind} blocks behind on channel ${ch.name} (height ${height}, highest known ${max})`,
            pkiId: m.pkiId,
            ...(m.endpoint || m.internalEndpoint ? { endpoint: m.endpoint || m.internalEndpoint } : {}),
            ...orgOf(m),
            channel: ch.name,
            value: behind,
          })),
        );
      }
    }
    this.lagSince = next;
  }

  private leaders(input: AlertInput, now: number, out: Pending[]): void {
    const next = new Map<string, { kind: 'no-leader' | 'two-leaders'; since: number }>();
    for (const ch of input.channels) {
      if (!ch.elected) continue;
      const n = new Set(ch.leaders).size;
      const kind = n === 0 ? 'no-leader' : n > 1 ? 'two-leaders' : undefined;
      if (!kind) continue;
      const prev = this.leaderSince.get(ch.name);
      const since = prev?.kind === kind ? prev.since : now;
      next.set(ch.name, { kind, since });
      if (now - since < this.config.afterMs) continue;
      const org = input.self.mspId;
      out.push(
        kind === 'no-leader'
          ? pend(kind, 'critical', since, () => ({
              message: `no member of ${org} leads channel ${ch.name}: nobody pulls its blocks from the ordering service`,
              org,
              channel: ch.name,
            }))
          : pend(kind, 'warning', since, () => ({
              message: `${n} members of ${org} lead channel ${ch.name} (${[...new Set(ch.leaders)].map((p) => p.slice(0, 16)).join(', ')}): their views of the org differ`,
              org,
              channel: ch.name,
              value: n,
            })),
      );
    }
    this.leaderSince = next;
  }

  private certs(input: AlertInput, now: number, out: Pending[]): void {
    for (const m of input.members) {
      const notAfter = m.notAfterMs;
      if (notAfter === undefined) continue;
      const about = () => ({
        who: `${nameOf(m)}${m.mspId ? ` (${m.mspId})` : ''}${m.subject ? ` ${m.subject}` : ''}`,
        ids: {
          pkiId: m.pkiId,
          ...(m.endpoint || m.internalEndpoint ? { endpoint: m.endpoint || m.internalEndpoint } : {}),
          ...orgOf(m),
        },
      });
      if (notAfter <= now) {
        out.push(
          pend('cert-expired', 'critical', notAfter, () => {
            const { who, ids } = about();
            return {
              message: `the certificate of ${who} expired ${iso(notAfter)}: its messages are refused`,
              ...ids,
            };
          }),
        );
      } else if (notAfter - now <= this.config.certExpiryMs) {
        const days = Math.round(((notAfter - now) / DAY_MS) * 10) / 10;
        out.push(
          pend('cert-expiring', 'warning', notAfter - this.config.certExpiryMs, () => {
            const { who, ids } = about();
            return {
              message: `the certificate of ${who} expires ${iso(notAfter)}, in ${days} days`,
              ...ids,
              value: days,
            };
          }),
        );
      }
    }
  }

  private unreachable(input: AlertInput, now: number, out: Pending[]): void {
    const dead = new Set<string>();
    for (const m of input.members) {
      if (m.alive || m.pkiId === input.self.pkiId) continue;
      dead.add(m.pkiId);
      out.push(
        pend('unreachable', 'critical', m.lastSeenMs, () => ({
          message: `${nameOf(m)}${m.mspId ? ` (${m.mspId})` : ''} is dead: no alive message since ${iso(m.lastSeenMs)}`,
          pkiId: m.pkiId,
          ...(m.endpoint || m.internalEndpoint ? { endpoint: m.endpoint || m.internalEndpoint } : {}),
          ...orgOf(m),
        })),
      );
    }
    const byPki = new Map(input.members.map((m) => [m.pkiId, m]));
    let anchors: Map<string, { org: string; channels: string[] }> | undefined;
    for (const f of input.unreachable) {
      if (dead.has(f.pkiId) || now - f.sinceMs < this.config.afterMs) continue;
      const m = f.pkiId ? byPki.get(f.pkiId) : undefined;
      if (!anchors) {
        anchors = new Map();
        for (const ch of input.channels)
          for (const a of ch.anchors ?? []) {
            const x = anchors.get(a.endpoint);
            if (x) x.channels.push(ch.name);
            else anchors.set(a.endpoint, { org: a.org, channels: [ch.name] });
          }
      }
      const anchor = anchors.get(f.endpoint);
      if (!f.pkiId && !anchor) continue;
      const org = m?.mspId ?? anchor?.org;
      out.push(
        pend('unreachable', 'warning', f.sinceMs, () => ({
          message: f.pkiId
            ? `${f.endpoint}${org ? ` (${org})` : ''} is alive in gossip but its external endpoint does not accept connections: ${f.error}`
            : `${f.endpoint}, an anchor peer of ${org} in the config of channel ${anchor!.channels.join(', ')}, does not accept connections and no member answers for it (check the channel's AnchorPeers and that peer's external endpoint): ${f.error}`,
          ...(f.pkiId ? { pkiId: f.pkiId } : {}),
          endpoint: f.endpoint,
          ...(org ? { org } : {}),
          ...(anchor && !f.pkiId ? { channel: anchor.channels[0]! } : {}),
        })),
      );
    }
  }

  private refusals(input: AlertInput, now: number, out: Pending[]): void {
    if (!input.refused || input.refused.length === 0) return;
    const alerted = new Set(input.members.filter((m) => m.notAfterMs !== undefined).map((m) => m.pkiId));
    const dir = (r: RefusedAlertInput) => (r.direction === 'in' ? `from ${r.endpoint}` : `to ${r.endpoint}`);
    const times = (r: RefusedAlertInput) => `${r.count} refused, last ${iso(r.lastMs)}`;
    for (const r of input.refused) {
      if (now - r.lastMs >= REFUSED_HOLD_MS) continue;
      const org = r.mspId ? { org: r.mspId } : {};
      if (r.identityMismatch) {
        out.push(
          pend('identity-changed', 'warning', r.firstMs, () => ({
            message: `${r.endpoint} claims to be a different peer: its handshake presented PKI-ID ${r.claimedPkiId!.slice(0, 16)}${r.subject ? ` (${r.subject}${r.mspId ? `, ${r.mspId}` : ''})` : ''} instead of ${r.expectedPkiId!.slice(0, 16)}, refused (${times(r)})`,
            pkiId: r.claimedPkiId!,
            endpoint: r.endpoint,
            ...org,
          })),
        );
      } else if (r.expired && r.notAfterMs !== undefined && !(r.claimedPkiId && alerted.has(r.claimedPkiId))) {
        const notAfter = r.notAfterMs;
        out.push(
          pend('cert-expired', 'critical', r.firstMs, () => ({
            message: `gossip handshakes ${dir(r)} are refused: the certificate ${r.subject ?? ''}${r.mspId ? ` (${r.mspId})` : ''} expired ${iso(notAfter)} (${times(r)})`,
            ...(r.claimedPkiId ? { pkiId: r.claimedPkiId } : {}),
            endpoint: r.endpoint,
            ...org,
          })),
        );
      }
    }
  }

  private identities(input: AlertInput, now: number, out: Pending[]): void {
    const claim = (endpoint: string, m: AlertMember, record: boolean) => {
      if (endpoint === '') return;
      const prev = this.owners.get(endpoint);
      if (prev !== undefined && prev !== m.pkiId && record) {
        const c = this.changes.get(endpoint);
        // two members claiming one endpoint flip it at every evaluation: one change, kept
        const same = c && ((c.old === prev && c.now === m.pkiId) || (c.old === m.pkiId && c.now === prev));
        this.changes.delete(endpoint);
        if (this.changes.size >= MAX_CHANGES) {
          const oldest = this.changes.keys().next().value;
          if (oldest !== undefined) this.changes.delete(oldest);
        }
        this.changes.set(endpoint, {
          old: prev,
          now: m.pkiId,
          sinceMs: same ? c.sinceMs : now,
          ...(m.mspId ? { mspId: m.mspId } : {}),
        });
      }
      // unchanged, or a dead member's old claim: nothing to record (no reordering either: the
      // map holds every member's endpoints, so eviction is for churn beyond that)
      if (prev === m.pkiId || (prev !== undefined && !record)) return;
      this.owners.delete(endpoint);
      if (this.owners.size >= MAX_ENDPOINTS) {
        const oldest = this.owners.keys().next().value;
        if (oldest !== undefined) this.owners.delete(oldest);
      }
      this.owners.set(endpoint, m.pkiId);
    };
    // dead members only say who held an endpoint before (when nothing is known yet); then the
    // alive ones claim theirs, oldest sighting first
    for (const m of input.members)
      if (!m.alive) for (const e of new Set([m.endpoint, m.internalEndpoint])) claim(e, m, false);
    const alive = input.members.filter((m) => m.alive).sort((a, b) => a.lastSeenMs - b.lastSeenMs);
    for (const m of alive) for (const e of new Set([m.endpoint, m.internalEndpoint])) claim(e, m, true);
    for (const [endpoint, c] of this.changes) {
      if (now - c.sinceMs >= IDENTITY_CHANGE_HOLD_MS) {
        this.changes.delete(endpoint);
        continue;
      }
      out.push(
        pend('identity-changed', 'warning', c.sinceMs, () => ({
          message: `${endpoint} now claims PKI-ID ${c.now.slice(0, 16)}${c.mspId ? ` (${c.mspId})` : ''} instead of ${c.old.slice(0, 16)} seen there before (a new or renewed certificate, or two peers with one endpoint)`,
          pkiId: c.now,
          endpoint,
          ...(c.mspId ? { org: c.mspId } : {}),
        })),
      );
    }
  }
}
