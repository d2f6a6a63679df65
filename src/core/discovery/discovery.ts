/**
 * Discovery and membership (PROTOCOL.md §4; Fabric's discovery_impl.go and the discovery parts
 * of gossip_impl.go), sans-IO: driven by received messages, an injected Clock and Rng, and acting
 * through the Transport.
 *
 * Timers (each "sleep first"):
 *   aliveTimeInterval         if any member is alive: build a new alive (with secret), keep it as
 *                             our latest, push it through the emitter (§4.9)
 *   aliveExpirationTimeout/10 alive members silent > aliveExpirationTimeout -> dead (conn closed);
 *                             alive-store entries older than its TTL -> member removed unless its
 *                             endpoint or internal endpoint is a bootstrap or anchor peer
 *   reconnectInterval         probe every dead member; reachable -> MembershipRequest
 *   pullInterval              MembershipRequest (nonce 0) to pullPeerNum random alive members
 * Received (tag EMPTY required, else dropped):
 *   alive_msg  store-newer? valid? not ours? -> alive store, state machine (§4.3), forwarded
 *              (emitter, sender excluded)
 *   mem_req    self_information is an alive of the connection's PKI-ID, valid; newer -> state
 *              machine (no store, no forward); answer with a sieved MembershipResponse (§4.5),
 *              or close the connection when our own alive may not be disclosed to the requester
 *   mem_res    wake the bootstrap/anchor waiter of its nonce; newer valid alives -> state
 *              machine; newer valid dead ones about unknown PKI-IDs -> dead
 * Bad input is counted in grapevine_gossip_discovery_dropped_total{reason}, logged at debug, never forwarded.
 */
