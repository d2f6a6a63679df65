/**
 * GossipService: the peer's gossip service (PROTOCOL.md §10; Fabric gossip/service): one gossip
 * node and, per channel, the deliver client, state provider and leadership wired together.
 * The same code runs on the real gRPC transport and on the simulation (SimNode): everything with
 * I/O (transport, deliver connector, clock, rng, ledger) is injected.
 *
 *   constructor: resolves the configs; both peer.gossip.useLeaderElection and
 *     peer.gossip.orgLeader set -> ConfigError LEADER_MODE_CONFLICT (Fabric panics), nothing built.
 *   start(): the gossip node (comm subscription, discovery with bootstrap peers, identity pull,
 *     emitter, joined channels' timers).
 *   initializeChannel(config, ledger): §10.2 (see channel.ts): orderer endpoints, JoinChan (only
 *     when our org is a channel org, else an error is logged), identity re-validation, state
 *     provider at the ledger height, leadership (election / static / none) driving the deliver
 *     client. A second call for the same channel applies the config as an update.
 *   getBlock(channel, n), addPayload(channel, payload), isLeader(channel).
 *   catchup (optional): Grapevine's fast catch-up client for every channel's state provider;
 *     catchupLedger(channel) is what the peer's catch-up server streams from.
 *   stop(): per channel election, state provider, deliverer; then the gossip node; then the
 *     deliver client's connections. Idempotent; nothing is left running.
 */
import type { Transport } from '../core/link/types.js';
import type { Clock, Rng } from '../base/time.js';
import { type Deliverer, type DeliverConnector, type DeliverClientConfig } from '../core/deliver/index.js';
import { DeliverService, type BlockVerifier } from './deliver.js';
import { type DeliverTls } from '../comm/deliver/index.js';
import { FABRIC_ELECTION_DEFAULTS, type ElectionConfig } from '../core/election/index.js';
import { GrapevineError } from '../base/errors.js';
import { GossipNode, type NodeCrypto } from '../core/gossip/node.js';
import type { GossipNodeConfig } from '../core/gossip/nodeconfig.js';
import type { ChannelCryptoContext } from '../identity/types.js';
import type { IdentityStore } from '../identity/store.js';
import type { LedgerDeliverSource } from './deliversource.js';
import { FABRIC_STATE_DEFAULTS, type StateConfig } from '../core/state/config.js';
import type { StateCrypto, StateLedger } from '../core/state/types.js';
import { componentLogger, type Logger } from '../base/log.js';
import { Metrics } from '../base/metrics.js';
import { encodeBlock } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import type { Signer } from '../wire/signer.js';
import { ServiceChannel, type ServiceCatchup, type ServiceStreams } from './channel.js';
import type { StreamConfig } from '../core/stream/config.js';
import type { UpstreamConnector } from '../core/stream/follower.js';
import { decodeStreamMarker, encodeStreamMarker, type ChannelMark } from '../core/stream/marker.js';
import { parseSetup, toSetup, type ChannelConfigInput, type ConfigParser } from './setup.js';

/** A streaming peer pulls StateInfo snapshots on every 30th requestStateInfoInterval tick (2 min with Fabric timers) once membership settled. */
export const STATE_INFO_PULL_EVERY = 30;
/** A streaming peer's StateInfo carries heights in steps of this many lagBlocks. */
export const STATE_INFO_HEIGHT_STEPS = 4;

/** The identity layer's services (the MessageCryptoService, or the sim's crypto). */
export type ServiceCrypto = NodeCrypto & StateCrypto & BlockVerifier;

export interface GossipServiceOptions {
  readonly transport: Transport;
  readonly identityStore: IdentityStore;
  readonly crypto: ServiceCrypto;
  readonly signer: Signer;
  /** Our org (MSP ID). */
  readonly mspId: string;
  /**
   * The configs are resolved ones (a node's loader gives its slices of the PeerConfig; a library
   * user fills a partial one with gossipNodeConfig(input, profile), electionConfig(input,
   * profile), stateConfig(input), resolveDeliverConfig(input)).
   */
  readonly gossip: GossipNodeConfig;
  /** peer.gossip.useLeaderElection / orgLeader / election.*. Default FABRIC_ELECTION_DEFAULTS. */
  readonly election?: ElectionConfig;
  /** peer.gossip.state.*. Default FABRIC_STATE_DEFAULTS. */
  readonly state?: StateConfig;
  /** Fast catch-up between Grapevine peers (state.catchup.* configures it). */
  readonly catchup?: ServiceCatchup;
  /** peer.deliveryclient.* */
  readonly deliver?: DeliverClientConfig;
  /**
   * grapevine.streams.*: block streams between the org's Grapevine peers (core/stream). They run
   * only with `upstreamConnector` too; absent: off (Fabric's push and pull).
   */
  readonly streams?: StreamConfig;
  /** Opens Deliver streams on upstream peers (gRPC in a peer; the simulation's rpc in sim). */
  readonly upstreamConnector?: UpstreamConnector;
  /**
   * Verify catch-up and stream blocks in worker threads (grapevine.catchup.verifyWorkers of
   * them, up to grapevine.catchup.maxVerifyInFlight ahead), so a far-behind peer is not held to
   * one signature check at a time on its main thread. Default: with a catch-up client (unless its
   * `workers` is false). The simulation leaves it off (worker threads run outside its clock).
   */
  readonly verifyWorkers?: boolean;
  /** TLS towards the orderers (absent: plaintext). */
  readonly deliverTls?: DeliverTls;
  /** Default: gRPC to the orderers. The simulation gives an in-memory one. */
  readonly deliverConnector?: DeliverConnector;
  /** Where joined channels' MSPs/policies go (the MessageCryptoService's ChannelProvider). */
  readonly channelCrypto?: { set(channelId: string, ctx: ChannelCryptoContext): void };
  /** Committed config blocks -> setup (default: parseChannelConfig). */
  readonly parseConfig?: ConfigParser;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Stop the transport in stop(). Default false. */
  readonly ownsTransport?: boolean;
}

