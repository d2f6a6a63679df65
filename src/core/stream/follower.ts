/**
 * One channel's block stream from an upstream Grapevine peer (the stream tree, tree.ts).
 *
 * reconcile (every checkMs, and at once when a session ends):
 *   - we lead the channel (election or static leader; our deliver client pulls from the orderer):
 *     no upstream, no acting source;
 *   - no other streaming member: nothing (Fabric's push and pull feed us, as before);
 *   - plan (tree.ts) says source: end any session, become an acting source (the service starts
 *     the deliver client, and the stream marker says so);
 *   - plan says upstream U: keep a session to U; a working session to another member is kept
 *     until U has been the plan for rebalanceMs; a stalled one (nothing for stallMs while a member
 *     is ahead of us) is dropped and its upstream suspected.
 * session: open orderer.AtomicBroadcast/Deliver on U's endpoint with a signed SeekInfo from our
 *   ledger height (so one stream serves catch-up and live blocks), stop acting as source once it
 *   is open, then for each response: a status ends it; a block must decode, have a header, be the
 *   next in sequence (the seek's start, then one after the last) and pass verifyBlock before
 *   addPayload, which blocks while the state layer's buffer is full (flow
 *   control: nothing is dropped for being ahead).
 * failure (connect error, stream end, bad status, bad block): U is suspected for suspectMs; if U
 *   was the root we become an acting source at once (the orderer, for as long as no upstream has
 *   the blocks), so the root's children fail over in one round trip, not after an election; the
 *   plans then converge on one source again as the markers spread.
 * No I/O here: connector, clock and the channel's ledger and verifier are injected.
 */
import type { Clock, TimerHandle } from '../../base/time.js';
import { errorMessage } from '../../base/errors.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { pkiIdKey, samePkiId, type PkiId } from '../../base/pkiid.js';
import type { Metrics } from '../../base/metrics.js';
import { METRICS } from '../../base/metric-table.js';
import { decodeBlock } from '../../wire/block.js';
import { parseDeliverResponse } from '../../wire/deliver-frames.js';
import { Status, type Block } from '../../wire/gen/common/common_pb.js';
import type { DeliverStream } from '../deliver/deliverer.js';
import type { StreamConfig } from './config.js';
import type { SourceRole } from './marker.js';
import { planUpstream, type Plan, type StreamMember } from './tree.js';

/** Opens a Deliver stream on a peer. */
export interface UpstreamConnector {
  /** Dial `endpoint`, open orderer.AtomicBroadcast/Deliver and send `seekEnvelope`. */
  open(endpoint: string, seekEnvelope: Uint8Array): Promise<DeliverStream>;
  /**
   * SHA-256 of the TLS client certificate the connector presents, for the seek envelope's
   * tls_cert_hash (an upstream with mutual TLS refuses a seek without the binding); absent: none.
   */
  readonly tlsCertHash?: Uint8Array;
}

export interface StreamFollowerOptions {
  readonly channelId: string;
  readonly selfPkiId: PkiId;
  readonly clock: Clock;
  readonly config: StreamConfig;
  readonly connector: UpstreamConnector;
  /** The org's other streaming members of this channel, alive (the adapter reads gossip). */
  members(): readonly StreamMember[];
  ledgerHeight(): bigint;
  /** True while we lead the channel (our deliver client pulls from the orderer as leader). */
  isLeader(): boolean;
  /** The signed SeekInfo envelope for a seek from `height` to the end of time. */
  seekEnvelope(height: bigint): Uint8Array;
  /** VerifyBlock (§2.8); throws on failure. */
  verifyBlock(seqNum: bigint, block: Block): void;
  /** The state layer's blocking AddPayload. */
  addPayload(seqNum: bigint, blockBytes: Uint8Array, block: Block): Promise<void>;
  /** Start (true) or stop (false) pulling from the orderer as an acting source. */
  setActingSource(on: boolean): void;
  /**
   * We lead but lag the org by more than lagBlocks (true) or no longer (false): the deliver
   * client of a lagging leader waits while the stream catches it up.
   */
  onLeaderLagging?(lagging: boolean): void;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

type EndReason = 'failed' | 'stalled' | 'rebalanced' | 'source' | 'stopped' | 'leader' | 'alone';

interface Session {
  readonly member: StreamMember;
  readonly root: StreamMember;
  readonly depth: number;
  lastProgressAt: number;
  stream?: DeliverStream;
  ended?: EndReason;
  blocks: number;
  /** The block the upstream must send next (the seek's start, then one after the last). */
  next: bigint;
}

const ROLE_GAUGE = { none: 0, follower: 1, source: 2, leader: 3 } as const;

export class StreamFollower {
  private session: Session | undefined;
  private acting = false;
  private lagging = false;
  private unknownSince: number | undefined;
  private readonly suspects = new Map<string, number>();
  private planned: { key: string; since: number } | undefined;
  private timer: TimerHandle | undefined;
  private soon = false;
  private stopped = false;
  private readonly log: Logger;
  /** The last plan (for status and tests). */
  lastPlan: Plan | { kind: 'leader' } | { kind: 'none' } = { kind: 'none' };

