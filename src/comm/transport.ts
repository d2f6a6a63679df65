/**
 * The real Transport (PROTOCOL.md §3): the shared link (src/core/link/link.ts) over gRPC+TLS.
 * This file supplies only the world: a gossip.Gossip server whose GossipStreams are handed to
 * the link, a dialer that connects, Pings and opens GossipStreams, receive batches on the next
 * turn of the event loop, and a stop bounded in real time. The identity store's purges close
 * that peer's connection.
 */
import type * as grpc from '@grpc/grpc-js';
import { componentLogger, type Logger } from '../base/log.js';
import { Metrics } from '../base/metrics.js';
import { IdentityStore } from '../identity/store.js';
import { commConfig, type CommConfig } from '../core/link/comm-config.js';
import { Dialer } from './dialer.js';
import { GossipServer } from './server.js';
import { Stopper, settleWithin } from './stopper.js';
import { ownLeaves, type CommTls } from './tls.js';
import { Link } from '../core/link/link.js';
import { LinkTransport } from '../core/link/link-transport.js';
import type { LinkWorld } from '../core/link/stream.js';
import type { CommCrypto, CommIdentity, Unsubscribe } from '../core/link/types.js';
import { pkiIdKey, type PkiId } from '../base/pkiid.js';
import type { Clock, Rng } from '../base/time.js';

export interface GrpcTransportOptions {
  readonly identity: CommIdentity;
  readonly crypto: CommCrypto;
  /** Omit for plaintext (Fabric with peer.tls.enabled=false). */
  readonly tls?: CommTls;
  /** host:port to listen on (port 0 = any free port). */
  readonly listenAddress: string;
  readonly config?: Partial<CommConfig>;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Share the node's identity store; by default the transport owns one. */
  readonly identityStore?: IdentityStore;
  /**
   * More gRPC services served on the gossip server's port (same TLS, client certificate request
   * and limits), registered before it binds; e.g. Grapevine's catch-up stream. A Fabric peer
   * dialled for one of them answers UNIMPLEMENTED, as this server does for anything else.
   */
  readonly services?: readonly ExtraGrpcService[];
  /** Count Fabric's grpc_server_* and grpc_comm_conn_* metrics of the server in `metrics`. */
  readonly grpcMetrics?: boolean;
}

export interface ExtraGrpcService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export class GrpcTransport extends LinkTransport {
  override readonly selfPkiId: PkiId;
  readonly config: CommConfig;
  readonly metrics: Metrics;
  readonly identityStore: IdentityStore;
  /** host:port actually bound. */
  endpoint = '';
  protected override readonly link: Link;
  private readonly server: GossipServer;
  private readonly dialer: Dialer;
  private readonly ownsStore: boolean;
  private readonly unsubscribePurge: Unsubscribe;
  private stopping?: Promise<void>;

  private constructor(opts: GrpcTransportOptions) {
    super();
    this.config = commConfig(opts.config);
    const clock = opts.clock;
    this.metrics = opts.metrics ?? new Metrics();
    this.selfPkiId = opts.identity.pkiId;
    const log = componentLogger('comm', { peer: pkiIdKey(this.selfPkiId).slice(0, 16) }, opts.logger);
    this.ownsStore = !opts.identityStore;
    const store = (this.identityStore =
      opts.identityStore ??
      new IdentityStore({
        self: { pkiId: this.selfPkiId, identity: opts.identity.signer.serializedIdentity },
        validator: opts.crypto,
        clock,
        metrics: this.metrics,
      }));
    const leaves = ownLeaves(opts.tls);
    const stopper = new Stopper();
    const dialer = (this.dialer = new Dialer({
      cfg: this.config,
      tls: opts.tls,
      ownLeafDer: leaves.client,
      stopper,
    }));
    const server = (this.server = new GossipServer(
      this.config,
      opts.tls,
      (stream) => this.link.accept(stream),
      opts.grpcMetrics ? this.metrics : undefined,
      this.metrics,
    ));
    for (const s of opts.services ?? []) server.addService(s.definition, s.implementation);
    const world: LinkWorld = {
      ping: (endpoint) => dialer.probe(endpoint),
      open: (endpoint, probe) => dialer.open(endpoint, probe),
      defer: (fn) => void setImmediate(fn),
      stopAccepting: () => dialer.closeAll(),
      settle: async (inflight, graceMs) => {
        const [, settled] = await Promise.all([server.stop(graceMs), settleWithin(inflight, graceMs)]);
        return settled;
      },
      released: () => dialer.closeAll(),
    };
    this.link = new Link({
      self: { pkiId: this.selfPkiId, signer: opts.identity.signer },
      verifier: {
        putIdentity: (pkiId, identity) => store.put(pkiId, identity),
        verifySignature: (identity, sig, data) => opts.crypto.verifySignature(identity, sig, data),
      },
      identityOf: (pkiId) => store.get(pkiId),
      orgOf: (identity) => opts.crypto.orgOf(identity),
      tlsEnabled: opts.tls !== undefined,
      world,
      config: this.config,
      retireGraceMs: this.config.dedupWindowMs,
      clock,
      rng: opts.rng,
      metrics: this.metrics,
      logger: log,
      stopper,
    });
    this.unsubscribePurge = store.onPurge((pkiId) => this.link.closeConn({ endpoint: '', pkiId }));
  }

  /** Create the transport and start listening. */
  static async start(opts: GrpcTransportOptions): Promise<GrpcTransport> {
    const t = new GrpcTransport(opts);
    try {
      const port = await t.server.listen(opts.listenAddress);
      t.endpoint = `${opts.listenAddress.slice(0, opts.listenAddress.lastIndexOf(':'))}:${port}`;
    } catch (e) {
      await t.stop();
      throw e;
    }
    return t;
  }

  /** Diagnostics (tests): accepted sockets and dialed gRPC clients not yet closed; stop() leaves none. */
  openHandles(): { sockets: number; clients: number } {
    return { sockets: this.server.openSockets, clients: this.dialer.openClients };
  }

  override stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.link.stop();
    this.unsubscribePurge();
    if (this.ownsStore) this.identityStore.stop();
  }
}