export interface GossipPayloadLike {
  readonly seqNum: bigint;
  readonly data: Uint8Array;
}

export class GossipService {
  readonly node: GossipNode;
  readonly deliver: DeliverService;
  readonly election: ElectionConfig;
  readonly stateConfig: StateConfig;
  readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly channels = new Map<string, ServiceChannel>();
  private readonly parse: ConfigParser;
  private phase: 'new' | 'running' | 'stopped' = 'new';
  private stopping?: Promise<void>;
  private readonly streams?: ServiceStreams;
  private markerPending = false;

  constructor(private readonly o: GossipServiceOptions) {
    this.election = o.election ?? FABRIC_ELECTION_DEFAULTS;
    this.stateConfig = o.state ?? FABRIC_STATE_DEFAULTS;
    this.clock = o.clock;
    this.rng = o.rng;
    this.metrics = o.metrics ?? new Metrics();
    this.log = componentLogger('service', { org: o.mspId }, o.logger);
    this.parse = o.parseConfig ?? parseSetup;
    this.deliver = new DeliverService({
      signer: o.signer,
      verifier: o.crypto,
      config: o.deliver,
      tls: o.deliverTls,
      connector: o.deliverConnector,
      clock: this.clock,
      rng: this.rng,
      logger: this.log,
      metrics: this.metrics,
    });
    this.node = new GossipNode({
      transport: o.transport,
      identityStore: o.identityStore,
      crypto: o.crypto,
      signer: o.signer,
      mspId: o.mspId,
      config: o.gossip,
      channelCrypto: o.channelCrypto,
      clock: this.clock,
      rng: this.rng,
      metrics: this.metrics,
      logger: o.logger,
      ownsTransport: o.ownsTransport,
    });
    if (o.streams?.enabled && o.upstreamConnector) {
      this.streams = {
        config: o.streams,
        connector: o.upstreamConnector,
        onRoleChange: () => this.updateStreamMarker(true),
        onHeight: () => this.heightChanged(),
      };
      // streaming peers take blocks from their stream: no push or pull among them
      this.node.setBlockGossipFilter((m) => decodeStreamMarker(m.metadata) === undefined);
      // StateInfo is Fabric's O(N^2) channel chatter. The tree reads heights from the marker
      // (on the alive messages sent anyway), so StateInfo heights go out in steps of
      // STATE_INFO_HEIGHT_STEPS x lagBlocks (anti-entropy's safety net and Fabric peers make do with
      // those), and snapshots are pulled every STATE_INFO_PULL_EVERY-th round once membership settled
      this.node.setStateInfoThrottle({
        heightStep: Math.max(1, o.streams.lagBlocks * STATE_INFO_HEIGHT_STEPS),
        pullEvery: STATE_INFO_PULL_EVERY,
      });
      this.updateStreamMarker(true);
    }
  }

  /** Channels whose commit loop is stopped on a ledger failure: why, and since when (clock ms). */
  commitFailures(): { readonly channel: string; readonly reason: string; readonly since: number }[] {
    const out: { channel: string; reason: string; since: number }[] = [];
    for (const [channel, ch] of this.channels) {
      const f = ch.commitFailure();
      if (f) out.push({ channel, ...f });
    }
    return out;
  }

  /** Whether block streams run (grapevine.streams.enabled and a connector). */
  get streaming(): boolean {
    return this.streams !== undefined;
  }

  /** A commit changed a height: the marker is rebuilt once the group of commits resolved. */
  private heightChanged(): void {
    // commits resolve in groups (the ledger's group commit): one marker for the group
    if (this.markerPending) return;
    this.markerPending = true;
    this.clock.setTimeout(() => {
      this.markerPending = false;
      if (this.phase !== 'stopped') this.updateStreamMarker(false);
    }, 0);
  }