  constructor(private readonly o: StreamFollowerOptions) {
    this.log = o.logger ?? silentLogger;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.o.clock.setInterval(() => this.reconcile(), this.o.config.checkIntervalMs);
    this.reconcile();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.endSession('stopped');
    this.setActing(false);
    this.lagging = false;
  }

  /** Whether we act as the org's source (pull from the orderer without leading). */
  get actingSource(): boolean {
    return this.acting;
  }

  /** The member we stream from, if any. */
  get upstream(): StreamMember | undefined {
    return this.session?.member;
  }

  /** We lead the channel but are far below the org: we stream, and our deliver client waits. */
  get leaderLagging(): boolean {
    return this.lagging;
  }

  private setLeaderLagging(on: boolean): void {
    if (this.lagging === on) return;
    this.lagging = on;
    this.log.info(
      { channel: this.o.channelId },
      on
        ? 'leader far below the org: catching up by stream first'
        : 'leader caught up: pulling from the ordering service',
    );
    this.o.onLeaderLagging?.(on);
  }

  /** Our role for the stream marker: leader, acting source, or none. */
  role(): SourceRole | undefined {
    if (this.o.isLeader()) return 'leader';
    return this.acting ? 'source' : undefined;
  }

  /** Re-plan now (membership or leadership changed). */
  reconcile(): void {
    if (this.stopped) return;
    const { o } = this;
    const now = o.clock.now();
    for (const [k, until] of this.suspects) if (until <= now) this.suspects.delete(k);
    const members = o
      .members()
      .map((m) => (this.suspects.has(pkiIdKey(m.pkiId)) ? { ...m, suspect: true } : m));
    const height = o.ledgerHeight();
    // a peer that just joined knows the members before their heights (StateInfo comes later):
    // for up to stallTimeout it does not start pulling from the orderer on that ignorance
    if (members.some((m) => !m.suspect && m.height === undefined)) this.unknownSince ??= now;
    else this.unknownSince = undefined;
    const heightsPending =
      this.unknownSince !== undefined && now - this.unknownSince < o.config.stallTimeoutMs;
    if (o.isLeader()) {
      // a leader far below its org (elected at start-up, Fabric's election knows no heights)
      // catches up through the stream, not from the orderer; it leads again once up to date
      // (more than lagBlocks below a member to start, none above us to stop: it leads once it
      // has what the org has, and needs the orderer for nothing the org could give it)
      const margin = this.lagging ? 0n : BigInt(o.config.lagBlocks);
      const lags =
        heightsPending ||
        members.some((m) => !m.suspect && m.height !== undefined && m.height > height + margin);
      this.setLeaderLagging(lags);
      if (!lags) {
        this.endSession('leader');
        this.setActing(false);
        this.lastPlan = { kind: 'leader' };
        this.gauge(ROLE_GAUGE.leader, 0);
        return;
      }
    } else this.setLeaderLagging(false);
    if (members.length === 0) {
      this.endSession('alone');
      this.setActing(false);
      this.lastPlan = { kind: 'none' };
      this.gauge(ROLE_GAUGE.none, 0);
      return;
    }
    const plan = planUpstream({
      self: { pkiId: o.selfPkiId, endpoint: '', height, role: this.acting ? 'source' : undefined },
      members,
      fanout: o.config.fanout,
      lagBlocks: o.config.lagBlocks,
    });
    this.lastPlan = plan;
    if (plan.kind === 'source' && !this.acting && heightsPending) return;
    if (plan.kind === 'source') {
      this.endSession('source');
      this.setActing(true);
      this.gauge(ROLE_GAUGE.source, 0);
      return;
    }
    this.gauge(this.acting ? ROLE_GAUGE.source : ROLE_GAUGE.follower, plan.depth);
    const key = pkiIdKey(plan.upstream.pkiId);
    if (this.planned?.key !== key) this.planned = { key, since: now };
    const s = this.session;
    if (s) {
      const sameMember = samePkiId(s.member.pkiId, plan.upstream.pkiId);
      if (this.isStalled(s, members, height, now)) {
        this.log.info({ upstream: s.member.endpoint }, 'block stream stalled; choosing another upstream');
        this.fail(s, 'stalled');
        return;
      }
      if (sameMember) return;
      const stillThere = members.some((m) => !m.suspect && samePkiId(m.pkiId, s.member.pkiId));
      if (stillThere && now - this.planned.since < o.config.rebalanceAfterMs) return;
      this.endSession('rebalanced');
    }
    this.open(plan.upstream, plan.root, plan.depth);
  }

