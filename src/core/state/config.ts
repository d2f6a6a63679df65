/**
 * State transfer configuration (PROTOCOL.md §9, §11): slices of the config table
 * (src/config/table.ts gives each key's default, check and meaning). As Fabric's GetIntOrDefault /
 * GetDurationOrDefault, a 0 for a timing or count means the default, except maxRetries, whose 0
 * Fabric keeps (state.go then sends each batch request once). The `catchup` block is
 * Grapevine's own (fast catch-up between Grapevine peers, catchup/): it never changes what a
 * Fabric peer sees on the gossip wire.
 */
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';

/**
 * Fast catch-up between Grapevine peers (`grapevine.catchup.*` but `serve`, which the daemon
 * reads). verifyAllSignatures off: per run of chained blocks, the data hash and hash chain of
 * every block and the signatures of each config block and of the last block
 * (verify/segment.ts; Fabric v2 orderers' replication rule). maxFrameBytes 64 KiB: the receiver
 * verifies and commits a message's blocks only once all of it arrived, so small messages keep
 * its pipeline busy (10 KB blocks: 64 KiB 0.54-0.55 of a raw stream, 32 KiB 0.46, 128 KiB 0.50,
 * 1 MiB 0.44).
 */
export const CATCHUP_SLICE = slice(
  'state catchup config',
  fields(
    'grapevine.catchup.enabled',
    'grapevine.catchup.minGap',
    'grapevine.catchup.maxBlocksPerStream',
    'grapevine.catchup.unsupportedTtl',
    'grapevine.catchup.idleTimeout',
    'grapevine.catchup.maxClockSkew',
    'grapevine.catchup.maxConcurrentStreams',
    'grapevine.catchup.maxFrameBytes',
    'grapevine.catchup.verifyWorkers',
    'grapevine.catchup.maxVerifyInFlight',
    'grapevine.catchup.verifyAllSignatures',
  ),
  {},
);

/**
 * `peer.gossip.state.*` and `peer.gossip.nonBlockingCommitMode`. maxRetries: a configured 0 is
 * kept (as Fabric's state.go: one send per batch, no retry), unlike the other counts here.
 */
export const STATE_SLICE = slice(
  'state config',
  fields(
    'peer.gossip.state.enabled',
    'peer.gossip.state.checkInterval',
    'peer.gossip.state.responseTimeout',
    'peer.gossip.state.batchSize',
    'peer.gossip.state.blockBufferSize',
    'peer.gossip.state.maxRetries',
    'peer.gossip.state.channelSize',
    'peer.gossip.nonBlockingCommitMode',
  ),
  {
    /**
     * Ledger appends issued before the previous one is durable (not in Fabric; 1 = Fabric's one
     * at a time). The ledger commits those that wait together (group commit), so more in flight
     * means fewer, larger durable writes when blocks arrive fast (catch-up). Default 64.
     */
    maxCommitsInFlight: 64,
    /** Bytes of those appends at most (a block larger than this still goes, alone). Default 32 MiB. */
    maxCommitBytesInFlight: 32 * 1024 * 1024,
  },
);

export type CatchupConfig = SliceConfig<typeof CATCHUP_SLICE>;
export type StateConfig = SliceConfig<typeof STATE_SLICE> & { readonly catchup: CatchupConfig };

export type StateConfigInput = Partial<Omit<StateConfig, 'catchup'>> & {
  readonly catchup?: Partial<CatchupConfig>;
};

export const CATCHUP_DEFAULTS: CatchupConfig = Object.freeze(sliceDefaults(CATCHUP_SLICE));

export const FABRIC_STATE_DEFAULTS: StateConfig = Object.freeze({
  ...sliceDefaults(STATE_SLICE),
  catchup: CATCHUP_DEFAULTS,
});

/** Fabric defaults overridden by `input` (0 = default but for maxRetries). Throws ConfigError naming the key. */
export function stateConfig(input: StateConfigInput = {}): StateConfig {
  const { catchup, ...rest } = input;
  return Object.freeze({
    ...resolveSlice(STATE_SLICE, rest),
    catchup: Object.freeze(resolveSlice(CATCHUP_SLICE, catchup ?? {})),
  });
}
