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
 *   is open, then for each response: a status ends it; a block must decode and pass VerifyBlock
 *   as the next in sequence (the seek's start, then one after the last) before it is added; the
 *   add blocks while the state layer's buffer is full (flow control: nothing is dropped for being
 *   ahead). Verification may run ahead of the add, in worker threads (pump): a far-behind
 *   follower catches up at the pace of the stream, not of one signature check at a time.
 * failure (connect error, stream end, bad status, bad block): U is suspected for suspectMs; if U
 *   was the root we become an acting source at once (the orderer, for as long as no upstream has
 *   the blocks), so the root's children fail over in one round trip, not after an election; the
 *   plans then converge on one source again as the markers spread.
 * No I/O here: connector, clock and the channel's ledger and verifier are injected.
 */
import type { Clock, TimerHandle } from '../../base/time.js';
import { errorMessage } from '../../base/errors.js';
import { awaitedLater } from '../../base/later.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { pkiIdKey, samePkiId, type PkiId } from '../../base/pkiid.js';
import type { Metrics } from '../../base/metrics.js';
import { METRICS } from '../../base/metric-table.js';
import { parseDeliverResponse } from '../../wire/deliver-frames.js';
import { Status } from '../../wire/gen/common/common_pb.js';
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

export interface StreamFollowerOptions<V> {
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
  /**
   * Decode block `seqNum` and VerifyBlock it (§2.8: its header number must be seqNum); throws or
   * rejects when bad. May run off this thread: several can be under way at once. `backlog`:
   * blocks read or received before it and not added yet (0: a live block, nothing waits).
   */
  verify(seqNum: bigint, blockBytes: Uint8Array, backlog: number): V | Promise<V>;
  /** Verifications that may run ahead of the block being added (default 0: one at a time). */
  verifyAhead?(): number;
  /** The state layer's blocking AddPayload of a verified block, in stream order; `from`: its upstream. */
  add(verified: V, from: StreamMember): Promise<void>;
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
  /** When a member was first seen ahead of us (isStalled), while one is. */
  aheadSince?: number;
  stream?: DeliverStream;
  ended?: EndReason;
  blocks: number;
  /** The block the upstream must send next (the seek's start, then one after the last). */
  next: bigint;
}

/** How often a just-started follower looks for an upstream (lookSoon). */
const START_LOOK_MS = 50;

const ROLE_GAUGE = { none: 0, follower: 1, source: 2, leader: 3 } as const;

export class StreamFollower<V = unknown> {
  private session: Session | undefined;
  private acting = false;
  private lagging = false;
  private unknownSince: number | undefined;
  private readonly suspects = new Map<string, number>();
  private planned: { key: string; since: number } | undefined;
  private timer: TimerHandle | undefined;
  private soon = false;
  private looking = false;
  private startedAt = 0;
  private stopped = false;
  private readonly log: Logger;
  /** The last plan (for status and tests). */
  lastPlan: Plan | { kind: 'leader' } | { kind: 'none' } = { kind: 'none' };

  constructor(private readonly o: StreamFollowerOptions<V>) {
    this.log = o.logger ?? silentLogger;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.startedAt = this.o.clock.now();
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
      this.lookSoon();
      return;
    }
    const plan = planUpstream({
      self: { pkiId: o.selfPkiId, endpoint: '', height, role: this.acting ? 'source' : undefined },
      members,
      fanout: o.config.fanout,
      lagBlocks: o.config.lagBlocks,
    });
    this.lastPlan = plan;
    if (plan.kind === 'source' && !this.acting && heightsPending) return this.lookSoon();
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

