/**
 * A bounded record of refused gossip handshakes (issue 16): who was refused, why, how often and
 * since when, with what the remote presented, so that an operator can name the peer behind a
 * count of grapevine_gossip_comm_handshake_failures_total{reason}.
 *
 *   record(r): one entry per (direction, remote, reason, claimed PKI-ID), where the remote of an
 *     inbound refusal is its host (the source port changes at every retry) and of an outbound one
 *     the dialled endpoint; count, first and last time (Clock), the last remote address and error.
 *     The certificate (the ConnEstablish identity, else the TLS leaf the remote presented) is
 *     parsed when the entry is made or the presented bytes change, never per refusal: subject,
 *     notAfter, MSP ID, and whether it had expired when refused. An outbound refusal whose remote
 *     claimed another PKI-ID than the one dialled keeps both ("claims to be a different peer").
 *   Bounded: at most `max` entries (default 256); the least recently refused is evicted and
 *     counted (grapevine_gossip_comm_refused_handshakes_evicted_total).
 *   Logs: record() says whether this refusal deserves a log line: the first of an entry, then at
 *     most one per entry per `logEveryMs` (a minute), with how many were not logged in between;
 *     and at most `maxLogsPerWindow` lines per `logEveryMs` over all entries (many sources).
 * No I/O; time from the injected Clock.
 */
import { X509Certificate } from 'node:crypto';
import { pkiIdKey, type PkiId } from '../../base/pkiid.js';
import type { Clock } from '../../base/time.js';
import type { Metrics } from '../../base/metrics.js';
import { METRICS } from '../../base/metric-table.js';
import { parseSerializedIdentity } from '../../identity/x509identity.js';
import type { HandshakeReason } from './handshake.js';

/** One refusal as the link sees it. */
export interface Refusal {
  readonly direction: 'in' | 'out';
  /** Remote address (inbound) or the dialled endpoint (outbound). */
  readonly endpoint: string;
  readonly reason: HandshakeReason;
  readonly error: string;
  /** The PKI-ID the remote's ConnEstablish claimed. */
  readonly claimedPkiId?: PkiId;
  /** The PKI-ID we dialled for (outbound, when known). */
  readonly expectedPkiId?: PkiId;
  /** The serialized identity of its ConnEstablish. */
  readonly identity?: Uint8Array;
  /** DER of the TLS leaf it presented. */
  readonly tlsCertDer?: Uint8Array;
}

/** Certificate facts of a refused remote. */
export interface RefusedCert {
  readonly subject: string;
  readonly notAfterMs: number;
  /** Which certificate: the ConnEstablish identity's, or the TLS leaf's. */
  readonly from: 'identity' | 'tls';
  readonly mspId?: string;
}

/** One entry of the record. */
export interface RefusedHandshake {
  readonly direction: 'in' | 'out';
  /** The last remote address (inbound) or the dialled endpoint (outbound). */
  readonly endpoint: string;
  readonly reason: HandshakeReason;
  readonly count: number;
  readonly firstMs: number;
  readonly lastMs: number;
  /** The last refusal's error. */
  readonly error: string;
  readonly cert?: RefusedCert;
  /** The certificate had expired at the last refusal. */
  readonly expired: boolean;
  /** PKI-IDs, lowercase hex. */
  readonly claimedPkiId?: string;
  readonly expectedPkiId?: string;
  /** Outbound: the remote claimed another PKI-ID than the one dialled. */
  readonly identityMismatch: boolean;
}

/** What record() says about logging this refusal. */
export interface RefusalLog {
  readonly log: boolean;
  /** Refusals of this entry since its last log line (not logged), this one excluded. */
  readonly suppressed: number;
  readonly entry: RefusedHandshake;
}

export interface RefusedOptions {
  readonly max?: number;
  readonly logEveryMs?: number;
  readonly maxLogsPerWindow?: number;
}

export const REFUSED_DEFAULTS = { max: 256, logEveryMs: 60_000, maxLogsPerWindow: 20 } as const;

interface Entry {
  direction: 'in' | 'out';
  endpoint: string;
  reason: HandshakeReason;
  count: number;
  firstMs: number;
  lastMs: number;
  error: string;
  certBytes?: Uint8Array;
  cert?: RefusedCert;
  claimedPkiId?: string;
  expectedPkiId?: string;
  /** Never logged: -Infinity. */
  loggedMs: number;
  unlogged: number;
}

const dn = (subject: string): string =>
  subject
    .split('\n')
    .filter((s) => s !== '')
    .join(', ');

