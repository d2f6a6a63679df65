/**
 * The production catch-up block verifier for worker threads (pool.ts, worker.ts): inside a
 * worker, the peer's own MessageCryptoService.verifyBlock (§2.8) for one channel, built from
 * serialisable init data, plus a config feed so later config blocks reach every worker.
 *
 *   init = {channel, configBlock (the channel's current config block, bytes as stored), feed}.
 *   createBlockVerifier(init): parseChannelConfig(configBlock) -> the channel's crypto context
 *     (MSPs, policies) -> an MCS whose channel provider holds only that channel.
 *   ConfigFeed (main thread): publish(configBlockBytes) writes the block into a growable
 *     SharedArrayBuffer shared with every worker of the channel (seqlock: generation odd while
 *     writing, even when done; header = [generation, length]).
 *   Before each block a worker reads the generation (one atomic load). A new even generation:
 *     copy the bytes, re-read the generation (changed -> torn read, keep the current config and
 *     look again at the next block); parse and install it. A block that does not parse leaves
 *     the previous config in place (its generation is not retried).
 * So once publish() returned, every verification that starts afterwards, in any worker, uses the
 * new config. Blocks verified ahead of a config block's commit use the config committed when
 * their verification started (as the main thread's MCS); one refused because of that is
 * dropped and asked for again in the next anti-entropy round.
 */
import { parseChannelConfig } from '../../channelconfig/index.js';
import { GrapevineError, VerifyError, errorMessage } from '../../base/errors.js';
import { MessageCryptoService, type ChannelProvider, type LazySignatureSet } from '../../identity/mcs.js';
import type { ChannelCryptoContext, LocalIdentity } from '../../identity/types.js';
import { decodeBlock, isConfigBlock } from '../../wire/block.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { SegmentBlock } from '../../core/state/verify/segment.js';
import type { WorkerBlockVerifier, WorkerSegmentVerifier } from './worker.js';

/** This module, for StateProviderOptions.catchupVerifier.module (.ts under tsx, .js when built). */
export const MCS_VERIFIER_MODULE: string = import.meta.url;

export interface McsVerifierInit {
  readonly channel: string;
  /** The channel's current config block, as stored. */
  readonly configBlock: Uint8Array;
  /** ConfigFeed.shared: later config blocks. */
  readonly feed?: SharedArrayBuffer;
}

/** Largest config block the feed carries (virtual reservation; memory grows with the block). */
export const MAX_FEED_BYTES = 64 * 1024 * 1024;
const HEADER = 8; // Int32 generation, Int32 length

interface GrowableSab extends SharedArrayBuffer {
  grow(n: number): void;
}

/** The main thread's side of the config feed of one channel's verifier workers. */
export class ConfigFeed {
  readonly shared: SharedArrayBuffer;
  private readonly header: Int32Array;

  constructor(readonly maxBytes: number = MAX_FEED_BYTES) {
    const Sab = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => GrowableSab;
    this.shared = new Sab(HEADER, { maxByteLength: HEADER + maxBytes });
    this.header = new Int32Array(this.shared, 0, 2);
  }

  /** Times a config was published. */
  get generation(): number {
    return Atomics.load(this.header, 0) >>> 1;
  }

  /** Hand a committed config block to every worker; throws RangeError above maxBytes. */
  publish(configBlock: Uint8Array): void {
    if (configBlock.length > this.maxBytes)
      throw new RangeError(`config block of ${configBlock.length} bytes exceeds the feed's ${this.maxBytes}`);
    const sab = this.shared as GrowableSab;
    if (sab.byteLength < HEADER + configBlock.length) sab.grow(HEADER + configBlock.length);
    Atomics.add(this.header, 0, 1); // odd: writing
    new Uint8Array(this.shared, HEADER, configBlock.length).set(configBlock);
    Atomics.store(this.header, 1, configBlock.length);
    Atomics.add(this.header, 0, 1); // even: done
  }
}

/** The worker's side: the latest complete config block newer than `seen`, if any. */
function readFeed(feed: SharedArrayBuffer, seen: number): { gen: number; bytes?: Uint8Array } {
  const header = new Int32Array(feed, 0, 2);
  const gen = Atomics.load(header, 0);
  if (gen === seen || (gen & 1) === 1) return { gen: seen };
  const len = Atomics.load(header, 1);
  if (feed.byteLength < HEADER + len) return { gen: seen };
  const bytes = new Uint8Array(new Uint8Array(feed, HEADER, len));
  if (Atomics.load(header, 0) !== gen) return { gen: seen }; // torn: look again next time
  return { gen, bytes };
}

const NO_LOCAL = new Proxy({} as LocalIdentity, {
  get() {
    throw new VerifyError('NO_LOCAL_IDENTITY', 'a block verifier worker has no local identity');
  },
});

function contextOf(channel: string, bytes: Uint8Array | Block): ChannelCryptoContext {
  const cfg = parseChannelConfig(bytes instanceof Uint8Array ? decodeBlock(bytes) : bytes);
  if (cfg.channelId !== channel)
    throw new VerifyError('WRONG_CHANNEL', `config block of channel ${cfg.channelId}, expected ${channel}`);
  return cfg.cryptoContext();
}

/** Called by worker.ts inside each verifier worker. */
export function createBlockVerifier(init: McsVerifierInit): WorkerBlockVerifier {
  let ctx = contextOf(init.channel, init.configBlock);
  const provider: ChannelProvider = {
    get: (id) => (id === ctx.channelId ? ctx : undefined),
    all: () => [ctx],
  };
  const mcs = new MessageCryptoService(NO_LOCAL, provider, () => new Date());
  let seen = 0;
  const refresh = (): void => {
    if (!init.feed) return;
    const r = readFeed(init.feed, seen);
    if (!r.bytes) return;
    seen = r.gen;
    try {
      ctx = contextOf(init.channel, r.bytes);
    } catch (e) {
      const code = e instanceof GrapevineError ? `${e.code}: ` : '';
      // keep the previous config; verification results tell the main thread
      console.warn(`catch-up verifier (${init.channel}): new config not usable: ${code}${errorMessage(e)}`);
    }
  };
  return {
    checksDataHash: true,
    verifyBlock(channel: string, seqNum: bigint, block: Block): void {
      refresh();
      mcs.verifyBlock(channel, seqNum, block);
    },
    segments: mcsSegments(mcs, init.channel, () => {
      refresh();
      return ctx;
    }) as WorkerSegmentVerifier<unknown, unknown>,
  };
}

/** A block's signature input in segment mode. */
export interface McsSigned {
  readonly block: Block;
  readonly set: LazySignatureSet;
}

/**
 * MessageCryptoService's checks split for segment verification (segment.ts): content checks,
 * the BlockValidation policy under a given config, and a verified config block's config.
 * `current` is the committed config (undefined: whatever the MCS's channel provider holds; such
 * a verifier cannot adopt a config block's config ahead of its commit).
 */
export function mcsSegments(
  mcs: MessageCryptoService,
  channel: string,
  current: () => ChannelCryptoContext | undefined,
): WorkerSegmentVerifier<McsSigned, ChannelCryptoContext | undefined> {
  return {
    current,
    checkContent: (ch, seq, block) => ({ block, set: mcs.checkBlockContent(ch, seq, block) }),
    checkSignatures: (b: SegmentBlock<McsSigned>, ctx) =>
      mcs.checkBlockSignatures(channel, b.seq, b.signed.set, ctx),
    configOf: (b) =>
      isConfigBlock(b.signed.block) && current() !== undefined
        ? contextOf(channel, b.signed.block)
        : undefined,
  };
}
