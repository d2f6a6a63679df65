/**
 * GossipNode: one per peer (PROTOCOL.md §10). Wires the Transport, the identity store, the
 * MessageCryptoService, discovery, the identity pull, the channel-message emitter and the
 * joined channels, and is the API the state, deliver and election layers use.
 *
 *   start(): discovery (bootstrap peers), identity pull, channels' timers, transport subscription.
 *   joinChannel(config): §10.2: our org must be among the channel's Application orgs; the
 *     channel's MSPs/policies are registered with the crypto service; the channel is created or
 *     reconfigured (§5.1); anchors go to discovery when the org set or anchors changed; every
 *     stored identity is re-validated (§2.5).
 *   gossipBlock / gossipLeadership: originate (§6.1, §7.2). updateLedgerHeight: StateInfo (§5.2).
 *   received channel messages: receive.ts; pushes: router.ts through one batching emitter.
 *   stop(): idempotent; releases every timer and subscription (and the transport if owned).
 */
import type { ReceivedMessage, Transport, Unsubscribe } from '../link/types.js';
import type { Clock, Rng } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { GossipChannel } from '../channel/channel.js';
import { foreignStateInfoTtlMs } from '../channel/config.js';
import type { GossipDropReason } from '../channel/errors.js';
import { isJoinInfo, joinInfoFromConfig, type JoinInfo } from '../channel/join.js';
import { createForeignStateInfoStore, type ForeignStateInfoStore } from '../channel/stores.js';
import type { ChaincodeInfo, PeerTime } from '../channel/stateinfo.js';
import type {
  BlockEvent,
  ChannelHost,
  ChannelPeer,
  GossipCrypto,
  LeadershipEvent,
  PushItem,
  StateInfoThrottle,
} from '../channel/types.js';
import type { ChannelConfig } from '../../channelconfig/types.js';
import { Discovery } from '../discovery/discovery.js';
import { remotePeerOf } from '../discovery/endpoint.js';
import type { MemberInfo } from '../discovery/types.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import type { ChannelCryptoContext } from '../../identity/types.js';
import type { IdentityStore } from '../../identity/store.js';
import { componentLogger, type Logger } from '../../base/log.js';
import { Metrics } from '../../base/metrics.js';
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';
import type { Signer } from '../../wire/signer.js';
import { BatchingEmitter } from '../link/emitter.js';
import { IdentityPuller, type IdentityPullCrypto } from './identity-pull.js';
import type { GossipNodeConfig } from './nodeconfig.js';
import { isChannelMessage, receive } from './receive.js';
import { createBlockPuller } from '../pull/block-puller.js';
import { routeBatch } from './router.js';
import { METRICS } from '../../base/metric-table.js';

export type NodeCrypto = GossipCrypto & IdentityPullCrypto;

export interface GossipNodeOptions {
  readonly transport: Transport;
  readonly identityStore: IdentityStore;
  readonly crypto: NodeCrypto;
  readonly signer: Signer;
  /** Our org (MSP ID). */
  readonly mspId: string;
  /** Resolved: gossipNodeConfig(input, profile) fills the defaults of a partial one. */
  readonly config: GossipNodeConfig;
  /** Where joined channels' MSPs and policies are registered (the MessageCryptoService's provider). */
  readonly channelCrypto?: { set(channelId: string, ctx: ChannelCryptoContext): void };
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Stop the transport in stop(). Default false. */
  readonly ownsTransport?: boolean;
}

export type LeadershipInit = {
  readonly timestamp: PeerTime;
  readonly isDeclaration: boolean;
  readonly pkiId?: PkiId;
};

export class GossipNode {
  readonly config: GossipNodeConfig;
  readonly discovery: Discovery;
  readonly metrics: Metrics;
  readonly selfPkiId: PkiId;
  readonly identityPuller?: IdentityPuller;
  private readonly log: Logger;
  private readonly channels = new Map<string, GossipChannel>();
  private readonly emitter: BatchingEmitter<PushItem>;
  private readonly foreign: ForeignStateInfoStore;
  private readonly host: ChannelHost;
  private blockGossipFilter?: (m: MemberInfo) => boolean;
  private stateInfoThrottle?: StateInfoThrottle;
  private readonly blockHandlers = new Set<(e: BlockEvent) => void>();
  private readonly leaderHandlers = new Set<(e: LeadershipEvent) => void>();
  private readonly subs: Unsubscribe[] = [];
  private state: 'new' | 'running' | 'stopped' = 'new';
  private stopping?: Promise<void>;

