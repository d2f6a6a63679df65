/**
 * The generic pull engine (PROTOCOL.md §6.4; Fabric's algo/pull.go + pull/pullstore.go), sans-IO.
 *
 * Initiator, every pullInterval, one round:
 *   1. pick min(pullPeerNum, n) random members of adapter.membership(); for each a fresh random
 *      uint64 nonce unique among outstanding ones; send GossipHello{nonce, msg_type} (outer nonce
 *      0) to the members whose preferred endpoint is the chosen one. Accept digests.
 *   2. after digestWaitTime: stop accepting digests; for each item learned that we do not hold,
 *      pick one random owner; send each owner one DataRequest{its nonce, items}. Accept updates.
 *   3. after responseWaitTime: stop accepting updates; forget the round's nonces.
 *   DataDigest: only for an outstanding nonce while its round accepts digests; ids pass the
 *     adapter's ingress filter first. DataUpdate: only for an outstanding nonce while its round
 *     accepts updates; every element must parse and yield an item id, then adapter.acceptUpdate
 *     validates the whole update (a throw drops all of it) and returns the items to hold.
 * Responder:
 *   Hello: remember (nonce, requester) for requestWaitTime; reply DataDigest{nonce, held ids that
 *     pass the egress filter for that requester}; no reply when the list is empty.
 *   DataRequest with a remembered nonce from the same requester: reply DataUpdate{nonce, stored
 *     envelopes of requested held items that pass the filter}; no reply when empty.
 * Every other message (wrong msg_type, tag or channel, unknown nonce, outside a window, malformed)
 * is dropped, counted in grapevine_gossip_pull_dropped_total{reason} and logged at debug. Everything is bounded:
 * items (maxItems), remembered nonces (maxIncomingNonces), ids per message and per round
 * (maxDigestItems). Timers: one interval, plus two one-shots per round.
 */
