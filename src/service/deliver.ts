/**
 * The deliver service of a peer (Fabric core/deliverservice @v2.4.9): one endpoint source per
 * channel, kept current from every config block, and at most one Deliverer per channel.
 *   start(channel): a static leader (yieldLeadership false) or an elected one (true: after
 *     reconnectTotalTimeThreshold of backoff it stops and calls onYield); error if running.
 *   stop(channel) / stopAll(): stop at once (closes the stream).
 *   updateConfig(channel, cfg): refresh the endpoints (§8.4); a deliverer on a stale endpoint
 *     reconnects without counting a failure.
 * SeekInfo: Specified(height)..Specified(2^64-1), BLOCK_UNTIL_READY, STRICT, signed, timestamp in
 * whole seconds, tls_cert_hash = SHA-256(client TLS cert DER) only with clientAuthRequired.
 */
import type { Logger } from 'pino';
import type { ChannelConfig } from '../channelconfig/types.js';
import type { Clock, Rng } from '../base/time.js';
import { leafDer } from '../comm/tls.js';
import { GrapevineError } from '../base/errors.js';
import { silentLogger } from '../base/log.js';
import { deliverSeekEnvelope, sha256 } from '../wire/index.js';
import { encode } from '../wire/codec.js';
import { EnvelopeSchema, type Block } from '../wire/gen/common/common_pb.js';
import type { Signer } from '../wire/signer.js';
import { FABRIC_DELIVER_DEFAULTS, type DeliverClientConfig } from '../core/deliver/config.js';
import { Deliverer, type DeliverConnector } from '../core/deliver/deliverer.js';
import { ConnectionSource, type OrdererOrgEndpoints } from '../core/deliver/endpoints.js';
import { GrpcDeliverConnector, type DeliverTls } from '../comm/deliver/grpc.js';
import { DeliverMetrics } from '../core/deliver/metrics.js';
import type { Metrics } from '../base/metrics.js';

export interface BlockVerifier {
  verifyBlock(channelId: string, seqNum: bigint, block: Block): void;
}

export interface DeliverServiceOptions {
  readonly signer: Signer;
  /** The MessageCryptoService (VerifyBlock, §2.8). */
  readonly verifier: BlockVerifier;
  /** Resolved (resolveDeliverConfig(partial) fills defaults). Default FABRIC_DELIVER_DEFAULTS. */
  readonly config?: DeliverClientConfig;
  /** Absent: plaintext. */
  readonly tls?: DeliverTls;
  /** Default: the gRPC connector. */
  readonly connector?: DeliverConnector;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger?: Logger;
  /** The node's metrics registry (deliver client metrics, metrics.ts); absent: none. */
  readonly metrics?: Metrics;
}

export interface ChannelDelivery {
  ledgerHeight(): bigint | Promise<bigint>;
  /** The state layer's AddPayload (blocking). */
  addPayload(seqNum: bigint, blockBytes: Uint8Array): Promise<void>;
  /** Gossip a block to the channel (skipped when blockGossipEnabled is false). */
  gossip?(seqNum: bigint, blockBytes: Uint8Array): void;
  /** true for a dynamically elected leader (may yield), false for a static leader. */
  readonly yieldLeadership: boolean;
  onYield?(): void;
}

export class DeliverService {
  readonly config: DeliverClientConfig;
  private readonly sources = new Map<string, ConnectionSource>();
  private readonly deliverers = new Map<string, Deliverer>();
  private readonly connector: DeliverConnector;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly log: Logger;
  private readonly tlsCertHash: Uint8Array | undefined;
  private readonly metrics: DeliverMetrics | undefined;

  constructor(private readonly opts: DeliverServiceOptions) {
    this.config = opts.config ?? FABRIC_DELIVER_DEFAULTS;
    this.connector = opts.connector ?? new GrpcDeliverConnector(this.config, opts.tls);
    this.clock = opts.clock;
    this.rng = opts.rng;
    this.log = opts.logger ?? silentLogger;
    this.metrics = opts.metrics && new DeliverMetrics(opts.metrics, this.clock);
    this.tlsCertHash = opts.tls?.clientAuthRequired
      ? sha256(leafDer(opts.tls.certPem, 'TLS client certificate'))
      : undefined;
  }

  /** The endpoint source of a channel (created empty on first use). */
  source(channelId: string): ConnectionSource {
    let s = this.sources.get(channelId);
    if (!s) {
      s = new ConnectionSource(this.config.addressOverrides);
      this.sources.set(channelId, s);
    }
    return s;
  }

  /** Apply a channel config (join, start-up, every config block); returns whether endpoints changed. */
  updateConfig(channelId: string, cfg: ChannelConfig): boolean {
    return this.source(channelId).updateFromConfig(cfg);
  }

  updateEndpoints(
    channelId: string,
    globalAddresses: readonly string[],
    orgs: ReadonlyMap<string, OrdererOrgEndpoints>,
  ): boolean {
    return this.source(channelId).update(globalAddresses, orgs);
  }

  /**
   * The signed SeekInfo envelope bytes for a seek from `height`; `tlsCertHash` overrides the
   * binding (default: our client certificate's hash when the orderers require mutual TLS).
   */
  seekEnvelope(channelId: string, height: bigint, tlsCertHash = this.tlsCertHash): Uint8Array {
    return encode(
      EnvelopeSchema,
      deliverSeekEnvelope(channelId, height, this.opts.signer, this.clock.now(), tlsCertHash),
    );
  }

  isDelivering(channelId: string): boolean {
    const d = this.deliverers.get(channelId);
    return d !== undefined && !d.isStopped;
  }

  deliverer(channelId: string): Deliverer | undefined {
    return this.deliverers.get(channelId);
  }

  start(channelId: string, ch: ChannelDelivery): Deliverer {
    if (this.isDelivering(channelId)) {
      throw new GrapevineError(
        'ALREADY_STARTED',
        `delivery service: block provider for channel ${channelId} already exists`,
      );
    }
    const d = new Deliverer({
      channelId,
      clock: this.clock,
      rng: this.rng,
      logger: this.log.child({ channel: channelId }),
      source: this.source(channelId),
      connector: this.connector,
      ledgerHeight: () => ch.ledgerHeight(),
      seekEnvelope: (h) => this.seekEnvelope(channelId, h),
      verifyBlock: (seq, block) => this.opts.verifier.verifyBlock(channelId, seq, block),
      addPayload: (seq, bytes) => ch.addPayload(seq, bytes),
      gossip: ch.gossip ? (seq, bytes) => ch.gossip!(seq, bytes) : undefined,
      blockGossipEnabled: this.config.blockGossipEnabled,
      yieldLeadership: ch.yieldLeadership,
      onYield: () => {
        this.deliverers.delete(channelId);
        ch.onYield?.();
      },
      maxRetryDelayMs: this.config.reConnectBackoffThresholdMs,
      maxRetryDurationMs: this.config.reconnectTotalTimeThresholdMs,
      metrics: this.metrics?.forChannel(channelId),
    });
    this.deliverers.set(channelId, d);
    d.start();
    return d;
  }

  async stop(channelId: string): Promise<void> {
    const d = this.deliverers.get(channelId);
    if (!d) return;
    this.deliverers.delete(channelId);
    await d.stop();
  }

  async stopAll(): Promise<void> {
    const all = [...this.deliverers.keys()];
    await Promise.all(all.map((c) => this.stop(c)));
    if (this.connector instanceof GrpcDeliverConnector) this.connector.closeAll();
  }
}