  constructor(private readonly opts: GossipNodeOptions) {
    this.config = opts.config;
    this.metrics = opts.metrics ?? new Metrics();
    this.selfPkiId = opts.transport.selfPkiId;
    this.log = componentLogger('gossip', { peer: pkiIdKey(this.selfPkiId).slice(0, 16) }, opts.logger);
    const { transport, clock, rng, crypto, signer, mspId } = opts;
    const metrics = this.metrics;
    this.discovery = new Discovery({
      transport,
      identityStore: opts.identityStore,
      crypto,
      signer,
      mspId,
      config: this.config.discovery,
      emitter: this.config.emitter,
      clock,
      rng,
      metrics,
      logger: opts.logger,
    });
    const disc = this.discovery;
    const membership = {
      aliveMembers: () => disc.aliveMembers(),
      lookup: (id: PkiId) => disc.lookup(id),
      orgOf: (id: PkiId) => disc.orgOf(id),
    };
    if (this.config.identityPull) {
      this.identityPuller = new IdentityPuller({
        transport,
        clock,
        rng,
        signer,
        selfPkiId: this.selfPkiId,
        selfOrg: mspId,
        identities: opts.identityStore,
        crypto,
        membership: () => disc.aliveMembers().map(remotePeerOf),
        hasExternalEndpoint: (id) =>
          pkiIdKey(id) === pkiIdKey(this.selfPkiId)
            ? this.config.discovery.externalEndpoint !== ''
            : (disc.lookup(id)?.endpoint ?? '') !== '',
        config: this.config.pull,
        metrics,
        logger: this.log,
      });
    }
    this.emitter = new BatchingEmitter<PushItem>({
      clock,
      config: this.config.emitter,
      metrics,
      logger: this.log,
      name: 'channel',
      route: (batch) =>
        routeBatch(
          {
            transport,
            rng,
            membership,
            ownOrg: mspId,
            propagatePeerNum: this.config.channel.propagatePeerNum,
            channel: (n) => this.channels.get(n),
          },
          batch,
        ),
    });
    this.foreign = createForeignStateInfoStore({
      clock,
      ttlMs: foreignStateInfoTtlMs(this.config.channel),
      maxEntries: this.config.channel.maxForeignStateInfos,
      metrics,
    });
    metrics.counter(METRICS.grapevineGossipDroppedTotal);
    const pullDeps = { transport, clock, rng, config: this.config.pull, metrics, logger: this.log };
    this.host = {
      selfPkiId: this.selfPkiId,
      ownOrg: mspId,
      externalEndpoint: this.config.discovery.externalEndpoint,
      signer,
      crypto,
      identities: opts.identityStore,
      membership,
      transport,
      clock,
      rng,
      config: this.config.channel,
      metrics,
      logger: this.log,
      push: (item) => this.emitter.add(item),
      deliverBlock: (e) => this.emit(this.blockHandlers, e),
      deliverLeadership: (e) => this.emit(this.leaderHandlers, e),
      drop: (reason, detail, m) => this.drop(reason, detail, m),
      createBlockPull: (hooks) => createBlockPuller({ ...pullDeps, ...hooks }),
      blockGossipPeer: (m) => this.blockGossipFilter?.(m) ?? true,
      stateInfoThrottle: () => this.stateInfoThrottle,
    };
  }

  /**
   * Leave members out of block push and block pull (Grapevine peers that stream blocks among
   * themselves, core/stream); undefined restores Fabric's behaviour (every member).
   */
  setBlockGossipFilter(keep: ((m: MemberInfo) => boolean) | undefined): void {
    this.blockGossipFilter = keep;
  }

  /**
   * Publish and pull StateInfo less often (Grapevine peers that stream blocks; see
   * StateInfoThrottle); undefined restores Fabric's behaviour.
   */
  setStateInfoThrottle(t: StateInfoThrottle | undefined): void {
    this.stateInfoThrottle = t;
  }

  /** Member.metadata of our alive messages (see Discovery.setSelfMetadata). */
  setAliveMetadata(metadata: Uint8Array, announce = true): void {
    this.discovery.setSelfMetadata(metadata, announce);
  }

  start(): void {
    if (this.state === 'stopped')
      throw new GrapevineError('STOPPED', 'gossip node was stopped and cannot be restarted');
    if (this.state === 'running') return;
    this.state = 'running';
    const deps = {
      ownOrg: this.opts.mspId,
      crypto: this.opts.crypto,
      identities: this.opts.identityStore,
      membership: this.host.membership,
      foreign: this.foreign,
      clock: this.opts.clock,
      channels: () => this.channels.values(),
      channel: (n: string) => this.channels.get(n),
      push: (item: PushItem) => this.emitter.add(item),
      drop: (reason: GossipDropReason, detail: string, m?: ReceivedMessage) => this.drop(reason, detail, m),
    };
    this.subs.push(this.opts.transport.subscribe(isChannelMessage, (m) => receive(deps, m)));
    this.discovery.start();
    this.identityPuller?.start();
    for (const ch of this.channels.values()) ch.start();
    for (const ch of this.channels.values()) this.connectAnchors(ch.name);
  }

