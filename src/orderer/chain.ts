/**
 * One channel of the embedded single-node ordering service.
 *
 * State: the channel's BlockStore (the ledger is the truth: on open, the config is read from the
 * last config block and the writer continues after the last block), the current ChannelConfig,
 * a BlockCutter and a BlockWriter.
 * order(msg): feed the cutter; each batch it cuts becomes the next block, sealed and signed at
 *   once (numbers and hashes are assigned synchronously) and appended to the ledger in order.
 *   A pending batch arms the BatchTimeout timer (injected Clock); the timer cuts it.
 * Readers (Deliver) wait for the ledger height with waitForHeight(); every durable append wakes
 *   them. A failed append halts the chain: errored = true, waiters wake, and Broadcast/Deliver
 *   answer SERVICE_UNAVAILABLE from then on.
 * waitReady() applies backpressure: it waits while maxInflightBlocks appends are in flight.
 * configure(env, next): a validated config update (configupdate.ts) wrapped as a CONFIG
 *   envelope: the pending batch is cut first, then the CONFIG envelope becomes a block of its
 *   own, sealed with the new sequence (so its LAST_CONFIG points at itself and every later block
 *   at it); the new config (and BatchSize) applies from the next message on.
 * Metrics (metrics.ts): block fill time per cut batch, proposals received, height and persist
 *   time per durable append.
 */
import type { Logger } from 'pino';
import { parseChannelConfig, parseConfig, x509MspFactory } from '../channelconfig/index.js';
import type { ChannelConfig } from '../channelconfig/types.js';
import type { Clock, Rng, TimerHandle } from '../base/time.js';
import { ConfigError, GrapevineError, errorMessage } from '../base/errors.js';
import type { BlockStore } from '../ledger/index.js';
import { silentLogger } from '../base/log.js';
import { blockLastConfigIndex, decodeBlock, isConfigBlock } from '../wire/block.js';
import { encode } from '../wire/codec.js';
import { HeaderType, type Block, type Envelope } from '../wire/gen/common/common_pb.js';
import { ConfigEnvelopeSchema, type Config, type ConfigEnvelope } from '../wire/gen/common/configtx_pb.js';
import { signedEnvelope } from '../wire/orderer.js';
import type { Signer } from '../wire/signer.js';
import { BlockCutter, type OrderedMessage } from './blockcutter.js';
import { BlockWriter, writerStateAfter } from './blockwriter.js';
import type { OrdererMetrics } from './metrics.js';
import { readersOf } from '../comm/deliver/server.js';

export class OrdererError extends GrapevineError {}

export interface ChainOptions {
  readonly store: BlockStore;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly rng: Pick<Rng, 'bytes'>;
  readonly logger?: Logger;
  /** Appends in flight before waitReady() waits. Default 16. */
  readonly maxInflightBlocks?: number;
  /** Config block parser (default: parseChannelConfig with the X.509 MSPs). */
  readonly parseConfig?: (block: Block) => ChannelConfig;
  /** Proposed-config parser for config updates (default: parseConfig with the X.509 MSPs). */
  readonly parseProposedConfig?: (channelId: string, config: Config) => ChannelConfig;
  readonly metrics?: OrdererMetrics;
}

interface Waiter {
  readonly height: bigint;
  readonly resolve: () => void;
}

export class Chain {
  private cfg: ChannelConfig;
  private readonly cutter: BlockCutter;
  private readonly writer: BlockWriter;
  private timer: TimerHandle | undefined;
  private inflight = 0;
  private haltError: Error | undefined;
  private stopped = false;
  private waiters = new Set<Waiter>();
  private readyWaiters: (() => void)[] = [];
  private lastAppend: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly maxInflight: number;
  private readonly parse: (block: Block) => ChannelConfig;
  /** Blocks cut by this chain since it opened. */
  blocksCut = 0;
  /** performance.now() when the pending batch got its first message. */
  private fillStart = 0;

  private constructor(
    private readonly opts: ChainOptions,
    cfg: ChannelConfig,
    last: Block,
  ) {
    this.cfg = cfg;
    this.log = opts.logger ?? silentLogger;
    this.maxInflight = opts.maxInflightBlocks ?? 16;
    this.parse = opts.parseConfig ?? ((b) => parseChannelConfig(b));
    this.cutter = new BlockCutter(cfg.batchSize);
    this.writer = new BlockWriter(opts.signer, opts.rng, writerStateAfter(last, cfg.sequence));
    opts.metrics?.channelOpened(cfg.channelId, opts.store.height());
  }

