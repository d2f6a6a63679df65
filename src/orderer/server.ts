/**
 * The embedded ordering service: one gRPC server (orderer.AtomicBroadcast, TLS from the orderer's
 * tls/ folder, client certificates requested and verified only with clientAuthRequired) over the
 * channels whose ledgers live in <dataDir>/chains/<channel>/.
 *
 * start(): open every existing channel ledger (each continues from its last block); if a genesis
 *   block is given, open or create its channel's ledger from it; then listen.
 * Broadcast stream: one envelope at a time -> processBroadcast -> BroadcastResponse; the stream
 *   ends after the first non-SUCCESS response (Fabric). Deliver stream: handleDeliver.
 * stop(): close the listener and every call, stop the chains (waiting for appends in flight),
 *   close the ledgers, stop the operations server. Idempotent.
 * Metrics (metrics.ts, Fabric's names) go to `metrics`; with `operations`, the peer's operations
 * server (src/node/operations.ts) serves them on /metrics, with /healthz failing while a
 * channel is halted.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Clock, Rng } from '../base/time.js';
import { serverCredentials } from '../comm/tls.js';
import { OwnedListener, authenticateCall } from '../comm/listener.js';
import { METRICS } from '../base/metric-table.js';
import type { ConnLimits } from '../base/conn-gate.js';
import { ConfigError, GrapevineError, errorMessage } from '../base/errors.js';
import { BlockStore, type BlockStoreOptions } from '../ledger/index.js';
import { cryptoRng, realClock } from '../base/real-clock.js';
import { silentLogger } from '../base/log.js';
import { Metrics } from '../base/metrics.js';
import { OperationsServer, type OperationsTlsOptions } from '../ops/operations.js';
import { blockChannelId, decodeBlock } from '../wire/block.js';
import { encode } from '../wire/codec.js';
import { EnvelopeSchema, type Envelope } from '../wire/gen/common/common_pb.js';
import { BroadcastResponseSchema } from '../wire/gen/orderer/ab_pb.js';
import { decode } from '../wire/codec.js';
import { MAX_MESSAGE_BYTES } from '../wire/services.js';
import type { Signer } from '../wire/signer.js';
import { RawAtomicBroadcastService } from '../comm/deliver/frames.js';
import { callReader, cancelSignal, failCall, serveDeliverCall, writeFrame } from '../comm/deliver/server.js';
import { processBroadcast } from './broadcast.js';
import { Chain } from './chain.js';
import { OrdererMetrics } from './metrics.js';
import { grapevineVersion } from '../base/version.js';

export interface OrdererTls {
  readonly certPem: Uint8Array;
  readonly keyPem: Uint8Array;
  /** General.TLS.ClientAuthRequired: require and verify client certificates. */
  readonly clientAuthRequired: boolean;
  /** Extra client root CAs (General.TLS.ClientRootCAs); every channel org's TLS CAs are added. */
  readonly clientRootCAs?: readonly Uint8Array[];
}

export interface OrdererOptions {
  readonly signer: Signer;
  /** host:port; port 0 picks a free port. */
  readonly listen: string;
  readonly dataDir: string;
  /** Genesis block bytes of a channel to create (or to check against an existing ledger). */
  readonly genesis?: Uint8Array;
  readonly tls?: OrdererTls;
  readonly clock?: Clock;
  readonly rng?: Rng;
  /** General.Authentication.TimeWindow (ms); default 15 min; Infinity disables it. */
  readonly timeWindowMs?: number;
  readonly noExpirationChecks?: boolean;
  readonly maxRecvMsgSize?: number;
  readonly maxSendMsgSize?: number;
  readonly ledger?: BlockStoreOptions;
  readonly logger?: Logger;
  /** Where the metrics go (default: a registry of its own). */
  readonly metrics?: Metrics;
  /** Operations.ListenAddress (and Operations.TLS): serve /healthz, /metrics, /version. */
  readonly operations?: { readonly listenAddress: string; readonly tls?: OperationsTlsOptions };
  /** Serve /metrics on the operations server (Metrics.Provider prometheus). Default true. */
  readonly serveMetrics?: boolean;
  /**
   * Grapevine.ConnLimits of the gRPC and operations ports (default DEFAULT_CONN_LIMITS: the TLS
   * handshake deadline 5 s as Fabric's gRPC ConnectionTimeout; base/conn-gate.ts).
   */
  readonly connLimits?: Partial<ConnLimits>;
}

export const ORDERER_DEFAULTS = {
  timeWindowMs: 15 * 60_000,
  keepaliveIntervalMs: 7_200_000,
  keepaliveTimeoutMs: 20_000,
} as const;