import type { ReceivedMessage, RemotePeer, Transport, Unsubscribe } from '../link/types.js';
import type { Clock, Rng, TimerHandle } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { errorMessage } from '../../base/errors.js';
import { silentLogger, type Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { openEnvelope } from '../../wire/gossip.js';
import { FABRIC_PULL_DEFAULTS, type PullConfig } from './config.js';
import {
  PULL_TYPE_LABEL,
  pullMsgTypeOf,
  digestEnvelope,
  helloEnvelope,
  isPullCase,
  requestEnvelope,
  updateEnvelope,
  type PullWireKind,
} from './messages.js';
import { PullItemStore, itemKey, type PullItem } from './store.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';

/** A member a round may pull from; `endpoint` is its preferred endpoint (internal if known). */
export interface PullMember {
  readonly pkiId: PkiId;
  readonly endpoint: string;
}

/** What makes one pull instance (identity pull, block pull of a channel) what it is. */
export interface PullAdapter extends PullWireKind {
  /** Members to pull from (all alive members; same-org channel members for blocks). */
  membership(): readonly PullMember[];
  /** Item id of a stored or pulled message (identity: raw PKI-ID; block: decimal seq_num). Throws when it has none. */
  itemId(message: GossipMessage): Uint8Array;
  /** Ingress digest filter: which advertised ids we want. Default: all. */
  ingressDigestFilter?(digests: readonly Uint8Array[], from: ReceivedMessage): readonly Uint8Array[];
  /** Egress filter: which held ids a requester may learn of and receive. Default: all. */
  egressFilter?(requester: ReceivedMessage): (id: Uint8Array) => boolean;
  /**
   * Validate a whole solicited DataUpdate and return the items to hold (a subset: duplicates,
   * items refused downstream). Throw to drop the whole update.
   */
  acceptUpdate(items: readonly PullItem[], from: ReceivedMessage): readonly PullItem[];
}

export interface PullEngineOptions {
  readonly adapter: PullAdapter;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly rng: Rng;
  /** Resolved (pullConfig(partial) fills defaults). Default FABRIC_PULL_DEFAULTS. */
  readonly config?: PullConfig;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Metric label (`identity`, `block`). */
  readonly name: string;
  /** Subscribe to the transport for this instance's pull messages in start(). Default false. */
  readonly subscribe?: boolean;
}

export type PullDropReason =
  | 'not_pull'
  | 'wrong_msg_type'
  | 'bad_tag'
  | 'wrong_channel'
  | 'unexpected_nonce'
  | 'digest_outside_window'
  | 'update_outside_window'
  | 'request_unknown_nonce'
  | 'malformed_update'
  | 'invalid_update'
  | 'too_many_items'
  | 'store_full'
  | 'nonce_overflow'
  | 'handler_error';

interface Round {
  phase: 'digests' | 'updates';
  /** nonce -> endpoint it was sent to. */
  readonly nonces: Map<bigint, string>;
  readonly nonceOf: Map<string, bigint>;
  /** item key -> id and the endpoints that advertised it. */
  readonly owners: Map<string, { id: Uint8Array; from: Set<string> }>;
  timer?: TimerHandle;
}

export class PullEngine {
  readonly config: PullConfig;
  readonly store: PullItemStore;
  private readonly adapter: PullAdapter;
  private readonly log: Logger;
  private readonly rounds = new Set<Round>();
  private readonly outgoing = new Map<bigint, Round>();
  /** Remembered Hello nonces: key `${nonce}/${requester}` -> expiry (ms); insertion order = expiry order. */
  private readonly incoming = new Map<string, number>();
  private interval?: TimerHandle;
  private unsubscribe?: Unsubscribe;
  private stopped = false;

  constructor(private readonly opts: PullEngineOptions) {
    this.config = opts.config ?? FABRIC_PULL_DEFAULTS;
    this.adapter = opts.adapter;
    this.store = new PullItemStore(this.config.maxItems);
    this.log = opts.logger ?? silentLogger;
    this.updateGauges();
  }

  start(): void {
    if (this.stopped || this.interval) return;
    this.interval = this.opts.clock.setInterval(() => this.initiatePull(), this.config.pullIntervalMs);
    if (this.opts.subscribe) {
      this.unsubscribe = this.opts.transport.subscribe(
        (m) => this.isMine(m.message),
        (m) => this.handleMessage(m),
      );
    }
  }

  /** Release every timer and the subscription; idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const { clock } = this.opts;
    if (this.interval) clock.clearTimer(this.interval);
    this.interval = undefined;
    for (const r of this.rounds) if (r.timer) clock.clearTimer(r.timer);
    this.rounds.clear();
    this.outgoing.clear();
    this.incoming.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.updateGauges();
  }

  /** Whether a message is a pull message of this instance's msg_type (routing predicate). */
  isMine(msg: GossipMessage): boolean {
    return pullMsgTypeOf(msg) === this.adapter.msgType;
  }

  /** Hold an item (our own, or one stored by another path such as push). false when full or already held. */
  add(item: PullItem): boolean {
    const r = this.store.add(item);
    if (r === 'full') this.drop('store_full', undefined, { item: itemKey(item.id) });
    this.updateGauges();
    return r === 'added';
  }

  remove(id: Uint8Array): boolean {
    const removed = this.store.remove(id);
    this.updateGauges();
    return removed;
  }

  has(id: Uint8Array): boolean {
    return this.store.has(id);
  }

  /** Start a round now (the interval timer calls this; tests may too). */
  initiatePull(): void {
    if (this.stopped) return;
    const members = this.adapter.membership();
    const chosen = this.opts.rng.sample(members, Math.min(this.config.pullPeerNum, members.length));
    const endpoints = [...new Set(chosen.map((m) => m.endpoint))];
    if (endpoints.length === 0) return;
    const round: Round = { phase: 'digests', nonces: new Map(), nonceOf: new Map(), owners: new Map() };
    this.rounds.add(round);
    this.counter(METRICS.grapevineGossipPullRoundsTotal).inc(this.labels());
    for (const endpoint of endpoints) {
      const nonce = this.freshNonce();
      round.nonces.set(nonce, endpoint);
      round.nonceOf.set(endpoint, nonce);
      this.outgoing.set(nonce, round);
      this.sendTo(endpoint, helloEnvelope(this.adapter, nonce), 'hello', members);
    }
    round.timer = this.opts.clock.setTimeout(() => this.requestPhase(round), this.config.digestWaitTimeMs);
    this.updateGauges();
  }

  /** Dispatch one received pull message of this instance. Never throws. */
  handleMessage(m: ReceivedMessage): void {
    try {
      this.dispatch(m);
    } catch (e) {
      this.drop('handler_error', m, { err: errorMessage(e) });
    }
  }

  private dispatch(m: ReceivedMessage): void {
    const msg = m.message;
    const c = msg.content;
    const msgType = pullMsgTypeOf(msg);
    if (msgType === undefined || !isPullCase(c.case)) return this.drop('not_pull', m);
    if (msgType !== this.adapter.msgType) return this.drop('wrong_msg_type', m);
    if (msg.tag !== this.adapter.tag) return this.drop('bad_tag', m);
    if (Buffer.from(msg.channel).toString('utf8') !== this.adapter.channel)
      return this.drop('wrong_channel', m);
    this.counter(METRICS.grapevineGossipPullMessagesReceivedTotal).inc(
      this.labels({ type: PULL_TYPE_LABEL[c.case] }),
    );
    if (this.stopped) return;
    switch (c.case) {
      case 'hello':
        return this.onHello(c.value.nonce, m);
      case 'dataDig':
        return this.onDigest(c.value.nonce, c.value.digests, m);
      case 'dataReq':
        return this.onRequest(c.value.nonce, c.value.digests, m);
      case 'dataUpdate':
        return this.onUpdate(c.value.nonce, c.value.data, m);
    }
  }

  // ---- initiator ----

  private onDigest(nonce: bigint, digests: readonly Uint8Array[], m: ReceivedMessage): void {
    const round = this.outgoing.get(nonce);
    if (!round) return this.drop('unexpected_nonce', m, { nonce: String(nonce) });
    if (round.phase !== 'digests') return this.drop('digest_outside_window', m, { nonce: String(nonce) });
    if (digests.length > this.config.maxDigestItems)
      return this.drop('too_many_items', m, { count: digests.length });
    const wanted = this.adapter.ingressDigestFilter ? this.adapter.ingressDigestFilter(digests, m) : digests;
    const source = round.nonces.get(nonce)!;
    for (const id of wanted) {
      if (this.store.has(id)) continue;
      const key = itemKey(id);
      let entry = round.owners.get(key);
      if (!entry) {
        if (round.owners.size >= this.config.maxDigestItems)
          return this.drop('too_many_items', m, { learned: round.owners.size });
        entry = { id: new Uint8Array(id), from: new Set() };
        round.owners.set(key, entry);
      }
      entry.from.add(source);
    }
  }

  private requestPhase(round: Round): void {
    if (!this.rounds.has(round)) return;
    round.phase = 'updates';
    const perOwner = new Map<string, Uint8Array[]>();
    for (const { id, from } of round.owners.values()) {
      if (this.store.has(id)) continue;
      const sources = [...from];
      const owner = sources[this.opts.rng.int(sources.length)]!;
      const list = perOwner.get(owner) ?? [];
      list.push(id);
      perOwner.set(owner, list);
    }
    round.owners.clear();
    const members = perOwner.size > 0 ? this.adapter.membership() : [];
    for (const [owner, ids] of perOwner) {
      this.sendTo(owner, requestEnvelope(this.adapter, round.nonceOf.get(owner)!, ids), 'dataReq', members);
    }
    round.timer = this.opts.clock.setTimeout(() => this.endRound(round), this.config.responseWaitTimeMs);
  }

  private endRound(round: Round): void {
    this.rounds.delete(round);
    for (const nonce of round.nonces.keys()) this.outgoing.delete(nonce);
    this.updateGauges();
  }

  private onUpdate(nonce: bigint, data: readonly Envelope[], m: ReceivedMessage): void {
    const round = this.outgoing.get(nonce);
    if (!round) return this.drop('unexpected_nonce', m, { nonce: String(nonce) });
    if (round.phase !== 'updates') return this.drop('update_outside_window', m, { nonce: String(nonce) });
    if (data.length > this.config.maxDigestItems)
      return this.drop('too_many_items', m, { count: data.length });
    const items: PullItem[] = [];
    for (const envelope of data) {
      try {
        const { message } = openEnvelope(envelope);
        items.push({ id: this.adapter.itemId(message), envelope, message });
      } catch (e) {
        return this.drop('malformed_update', m, { err: errorMessage(e) });
      }
    }
    let accepted: readonly PullItem[];
    try {
      accepted = this.adapter.acceptUpdate(items, m);
    } catch (e) {
      return this.drop('invalid_update', m, { err: errorMessage(e) });
    }
    let added = 0;
    for (const item of accepted) if (this.add(item)) added++;
    if (added > 0) this.counter(METRICS.grapevineGossipPullItemsPulledTotal).inc(this.labels(), added);
  }

  // ---- responder ----

  private onHello(nonce: bigint, m: ReceivedMessage): void {
    const now = this.opts.clock.now();
    this.forgetExpired(now);
    const key = `${nonce}/${pkiIdKey(m.conn.pkiId)}`;
    this.incoming.delete(key);
    if (this.incoming.size >= this.config.maxIncomingNonces) {
      const oldest = this.incoming.keys().next().value as string;
      this.incoming.delete(oldest);
      this.drop('nonce_overflow', m);
    }
    this.incoming.set(key, now + this.config.requestWaitTimeMs);
    this.updateGauges();
    const filter = this.egressFilter(m);
    const ids = this.store.ids().filter((id) => filter(id));
    if (ids.length === 0) return;
    this.respond(m, digestEnvelope(this.adapter, nonce, ids), 'dataDig');
  }

  private onRequest(nonce: bigint, digests: readonly Uint8Array[], m: ReceivedMessage): void {
    const now = this.opts.clock.now();
    this.forgetExpired(now);
    const expiry = this.incoming.get(`${nonce}/${pkiIdKey(m.conn.pkiId)}`);
    if (expiry === undefined || expiry < now)
      return this.drop('request_unknown_nonce', m, { nonce: String(nonce) });
    if (digests.length > this.config.maxDigestItems)
      return this.drop('too_many_items', m, { count: digests.length });
    const filter = this.egressFilter(m);
    const out: Envelope[] = [];
    const seen = new Set<string>();
    for (const id of digests) {
      const key = itemKey(id);
      if (seen.has(key)) continue;
      seen.add(key);
      const item = this.store.get(id);
      if (item && filter(item.id)) out.push(item.envelope);
    }
    if (out.length === 0) return;
    this.respond(m, updateEnvelope(this.adapter, nonce, out), 'dataUpdate');
  }

  private egressFilter(m: ReceivedMessage): (id: Uint8Array) => boolean {
    if (!this.adapter.egressFilter) return () => true;
    try {
      const f = this.adapter.egressFilter(m);
      return (id) => {
        try {
          return f(id);
        } catch {
          return false;
        }
      };
    } catch {
      return () => false;
    }
  }

  private forgetExpired(now: number): void {
    for (const [key, expiry] of this.incoming) {
      if (expiry >= now) break;
      this.incoming.delete(key);
    }
  }

  // ---- helpers ----

  private freshNonce(): bigint {
    for (;;) {
      const n = this.opts.rng.u64();
      if (n !== 0n && !this.outgoing.has(n)) return n;
    }
  }

  /** Send to every member whose preferred endpoint is `endpoint` (Fabric's peersWithEndpoints). */
  private sendTo(
    endpoint: string,
    envelope: Envelope,
    type: 'hello' | 'dataReq',
    members: readonly PullMember[],
  ): void {
    const peers: RemotePeer[] = members
      .filter((mb) => mb.endpoint === endpoint)
      .map((mb) => ({ endpoint: mb.endpoint, pkiId: mb.pkiId }));
    if (peers.length === 0) return;
    this.opts.transport.send(envelope, ...peers);
    this.counter(METRICS.grapevineGossipPullMessagesSentTotal).inc(
      this.labels({ type: PULL_TYPE_LABEL[type] }),
    );
  }

  private respond(m: ReceivedMessage, envelope: Envelope, type: 'dataDig' | 'dataUpdate'): void {
    m.respond(envelope);
    this.counter(METRICS.grapevineGossipPullMessagesSentTotal).inc(
      this.labels({ type: PULL_TYPE_LABEL[type] }),
    );
  }

  private drop(reason: PullDropReason, m?: ReceivedMessage, extra: Record<string, unknown> = {}): void {
    this.counter(METRICS.grapevineGossipPullDroppedTotal).inc(this.labels({ reason }));
    this.log.debug(
      { pull: this.opts.name, channel: this.adapter.channel, reason, from: m?.conn.endpoint, ...extra },
      'pull: dropped',
    );
  }

  private labels(extra: Record<string, string> = {}): Record<string, string> {
    return { pull: this.opts.name, channel: this.adapter.channel, ...extra };
  }

  private counter(def: CounterDef) {
    return this.opts.metrics
      ? this.opts.metrics.counter(def)
      : { inc: (_l?: Record<string, string>, _v?: number) => undefined };
  }

  private updateGauges(): void {
    const metrics = this.opts.metrics;
    if (!metrics) return;
    metrics.gauge(METRICS.grapevineGossipPullItems).set(this.labels(), this.store.size);
    const nonces = metrics.gauge(METRICS.grapevineGossipPullNonces);
    nonces.set(this.labels({ side: 'outgoing' }), this.outgoing.size);
    nonces.set(this.labels({ side: 'incoming' }), this.incoming.size);
  }
}