  /** Release everything; idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.state = 'stopped';
    for (const u of this.subs.splice(0)) u();
    for (const ch of this.channels.values()) ch.stop();
    this.emitter.stop();
    this.identityPuller?.stop();
    this.discovery.stop();
    this.foreign.clear();
    this.stopping = this.opts.ownsTransport ? this.opts.transport.stop() : Promise.resolve();
    return this.stopping;
  }

  /** §10.2 join or reconfigure; returns false when refused (our org is not in the channel, or stale). */
  joinChannel(config: ChannelConfig | JoinInfo): boolean {
    const join = isJoinInfo(config) ? config : joinInfoFromConfig(config);
    if (!join.orgs.some((o) => o.mspId === this.opts.mspId)) {
      this.log.error(
        { channel: join.channelId, org: this.opts.mspId },
        'our org is not among the channel orgs; not joining',
      );
      return false;
    }
    if (join.crypto) this.opts.channelCrypto?.set(join.channelId, join.crypto);
    let ch = this.channels.get(join.channelId);
    let changed: false | 'same' | 'changed';
    if (ch) {
      changed = ch.configure(join);
      if (!changed) return false;
    } else {
      if (this.channels.size >= this.config.channel.maxChannels) {
        this.metrics.counter(METRICS.grapevineGossipChannelMapFullTotal).inc({ map: 'channels' });
        return false;
      }
      ch = new GossipChannel(this.host, join);
      this.channels.set(join.channelId, ch);
      this.metrics.gauge(METRICS.grapevineGossipChannels).set(this.channels.size);
      changed = 'changed';
      if (this.state === 'running') ch.start();
    }
    this.anchors.set(join.channelId, join);
    if (changed === 'changed' && this.state === 'running') this.connectAnchors(join.channelId);
    this.opts.identityStore.suspectPeers(() => true);
    return true;
  }

  private readonly anchors = new Map<string, JoinInfo>();

  private connectAnchors(channel: string): void {
    const join = this.anchors.get(channel);
    if (!join) return;
    const anchors = join.orgs.flatMap((o) =>
      o.anchorPeers.map((a) => ({ host: a.host, port: a.port, mspId: o.mspId })),
    );
    this.discovery.connectToAnchors(anchors, channel);
  }

  /** §5.8 */
  leaveChannel(channel: string): void {
    this.channels.get(channel)?.leave();
  }

  channel(name: string): GossipChannel | undefined {
    return this.channels.get(name);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  updateLedgerHeight(channel: string, height: bigint): void {
    this.channels.get(channel)?.updateLedgerHeight(height);
  }

  updateChaincodes(channel: string, chaincodes: readonly ChaincodeInfo[]): void {
    this.channels.get(channel)?.updateChaincodes(chaincodes);
  }

  /** §6.1: a block of ours (e.g. from the orderer): stored for pull and pushed. false: duplicate or unknown channel. */
  gossipBlock(channel: string, seqNum: bigint, blockBytes: Uint8Array): boolean {
    const ch = this.channels.get(channel);
    if (!ch || this.state === 'stopped') return false;
    return ch.dissemination.originate(seqNum, blockBytes);
  }

  /** The state layer refused a delivered block as too far ahead: the channel offers it again later. */
  blockRefused(channel: string, seqNum: bigint): void {
    this.channels.get(channel)?.dissemination.refused(seqNum);
  }

  /** §7.2: sign and push a LeadershipMessage (pki_id defaults to ours) to every eligible same-org member. */
  gossipLeadership(channel: string, msg: LeadershipInit): Envelope | undefined {
    const ch = this.channels.get(channel);
    if (!ch || this.state === 'stopped') return undefined;
    return ch.dissemination.originateLeadership(msg);
  }

  /** The alive members (discovery's view), this peer not included. */
  aliveMembers(): readonly MemberInfo[] {
    return this.discovery.aliveMembers();
  }

  /** §5.5 */
  peersOfChannel(channel: string): ChannelPeer[] {
    const peers = this.channels.get(channel)?.peersOfChannel() ?? [];
    this.metrics.gauge(METRICS.gossipMembershipTotalPeersKnown).set({ channel }, peers.length);
    return peers;
  }

  onBlock(handler: (e: BlockEvent) => void): Unsubscribe {
    this.blockHandlers.add(handler);
    return () => this.blockHandlers.delete(handler);
  }

  onLeadership(handler: (e: LeadershipEvent) => void): Unsubscribe {
    this.leaderHandlers.add(handler);
    return () => this.leaderHandlers.delete(handler);
  }

  private emit<E>(handlers: Set<(e: E) => void>, e: E): void {
    for (const h of [...handlers]) {
      try {
        h(e);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'gossip event handler threw');
      }
    }
  }

  private drop(reason: GossipDropReason, detail: string, m?: ReceivedMessage): void {
    this.metrics.counter(METRICS.grapevineGossipDroppedTotal).inc({ reason });
    this.log.debug(
      {
        reason,
        from: m ? pkiIdKey(m.conn.pkiId).slice(0, 16) : undefined,
        type: m?.message.content.case,
        detail,
      },
      'gossip message dropped',
    );
  }
}