const CHAINS_DIR = 'chains';
/** stop(): how long the listener's close may wait for sockets being destroyed. */
const STOP_GRACE_MS = 2000;

function chainDirs(dataDir: string): string[] {
  const root = join(dataDir, CHAINS_DIR);
  try {
    return readdirSync(root).filter((n) => statSync(join(root, n)).isDirectory());
  } catch {
    return [];
  }
}

export class Orderer {
  private readonly chains = new Map<string, { chain: Chain; store: BlockStore }>();
  private listener: OwnedListener | undefined;
  private stopping: Promise<void> | undefined;
  private readonly calls = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private operations: OperationsServer | undefined;
  readonly metrics: Metrics;
  private readonly om: OrdererMetrics;
  /** Port bound by start(). */
  port = 0;

  private constructor(private readonly opts: OrdererOptions) {
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? realClock;
    this.metrics = opts.metrics ?? new Metrics();
    this.om = new OrdererMetrics(this.metrics);
  }

  static async start(opts: OrdererOptions): Promise<Orderer> {
    const o = new Orderer(opts);
    try {
      await o.openChains();
      await o.listen();
      await o.startOperations();
    } catch (e) {
      await o.stop();
      throw e;
    }
    return o;
  }

  /** 127.0.0.1:<port> style address of the listener. */
  get address(): string {
    const host = this.opts.listen.slice(0, this.opts.listen.lastIndexOf(':'));
    return `${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${this.port}`;
  }