  /**
   * Open the chain on its ledger. An empty ledger is started from `genesis` (a config block
   * number 0); a non-empty one continues, and `genesis`, if given, must be its block 0.
   */
  static async open(opts: ChainOptions, genesis?: Uint8Array): Promise<Chain> {
    const { store } = opts;
    const parse = opts.parseConfig ?? ((b: Block) => parseChannelConfig(b));
    if (store.height() === 0n) {
      if (!genesis)
        throw new ConfigError('NO_GENESIS', `ledger ${store.dir} is empty and no genesis block was given`);
      const block = decodeBlock(genesis);
      if (block.header?.number !== 0n || !isConfigBlock(block)) {
        throw new ConfigError('BAD_GENESIS', 'the genesis block must be a config block with number 0');
      }
      parse(block); // refuse an unusable config before writing anything
      await store.append(genesis);
    } else if (genesis) {
      const first = await store.getBlockBytes(0n);
      if (!first || !Buffer.from(first).equals(genesis)) {
        throw new ConfigError(
          'GENESIS_MISMATCH',
          `ledger ${store.dir} holds a different block 0 than the genesis block given`,
        );
      }
    }
    const last = (await store.getBlock(store.height() - 1n))!.block;
    const configIndex = blockLastConfigIndex(last) ?? 0n;
    const configBlock =
      configIndex === last.header!.number ? last : (await store.getBlock(configIndex))?.block;
    if (!configBlock)
      throw new ConfigError('NO_CONFIG', `ledger ${store.dir}: last config block ${configIndex} is missing`);
    const cfg = parse(configBlock);
    return new Chain(opts, cfg, last);
  }

  get channelId(): string {
    return this.cfg.channelId;
  }

  get config(): ChannelConfig {
    return this.cfg;
  }

  get sequence(): bigint {
    return this.cfg.sequence;
  }

  /** The Readers policy Deliver applies (comm/deliver/server.ts DeliverSource). */
  readers(): ReturnType<typeof readersOf> {
    return readersOf(this.cfg);
  }

  get errored(): boolean {
    return this.haltError !== undefined;
  }

  height(): bigint {
    return this.opts.store.height();
  }

  getBlockBytes(n: bigint): Promise<Uint8Array | undefined> {
    return this.opts.store.getBlockBytes(n);
  }

  /** Resolves when a block can be ordered (few appends in flight); rejects once halted. */
  async waitReady(): Promise<void> {
    for (;;) {
      this.checkRunning();
      if (this.inflight < this.maxInflight) return;
      await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    }
  }

  /** Order a validated normal message. Throws OrdererError HALTED once the chain stopped. */
  order(msg: OrderedMessage): void {
    this.checkRunning();
    this.opts.metrics?.normalProposalsReceived.inc({ channel: this.channelId });
    const now = performance.now();
    if (this.cutter.pendingCount === 0) this.fillStart = now;
    const { batches, pending } = this.cutter.ordered(msg);
    for (const batch of batches) {
      this.observeFill();
      this.writeBatch(batch);
    }
    if (batches.length > 0 && pending) this.fillStart = now;
    if (!pending) this.clearTimer();
    else if (!this.timer) {
      this.timer = this.opts.clock.setTimeout(() => this.onBatchTimeout(), this.cfg.batchTimeout);
    }
  }

  /** Parse a proposed config (a config update's result); throws when it is not usable. */
  parseProposed(config: Config): ChannelConfig {
    const parse =
      this.opts.parseProposedConfig ??
      ((id: string, c: Config) => parseConfig(id, c, undefined, x509MspFactory));
    return parse(this.channelId, config);
  }

  /** The CONFIG envelope carrying `configEnvelope`, signed by this orderer (Fabric's CreateSignedEnvelope). */
  wrapConfig(configEnvelope: ConfigEnvelope): Envelope {
    return signedEnvelope(
      {
        type: HeaderType.CONFIG,
        channelId: this.channelId,
        data: encode(ConfigEnvelopeSchema, configEnvelope),
        nowMs: this.opts.clock.now(),
        nonce: this.opts.rng.bytes(24),
      },
      this.opts.signer,
    );
  }

