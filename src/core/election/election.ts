/**
 * Dynamic leader election of one channel within our org (PROTOCOL.md §7.2–§7.3; Fabric's
 * gossip/election). Peers break symmetry by PKI-ID: the lowest bytes win. The aim is exactly one
 * leader per org when views agree; a partition gives one leader per side, and after it heals the
 * higher leader steps down on hearing the lower one's declaration.
 *
 *   state: isLeader, leaderExists, yielding, proposals (IDs of election peers that proposed).
 *   every message (already verified by gossip) whose sender is not an election peer is dropped.
 *     proposal    -> proposals += sender
 *     declaration -> leaderExists; an interruptible wait ends now; if sender < us and we lead,
 *                    stop being leader
 *   startup: sample the election peer count every membershipSampleInterval; go on when two
 *     samples agree, startupGracePeriod has passed, or a declaration was seen.
 *   loop: no leader known and not yielding -> election round: propose, wait leaderElectionDuration
 *           (interruptible); no declaration, not yielding, no proposal from a lower ID -> leader.
 *         leader known while yielding -> stop yielding.
 *         leader   -> declare, wait leaderAliveThreshold / 2 (interruptible), loop.
 *         follower -> clear proposals, leaderExists = false, wait leaderAliveThreshold, loop
 *                     (a declaration meanwhile keeps the leader known; none -> election).
 *   yield (the deliver client gave up, §8.5): if leader and not yielding: stop being leader,
 *     leader unknown, yielding until leaderAliveThreshold x 6 passes or another leader is seen.
 * Timers are the injected Clock's; every step runs from a timer or a message, never re-entrantly.
 * Invariants (InvariantError), checked after every step: one view of leadership per peer: leading
 *   implies a leader known (ourselves) and not yielding; becoming leader only from follower,
 *   stepping down only from leader (the callback alternates true / false, starting with true).
 */
