/**
 * Orderer endpoint source of one channel (Fabric internal/pkg/peer/orderers/connection.go
 * @v2.4.9, PROTOCOL.md §8.4).
 *
 * update(globalAddresses, orgs): per orderer org hash = SHA-256(root certs, then addresses); a
 *   change is: an org whose hash differs or is new, an org removed, or (no org endpoints at all)
 *   a different global address set. On a change every current Endpoint is marked refreshed (a
 *   deliverer connected to it disconnects without counting a failure) and the list is rebuilt:
 *   if any org has endpoints, only org endpoints, each with its own org's TLS CAs; otherwise the
 *   global addresses, each with the union of every orderer org's CAs. addressOverrides replace
 *   an address (exact match) and its CAs.
 * randomEndpoint(rng): uniform over the list; no preference, no blacklist.
 */
import { createHash } from 'node:crypto';
import type { Rng } from '../../base/time.js';
import type { ChannelConfig } from '../../channelconfig/types.js';
import { GrapevineError } from '../../base/errors.js';
import type { AddressOverride } from './config.js';

export interface OrdererOrgEndpoints {
  readonly addresses: readonly string[];
  /** TLS root then intermediate CA certificates (PEM). */
  readonly rootCerts: readonly Uint8Array[];
}

export class Endpoint {
  private refreshedFlag = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly address: string,
    readonly rootCerts: readonly Uint8Array[],
  ) {}

  get isRefreshed(): boolean {
    return this.refreshedFlag;
  }

  /** Call `fn` once when this endpoint becomes stale (at once if it already is); returns an unsubscribe. */
  onRefresh(fn: () => void): () => void {
    if (this.refreshedFlag) {
      fn();
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  markRefreshed(): void {
    if (this.refreshedFlag) return;
    this.refreshedFlag = true;
    const fns = [...this.listeners];
    this.listeners.clear();
    for (const fn of fns) fn();
  }
}

/** Orderer org inputs of a channel config: org name -> {Endpoints, TLS root + intermediate CAs}. */
export function ordererOrgsOf(cfg: ChannelConfig): Map<string, OrdererOrgEndpoints> {
  const orgs = new Map<string, OrdererOrgEndpoints>();
  for (const org of cfg.ordererOrgs) {
    orgs.set(org.name, {
      addresses: org.endpoints,
      rootCerts: [...org.msp.tlsRootCerts, ...org.msp.tlsIntermediateCerts],
    });
  }
  return orgs;
}

export class ConnectionSource {
  private all: Endpoint[] = [];
  private orgHashes = new Map<string, string>();
  private readonly overrides: Map<string, AddressOverride>;

  constructor(overrides: readonly AddressOverride[] = []) {
    this.overrides = new Map(overrides.map((o) => [o.from, o]));
  }

  endpoints(): readonly Endpoint[] {
    return this.all;
  }

  /** Uniformly random endpoint; throws GrapevineError NO_ENDPOINTS when there is none. */
  randomEndpoint(rng: Pick<Rng, 'int'>): Endpoint {
    if (this.all.length === 0) throw new GrapevineError('NO_ENDPOINTS', 'no endpoints currently defined');
    return this.all[rng.int(this.all.length)];
  }

  /** Apply a channel config; returns whether the endpoint set changed. */
  updateFromConfig(cfg: ChannelConfig): boolean {
    return this.update(cfg.ordererAddresses, ordererOrgsOf(cfg));
  }

  update(globalAddresses: readonly string[], orgs: ReadonlyMap<string, OrdererOrgEndpoints>): boolean {
    const newHashes = new Map<string, string>();
    let anyChange = false;
    let hasOrgEndpoints = false;
    for (const [name, org] of orgs) {
      const h = createHash('sha256');
      for (const c of org.rootCerts) h.update(c);
      for (const a of org.addresses) {
        hasOrgEndpoints = true;
        h.update(a);
      }
      const hash = h.digest('hex');
      newHashes.set(name, hash);
      if (this.orgHashes.get(name) !== hash) anyChange = true;
    }
    for (const name of this.orgHashes.keys()) if (!orgs.has(name)) anyChange = true;
    this.orgHashes = newHashes;
    if (!hasOrgEndpoints && globalAddresses.length !== this.all.length) anyChange = true;
    if (!hasOrgEndpoints && !anyChange && globalAddresses.length === this.all.length) {
      const fresh = new Set(globalAddresses);
      for (const e of this.all) fresh.delete(e.address);
      anyChange = fresh.size !== 0;
    }
    if (!anyChange) return false;

    for (const e of this.all) e.markRefreshed();
    const next: Endpoint[] = [];
    const globalRoots: Uint8Array[] = [];
    for (const org of orgs.values()) {
      if (!hasOrgEndpoints) globalRoots.push(...org.rootCerts);
      for (const address of org.addresses) next.push(this.endpoint(address, org.rootCerts));
    }
    if (next.length === 0) {
      for (const address of globalAddresses) next.push(this.endpoint(address, globalRoots));
    }
    this.all = next;
    return true;
  }

  /** Mark every endpoint refreshed (e.g. the channel is being left). */
  refreshAll(): void {
    for (const e of this.all) e.markRefreshed();
  }

  private endpoint(address: string, rootCerts: readonly Uint8Array[]): Endpoint {
    const o = this.overrides.get(address);
    return o ? new Endpoint(o.to, o.caCerts) : new Endpoint(address, rootCerts);
  }
}
