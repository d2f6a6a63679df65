/**
 * The membership table: one record per known PKI-ID and its state (PROTOCOL.md §4.3, §4.4).
 *
 *   unknown --valid alive--> alive                 (lastSeen = now)
 *   alive   --newer alive--> alive                 (refresh lastSeen, endpoint, internal endpoint,
 *                                                    stored message); older/equal: ignored
 *   dead    --alive newer than the dead record--> alive (resurrected)
 *   alive   --no newer alive for > aliveExpirationTimeout, or presumed dead--> dead
 *   any     --identity switch, or alive-store expiry (not bootstrap/anchor)--> removed
 *   unknown --dead envelope in a MembershipResponse--> dead
 * The internal endpoint comes from the SecretEnvelope of any accepted alive message; a message
 * without one keeps the one learned before. Bounded: a new member beyond maxMembers is refused.
 */
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import type { Metrics } from '../../base/metrics.js';
import { internalEndpointOf, isNewer } from './alive.js';
import type { AliveEnvelope, MemberState, PeerTime } from './types.js';
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';
import { METRICS } from '../../base/metric-table.js';

export interface MemberRecord {
  readonly pkiId: PkiId;
  endpoint: string;
  internalEndpoint: string;
  state: MemberState;
  lastAlive: PeerTime;
  lastSeenMs: number;
  envelope: Envelope;
  metadata: Uint8Array;
}

export type LearnResult = 'new' | 'refreshed' | 'resurrected' | 'stale' | 'full';

export class Membership {
  private readonly records = new Map<string, MemberRecord>();

  constructor(
    private readonly maxMembers: number,
    private readonly metrics?: Metrics,
  ) {}

  get size(): number {
    return this.records.size;
  }

  get(pkiId: PkiId): MemberRecord | undefined {
    return this.records.get(pkiIdKey(pkiId));
  }

  /** Records in the given state (all when undefined). */
  list(state?: MemberState): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const r of this.records.values()) if (!state || r.state === state) out.push(r);
    return out;
  }

  /** Apply a validated alive message (§4.3 table). */
  learnAlive(a: AliveEnvelope, now: number): LearnResult {
    const key = pkiIdKey(a.pkiId);
    const r = this.records.get(key);
    const internal = internalEndpointOf(a.envelope);
    if (!r) {
      if (!this.hasRoom()) return 'full';
      this.records.set(key, {
        pkiId: a.pkiId,
        endpoint: a.endpoint,
        internalEndpoint: internal,
        state: 'alive',
        lastAlive: a.time,
        lastSeenMs: now,
        envelope: a.envelope,
        metadata: a.metadata,
      });
      this.updateSize();
      return 'new';
    }
    if (!isNewer(a.time, r.lastAlive)) return 'stale';
    const was = r.state;
    r.endpoint = a.endpoint;
    if (internal !== '') r.internalEndpoint = internal;
    r.lastAlive = a.time;
    r.lastSeenMs = now;
    r.envelope = a.envelope;
    r.metadata = a.metadata;
    r.state = 'alive';
    if (was === 'dead') {
      this.updateSize();
      return 'resurrected';
    }
    return 'refreshed';
  }

  /** A dead envelope about an unknown member (§4.5 response handling); false when known or full. */
  learnDead(a: AliveEnvelope, now: number): boolean {
    const key = pkiIdKey(a.pkiId);
    if (this.records.has(key) || !this.hasRoom()) return false;
    this.records.set(key, {
      pkiId: a.pkiId,
      endpoint: a.endpoint,
      internalEndpoint: internalEndpointOf(a.envelope),
      state: 'dead',
      lastAlive: a.time,
      lastSeenMs: now,
      envelope: a.envelope,
      metadata: a.metadata,
    });
    this.updateSize();
    return true;
  }

  /** Alive members not refreshed for more than `timeoutMs` become dead; returns them. */
  expire(now: number, timeoutMs: number): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const r of this.records.values()) {
      if (r.state === 'alive' && now - r.lastSeenMs > timeoutMs) {
        r.state = 'dead';
        out.push(r);
      }
    }
    if (out.length > 0) this.updateSize();
    return out;
  }

  /** Presumed dead (§3.7): an alive member becomes dead at once; returns it when it was alive. */
  markDead(pkiId: PkiId): MemberRecord | undefined {
    const r = this.records.get(pkiIdKey(pkiId));
    if (!r || r.state !== 'alive') return undefined;
    r.state = 'dead';
    this.updateSize();
    return r;
  }

  remove(pkiId: PkiId): MemberRecord | undefined {
    const key = pkiIdKey(pkiId);
    const r = this.records.get(key);
    if (!r) return undefined;
    this.records.delete(key);
    this.updateSize();
    return r;
  }

  clear(): void {
    this.records.clear();
    this.updateSize();
  }

  private hasRoom(): boolean {
    if (this.records.size < this.maxMembers) return true;
    this.metrics?.counter(METRICS.grapevineGossipDiscoveryMembersFullTotal).inc();
    return false;
  }

  private updateSize(): void {
    if (!this.metrics) return;
    let alive = 0;
    for (const r of this.records.values()) if (r.state === 'alive') alive++;
    const g = this.metrics.gauge(METRICS.grapevineGossipDiscoveryMembers);
    g.set({ state: 'alive' }, alive);
    g.set({ state: 'dead' }, this.records.size - alive);
  }
}
