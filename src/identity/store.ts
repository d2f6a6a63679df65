/**
 * The identity store (Fabric's identity mapper, PROTOCOL.md §2.5): PKI-ID -> serialized
 * identity, seeded with our own identity.
 *
 *   put(pkiId, identity): refuse empty input, identities the validator cannot classify
 *     (expiration) or validate, and hash(identity) != pkiId; an already stored PKI-ID is a
 *     success without change; an identity whose NotAfter is past is refused; otherwise store it
 *     and arm a timer that removes it at NotAfter + 1 ms.
 *   get(pkiId) refreshes the identity's last-access time. Every usageThreshold/10 (6 min),
 *     identities not accessed for usageThreshold (1 h) are purged (never our own).
 *   suspectPeers(pred) re-validates every stored identity that pred selects; invalid ones are
 *     purged (the peer calls it after every channel config update).
 *   Bounded by maxIdentities: when full, the least recently used identity is evicted.
 *   Every removal is announced to onPurge handlers (comm closes the connection).
 * Time comes from an injected Clock; node timers are capped at 2^31-1 ms, so far expiries re-arm.
 */
import type { Clock, TimerHandle } from '../base/time.js';
import type { PkiId } from '../base/pkiid.js';
import { pkiIdKey } from '../base/pkiid.js';
import { GrapevineError, errorMessage } from '../base/errors.js';
import type { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';

/** What the store needs from the MSPs (the MessageCryptoService's identity side). */
export interface IdentityValidator {
  /** SHA-256(mspid || id_bytes) of a serialized identity (§2.2). */
  pkiIdOf(identity: Uint8Array): Uint8Array;
  /** Throws when no channel org's MSP validates it; code 'UNKNOWN_MSP' when no MSP knows it. */
  validateIdentity(identity: Uint8Array): void;
  /** Certificate NotAfter; throws when the identity cannot be classified. */
  expiration(identity: Uint8Array): Date;
}

export type IdentityRejectReason = 'EMPTY' | 'UNKNOWN_MSP' | 'INVALID' | 'PKI_ID_MISMATCH' | 'EXPIRED';

/** A refused Put; `code` is the IdentityRejectReason. */
export class IdentityStoreError extends GrapevineError {}

export interface IdentityStoreOptions {
  readonly self: { readonly pkiId: PkiId; readonly identity: Uint8Array };
  readonly validator: IdentityValidator;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** Unused identities are purged after this long (ms). Fabric: 1 h. */
  readonly usageThresholdMs?: number;
  /** Bound on stored identities (config `peer.gossip.identityStoreSize`-like; not in Fabric). */
  readonly maxIdentities?: number;
}

export const IDENTITY_STORE_DEFAULTS = { usageThresholdMs: 60 * 60 * 1000, maxIdentities: 10_000 } as const;

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly pkiId: PkiId;
  readonly identity: Uint8Array;
  readonly expiresAt: number;
  lastAccess: number;
  timer?: TimerHandle;
}

export type PurgeReason = 'expired' | 'unused' | 'suspect' | 'evicted';

export class IdentityStore {
  private readonly entries = new Map<string, Entry>();
  private readonly handlers = new Set<(pkiId: PkiId, reason: PurgeReason) => void>();
  private readonly selfKey: string;
  private readonly usageThresholdMs: number;
  private readonly maxIdentities: number;
  private purgeTimer?: TimerHandle;
  private stopped = false;

  constructor(private readonly opts: IdentityStoreOptions) {
    this.usageThresholdMs = opts.usageThresholdMs ?? IDENTITY_STORE_DEFAULTS.usageThresholdMs;
    this.maxIdentities = Math.max(1, opts.maxIdentities ?? IDENTITY_STORE_DEFAULTS.maxIdentities);
    this.selfKey = pkiIdKey(opts.self.pkiId);
    this.entries.set(this.selfKey, {
      pkiId: opts.self.pkiId,
      identity: opts.self.identity,
      expiresAt: Number.POSITIVE_INFINITY,
      lastAccess: opts.clock.now(),
    });
    this.purgeTimer = opts.clock.setInterval(
      () => this.purgeUnused(),
      Math.max(1, this.usageThresholdMs / 10),
    );
    this.updateSize();
  }