import type { Unsubscribe } from '../link/types.js';
import type { Clock, TimerHandle } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { errorMessage, invariant, InvariantError } from '../../base/errors.js';
import { componentLogger, type Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { ElectionConfig } from './config.js';
import type { ElectionAdapter, ElectionMessage, Leadership, LeadershipCallback } from './types.js';
import { METRICS } from '../../base/metric-table.js';

export interface LeaderElectionOptions {
  readonly adapter: ElectionAdapter;
  readonly selfPkiId: PkiId;
  readonly channel: string;
  readonly config: Pick<
    ElectionConfig,
    | 'startupGracePeriodMs'
    | 'membershipSampleIntervalMs'
    | 'leaderAliveThresholdMs'
    | 'leaderElectionDurationMs'
  >;
  readonly clock: Clock;
  readonly onLeadershipChange?: LeadershipCallback;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

export type ElectionPhase = 'new' | 'startup' | 'electing' | 'leading' | 'following' | 'stopped';

/** Raw PKI-ID byte order (Go's bytes.Compare). */
export function comparePkiIds(a: PkiId, b: PkiId): number {
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

export class LeaderElection implements Leadership {
  readonly mode = 'dynamic' as const;
  private phaseNow: ElectionPhase = 'new';
  private leader = false;
  private leaderExists = false;
  private yielding = false;
  private readonly proposals = new Set<string>();
  private sleeping = false;
  private waitTimer?: TimerHandle;
  private waitNext?: () => void;
  private yieldTimer?: TimerHandle;
  private unsubscribe?: Unsubscribe;
  private viewSize = 0;
  private startupEnd = 0;
  private readonly log: Logger;

  constructor(private readonly opts: LeaderElectionOptions) {
    if (opts.selfPkiId.length === 0) throw new TypeError('leader election: empty PKI-ID');
    this.log = componentLogger(
      'election',
      { channel: opts.channel, peer: pkiIdKey(opts.selfPkiId).slice(0, 16) },
      opts.logger,
    );
  }

  get phase(): ElectionPhase {
    return this.phaseNow;
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Whether a leader (maybe us) is currently known; false once a follower wait began without news. */
  get isLeaderKnown(): boolean {
    return this.leaderExists;
  }

  get isYielding(): boolean {
    return this.yielding;
  }

  start(): void {
    if (this.phaseNow !== 'new') return;
    this.phaseNow = 'startup';
    this.unsubscribe = this.opts.adapter.accept((m) => this.handleMessage(m));
    this.viewSize = this.opts.adapter.peers().length;
    this.startupEnd = this.opts.clock.now() + this.opts.config.startupGracePeriodMs;
    this.wait(this.opts.config.membershipSampleIntervalMs, false, () => this.sampleMembership());
  }

  /** Idempotent: every timer and the subscription are released; the callback is not called. */
  stop(): void {
    if (this.phaseNow === 'stopped') return;
    this.phaseNow = 'stopped';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.waitTimer) this.opts.clock.clearTimer(this.waitTimer);
    if (this.yieldTimer) this.opts.clock.clearTimer(this.yieldTimer);
    this.waitTimer = this.yieldTimer = this.waitNext = undefined;
    this.sleeping = false;
    this.proposals.clear();
    this.report(false);
  }

  /** §7.3 step 7. */
  yield(): void {
    if (this.phaseNow === 'stopped' || !this.leader || this.yielding) return;
    this.yielding = true;
    this.log.info('yielding leadership');
    this.stopBeingLeader();
    this.leaderExists = false;
    this.yieldTimer = this.opts.clock.setTimeout(() => {
      this.yieldTimer = undefined;
      this.yielding = false;
    }, this.opts.config.leaderAliveThresholdMs * 6);
    this.checkState();
  }

  /** A verified leadership message of this channel (from the adapter). */
  handleMessage(m: ElectionMessage): void {
    if (this.phaseNow === 'new' || this.phaseNow === 'stopped') return;
    if (!this.isElectionPeer(m.pkiId)) {
      this.opts.metrics
        ?.counter(METRICS.grapevineGossipLeaderElectionDroppedTotal)
        .inc({ channel: this.opts.channel });
      this.log.debug(
        { from: pkiIdKey(m.pkiId).slice(0, 16) },
        'leadership message from a peer not in the view; dropped',
      );
      return;
    }
    if (!m.isDeclaration) {
      this.proposals.add(pkiIdKey(m.pkiId));
      return;
    }
    this.leaderExists = true;
    if (this.sleeping) this.interrupt();
    if (this.leader && comparePkiIds(m.pkiId, this.opts.selfPkiId) < 0) {
      this.log.info(
        { by: pkiIdKey(m.pkiId).slice(0, 16) },
        'a lower PKI-ID declared leadership; stepping down',
      );
      this.stopBeingLeader();
    }
    this.checkState();
  }

  // ---- the loop ------------------------------------------------------------------------------

  private sampleMembership(): void {
    const size = this.opts.adapter.peers().length;
    if (size === this.viewSize || this.opts.clock.now() > this.startupEnd || this.leaderExists) {
      this.log.debug({ peers: size }, 'membership stable; election starts');
      this.loop();
      return;
    }
    this.viewSize = size;
    this.wait(this.opts.config.membershipSampleIntervalMs, false, () => this.sampleMembership());
  }

  private loop(): void {
    if (this.phaseNow === 'stopped') return;
    if (!this.leaderExists && !this.yielding) {
      this.phaseNow = 'electing';
      this.opts.adapter.gossip(this.opts.adapter.createMessage(false));
      this.wait(this.opts.config.leaderElectionDurationMs, true, () => this.endElection());
      return;
    }
    this.steady();
  }

  private endElection(): void {
    if (!this.leaderExists && !this.yielding && !this.lowerProposal()) {
      this.beLeader();
      this.leaderExists = true;
    }
    this.steady();
  }

  private steady(): void {
    if (this.leaderExists && this.yielding) this.stopYielding();
    if (this.leader) {
      this.phaseNow = 'leading';
      this.opts.adapter.gossip(this.opts.adapter.createMessage(true));
      this.report(true);
      this.wait(this.opts.config.leaderAliveThresholdMs / 2, true, () => this.loop());
    } else {
      this.phaseNow = 'following';
      this.proposals.clear();
      this.leaderExists = false;
      this.report(false);
      this.wait(this.opts.config.leaderAliveThresholdMs, false, () => this.loop());
    }
  }

  /** A timed wait; an interruptible one ends early on a declaration. */
  private wait(ms: number, interruptible: boolean, next: () => void): void {
    this.sleeping = interruptible;
    this.waitNext = next;
    this.waitTimer = this.opts.clock.setTimeout(() => this.wake(), ms);
  }

  private interrupt(): void {
    if (this.waitTimer) this.opts.clock.clearTimer(this.waitTimer);
    this.sleeping = false;
    this.waitTimer = this.opts.clock.setTimeout(() => this.wake(), 0);
  }

  private wake(): void {
    const next = this.waitNext;
    this.waitTimer = this.waitNext = undefined;
    this.sleeping = false;
    if (this.phaseNow === 'stopped' || !next) return;
    try {
      next();
      this.checkState();
    } catch (e) {
      if (e instanceof InvariantError) throw e;
      // an adapter that throws must not end the loop: try again after a follower wait
      this.log.warn({ err: errorMessage(e) }, 'election step failed');
      if (this.phase !== 'stopped' && !this.waitTimer)
        this.wait(this.opts.config.leaderAliveThresholdMs, false, () => this.loop());
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private lowerProposal(): boolean {
    const self = pkiIdKey(this.opts.selfPkiId);
    for (const id of this.proposals)
      if (Buffer.compare(Buffer.from(id, 'hex'), Buffer.from(self, 'hex')) < 0) return true;
    return false;
  }

  private isElectionPeer(id: PkiId): boolean {
    const key = pkiIdKey(id);
    return this.opts.adapter.peers().some((p) => pkiIdKey(p.pkiId) === key);
  }

  private stopYielding(): void {
    this.log.debug('stopped yielding: a leader is known');
    this.yielding = false;
    if (this.yieldTimer) this.opts.clock.clearTimer(this.yieldTimer);
    this.yieldTimer = undefined;
  }

  /** The invariants at the top (after every step). */
  private checkState(): void {
    invariant(
      !this.leader || (this.leaderExists && !this.yielding),
      'leader election: leading while no leader is known or while yielding',
    );
  }

  private beLeader(): void {
    invariant(!this.leader && !this.yielding, 'leader election: becoming leader while leading or yielding');
    this.log.info('becoming leader');
    this.leader = true;
    this.notify(true);
  }

  private stopBeingLeader(): void {
    invariant(this.leader, 'leader election: stepping down while not leading');
    this.log.info('stopped being leader');
    this.leader = false;
    this.report(false);
    this.notify(false);
  }

  private notify(isLeader: boolean): void {
    try {
      this.opts.onLeadershipChange?.(isLeader);
    } catch (e) {
      this.log.warn({ err: errorMessage(e), isLeader }, 'leadership callback threw');
    }
  }

  private report(isLeader: boolean): void {
    this.opts.metrics
      ?.gauge(METRICS.gossipLeaderElectionLeader)
      .set({ channel: this.opts.channel }, isLeader ? 1 : 0);
  }
}
