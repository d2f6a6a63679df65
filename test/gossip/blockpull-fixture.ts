/**
 * A block puller with its own block message store, wired as the channel wires them (the store's
 * evictions/expiries leave the pull store; addBlock = store + pull store), for pull tests that
 * run without a channel.
 */
import { create } from '@bufbuild/protobuf';
import { BlockMessageStore } from '../../src/core/channel/blockstore.js';
import { createBlockPuller, type BlockPuller, type BlockPullerOptions } from '../../src/core/pull/index.js';
import { BlockSchema, type Block } from '../../src/wire/gen/common/common_pb.js';
import type { Envelope, GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';

export interface StandalonePuller extends BlockPuller {
  readonly store: BlockMessageStore;
  /** Store a pushed/originated block and offer it for pull; false when the store refuses it. */
  addBlock(envelope: Envelope, message: GossipMessage): boolean;
}

export type StandaloneOptions = Omit<BlockPullerOptions, 'store' | 'verifyBlock'> & {
  /** Throw to refuse; may return the decoded block (default: an empty Block). */
  readonly verifyBlock: (seqNum: bigint, data: Uint8Array, message: GossipMessage) => Block | void;
  readonly maxBlockCountToStore?: number;
};

export function standalonePuller(opts: StandaloneOptions): StandalonePuller {
  const ref: { puller?: BlockPuller } = {};
  const store = new BlockMessageStore({
    clock: opts.clock,
    channel: opts.channel,
    maxBlockCountToStore: opts.maxBlockCountToStore ?? 10,
    ttlMs: (opts.config?.pullIntervalMs || 4000) * 100,
    metrics: opts.metrics,
    onRemove: (seq) => ref.puller?.remove(seq),
  });
  const puller = createBlockPuller({
    ...opts,
    store,
    verifyBlock: (seq, data, message) => opts.verifyBlock(seq, data, message) ?? create(BlockSchema),
  });
  ref.puller = puller;
  return {
    ...puller,
    store,
    start: () => {
      store.start();
      puller.start();
    },
    stop: () => {
      puller.stop();
      store.stop();
    },
    addBlock: (envelope, message) => {
      const c = message.content;
      if (c.case !== 'dataMsg' || !c.value.payload) return false;
      const seq = c.value.payload.seqNum;
      if (!store.add(seq, envelope, message)) return false;
      puller.add(seq, envelope, message);
      return true;
    },
  };
}