  /**
   * Our alive messages carry the stream marker: per channel our source role and ledger height.
   * `announce`: send a fresh alive message now (a role change); else the next periodic one
   * carries it (a height change: one alive per block would be O(N^2) per block).
   */
  private updateStreamMarker(announce: boolean): void {
    const marks = new Map<string, ChannelMark>();
    for (const [name, ch] of this.channels) marks.set(name, { role: ch.streamRole(), height: ch.height() });
    this.node.setAliveMetadata(encodeStreamMarker(marks), announce);
  }

  /** §10.1: start the gossip node (and the channels initialised before). */
  start(): void {
    if (this.phase === 'stopped')
      throw new GrapevineError('STOPPED', 'gossip service was stopped and cannot be restarted');
    if (this.phase === 'running') return;
    this.phase = 'running';
    this.node.start();
    for (const ch of this.channels.values()) ch.start();
  }

  /**
   * §10.2 for a channel whose ledger holds at least its genesis block; `config` is the channel's
   * (latest) config block, or an already parsed config. Again for a known channel: a config update.
   * Throws ConfigError for an unusable config block.
   */
  initializeChannel(config: ChannelConfigInput, ledger: StateLedger): void {
    if (this.phase === 'stopped') throw new GrapevineError('STOPPED', 'gossip service is stopped');
    const setup = toSetup(config, this.parse);
    const known = this.channels.get(setup.channelId);
    if (known) {
      known.applyConfig(setup);
      return;
    }
    const ch = new ServiceChannel(
      {
        node: this.node,
        deliver: this.deliver,
        crypto: this.o.crypto,
        transport: this.o.transport,
        mspId: this.o.mspId,
        election: this.election,
        state: this.stateConfig,
        parse: this.parse,
        catchup: this.o.catchup,
        ...(this.o.verifyWorkers !== undefined ? { verifyWorkers: this.o.verifyWorkers } : {}),
        streams: this.streams,
        clock: this.clock,
        rng: this.rng,
        metrics: this.metrics,
        logger: this.log,
      },
      setup,
      ledger,
      configBytesOf(config),
    );
    this.channels.set(setup.channelId, ch);
    if (this.phase === 'running') ch.start();
  }

  /** Apply a channel config (e.g. a config block received out of band). */
  updateChannelConfig(config: ChannelConfigInput): void {
    const setup = toSetup(config, this.parse);
    this.channelOrThrow(setup.channelId).applyConfig(setup);
  }

  channel(name: string): ServiceChannel | undefined {
    return this.channels.get(name);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** The ledger a catch-up stream of `channel` reads (undefined: not served here). */
  catchupLedger(channel: string): StateLedger | undefined {
    return this.channels.get(channel)?.committedLedger;
  }

  /** The channel as the peer's Deliver server serves it (undefined: not served here). */
  deliverSource(channel: string): LedgerDeliverSource | undefined {
    return this.channels.get(channel)?.deliverSource;
  }

  /** A committed block (from the ledger: there is no gossip-level GetBlock, §10.3). */
  getBlock(channel: string, n: bigint): Promise<Block | undefined> {
    return this.channelOrThrow(channel).getBlock(n);
  }

  /** §10.3 AddPayload: blocking while the channel's payload buffer is full. */
  addPayload(channel: string, payload: GossipPayloadLike): Promise<void> {
    return this.channelOrThrow(channel).addPayload(payload.seqNum, payload.data);
  }

  isLeader(channel: string): boolean {
    return this.channels.get(channel)?.isLeader() ?? false;
  }

  /** The channel's running deliverer, if we are delivering. */
  deliverer(channel: string): Deliverer | undefined {
    return this.deliver.isDelivering(channel) ? this.deliver.deliverer(channel) : undefined;
  }

  /** §10.3 Stop, in Fabric's order; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.phase = 'stopped';
      for (const ch of this.channels.values()) await ch.stop();
      await this.node.stop();
      await this.deliver.stopAll();
      this.log.debug('gossip service stopped');
    })();
    return this.stopping;
  }

  private channelOrThrow(name: string): ServiceChannel {
    const ch = this.channels.get(name);
    if (!ch) throw new GrapevineError('UNKNOWN_CHANNEL', `channel ${name} is not initialised on this peer`);
    return ch;
  }
}

/** A config given as block bytes or a Block, as bytes (undefined for a parsed config or setup). */
function configBytesOf(config: ChannelConfigInput): Uint8Array | undefined {
  if (config instanceof Uint8Array) return config;
  const b = config as Block;
  if (typeof b === 'object' && b !== null && (b as { $typeName?: string }).$typeName === 'common.Block')
    return encodeBlock(b);
  return undefined;
}
