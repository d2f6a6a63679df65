/**
 * One channel's wiring inside the gossip service (PROTOCOL.md §10.2, §7.1, §8.5, §9):
 *
 *   applyConfig(setup): (1) the deliver client's orderer endpoint source (§8.4; a deliverer on a
 *     stale endpoint reconnects without counting a failure); (2) JoinChan on the gossip node,
 *     which refuses (and logs an error) unless our MSP ID is among the Application orgs, joins
 *     or reconfigures only when the org set/anchors changed or the sequence grew, and then
 *     re-validates every stored identity (SuspectPeers).
 *   start(): state provider over the ledger (payload buffer at the ledger height, commit loop,
 *     updateLedgerHeight after each commit, gossiped blocks in), then the leadership per §7.1:
 *     dynamic election, static leader, or none. Leadership true -> the deliverer starts (from the
 *     ledger height); false -> it stops. An elected leader whose deliverer gave up
 *     (reconnectTotalTimeThreshold) yields; a static leader never does.
 *   Fast catch-up (ServiceCatchup): the state provider streams from Grapevine peers first; the
 *     streamed blocks are verified in worker threads by the MCS built from the channel's config
 *     block (state/verify/mcs-verifier.ts), and every committed config block is published to
 *     those workers (ConfigFeed), so later verifications use the new config.
 *   A CONFIG block committed to the ledger is parsed and applied as above while running.
 *   stop(): Fabric's order: election, state provider, deliverer. Idempotent.
 */
import type { Transport, Unsubscribe } from '../core/link/types.js';
import type { Clock, Rng } from '../base/time.js';
import { pkiIdKey } from '../base/pkiid.js';
import type { GossipNode } from '../core/gossip/node.js';
import type { DeliverService } from './deliver.js';
import { createChannelLeadership, type ElectionConfig } from '../core/election/index.js';
import type { Leadership } from '../core/election/types.js';
import { GrapevineError, errorMessage } from '../base/errors.js';
import { attachToGossipNode, channelViewOf } from '../core/state/gossipadapter.js';
import { StateProvider } from '../core/state/provider.js';
import type { BufferedPayload } from '../core/state/buffer.js';
import type { CatchupClient } from '../comm/catchup/client.js';
import type { StateConfig } from '../core/state/config.js';
import type { StateCrypto, StateLedger, StatePeer } from '../core/state/types.js';
import { ConfigFeed, MCS_VERIFIER_MODULE, type McsVerifierInit } from './verify/mcs-verifier.js';
import { workerVerifierPool } from './verify/pool.js';
import type { CatchupVerifierFactory } from '../core/state/types.js';
import type { Logger } from '../base/log.js';
import type { Metrics } from '../base/metrics.js';
import { decodeBlock } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import { watchConfigBlocks } from './configwatch.js';
import type { StreamConfig } from '../core/stream/config.js';
import { StreamFollower, type UpstreamConnector } from '../core/stream/follower.js';
import { channelTag, decodeStreamMarker, type SourceRole } from '../core/stream/marker.js';
import type { StreamMember } from '../core/stream/tree.js';
import { preferredEndpoint } from '../core/discovery/endpoint.js';
import { LedgerDeliverSource } from './deliversource.js';
import type { ChannelSetup, ConfigParser } from './setup.js';
import type { PkiId } from '../base/pkiid.js';
import type { JoinOrg } from '../core/channel/join.js';

/** An anchor peer of a channel's config: its org and endpoint (host:port, [v6]:port). */
export interface AnchorEndpoint {
  readonly org: string;
  readonly endpoint: string;
}

