/**
 * Connections by remote PKI-ID (PROTOCOL.md §3.3, §3.4): at most one per PKI-ID, used for
 * traffic in both directions.
 *
 *   register(new): no connection under its PKI-ID -> store it. Otherwise one of the two is
 *   closed. Fabric closes the older one (an inbound stream replaces what is there), which lets
 *   two peers that dial each other at the same time each close the connection the other kept.
 *   We keep Fabric's rule except in exactly that race: when the existing connection goes the
 *   other way and is younger than dedupWindow, both ends keep the connection opened by the peer
 *   with the lower PKI-ID (a rule both compute alike), so exactly one TCP connection survives.
 *   remove(conn) forgets it only if it is still the one stored.
 */
import type { Connection } from './connection.js';

/** What the store needs of a connection (a Connection; tests use lighter ones). */
export interface StoredConn {
  readonly key: string;
  readonly closed: boolean;
  readonly direction: 'in' | 'out';
  readonly establishedAt: number;
  /** Stop using it; close once what was already queued is written (after graceMs at most). */
  retire(graceMs: number): void;
}

export class ConnStore<C extends StoredConn = Connection> {
  private readonly byKey = new Map<string, C>();

  constructor(
    private readonly selfKey: string,
    private readonly dedupWindowMs: number,
    /** How long a retired loser is still read from (its queued frames still written). */
    private readonly retireGraceMs: number,
    private readonly onChange: (open: number) => void = () => {},
  ) {}

  get(key: string): C | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  all(): C[] {
    return [...this.byKey.values()];
  }

  /**
   * Store `conn` or keep the existing one; returns the connection that won. The loser is
   * retired (Connection.retire), not cut, so messages already sent on it still arrive.
   */
  register(conn: C, now: number): C {
    const existing = this.byKey.get(conn.key);
    if (existing && !existing.closed && existing !== conn) {
      const race = existing.direction !== conn.direction && now - existing.establishedAt < this.dedupWindowMs;
      if (race && this.openedByLower(existing)) {
        conn.retire(this.retireGraceMs);
        return existing;
      }
      this.byKey.set(conn.key, conn);
      existing.retire(this.retireGraceMs);
    } else {
      this.byKey.set(conn.key, conn);
    }
    this.onChange(this.byKey.size);
    return conn;
  }

  remove(conn: C): void {
    if (this.byKey.get(conn.key) === conn) {
      this.byKey.delete(conn.key);
      this.onChange(this.byKey.size);
    }
  }

  /** Forget everything without closing (a simulated host crashed: its sockets are already gone). */
  clear(): void {
    this.byKey.clear();
    this.onChange(0);
  }

  /** Was this connection dialled by whichever of the two peers has the lower PKI-ID? */
  private openedByLower(c: C): boolean {
    const selfLower = this.selfKey < c.key;
    return c.direction === 'out' ? selfLower : !selfLower;
  }
}