  /** http://host:port of the operations server, when it runs. */
  get operationsUrl(): string | undefined {
    const a = this.operations?.address();
    if (!a) return undefined;
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address;
    return `${this.opts.operations?.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
  }

  private async startOperations(): Promise<void> {
    const ops = this.opts.operations;
    if (!ops || ops.listenAddress === '') return;
    const server = new OperationsServer({
      listenAddress: ops.listenAddress,
      ...(ops.tls ? { tls: ops.tls } : {}),
      ...(this.opts.serveMetrics === false ? {} : { metrics: this.metrics }),
      logger: this.log,
      version: { version: grapevineVersion() },
      connMetrics: this.metrics,
      ...(this.opts.connLimits ? { connLimits: this.opts.connLimits } : {}),
    });
    this.operations = server;
    server.registerChecker('orderer', () => {
      const halted = [...this.chains.values()].filter(({ chain }) => chain.errored);
      if (halted.length > 0)
        throw new Error(`channel(s) halted: ${halted.map(({ chain }) => chain.channelId).join(', ')}`);
    });
    await server.start();
    this.log.info({ operations: this.operationsUrl }, 'operations server listening');
  }

  chain(channelId: string): Chain | undefined {
    return this.chains.get(channelId)?.chain;
  }

  channelIds(): string[] {
    return [...this.chains.keys()].sort();
  }

  private async openChains(): Promise<void> {
    const { dataDir, genesis } = this.opts;
    let genesisChannel: string | undefined;
    if (genesis) {
      try {
        genesisChannel = blockChannelId(decodeBlock(genesis));
      } catch (e) {
        throw new ConfigError('BAD_GENESIS', `genesis block does not decode: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    }
    const names = new Set(chainDirs(dataDir));
    if (genesisChannel) names.add(genesisChannel);
    if (names.size === 0) {
      throw new ConfigError(
        'NO_CHANNELS',
        `no channel ledger in ${join(dataDir, CHAINS_DIR)} and no genesis block given`,
      );
    }
    for (const name of names) {
      const store = await BlockStore.open(join(dataDir, CHAINS_DIR, name), this.opts.ledger);
      try {
        const chain = await Chain.open(
          {
            store,
            signer: this.opts.signer,
            clock: this.clock,
            rng: this.opts.rng ?? cryptoRng,
            logger: this.log.child({ channel: name }),
            metrics: this.om,
          },
          name === genesisChannel ? genesis : undefined,
        );
        if (chain.channelId !== name) {
          throw new ConfigError('CHANNEL_MISMATCH', `ledger folder ${name} holds channel ${chain.channelId}`);
        }
        this.chains.set(name, { chain, store });
        this.log.info({ channel: name, height: String(chain.height()) }, 'channel opened');
      } catch (e) {
        await store.close().catch(() => undefined);
        throw e;
      }
    }
  }

  private clientRootCAs(): Uint8Array[] {
    const out = [...(this.opts.tls?.clientRootCAs ?? [])];
    for (const { chain } of this.chains.values()) {
      for (const org of [...chain.config.applicationOrgs, ...chain.config.ordererOrgs]) {
        out.push(...org.msp.tlsRootCerts, ...org.msp.tlsIntermediateCerts);
      }
    }
    return out;
  }

  private async listen(): Promise<void> {
    const tls = this.opts.tls;
    const server = new grpc.Server({
      'grpc.keepalive_time_ms': ORDERER_DEFAULTS.keepaliveIntervalMs,
      'grpc.keepalive_timeout_ms': ORDERER_DEFAULTS.keepaliveTimeoutMs,
      'grpc.max_receive_message_length': this.opts.maxRecvMsgSize ?? MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': this.opts.maxSendMsgSize ?? MAX_MESSAGE_BYTES,
    });
    // our own listening socket (comm/listener.ts): TCP_NODELAY on every connection, a bounded
    // stop, connection caps, a TLS handshake deadline and a first-stream deadline
    this.listener = new OwnedListener(server, {
      name: 'orderer',
      metrics: this.metrics,
      ...(this.opts.connLimits ? { limits: this.opts.connLimits } : {}),
    });
    const listener = this.listener;
    server.addService(
      RawAtomicBroadcastService,
      listener.withAuthentication({
        Broadcast: (call: grpc.ServerDuplexStream<Buffer, Buffer>) =>
          this.track(call, () => this.broadcast(call)),
        Deliver: (call: grpc.ServerDuplexStream<Buffer, Buffer>) =>
          this.track(call, () => this.deliver(call)),
      }),
    );
    const creds = serverCredentials(
      tls
        ? {
            certPem: tls.certPem,
            keyPem: tls.keyPem,
            rootCAs: tls.clientAuthRequired ? this.clientRootCAs() : [],
          }
        : undefined,
      tls?.clientAuthRequired ?? false,
    );
    this.port = await this.listener.listen(this.opts.listen, creds);
    this.log.info({ address: this.address, tls: Boolean(tls) }, 'orderer listening');
  }

  private track(call: grpc.ServerDuplexStream<Buffer, Buffer>, run: () => Promise<void>): void {
    call.on('error', () => undefined);
    if (this.stopping) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'orderer is stopping' });
      return;
    }
    this.calls.add(call);
    run()
      .catch((e: unknown) => {
        this.log.debug({ err: errorMessage(e) }, 'stream ended with an error');
        failCall(call, e);
      })
      .finally(() => this.calls.delete(call));
  }

  private async broadcast(call: grpc.ServerDuplexStream<Buffer, Buffer>): Promise<void> {
    const recv = callReader(call);
    const signal = cancelSignal(call);
    for (;;) {
      const bytes = await recv();
      if (bytes === undefined || signal.aborted) {
        call.end();
        return;
      }
      let env: Envelope;
      try {
        env = decode(EnvelopeSchema, bytes, 'common.Envelope');
      } catch (e) {
        this.metrics.counter(METRICS.grapevineOrdererBroadcastMalformedTotal).inc();
        throw new GrapevineError('MALFORMED', `grpc: error unmarshalling request: ${errorMessage(e)}`);
      }
      const res = await processBroadcast(env, bytes, {
        chain: (id) => this.chain(id),
        now: () => this.clock.now(),
        noExpirationChecks: this.opts.noExpirationChecks,
        metrics: this.om,
      });
      await writeFrame(
        call,
        Buffer.from(encode(BroadcastResponseSchema, { status: res.status, info: res.info })),
        signal,
      );
      if (res.status !== 200) {
        call.end();
        return;
      }
      // a signed envelope passed the Writers policy: no stranger (connection limits)
      authenticateCall(call);
    }
  }

  private deliver(call: grpc.ServerDuplexStream<Buffer, Buffer>): Promise<void> {
    return serveDeliverCall(call, {
      source: (id) => this.chain(id),
      now: () => this.clock.now(),
      timeWindowMs: this.opts.timeWindowMs ?? ORDERER_DEFAULTS.timeWindowMs,
      mutualTls: this.opts.tls?.clientAuthRequired ?? false,
      noExpirationChecks: this.opts.noExpirationChecks,
      metrics: this.om,
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.listener?.close(STOP_GRACE_MS);
      for (const { chain } of this.chains.values()) await chain.stop();
      for (const { store } of this.chains.values()) await store.close().catch(() => undefined);
      const ops = this.operations;
      this.operations = undefined;
      await ops?.stop();
      this.log.info({}, 'orderer stopped');
    })();
    return this.stopping;
  }
}
