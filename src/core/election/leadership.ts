/**
 * One channel's leadership in the configured mode (PROTOCOL.md §7.1, §8.5):
 *   dynamic -> LeaderElection over the gossip node's adapter;
 *   static  -> leader from start() (the deliver client starts at channel init), never yields
 *              (its deliver client keeps retrying and only logs);
 *   none    -> never a leader: blocks come from gossip only;
 *   both flags set -> ConfigError (leadershipMode).
 * The gauge gossip_leader_election_leader{channel} is 1 while leading, 0 otherwise, in every mode.
 */
import type { Clock } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { errorMessage } from '../../base/errors.js';
import { componentLogger, type Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import { GossipElectionAdapter, type ElectionGossip } from './adapter.js';
import { leadershipMode, type ElectionConfig } from './config.js';
import { LeaderElection } from './election.js';
import type { ElectionAdapter, Leadership, LeadershipCallback } from './types.js';
import { METRICS } from '../../base/metric-table.js';

/** Static leader or permanent follower. */
export class FixedLeadership implements Leadership {
  private started = false;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    readonly mode: 'static' | 'none',
    private readonly channel: string,
    private readonly onLeadershipChange?: LeadershipCallback,
    private readonly metrics?: Metrics,
    logger?: Logger,
  ) {
    this.log = componentLogger('election', { channel }, logger);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.report(this.mode === 'static');
    if (this.mode !== 'static') return;
    this.log.info('static org leader: delivering from the orderer');
    try {
      this.onLeadershipChange?.(true);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'leadership callback threw');
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.started) this.report(false);
  }

  yield(): void {
    if (this.mode === 'static' && this.started && !this.stopped)
      this.log.warn('a static org leader does not yield; the deliver client keeps retrying');
  }

  isLeader(): boolean {
    return this.mode === 'static' && this.started && !this.stopped;
  }

  private report(isLeader: boolean): void {
    this.metrics?.gauge(METRICS.gossipLeaderElectionLeader).set({ channel: this.channel }, isLeader ? 1 : 0);
  }
}

export interface ChannelLeadershipOptions {
  readonly channel: string;
  readonly selfPkiId: PkiId;
  readonly mspId: string;
  readonly config: ElectionConfig;
  /** The gossip node (dynamic mode), unless `adapter` is given. */
  readonly gossip?: ElectionGossip;
  /** An adapter of one's own (tests); default: GossipElectionAdapter over `gossip`. */
  readonly adapter?: ElectionAdapter;
  readonly clock: Clock;
  readonly onLeadershipChange?: LeadershipCallback;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

/** Build (not start) the channel's leadership; throws ConfigError when both modes are set. */
export function createChannelLeadership(o: ChannelLeadershipOptions): Leadership {
  const mode = leadershipMode(o.config);
  if (mode !== 'dynamic')
    return new FixedLeadership(mode, o.channel, o.onLeadershipChange, o.metrics, o.logger);
  const adapter =
    o.adapter ??
    (o.gossip
      ? new GossipElectionAdapter(o.gossip, {
          channel: o.channel,
          selfPkiId: o.selfPkiId,
          mspId: o.mspId,
          clock: o.clock,
        })
      : undefined);
  if (!adapter) throw new TypeError('dynamic leader election needs the gossip node or an adapter');
  return new LeaderElection({
    adapter,
    selfPkiId: o.selfPkiId,
    channel: o.channel,
    config: o.config,
    clock: o.clock,
    onLeadershipChange: o.onLeadershipChange,
    metrics: o.metrics,
    logger: o.logger,
  });
}