  /**
   * Stalled: a member has been ahead of us for stallTimeout and nothing came meanwhile. Counted
   * from when the lead was first seen, not from the last block: after a quiet spell (no blocks
   * cut) the first member to commit a new block is ahead for a moment, and that is no stall.
   */
  private isStalled(s: Session, members: readonly StreamMember[], height: bigint, now: number): boolean {
    const ahead = members.some((m) => !m.suspect && m.height !== undefined && m.height > height);
    if (!ahead) {
      s.aheadSince = undefined;
      return false;
    }
    s.aheadSince ??= now;
    return now - Math.max(s.lastProgressAt, s.aheadSince) >= this.o.config.stallTimeoutMs;
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
    let stream: DeliverStream;
    try {
      stream = await o.connector.open(s.member.endpoint, o.seekEnvelope(height));
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
    const err = await this.pump(s, stream);
    if (s.ended) return;
    this.log.debug({ upstream: s.member.endpoint, err }, 'block stream ended');
    // NOT_FOUND before any block: the upstream is below the height we seek from (its
    // StateInfo was stale), not faulty; leave it out only until the next plan or two
    const behind = s.blocks === 0 && err === `status ${Status[Status.NOT_FOUND]}`;
    this.fail(s, 'failed', behind ? 2 * o.config.checkIntervalMs : undefined);
  }

  /**
   * Reads the stream and adds its blocks until either fails; returns why. Two loops share a
   * window of verifications in stream order: the reader starts block s.next's verification as
   * its frame arrives (up to verifyAhead() ahead of the block being added), the adder takes them
   * in order and adds each once it and every block before it verified. A read that ends lets the
   * adder finish the blocks already read first; a bad block ends both (its successors unused).
   */
  private async pump(s: Session, stream: DeliverStream): Promise<string> {
    const { o } = this;
    // read at every step: verifier workers may come up while the stream runs
    const ahead = () => Math.max(0, o.verifyAhead?.() ?? 0);
    const window: { seq: bigint; v: Promise<V> }[] = [];
    let readEnd: string | undefined;
    let done = false; // the adder returned
    let room: (() => void) | undefined;
    let item: (() => void) | undefined;
    const wake = (w: (() => void) | undefined) => w?.();
    const reader = (async () => {
      let seq = s.next;
      for (;;) {
        while (window.length > ahead() && !done && !s.ended) await new Promise<void>((r) => (room = r));
        if (done || s.ended) return;
        const frame = await stream.recv();
        if (done || s.ended) return;
        const r = frame === undefined ? { end: 'upstream ended the block stream' } : this.blockOf(frame);
        if ('end' in r) {
          readEnd = r.end;
          wake(item);
          return;
        }
        // behind: blocks read and not added, frames received and not read, or blocks the upstream
        // held when the session opened beyond this one (a catch-up from the first block on)
        const held = s.member.height !== undefined ? Number(s.member.height - seq - 1n) : 0;
        const backlog = Math.max(window.length + (stream.queued?.() ?? 0), held);
        window.push({ seq, v: awaitedLater(() => o.verify(seq, r.block, backlog)) });
        seq++;
        wake(item);
      }
    })();
    try {
      for (;;) {
        if (window.length === 0) {
          if (readEnd !== undefined) return readEnd;
          if (s.ended) return 'ended';
          await new Promise<void>((r) => (item = r));
          continue;
        }
        const head = window[0]!;
        let v: V;
        try {
          v = await head.v;
        } catch (e) {
          return `block ${head.seq} fails verification: ${errorMessage(e)}`;
        }
        if (s.ended) return 'ended';
        try {
          await o.add(v, s.member);
        } catch (e) {
          return `block ${head.seq} not added: ${errorMessage(e)}`;
        }
        window.shift();
        wake(room);
        s.next = head.seq + 1n;
        s.blocks++;
        s.lastProgressAt = o.clock.now();
        o.metrics?.counter(METRICS.grapevineStreamBlocksTotal).inc({ channel: o.channelId });
      }
    } finally {
      // the reader stops at its next step (a pending recv ends with the stream)
      done = true;
      stream.close();
      wake(room);
      await reader;
    }
  }

  /** One DeliverResponse: a block's bytes, or why the stream ends. */
  private blockOf(frame: Uint8Array): { block: Uint8Array } | { end: string } {
    let res;
    try {
      res = parseDeliverResponse(frame);
    } catch (e) {
      return { end: `malformed response: ${errorMessage(e)}` };
    }
    if (res.case === 'status') return { end: `status ${Status[res.status] ?? res.status}` };
    if (res.case !== 'block') return { end: 'unknown response' };
    return { block: res.block };
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

  /**
   * Just started and no upstream yet (members or their heights still unknown): look again in
   * START_LOOK_MS rather than checkIntervalMs, so a new peer streams as soon as membership
   * tells it where from (for the first stallTimeout only: a lone peer does not poll on).
   */
  private lookSoon(): void {
    const { o } = this;
    if (this.looking || this.stopped || o.clock.now() - this.startedAt >= o.config.stallTimeoutMs) return;
    this.looking = true;
    o.clock.setTimeout(
      () => {
        this.looking = false;
        this.reconcile();
      },
      Math.min(START_LOOK_MS, o.config.checkIntervalMs),
    );
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