  /**
   * Order a validated config update: `envelope` is the serialized CONFIG envelope (wrapConfig)
   * and `next` its parsed config, whose sequence must be the current one + 1.
   */
  configure(envelope: Uint8Array, next: ChannelConfig): void {
    this.checkRunning();
    if (next.sequence !== this.cfg.sequence + 1n) {
      throw new OrdererError(
        'STALE_CONFIG',
        `channel ${this.channelId}: config sequence ${next.sequence} does not follow ${this.cfg.sequence}`,
      );
    }
    this.opts.metrics?.configProposalsReceived.inc({ channel: this.channelId });
    this.clearTimer();
    if (this.cutter.pendingCount > 0) {
      this.observeFill();
      this.writeBatch(this.cutter.cut());
    }
    this.writeBatch([{ bytes: envelope, size: envelope.length }], next.sequence);
    this.cfg = next;
    this.cutter.setBatchSize(next.batchSize);
    this.log.info({ channel: this.channelId, sequence: String(next.sequence) }, 'config update ordered');
  }

  /**
   * Append a block made elsewhere (a replica fed the same blocks as another orderer). The
   * ledger checks number and hash chain; a config block becomes the current config.
   */
  async importBlock(bytes: Uint8Array): Promise<void> {
    this.checkRunning();
    if (this.cutter.pendingCount > 0)
      throw new OrdererError('BUSY', 'cannot import a block while a batch is pending');
    const block = decodeBlock(bytes);
    const cfg = isConfigBlock(block) ? this.parse(block) : undefined;
    await this.lastAppend;
    const append = this.opts.store.append(bytes);
    this.lastAppend = append.catch(() => undefined);
    await append;
    if (cfg) {
      this.cfg = cfg;
      this.cutter.setBatchSize(cfg.batchSize);
    }
    this.writer.follow(block, this.cfg.sequence);
    this.opts.metrics?.blockCommitted(this.channelId, block.header!.number, 0);
    this.wake();
  }

  /** Resolves once height > n-1 (block n exists), the chain halted, or `signal` aborted. */
  waitForHeight(height: bigint, signal?: AbortSignal): Promise<void> {
    if (this.height() >= height || this.errored || this.stopped || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = {
        height,
        resolve: () => {
          this.waiters.delete(waiter);
          signal?.removeEventListener('abort', waiter.resolve);
          resolve();
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', waiter.resolve, { once: true });
    });
  }

  /** Stop cutting, wait for appends in flight; wakes every waiter. Does not close the ledger. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.clearTimer();
      this.wakeAll();
    }
    await this.lastAppend.catch(() => undefined);
  }

  private checkRunning(): void {
    if (this.stopped) throw new OrdererError('STOPPED', `channel ${this.channelId}: orderer is stopping`);
    if (this.haltError)
      throw new OrdererError('HALTED', `channel ${this.channelId} halted: ${this.haltError.message}`);
  }

  private onBatchTimeout(): void {
    this.timer = undefined;
    if (this.stopped || this.haltError) return;
    const batch = this.cutter.cut();
    if (batch.length > 0) {
      this.observeFill();
      this.writeBatch(batch);
    }
  }

  private observeFill(): void {
    this.opts.metrics?.blockFillDuration.observe(
      { channel: this.channelId },
      (performance.now() - this.fillStart) / 1000,
    );
  }

  private clearTimer(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private writeBatch(batch: OrderedMessage[], configSeq = this.cfg.sequence): void {
    const block = this.writer.createNextBlock(batch.map((m) => m.bytes));
    const bytes = this.writer.seal(block, configSeq);
    const number = block.header!.number;
    this.blocksCut++;
    this.inflight++;
    const started = performance.now();
    const p = this.opts.store.append(bytes).then(
      () => {
        this.inflight--;
        this.opts.metrics?.blockCommitted(this.channelId, number, (performance.now() - started) / 1000);
        this.wake();
      },
      (e: unknown) => {
        this.inflight--;
        this.halt(e);
      },
    );
    this.lastAppend = p;
  }

  private halt(e: unknown): void {
    if (this.haltError) return;
    this.haltError = e instanceof Error ? e : new Error(errorMessage(e));
    this.log.error({ channel: this.channelId, err: errorMessage(e) }, 'ledger append failed; channel halted');
    this.clearTimer();
    this.wakeAll();
  }

  private wake(): void {
    const h = this.height();
    for (const w of [...this.waiters]) if (h >= w.height) w.resolve();
    const ready = this.readyWaiters;
    this.readyWaiters = [];
    for (const r of ready) r();
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w.resolve();
    const ready = this.readyWaiters;
    this.readyWaiters = [];
    for (const r of ready) r();
  }
}