/** The anchor peers of a config's orgs, as discovery dials them (those without host or port left out). */
export function anchorEndpoints(orgs: readonly JoinOrg[]): AnchorEndpoint[] {
  return orgs.flatMap((o) =>
    o.anchorPeers
      .filter((a) => a.host && a.port)
      .map((a) => ({
        org: o.mspId,
        endpoint: a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`,
      })),
  );
}

/** Streamed blocks whose upstream is remembered until they commit (streamSender). */
const MAX_STREAMED_FROM = 4096;

/** Grapevine's fast catch-up for the service's channels (PROTOCOL.md §9; state/catchup). */
export interface ServiceCatchup {
  /** The peer's catch-up client (one for every channel). */
  readonly client: Pick<CatchupClient, 'stream'>;
  /**
   * Verify streamed blocks in state.catchup.verifyWorkers worker threads with the MCS built from
   * the channel's config block (needs the config as block bytes or a Block). Default true.
   */
  readonly workers?: boolean;
  /** The endpoint serving catch-up for a peer (default: its gossip endpoint, where we serve it). */
  readonly endpointOf?: (peer: StatePeer) => string;
}

/** Block streams between the org's Grapevine peers (core/stream), shared by the channels. */
export interface ServiceStreams {
  readonly config: StreamConfig;
  readonly connector: UpstreamConnector;
  /** A channel's source role changed (the stream marker must say so, at once). */
  onRoleChange(): void;
  /** A channel's ledger height changed (the marker carries it on the next alive message). */
  onHeight(): void;
}

export interface ServiceChannelDeps {
  /** GossipServiceOptions.verifyWorkers. */
  readonly verifyWorkers?: boolean;
  readonly node: GossipNode;
  readonly deliver: DeliverService;
  readonly crypto: StateCrypto;
  readonly transport: Transport;
  readonly mspId: string;
  readonly election: ElectionConfig;
  readonly state: StateConfig;
  readonly parse: ConfigParser;
  readonly catchup?: ServiceCatchup;
  readonly streams?: ServiceStreams;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export class ServiceChannel {
  readonly name: string;
  readonly provider: StateProvider;
  /** The channel as served by the peer's Deliver server (the relay). */
  readonly deliverSource: LedgerDeliverSource;
  private readonly leadership: Leadership;
  private readonly log: Logger;
  private unsubscribeBlocks?: Unsubscribe;
  private sequence = -1n;
  private joinedFlag = false;
  private anchors: readonly AnchorEndpoint[] = [];
  private state: 'new' | 'running' | 'stopped' = 'new';
  private stopping?: Promise<void>;
  private readonly feed?: ConfigFeed;
  /** The block stream from an upstream Grapevine peer (streams on). */
  readonly follower?: StreamFollower<BufferedPayload>;
  /** The upstream each streamed block came from, until streamSender takes it (bounded). */
  private readonly streamedFrom = new Map<bigint, PkiId>();
  /** Pulling from the orderer as the org's acting stream source (not as leader). */
  private acting = false;
  /** Leadership changes seen (true = became leader). */
  readonly leadershipLog: { at: number; leader: boolean }[] = [];

  constructor(
    private readonly d: ServiceChannelDeps,
    setup: ChannelSetup,
    private readonly ledger: StateLedger,
    /** The channel's latest config block as stored (for the catch-up verifier workers). */
    configBlock?: Uint8Array,
  ) {
    this.name = setup.channelId;
    this.log = d.logger.child({ channel: this.name });
    if (ledger.height() < 1n) {
      throw new GrapevineError(
        'EMPTY_LEDGER',
        `channel ${this.name}: the ledger must hold at least the genesis block (height 0)`,
      );
    }
    // leadership first: a mode conflict is a ConfigError before anything else is built
    this.leadership = createChannelLeadership({
      channel: this.name,
      selfPkiId: d.node.selfPkiId,
      mspId: d.mspId,
      config: d.election,
      gossip: d.node,
      clock: d.clock,
      onLeadershipChange: (isLeader) => this.onLeadershipChange(isLeader),
      metrics: d.metrics,
      logger: this.log,
    });
    this.deliverSource = new LedgerDeliverSource(this.name, ledger);
    this.applyConfig(setup);
    const cu = d.catchup;
    let verifier: CatchupVerifierFactory | undefined;
    const workers = d.verifyWorkers ?? (cu !== undefined && cu.workers !== false && d.state.catchup.enabled);
    if (workers && configBlock) {
      this.feed = new ConfigFeed();
      const init: McsVerifierInit = { channel: this.name, configBlock, feed: this.feed.shared };
      verifier = workerVerifierPool({ module: MCS_VERIFIER_MODULE, init });
    }
    this.provider = new StateProvider({
      channel: this.name,
      ledger: watchConfigBlocks(ledger, (b, bytes) => this.onConfigBlock(b, bytes)),
      crypto: d.crypto,
      transport: d.transport,
      // while we take blocks from a stream (or pull from the orderer), anti-entropy (state
      // transfer, catch-up) leaves the streaming peers out as push and pull do: it would race the
      // stream with a second copy of every block a new or lagging peer needs (Fabric peers,
      // unmarked, still answer it). Without a stream it asks everyone: the safety net.
      view: d.streams
        ? channelViewOf(
            {
              peersOfChannel: (ch) => {
                const all = d.node.peersOfChannel(ch);
                const f = this.follower;
                const fed = f !== undefined && (f.upstream !== undefined || f.role() !== undefined);
                return fed ? all.filter((p) => decodeStreamMarker(p.metadata) === undefined) : all;
              },
            },
            this.name,
          )
        : channelViewOf(d.node, this.name),
      clock: d.clock,
      rng: d.rng,
      config: d.state,
      metrics: d.metrics,
      logger: this.log,
      onCommitted: (h) => {
        d.node.updateLedgerHeight(this.name, h);
        this.deliverSource.committed(h);
        d.streams?.onHeight();
      },
      onFatal: (e) => this.log.error({ err: errorMessage(e) }, 'commit loop stopped on a ledger failure'),
      onRecovered: (h) => {
        this.deliverSource.committed(h);
        d.node.updateLedgerHeight(this.name, h);
      },
      onOrdered: (seq, bytes) => this.deliverSource.ordered(seq, bytes),
      onRewound: (h) => this.deliverSource.rewound(h),
      ...(cu ? { catchup: cu.client, catchupEndpointOf: cu.endpointOf } : {}),
      ...(verifier ? { catchupVerifier: verifier } : {}),
    });
    if (d.streams) this.follower = this.createFollower(d.streams);
  }

  private createFollower(streams: ServiceStreams): StreamFollower<BufferedPayload> {
    const { d } = this;
    const tag = channelTag(this.name);
    return new StreamFollower({
      channelId: this.name,
      selfPkiId: d.node.selfPkiId,
      clock: d.clock,
      config: streams.config,
      connector: streams.connector,
      // the org's streaming members of this channel: those whose marker names it (it comes with
      // the first membership response, before any StateInfo) and those with a marker whose
      // StateInfo puts them in the channel (a peer names a channel in its marker from its first
      // commit there on); height and role from the marker, else the StateInfo height
      members: () => {
        const out: StreamMember[] = [];
        const seen = new Set<string>();
        for (const m of d.node.aliveMembers()) {
          if (m.mspId !== d.mspId) continue;
          const mark = decodeStreamMarker(m.metadata)?.get(tag);
          if (!mark) continue;
          seen.add(pkiIdKey(m.pkiId));
          out.push({ pkiId: m.pkiId, endpoint: preferredEndpoint(m), height: mark.height, role: mark.role });
        }
        for (const p of d.node.peersOfChannel(this.name)) {
          if (p.mspId !== d.mspId || seen.has(pkiIdKey(p.pkiId))) continue;
          if (!decodeStreamMarker(p.metadata)) continue;
          out.push({
            pkiId: p.pkiId,
            endpoint: preferredEndpoint(p),
            height: p.properties?.ledgerHeight,
            role: undefined,
          });
        }
        return out;
      },
      ledgerHeight: () => this.ledger.height(),
      isLeader: () => this.leadership.isLeader(),
      // bound to the certificate the upstream connector presents (the gossip TLS client pair)
      seekEnvelope: (h) => d.deliver.seekEnvelope(this.name, h, streams.connector.tlsCertHash),
      // in the catch-up verifier workers when they run (a far-behind peer streams at the pace
      // of the stream), else inline; a config block's successors are judged by it (provider)
      verify: (seq, bytes, backlog) => this.provider.verifyStreamed(seq, bytes, backlog),
      verifyAhead: () => this.provider.verifyAhead(),
      add: async (p, from) => {
        if (this.state === 'stopped') throw new GrapevineError('STOPPED', `channel ${this.name} is stopped`);
        if (this.streamedFrom.size >= MAX_STREAMED_FROM) {
          const oldest = this.streamedFrom.keys().next().value;
          if (oldest !== undefined) this.streamedFrom.delete(oldest);
        }
        this.streamedFrom.set(p.seqNum, from.pkiId);
        if ((await this.provider.addVerified(p)) === 'stopped')
          throw new GrapevineError('STOPPED', `channel ${this.name} stopped while adding block ${p.seqNum}`);
      },
      setActingSource: (on) => {
        this.acting = on;
        this.reconcileDelivery();
        streams.onRoleChange();
      },
      onLeaderLagging: () => this.reconcileDelivery(),
      metrics: d.metrics,
      logger: this.log,
    });
  }

  /** Our source role for the stream marker (leader, acting source), if streams run. */
  streamRole(): SourceRole | undefined {
    return this.follower?.role();
  }

  /** Whether JoinChan succeeded (our org is in the channel). */
  get joined(): boolean {
    return this.joinedFlag;
  }

  /** The upstream peer streamed block `seq` came from (once: the entry is removed); undefined if unknown. */
  streamSender(seq: bigint): PkiId | undefined {
    const from = this.streamedFrom.get(seq);
    this.streamedFrom.delete(seq);
    return from;
  }

  get mode(): Leadership['mode'] {
    return this.leadership.mode;
  }

  isLeader(): boolean {
    return this.leadership.isLeader();
  }

  height(): bigint {
    return this.ledger.height();
  }

  /** Why this channel commits nothing (its ledger failed and is not recovered yet), since when. */
  commitFailure(): { readonly reason: string; readonly since: number } | undefined {
    return this.provider.commitFailure();
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.unsubscribeBlocks = attachToGossipNode(this.d.node, this.provider);
    this.provider.start();
    this.leadership.start();
    this.follower?.start();
  }

  /** §8.4 then §10.2 step 2, for the initial config and every later one with a higher sequence. */
  applyConfig(setup: ChannelSetup): void {
    if (setup.channelId !== this.name) {
      throw new GrapevineError(
        'WRONG_CHANNEL',
        `config of channel ${setup.channelId} given to channel ${this.name}`,
      );
    }
    if (setup.join.sequence <= this.sequence) return;
    this.sequence = setup.join.sequence;
    this.anchors = anchorEndpoints(setup.join.orgs);
    this.deliverSource.setConfig(setup.join.sequence, setup.readers);
    const changed = this.d.deliver.updateEndpoints(
      this.name,
      setup.orderer.globalAddresses,
      setup.orderer.orgs,
    );
    if (changed) this.log.info({ sequence: String(setup.join.sequence) }, 'orderer endpoints updated');
    if (!setup.join.orgs.some((o) => o.mspId === this.d.mspId)) {
      this.log.error(
        { org: this.d.mspId, orgs: setup.join.orgs.map((o) => o.mspId) },
        'our MSP ID is not among the channel orgs; not joining the gossip channel',
      );
      return;
    }
    if (this.d.node.joinChannel(setup.join)) this.joinedFlag = true;
  }

  /** The anchor peers of the channel's last config (AnchorPeers of each Application org). */
  anchorPeers(): readonly AnchorEndpoint[] {
    return this.anchors;
  }

  /** The channel's ledger (serving catch-up streams reads it). */
  get committedLedger(): StateLedger {
    return this.ledger;
  }

  /** Config blocks published to the catch-up verifier workers (undefined without them). */
  get verifierConfigGeneration(): number | undefined {
    return this.feed?.generation;
  }

  /** The committed block n (undefined when n >= height). */
  async getBlock(n: bigint): Promise<Block | undefined> {
    const bytes = await this.ledger.getBlockBytes(n);
    return bytes && decodeBlock(bytes);
  }

  /** §10.3 AddPayload (blocking while the buffer is full). */
  async addPayload(seqNum: bigint, blockBytes: Uint8Array): Promise<void> {
    if (this.state === 'stopped') throw new GrapevineError('STOPPED', `channel ${this.name} is stopped`);
    const r = await this.provider.addPayload(seqNum, blockBytes);
    if (r === 'stopped')
      throw new GrapevineError('STOPPED', `channel ${this.name} stopped while adding block ${seqNum}`);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopped';
      this.deliverSource.stop();
      this.follower?.stop();
      this.leadership.stop();
      this.unsubscribeBlocks?.();
      await this.provider.stop();
      await this.d.deliver.stop(this.name);
    })();
    return this.stopping;
  }

  private onLeadershipChange(isLeader: boolean): void {
    this.leadershipLog.push({ at: this.d.clock.now(), leader: isLeader });
    if (this.state !== 'running') return;
    this.reconcileDelivery();
    if (this.follower) {
      this.follower.reconcile();
      this.d.streams?.onRoleChange();
    }
  }

  /**
   * The deliver client runs while we lead (and, streams on, are not far below the org: a lagging
   * leader catches up by stream first) or act as the org's stream source.
   */
  private reconcileDelivery(): void {
    if (this.state !== 'running') return;
    const leads = this.leadership.isLeader() && !this.follower?.leaderLagging;
    if (leads || this.acting) this.startDelivery();
    else void this.d.deliver.stop(this.name);
  }

  private startDelivery(): void {
    if (this.d.deliver.isDelivering(this.name)) return;
    const leader = this.leadership.isLeader();
    this.log.info(
      {
        mode: this.leadership.mode,
        height: String(this.ledger.height()),
        as: leader ? 'leader' : 'stream source',
      },
      'delivering blocks from the ordering service',
    );
    this.d.deliver.start(this.name, {
      ledgerHeight: () => this.ledger.height(),
      addPayload: (seq, bytes) => this.addPayload(seq, bytes),
      gossip: (seq, bytes) => {
        this.d.node.gossipBlock(this.name, seq, bytes);
      },
      // an acting stream source has no leadership to yield
      yieldLeadership: leader && this.leadership.mode === 'dynamic',
      onYield: () => {
        this.log.warn('the deliver client gave up; yielding leadership');
        this.leadership.yield();
      },
    });
  }

  private onConfigBlock(block: Block, bytes: Uint8Array): void {
    if (this.state === 'stopped') return;
    try {
      this.applyConfig(this.d.parse(block));
    } catch (e) {
      this.log.error(
        { block: String(block.header?.number), err: errorMessage(e) },
        'committed config block could not be applied',
      );
      return;
    }
    try {
      this.feed?.publish(bytes);
    } catch (e) {
      this.log.error(
        { block: String(block.header?.number), err: errorMessage(e) },
        'config block not handed to the catch-up verifiers',
      );
    }
  }
}