/** Subject and expiry of what the remote presented; undefined when nothing parses. */
export function refusedCertOf(identity?: Uint8Array, tlsCertDer?: Uint8Array): RefusedCert | undefined {
  if (identity && identity.length > 0) {
    try {
      const { mspId, idBytes } = parseSerializedIdentity(identity);
      const c = new X509Certificate(Buffer.from(idBytes));
      return { subject: dn(c.subject), notAfterMs: Date.parse(c.validTo), from: 'identity', mspId };
    } catch {
      // fall back to the TLS leaf
    }
  }
  if (tlsCertDer && tlsCertDer.length > 0) {
    try {
      const c = new X509Certificate(Buffer.from(tlsCertDer));
      return { subject: dn(c.subject), notAfterMs: Date.parse(c.validTo), from: 'tls' };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The host of host:port ([v6]:port included). */
function hostOf(endpoint: string): string {
  const i = endpoint.lastIndexOf(':');
  return i > 0 ? endpoint.slice(0, i) : endpoint;
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b)));

export class RefusedHandshakes {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  private readonly logEveryMs: number;
  private readonly maxLogsPerWindow: number;
  private readonly evicted?: { inc(): void };
  private windowStart = Number.NEGATIVE_INFINITY;
  private logsInWindow = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    metrics?: Metrics,
    opts: RefusedOptions = {},
  ) {
    this.max = Math.max(1, opts.max ?? REFUSED_DEFAULTS.max);
    this.logEveryMs = opts.logEveryMs ?? REFUSED_DEFAULTS.logEveryMs;
    this.maxLogsPerWindow = opts.maxLogsPerWindow ?? REFUSED_DEFAULTS.maxLogsPerWindow;
    this.evicted = metrics?.counter(METRICS.grapevineGossipCommRefusedHandshakesEvictedTotal);
  }

  get size(): number {
    return this.entries.size;
  }

  record(r: Refusal): RefusalLog {
    const now = this.clock.now();
    const claimed = r.claimedPkiId && r.claimedPkiId.length > 0 ? pkiIdKey(r.claimedPkiId) : undefined;
    const key = `${r.direction}\0${r.direction === 'in' ? hostOf(r.endpoint) : r.endpoint}\0${r.reason}\0${claimed ?? ''}`;
    let e = this.entries.get(key);
    if (e) {
      this.entries.delete(key); // re-inserted last: the least recently refused is first
    } else {
      if (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
        this.evicted?.inc();
      }
      e = {
        direction: r.direction,
        endpoint: r.endpoint,
        reason: r.reason,
        count: 0,
        firstMs: now,
        lastMs: now,
        error: r.error,
        loggedMs: Number.NEGATIVE_INFINITY,
        unlogged: 0,
      };
    }
    this.entries.set(key, e);
    e.count++;
    e.lastMs = now;
    e.endpoint = r.endpoint;
    e.error = r.error;
    if (claimed) e.claimedPkiId = claimed;
    if (r.expectedPkiId && r.expectedPkiId.length > 0) e.expectedPkiId = pkiIdKey(r.expectedPkiId);
    const presented = r.identity && r.identity.length > 0 ? r.identity : r.tlsCertDer;
    if (presented && presented.length > 0 && !same(presented, e.certBytes)) {
      e.certBytes = new Uint8Array(presented);
      const cert = refusedCertOf(r.identity, r.tlsCertDer);
      if (cert) e.cert = cert;
      else delete e.cert;
    }
    let log = false;
    const suppressed = e.unlogged;
    if (now - e.loggedMs >= this.logEveryMs) {
      if (now - this.windowStart >= this.logEveryMs) {
        this.windowStart = now;
        this.logsInWindow = 0;
      }
      if (this.logsInWindow < this.maxLogsPerWindow) {
        this.logsInWindow++;
        log = true;
        e.loggedMs = now;
        e.unlogged = 0;
      }
    }
    if (!log) e.unlogged++;
    return { log, suppressed: log ? suppressed : 0, entry: view(e) };
  }

  /** Every entry, most recently refused first. */
  list(): RefusedHandshake[] {
    return [...this.entries.values()].reverse().map(view);
  }
}

function view(e: Entry): RefusedHandshake {
  return {
    direction: e.direction,
    endpoint: e.endpoint,
    reason: e.reason,
    count: e.count,
    firstMs: e.firstMs,
    lastMs: e.lastMs,
    error: e.error,
    ...(e.cert ? { cert: e.cert } : {}),
    expired: e.cert !== undefined && e.cert.notAfterMs <= e.lastMs,
    ...(e.claimedPkiId ? { claimedPkiId: e.claimedPkiId } : {}),
    ...(e.expectedPkiId ? { expectedPkiId: e.expectedPkiId } : {}),
    identityMismatch:
      e.direction === 'out' &&
      e.claimedPkiId !== undefined &&
      e.expectedPkiId !== undefined &&
      e.claimedPkiId !== e.expectedPkiId,
  };
}

/** One line for people about a refusal (the log line's message). */
export function describeRefusal(e: RefusedHandshake): string {
  const who = e.cert ? ` (${e.cert.subject}${e.cert.mspId ? `, ${e.cert.mspId}` : ''})` : '';
  const dir = e.direction === 'in' ? `from ${e.endpoint}` : `to ${e.endpoint}`;
  if (e.identityMismatch)
    return `gossip handshake ${dir} refused: it claims to be a different peer${who}: PKI-ID ${e.claimedPkiId!.slice(0, 16)} instead of ${e.expectedPkiId!.slice(0, 16)}`;
  if (e.expired)
    return `gossip handshake ${dir} refused: its certificate${who} expired at ${new Date(e.cert!.notAfterMs).toISOString()}`;
  return `gossip handshake ${dir} refused${who}: ${e.reason}: ${e.error}`;
}