  /** §2.5 Put. Throws IdentityStoreError (code = IdentityRejectReason). */
  put(pkiId: PkiId, identity: Uint8Array): void {
    if (!pkiId || pkiId.length === 0 || !identity || identity.length === 0)
      this.reject('EMPTY', 'empty PKI-ID or identity');
    const { validator, clock } = this.opts;
    let notAfter: Date;
    try {
      notAfter = validator.expiration(identity);
      validator.validateIdentity(identity);
    } catch (e) {
      const code = (e as { code?: unknown }).code === 'UNKNOWN_MSP' ? 'UNKNOWN_MSP' : 'INVALID';
      this.reject(code, `identity is not valid: ${errorMessage(e)}`, e);
    }
    let computed: Uint8Array;
    try {
      computed = validator.pkiIdOf(identity);
    } catch (e) {
      this.reject('INVALID', `identity cannot be hashed: ${errorMessage(e)}`, e);
    }
    if (!Buffer.from(computed).equals(Buffer.from(pkiId)))
      this.reject('PKI_ID_MISMATCH', 'PKI-ID does not match the identity');
    const key = pkiIdKey(pkiId);
    if (this.entries.has(key)) return;
    const expiresAt = notAfter.getTime();
    const now = clock.now();
    if (!(expiresAt > now))
      this.reject('EXPIRED', `gossipping peer identity expired at ${notAfter.toISOString()}`);
    if (this.entries.size >= this.maxIdentities + 1) this.evictLeastRecentlyUsed();
    const entry: Entry = {
      pkiId: new Uint8Array(pkiId),
      identity: new Uint8Array(identity),
      expiresAt,
      lastAccess: now,
    };
    this.entries.set(key, entry);
    this.armExpiry(key, entry);
    this.updateSize();
  }

  /** The stored identity, refreshing its last access; undefined when not stored. */
  get(pkiId: PkiId): Uint8Array | undefined {
    const e = this.entries.get(pkiIdKey(pkiId));
    if (!e) return undefined;
    e.lastAccess = this.opts.clock.now();
    return e.identity;
  }

  /** The stored identity without refreshing its last access (diagnostics: GET /status). */
  peek(pkiId: PkiId): Uint8Array | undefined {
    return this.entries.get(pkiIdKey(pkiId))?.identity;
  }

  has(pkiId: PkiId): boolean {
    return this.entries.has(pkiIdKey(pkiId));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Re-validate the identities `pred` selects; purge the invalid ones (never our own). */
  suspectPeers(pred: (identity: Uint8Array, pkiId: PkiId) => boolean): void {
    for (const [key, e] of [...this.entries]) {
      if (key === this.selfKey || !pred(e.identity, e.pkiId)) continue;
      try {
        this.opts.validator.validateIdentity(e.identity);
      } catch {
        this.remove(key, 'suspect');
      }
    }
  }

  /** Called with every removed PKI-ID (expired, unused, suspect, evicted). */
  onPurge(handler: (pkiId: PkiId, reason: PurgeReason) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Release every timer; idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.purgeTimer) this.opts.clock.clearTimer(this.purgeTimer);
    this.purgeTimer = undefined;
    for (const e of this.entries.values()) {
      if (e.timer) this.opts.clock.clearTimer(e.timer);
      e.timer = undefined;
    }
  }

  private reject(code: IdentityRejectReason, message: string, cause?: unknown): never {
    this.opts.metrics?.counter(METRICS.grapevineGossipIdentityStoreRejectedTotal).inc({ reason: code });
    throw new IdentityStoreError(code, message, cause === undefined ? undefined : { cause });
  }

  private armExpiry(key: string, entry: Entry): void {
    if (this.stopped) return;
    const delay = entry.expiresAt + 1 - this.opts.clock.now();
    if (delay > MAX_TIMER_MS) {
      entry.timer = this.opts.clock.setTimeout(() => this.armExpiry(key, entry), MAX_TIMER_MS);
    } else {
      entry.timer = this.opts.clock.setTimeout(
        () => {
          entry.timer = undefined;
          if (this.entries.get(key) === entry) this.remove(key, 'expired');
        },
        Math.max(0, delay),
      );
    }
  }

  private purgeUnused(): void {
    const now = this.opts.clock.now();
    for (const [key, e] of [...this.entries]) {
      if (key !== this.selfKey && now - e.lastAccess > this.usageThresholdMs) this.remove(key, 'unused');
    }
  }

  private evictLeastRecentlyUsed(): void {
    let oldest: [string, Entry] | undefined;
    for (const kv of this.entries) {
      if (kv[0] !== this.selfKey && (!oldest || kv[1].lastAccess < oldest[1].lastAccess)) oldest = kv;
    }
    if (oldest) this.remove(oldest[0], 'evicted');
  }

  private remove(key: string, reason: PurgeReason): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.timer) this.opts.clock.clearTimer(e.timer);
    this.entries.delete(key);
    this.opts.metrics?.counter(METRICS.grapevineGossipIdentityStorePurgedTotal).inc({ reason });
    this.updateSize();
    for (const h of [...this.handlers]) h(e.pkiId, reason);
  }

  private updateSize(): void {
    this.opts.metrics?.gauge(METRICS.grapevineGossipIdentityStoreSize).set(this.entries.size);
  }
}