import type { ReceivedMessage, RemotePeer, Transport, Unsubscribe } from '../link/types.js';
import type { Clock, Rng } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import { BatchingEmitter, type EmitterConfig } from '../link/emitter.js';
import type { IdentityStore } from '../../identity/store.js';
import { componentLogger, type Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';
import { tagError } from '../../wire/gossip.js';
import type { Signer } from '../../wire/signer.js';
import type { Counter } from 'prom-client';
import { DiscoveryDropError, internalEndpointOf, orgOfIdentity, parseAlive, validateAlive } from './alive.js';
import { createAliveStore, type AliveStore } from './alivestore.js';
import { VerifiedAlives } from './verified.js';
import { portOf, type DiscoveryConfig } from './config.js';
import { Connector } from './connector.js';
import { preferredEndpoint, remotePeerOf } from './endpoint.js';
import { envelopeFor } from './disclosure.js';
import { samePkiId as same } from '../../base/pkiid.js';
import { OrgCache } from './orgs.js';
import { Roster, aliveTargets, sievedResponse, type AliveItem, type OrgView } from './outbound.js';
import { Membership, type MemberRecord } from './membership.js';
import { SelfAlive, membershipRequest, membershipResponse } from './self.js';
import { Timers } from './timers.js';
import type {
  AliveEnvelope,
  DiscoveryCrypto,
  DropReason,
  MemberInfo,
  MembershipEvent,
  SelfInfo,
} from './types.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';

export interface DiscoveryOptions {
  readonly transport: Transport;
  readonly identityStore: IdentityStore;
  readonly crypto: DiscoveryCrypto;
  readonly signer: Signer;
  /** Our org (MSP ID). */
  readonly mspId: string;
  /** Resolved (discoveryConfig(partial) fills defaults). */
  readonly config: DiscoveryConfig;
  /** The alive emitter's settings (§6.1; Fabric defaults). */
  readonly emitter?: Partial<EmitterConfig>;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

/** An anchor peer of a channel's config (§4.7). */
export interface AnchorPeer {
  readonly host: string;
  readonly port: number;
  readonly mspId: string;
}

export class Discovery {
  readonly config: DiscoveryConfig;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly selfPkiId: PkiId;
  readonly ownOrg: string;
  private readonly timers: Timers;
  private readonly emitter: BatchingEmitter<AliveItem>;
  private readonly members: Membership;
  private readonly aliveStore: AliveStore;
  /** Alive messages whose signatures checked out (membership responses repeat them). */
  private readonly verified: VerifiedAlives;
  private readonly connector: Connector;
  private readonly handlers = new Set<(e: MembershipEvent) => void>();
  private readonly unsubscribes: Unsubscribe[] = [];
  private readonly probing = new Set<string>();
  private readonly orgs: OrgCache;
  /** The org view of outbound.ts over membership records. */
  private readonly memberView: OrgView;
  private readonly anchors = new Map<string, Set<string>>();
  private readonly bootstrap: Set<string>;
  private selfAlive?: SelfAlive;
  private selfMetadata: Uint8Array = new Uint8Array(0);
  /** Our latest periodic alive (answers MembershipRequests). */
  private latestAlive?: Envelope;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private readonly dropped?: Counter<string>;

  constructor(private readonly opts: DiscoveryOptions) {
    this.config = opts.config;
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.selfPkiId = opts.transport.selfPkiId;
    this.ownOrg = opts.mspId;
    this.orgs = new OrgCache(2 * this.config.maxMembers, (pkiId) =>
      orgOfIdentity(opts.crypto, opts.identityStore.get(pkiId)),
    );
    this.memberView = { ownOrg: this.ownOrg, orgOf: (pkiId) => this.orgOfMember(pkiId) };
    this.log = componentLogger('discovery', { member: pkiIdKey(this.selfPkiId).slice(0, 16) }, opts.logger);
    this.timers = new Timers(opts.clock);
    this.members = new Membership(this.config.maxMembers, opts.metrics);
    const ttl = this.config.aliveExpirationTimeoutMs * this.config.msgExpirationFactor;
    this.verified = new VerifiedAlives({
      clock: opts.clock,
      ttlMs: this.config.aliveExpirationTimeoutMs,
      maxEntries: this.config.maxAliveStore,
    });
    this.aliveStore = createAliveStore({
      clock: opts.clock,
      ttlMs: ttl,
      maxEntries: this.config.maxAliveStore,
      metrics: opts.metrics,
    });
    this.emitter = new BatchingEmitter<AliveItem>({
      clock: opts.clock,
      config: opts.emitter,
      metrics: opts.metrics,
      logger: this.log,
      name: 'alive',
      route: (batch) => this.route(batch),
    });
    this.bootstrap = new Set(this.config.bootstrap);
    this.connector = new Connector({
      transport: this.transport,
      timers: this.timers,
      rng: opts.rng,
      config: this.config,
      ownOrg: this.ownOrg,
      orgOf: (identity) => orgOfIdentity(opts.crypto, identity),
      makeRequest: (remote, nonce, include) => {
        const req = this.membershipRequestFor(remote, nonce, include);
        return () => this.transport.send(req, remote);
      },
      log: this.log,
      metrics: opts.metrics,
    });
    this.dropped = opts.metrics?.counter(METRICS.grapevineGossipDiscoveryDroppedTotal);
  }

  /** Start the timers, listen to the transport and contact the bootstrap peers. */
  start(): void {
    if (this.state === 'stopped')
      throw new GrapevineError('STOPPED', 'discovery was stopped and cannot be restarted');
    if (this.state === 'running') return;
    this.state = 'running';
    const c = this.config;
    this.selfAlive = new SelfAlive({
      pkiId: this.selfPkiId,
      signer: this.opts.signer,
      externalEndpoint: c.externalEndpoint,
      internalEndpoint: c.endpoint,
      publishCertPeriodMs: c.publishCertPeriodMs,
      clock: this.clock,
    });
    this.selfAlive.metadata = this.selfMetadata;
    const kinds = new Set(['aliveMsg', 'memReq', 'memRes']);
    this.unsubscribes.push(
      this.transport.subscribe(
        (m) => kinds.has(m.message.content.case ?? ''),
        (m) => this.receive(m),
      ),
      this.transport.onPresumedDead((id) => this.presumedDead(id)),
      this.transport.onIdentitySwitch((id) => this.purge(id, 'identity-switch')),
    );
    this.timers.every(c.aliveTimeIntervalMs, () => this.sendAlive());
    this.timers.every(c.aliveExpirationTimeoutMs / 10, () => this.checkAlive());
    this.timers.every(c.reconnectIntervalMs, () => this.reconnectToDead());
    this.timers.every(c.pullIntervalMs, () => this.sync());
    for (const endpoint of c.bootstrap) {
      if (this.isOwnEndpoint(endpoint)) continue;
      this.connector.connect({ endpoint, kind: 'bootstrap' });
    }
    this.log.debug({ endpoint: c.endpoint, externalEndpoint: c.externalEndpoint }, 'discovery started');
  }

  /** Release every timer and subscription; idempotent. Membership stays readable. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.timers.stop();
    this.emitter.stop();
    for (const u of this.unsubscribes.splice(0)) u();
  }

  self(): SelfInfo {
    return {
      pkiId: this.selfPkiId,
      endpoint: this.config.externalEndpoint,
      internalEndpoint: this.config.endpoint,
      mspId: this.ownOrg,
    };
  }

  aliveMembers(): MemberInfo[] {
    return this.members.list('alive').map((r) => this.info(r));
  }

  deadMembers(): MemberInfo[] {
    return this.members.list('dead').map((r) => this.info(r));
  }

  lookup(pkiId: PkiId): MemberInfo | undefined {
    const r = this.members.get(pkiId);
    return r && this.info(r);
  }

  preferredEndpoint(member: { readonly internalEndpoint: string; readonly endpoint: string }): string {
    return preferredEndpoint(member);
  }

  /** The org (MSP ID) of a PKI-ID whose identity the identity store holds. */
  orgOf(pkiId: PkiId): string | undefined {
    return this.orgs.known(pkiId) ?? (same(pkiId, this.selfPkiId) ? this.ownOrg : this.orgs.get(pkiId));
  }

  /** orgOf for a long-lived PKI-ID (a membership record's): the answer is kept by reference. */
  private orgOfMember(pkiId: PkiId): string | undefined {
    return this.orgs.known(pkiId) ?? (same(pkiId, this.selfPkiId) ? this.ownOrg : this.orgs.get(pkiId, true));
  }

  onChange(handler: (e: MembershipEvent) => void): Unsubscribe {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * §4.7: the anchor peers of a channel (replacing that channel's previous set); called by the
   * channel layer on join and on config updates. Anchors are never expired from membership.
   */
  connectToAnchors(anchors: readonly AnchorPeer[], channel = ''): void {
    const endpoints = new Set<string>();
    for (const ap of anchors) {
      if (!ap.host || !ap.port) {
        this.log.warn({ anchor: ap, channel }, 'anchor peer without host or port, skipped');
        continue;
      }
      const endpoint = ap.host.includes(':') ? `[${ap.host}]:${ap.port}` : `${ap.host}:${ap.port}`;
      endpoints.add(endpoint);
      if (endpoint === this.config.endpoint || endpoint === this.config.externalEndpoint) continue;
      if (ap.mspId !== this.ownOrg && this.config.externalEndpoint === '') {
        this.log.info(
          { endpoint, org: ap.mspId },
          "anchor peer isn't in our org and we have no external endpoint, skipping",
        );
        continue;
      }
      if (this.state === 'running')
        this.connector.connect({ endpoint, kind: 'anchor', configuredOrg: ap.mspId });
    }
    this.anchors.set(channel, endpoints);
  }

  // ---- receiving -------------------------------------------------------------------------

  private receive(m: ReceivedMessage): void {
    if (this.state !== 'running') return;
    try {
      const bad = tagError(m.message);
      if (bad) throw new DiscoveryDropError('bad_tag', bad);
      const c = m.message.content;
      if (c.case === 'aliveMsg') this.receiveAlive(m);
      else if (c.case === 'memReq') this.receiveRequest(m, c.value.selfInformation);
      else if (c.case === 'memRes') this.receiveResponse(m.message.nonce, c.value.alive, c.value.dead, m);
    } catch (e) {
      if (e instanceof DiscoveryDropError) this.drop(e.code, e.message, m);
      else this.drop('malformed', errorMessage(e), m);
    }
  }

  private receiveAlive(m: ReceivedMessage): void {
    const a = parseAlive(m.envelope, m.message);
    // the common case in a flood (every peer gets each alive from several others): no throw
    if (!this.aliveStore.checkValid(a))
      return this.drop('stale', 'alive message is not newer than the stored one', m);
    validateAlive(a, this.opts.identityStore, this.opts.crypto, this.verified);
    if (this.isSelf(a)) return;
    this.aliveStore.add(a);
    this.learn(a);
    this.emitter.add({ envelope: m.envelope, pkiId: a.pkiId, endpoint: a.endpoint, from: m.conn.pkiId });
  }

  private receiveRequest(m: ReceivedMessage, selfInformation: Envelope | undefined): void {
    const a = parseAlive(selfInformation);
    if (!same(a.pkiId, m.conn.pkiId))
      throw new DiscoveryDropError('pki_id_mismatch', 'self_information PKI-ID differs from the connection');
    validateAlive(a, this.opts.identityStore, this.opts.crypto, this.verified);
    if (this.aliveStore.checkValid(a) && !this.isSelf(a)) this.learn(a);
    this.respond(a, m.message.nonce);
  }

  private receiveResponse(nonce: bigint, alive: Envelope[], dead: Envelope[], m: ReceivedMessage): void {
    this.connector.onResponse(nonce);
    for (const env of alive) {
      const a = parseAlive(env);
      if (!this.aliveStore.checkValid(a) || !this.validOrDrop(a, m) || this.isSelf(a)) continue;
      this.learn(a);
    }
    for (const env of dead) {
      const a = parseAlive(env);
      if (
        !this.aliveStore.checkValid(a) ||
        this.isSelf(a) ||
        this.members.get(a.pkiId) ||
        !this.validOrDrop(a, m)
      )
        continue;
      if (this.members.learnDead(a, this.clock.now()))
        this.emit({ kind: 'dead', member: this.info(this.members.get(a.pkiId)!) });
      else this.drop('members_full', 'membership table full', m);
    }
  }

  private validOrDrop(a: AliveEnvelope, m: ReceivedMessage): boolean {
    try {
      validateAlive(a, this.opts.identityStore, this.opts.crypto, this.verified);
      return true;
    } catch (e) {
      if (!(e instanceof DiscoveryDropError)) throw e;
      this.drop(e.code, e.message, m);
      return false;
    }
  }

  /** Apply a validated alive message to the state machine. */
  private learn(a: AliveEnvelope): void {
    const result = this.members.learnAlive(a, this.clock.now());
    if (result === 'full') this.drop('members_full', 'membership table full');
    else if (result === 'new' || result === 'resurrected')
      this.emit({ kind: 'alive', member: this.info(this.members.get(a.pkiId)!) });
  }

  private isSelf(a: AliveEnvelope): boolean {
    if (!same(a.pkiId, this.selfPkiId)) return false;
    if (a.endpoint !== this.config.externalEndpoint) {
      this.drop(
        'self',
        `alive message about us with endpoint ${JSON.stringify(a.endpoint)}, ours is ${JSON.stringify(this.config.externalEndpoint)}`,
      );
      this.log.error(
        { endpoint: a.endpoint },
        'received an alive message about us with a different endpoint',
      );
    }
    return true;
  }

  /** §4.5 step 3: a sieved MembershipResponse, or close when we may not disclose ourselves. */
  private respond(requester: AliveEnvelope, nonce: bigint): void {
    const remote = { org: this.orgOf(requester.pkiId), endpoint: requester.endpoint };
    const target: RemotePeer = {
      pkiId: requester.pkiId,
      endpoint: preferredEndpoint({
        internalEndpoint: internalEndpointOf(requester.envelope),
        endpoint: requester.endpoint,
      }),
    };
    const self = {
      endpoint: this.config.externalEndpoint,
      alive: () => (this.latestAlive ??= this.selfAlive!.build(true)),
    };
    const res = sievedResponse(
      this.memberView,
      remote,
      self,
      this.members.list('alive'),
      this.members.list('dead'),
    );
    if (!res) {
      this.count(METRICS.grapevineGossipDiscoveryRequestsRefusedTotal);
      this.log.warn(
        { member: pkiIdKey(requester.pkiId), org: remote.org },
        "membership request from a peer that shouldn't have sent one; closing the connection",
      );
      this.transport.closeConn(target);
      return;
    }
    this.transport.send(membershipResponse(res.alive, res.dead, nonce), target);
  }

  /**
   * Member.metadata of our alive messages from now on (Grapevine's stream marker; empty, the
   * default, is Fabric's). With `announce` a change goes out at once in a fresh alive message, so
   * members learn it within one emitter batch rather than one aliveTimeInterval.
   */
  setSelfMetadata(metadata: Uint8Array, announce = true): void {
    if (same(metadata, this.selfMetadata)) return;
    this.selfMetadata = metadata;
    if (!this.selfAlive) return;
    this.selfAlive.metadata = metadata;
    this.latestAlive = undefined;
    if (announce && this.state === 'running') this.sendAlive();
  }

  // ---- periodic tasks --------------------------------------------------------------------

  private sendAlive(): void {
    if (this.members.list('alive').length === 0) return;
    const envelope = this.selfAlive!.build(true);
    this.latestAlive = envelope;
    this.emitter.add({ envelope, pkiId: this.selfPkiId, endpoint: this.config.externalEndpoint });
  }

  private checkAlive(): void {
    const now = this.clock.now();
    for (const r of this.members.expire(now, this.config.aliveExpirationTimeoutMs)) {
      this.log.debug(
        { member: pkiIdKey(r.pkiId) },
        'member expired: no alive message within aliveExpirationTimeout',
      );
      this.transport.closeConn(remotePeerOf(r));
      this.emit({ kind: 'dead', member: this.info(r) });
    }
    for (const a of this.aliveStore.expire()) {
      const internal = internalEndpointOf(a.envelope);
      if (this.isPinned(a.endpoint) || this.isPinned(internal)) continue;
      this.purge(a.pkiId, 'expired');
    }
  }

  private reconnectToDead(): void {
    for (const r of this.members.list('dead')) {
      const key = pkiIdKey(r.pkiId);
      if (this.probing.has(key)) continue;
      this.probing.add(key);
      const remote = remotePeerOf(r);
      this.transport
        .probe(remote)
        .then(
          () => {
            if (this.state === 'running')
              this.transport.send(this.membershipRequestFor(remote, 0n, true), remote);
          },
          (e: unknown) =>
            this.log.debug({ member: key, err: errorMessage(e) }, 'dead member still unreachable'),
        )
        .finally(() => this.probing.delete(key));
    }
  }

  private sync(): void {
    const targets = this.opts.rng.sample(this.members.list('alive'), this.config.pullPeerNum);
    if (targets.length === 0) return;
    const own = this.selfAlive!.build(true);
    for (const r of targets) {
      const remote = remotePeerOf(r);
      this.transport.send(membershipRequest(envelopeFor(this.ownOrg, this.orgOf(r.pkiId), own), 0n), remote);
    }
  }

  /** §4.9: fresh random targets for each alive message of the batch. */
  private route(batch: readonly AliveItem[]): void {
    const roster = new Roster(this.memberView, this.members.list('alive'));
    for (const item of batch) {
      const { inOrg, outside } = aliveTargets(
        this.memberView,
        item,
        roster,
        this.opts.rng,
        this.config.propagatePeerNum,
      );
      if (inOrg.length > 0) this.transport.send(item.envelope, ...inOrg);
      if (outside.length > 0)
        this.transport.send(envelopeFor(this.ownOrg, undefined, item.envelope), ...outside);
    }
  }

  // ---- state changes from comm -----------------------------------------------------------

  private presumedDead(pkiId: PkiId): void {
    if (this.state !== 'running') return;
    const r = this.members.markDead(pkiId);
    if (!r) return;
    this.log.debug({ member: pkiIdKey(pkiId) }, 'member presumed dead');
    this.transport.closeConn(remotePeerOf(r));
    this.emit({ kind: 'dead', member: this.info(r) });
  }

  private purge(pkiId: PkiId, reason: 'expired' | 'identity-switch'): void {
    this.aliveStore.remove(pkiId);
    this.orgs.forget(pkiId);
    if (!this.members.remove(pkiId)) return;
    this.log.info({ member: pkiIdKey(pkiId), reason }, 'member removed');
    this.emit({ kind: 'removed', pkiId, reason });
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** A MembershipRequest with a fresh alive of ours, its secret kept only for our own org. */
  private membershipRequestFor(
    remote: RemotePeer,
    nonce: bigint,
    includeInternalEndpoint: boolean,
  ): Envelope {
    let own = this.selfAlive!.build(includeInternalEndpoint);
    if (remote.pkiId) own = envelopeFor(this.ownOrg, this.orgOf(remote.pkiId), own);
    return membershipRequest(own, nonce);
  }

  private isPinned(endpoint: string): boolean {
    if (endpoint === '') return false;
    if (this.bootstrap.has(endpoint)) return true;
    for (const set of this.anchors.values()) if (set.has(endpoint)) return true;
    return false;
  }

  private isOwnEndpoint(endpoint: string): boolean {
    const port = portOf(this.config.endpoint);
    return (
      endpoint === this.config.endpoint ||
      endpoint === this.config.externalEndpoint ||
      endpoint === `127.0.0.1:${port}` ||
      endpoint === `localhost:${port}`
    );
  }

  private info(r: MemberRecord): MemberInfo {
    return {
      pkiId: r.pkiId,
      endpoint: r.endpoint,
      internalEndpoint: r.internalEndpoint,
      mspId: this.orgOfMember(r.pkiId),
      state: r.state,
      lastAlive: r.lastAlive,
      lastSeenMs: r.lastSeenMs,
      envelope: r.envelope,
      metadata: r.metadata,
    };
  }

  private emit(e: MembershipEvent): void {
    for (const h of [...this.handlers]) {
      try {
        h(e);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'membership event handler threw');
      }
    }
  }

  private drop(reason: DropReason, detail: string, m?: ReceivedMessage): void {
    this.dropped?.inc({ reason });
    if (this.log.isLevelEnabled('debug'))
      this.log.debug(
        { reason, from: m ? pkiIdKey(m.conn.pkiId) : undefined, detail },
        'discovery message dropped',
      );
  }

  private count(def: CounterDef<never>): void {
    this.opts.metrics?.counter(def).inc();
  }
}