  private isStalled(s: Session, members: readonly StreamMember[], height: bigint, now: number): boolean {
    if (now - s.lastProgressAt < this.o.config.stallTimeoutMs) return false;
    return members.some((m) => !m.suspect && m.height !== undefined && m.height > height);
  }

  private open(member: StreamMember, root: StreamMember, depth: number): void {
    const s: Session = { member, root, depth, lastProgressAt: this.o.clock.now(), blocks: 0, next: 0n };
    this.session = s;
    void this.run(s);
  }

  private async run(s: Session): Promise<void> {
    const { o } = this;
    const height = o.ledgerHeight();
    s.next = height;
    try {
      const stream = await o.connector.open(s.member.endpoint, o.seekEnvelope(height));
      if (s.ended) {
        stream.close();
        return;
      }
      s.stream = stream;
    } catch (e) {
      this.log.debug({ upstream: s.member.endpoint, err: errorMessage(e) }, 'could not open block stream');
      this.fail(s, 'failed');
      return;
    }
    this.log.debug(
      { upstream: s.member.endpoint, nextBlock: String(height), depth: s.depth },
      'streaming blocks from upstream peer',
    );
    // the upstream serves us now: stop pulling from the orderer ourselves
    this.setActing(false);
    for (;;) {
      const frame = await s.stream.recv();
      if (s.ended) return;
      if (frame === undefined) {
        this.log.debug({ upstream: s.member.endpoint }, 'upstream ended the block stream');
        this.fail(s, 'failed');
        return;
      }
      const err = await this.process(frame, s);
      if (s.ended) return;
      if (err !== undefined) {
        this.log.debug({ upstream: s.member.endpoint, err }, 'block stream refused');
        // NOT_FOUND before any block: the upstream is below the height we seek from (its
        // StateInfo was stale), not faulty; leave it out only until the next plan or two
        const behind = s.blocks === 0 && err === `status ${Status[Status.NOT_FOUND]}`;
        this.fail(s, 'failed', behind ? 2 * o.config.checkIntervalMs : undefined);
        return;
      }
      s.blocks++;
      s.lastProgressAt = o.clock.now();
      o.metrics?.counter(METRICS.grapevineStreamBlocksTotal).inc({ channel: o.channelId });
    }
  }

  /** One DeliverResponse; returns why it is refused, or undefined. */
  private async process(frame: Uint8Array, s: Session): Promise<string | undefined> {
    const { o } = this;
    let res;
    try {
      res = parseDeliverResponse(frame);
    } catch (e) {
      return `malformed response: ${errorMessage(e)}`;
    }
    if (res.case === 'status') return `status ${Status[res.status] ?? res.status}`;
    if (res.case !== 'block') return 'unknown response';
    let block: Block;
    try {
      block = decodeBlock(res.block);
    } catch (e) {
      return `block does not decode: ${errorMessage(e)}`;
    }
    if (!block.header) return 'block without header';
    const seq = block.header.number;
    // a Deliver stream sends the blocks from the seek's start in order, none left out
    if (seq !== s.next) return `block ${seq} out of sequence (expected ${s.next})`;
    try {
      o.verifyBlock(seq, block);
    } catch (e) {
      return `block ${seq} fails verification: ${errorMessage(e)}`;
    }
    try {
      await o.addPayload(seq, res.block, block);
    } catch (e) {
      return `block ${seq} not added: ${errorMessage(e)}`;
    }
    s.next = seq + 1n;
    return undefined;
  }

  private fail(s: Session, reason: 'failed' | 'stalled', suspectMs = this.o.config.suspectTimeoutMs): void {
    if (s.ended) return;
    this.endSession(reason);
    this.suspects.set(pkiIdKey(s.member.pkiId), this.o.clock.now() + suspectMs);
    // the root is gone: pull from the orderer until the plans agree on a new source
    if (samePkiId(s.member.pkiId, s.root.pkiId)) this.setActing(true);
    this.reconcileSoon();
  }

  private endSession(reason: EndReason): void {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    s.ended = reason;
    s.stream?.close();
    this.o.metrics?.counter(METRICS.grapevineStreamSessionsTotal).inc({ channel: this.o.channelId, reason });
  }

  private reconcileSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = true;
    this.o.clock.setTimeout(() => {
      this.soon = false;
      this.reconcile();
    }, 0);
  }

  private setActing(on: boolean): void {
    if (this.acting === on) return;
    if (on && this.stopped) return;
    this.acting = on;
    this.log.info(
      { channel: this.o.channelId },
      on ? 'acting as the org source: pulling from the ordering service' : 'no longer the org source',
    );
    this.o.setActingSource(on);
  }

  private gauge(role: number, depth: number): void {
    const m = this.o.metrics;
    if (!m) return;
    m.gauge(METRICS.grapevineStreamRole).set({ channel: this.o.channelId }, role);
    m.gauge(METRICS.grapevineStreamDepth).set({ channel: this.o.channelId }, depth);
  }
}
