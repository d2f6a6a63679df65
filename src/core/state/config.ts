/**
 * State transfer configuration (PROTOCOL.md §9, §11): one typed place, Fabric's defaults
 * (`peer.gossip.state.*`, `peer.gossip.nonBlockingCommitMode`). As Fabric's GetIntOrDefault /
 * GetDurationOrDefault, a 0 for a timing or count means the default, except maxRetries, whose 0
 * Fabric keeps (state.go then sends each batch request once). The `catchup` block is
 * Grapevine's own (fast catch-up between Grapevine peers, catchup/): it never changes what a
 * Fabric peer sees on the gossip wire.
 */
import { ConfigError } from '../../base/errors.js';
import { defaultVerifyWorkers } from '../../base/cpus.js';

export interface CatchupConfig {
  /** Try the grapevine.Catchup stream before RemoteStateRequest batches. Default true. */
  readonly enabled: boolean;
  /** Use the stream only when at least this many blocks behind. Default 20 (= blockBufferSize). */
  readonly minGap: number;
  /** Blocks asked for in one stream (the server may send fewer). Default 100 000. */
  readonly maxBlocksPerStream: number;
  /** A peer that answered UNIMPLEMENTED is not asked again for this long (ms). Default 10 min. */
  readonly unsupportedTtlMs: number;
  /** A stream that delivers no block for this long is cancelled (ms). Default 10 s. */
  readonly idleTimeoutMs: number;
  /** Server side: a request's timestamp must be within this of our clock (ms). Default 15 min. */
  readonly maxClockSkewMs: number;
  /** Server side: concurrent streams served; more are refused RESOURCE_EXHAUSTED. Default 8. */
  readonly maxConcurrentStreams: number;
  /**
   * Server side: bytes of blocks per stream message (a larger block goes alone). Default 64 KiB:
   * the receiver verifies and commits a message's blocks only once all of it arrived, so small
   * messages keep its pipeline busy (10 KB blocks: 64 KiB 0.54-0.55 of a raw stream, 32 KiB
   * 0.46, 128 KiB 0.50, 1 MiB 0.44).
   */
  readonly maxFrameBytes: number;
  /**
   * Worker threads verifying catch-up blocks (when the provider has a verifier module).
   * Default: cores - 1, at least 1, at most 4.
   */
  readonly verifyWorkers: number;
  /** Catch-up blocks being verified at once, ahead of the one the buffer takes next. Default 64. */
  readonly maxVerifyInFlight: number;
  /**
   * Check the orderer signatures of every streamed block. Default false: per run of chained
   * blocks, the data hash and hash chain of every block and the signatures of each config block
   * and of the last block (verify/segment.ts; Fabric v2 orderers' replication rule).
   */
  readonly verifyAllSignatures: boolean;
}

export interface StateConfig {
  /** `peer.gossip.state.enabled`: anti-entropy requests and serving RemoteStateRequests. Fabric false. */
  readonly enabled: boolean;
  /** `peer.gossip.state.checkInterval` (ms). Fabric 10 s. */
  readonly checkIntervalMs: number;
  /** `peer.gossip.state.responseTimeout` (ms). Fabric 3 s. */
  readonly responseTimeoutMs: number;
  /** `peer.gossip.state.batchSize`: blocks per RemoteStateRequest (end - start). Fabric 10. */
  readonly batchSize: number;
  /** `peer.gossip.state.blockBufferSize`: gossip distance and buffer bound (blocking adds wait above 2x). Fabric 20. */
  readonly blockBufferSize: number;
  /**
   * `peer.gossip.state.maxRetries`: extra sends per batch. Fabric 3. A configured 0 is kept (as
   * Fabric's state.go: one send per batch, no retry), unlike the other counts here.
   */
  readonly maxRetries: number;
  /** `peer.gossip.state.channelSize`: queued RemoteStateRequests; excess dropped. Fabric 100. */
  readonly channelSize: number;
  /** `peer.gossip.nonBlockingCommitMode`: orderer blocks added like gossip ones. Fabric false. */
  readonly nonBlockingCommitMode: boolean;
  /**
   * Ledger appends issued before the previous one is durable (not in Fabric; 1 = Fabric's one
   * at a time). The ledger commits those that wait together (group commit), so more in flight
   * means fewer, larger durable writes when blocks arrive fast (catch-up). Default 64.
   */
  readonly maxCommitsInFlight: number;
  /** Bytes of those appends at most (a block larger than this still goes, alone). Default 32 MiB. */
  readonly maxCommitBytesInFlight: number;
  readonly catchup: CatchupConfig;
}

export type StateConfigInput = Partial<Omit<StateConfig, 'catchup'>> & {
  readonly catchup?: Partial<CatchupConfig>;
};

export const CATCHUP_DEFAULTS: CatchupConfig = Object.freeze({
  enabled: true,
  minGap: 20,
  maxBlocksPerStream: 100_000,
  unsupportedTtlMs: 600_000,
  idleTimeoutMs: 10_000,
  maxClockSkewMs: 15 * 60_000,
  maxConcurrentStreams: 8,
  maxFrameBytes: 64 * 1024,
  verifyWorkers: defaultVerifyWorkers(),
  maxVerifyInFlight: 64,
  verifyAllSignatures: false,
});

export const FABRIC_STATE_DEFAULTS: StateConfig = Object.freeze({
  enabled: false,
  checkIntervalMs: 10_000,
  responseTimeoutMs: 3_000,
  batchSize: 10,
  blockBufferSize: 20,
  maxRetries: 3,
  channelSize: 100,
  nonBlockingCommitMode: false,
  maxCommitsInFlight: 64,
  maxCommitBytesInFlight: 32 * 1024 * 1024,
  catchup: CATCHUP_DEFAULTS,
});

const BOOLEANS = new Set(['enabled', 'nonBlockingCommitMode']);
/** Counts whose 0 is a real value (Fabric reads them with IsSet + GetInt, and 0 works there). */
const ZERO_KEPT = new Set(['maxRetries']);

function resolve<T extends object>(
  what: string,
  defaults: T,
  input: Partial<T>,
  booleans: Set<string>,
  zeroKept: Set<string> = new Set(),
): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in defaults)) throw new ConfigError('UNKNOWN_KEY', `${what}: unknown key ${key}`);
    if (value === undefined) continue;
    if (booleans.has(key)) {
      if (typeof value !== 'boolean')
        throw new ConfigError('BAD_VALUE', `${what}: ${key} must be a boolean, got ${String(value)}`);
      out[key] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ConfigError(
        'BAD_VALUE',
        `${what}: ${key} must be a non-negative integer, got ${String(value)}`,
      );
    }
    if (value !== 0 || zeroKept.has(key)) out[key] = value;
  }
  return out as T;
}

/** Fabric defaults overridden by `input` (0 = default). Throws ConfigError naming the key. */
export function stateConfig(input: StateConfigInput = {}): StateConfig {
  const { catchup, ...rest } = input;
  const { catchup: _defaults, ...plain } = FABRIC_STATE_DEFAULTS;
  void _defaults;
  const base = resolve('state config', plain, rest, BOOLEANS, ZERO_KEPT);
  return Object.freeze({
    ...base,
    catchup: Object.freeze(
      resolve(
        'state catchup config',
        CATCHUP_DEFAULTS,
        catchup ?? {},
        new Set(['enabled', 'verifyAllSignatures']),
      ),
    ),
  });
}
