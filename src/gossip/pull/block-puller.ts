/**
 * Block pull of one channel (PROTOCOL.md §6.3, §6.4; Fabric's channel.go block puller): the pull
 * engine with msg_type BLOCK_MSG, tag CHAN_AND_ORG, the channel set, item id = decimal ASCII of
 * the block's seq_num, wired to the channel's block message store.
 *
 *   Membership: supplied by the channel layer (alive, eligible, same-org channel members).
 *   Ingress digests: ids that parse as decimal uint64 and are >= our ledger height.
 *   A solicited DataUpdate: every element must be a DataMessage with a payload in this channel;
 *     blocks the store would refuse (duplicates, too old) are skipped silently; every other block
 *     must pass verifyBlock, or the whole update is dropped. Then each block the store accepts
 *     is held for pulling and handed to onBlock (to the state module); pulled blocks are never
 *     forwarded.
 *   addBlock (push path, originator): store + pull store, true when new.
 *   Blocks evicted or expired from the store leave the pull store.
 */
import type { Clock, ReceivedMessage, Rng, Transport } from '../../comm/types.js';
import { GrapevineError } from '../../errors.js';
import type { Logger } from '../../util/log.js';
import type { Metrics } from '../../util/metrics.js';
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { PullMsgType, Tag, channelName } from '../../wire/gossip.js';
import { BlockMessageStore, BLOCK_STORE_DEFAULTS } from '../blockstore.js';
import { pullConfig, type PullConfig } from './config.js';
import { PullEngine, type PullMember } from './engine.js';
import type { PullItem } from './store.js';

/** Why a block DataUpdate was refused; `code`: not_block | wrong_channel | verify_failed. */
export class BlockUpdateError extends GrapevineError {}

export interface PulledBlock {
  readonly seqNum: bigint;
  /** Serialized common.Block (Payload.data). */
  readonly data: Uint8Array;
  readonly envelope: Envelope;
  readonly message: GossipMessage;
}

export interface BlockPullerOptions {
  readonly channel: string;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly rng: Rng;
  /** Alive, eligible, same-org members of the channel, with preferred endpoints. */
  readonly membership: () => readonly PullMember[];
  /** Our ledger height: digests below it are not requested. */
  readonly ledgerHeight: () => bigint;
  /** VerifyBlock(channel, seqNum, block) (§2.8); throws when invalid. */
  readonly verifyBlock: (seqNum: bigint, block: Uint8Array, message: GossipMessage) => void;
  /** A block pulled and stored: hand it to the state module (never forwarded). */
  readonly onBlock: (block: PulledBlock) => void;
  readonly config?: Partial<PullConfig> & { readonly maxBlockCountToStore?: number };
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

export interface BlockPuller {
  readonly engine: PullEngine;
  readonly store: BlockMessageStore;
  start(): void;
  stop(): void;
  /** A received BLOCK_MSG pull message, after the channel's sender checks (§6.4). */
  handleMessage(m: ReceivedMessage): void;
  /** Store a pushed or originated block and offer it for pull; false when not new. */
  addBlock(envelope: Envelope, message: GossipMessage): boolean;
}

const MAX_U64 = (1n << 64n) - 1n;
const DECIMAL = /^[0-9]{1,20}$/;

/** Item id of a block: decimal ASCII of its seq_num. */
export function blockItemId(seqNum: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(seqNum.toString(10), 'ascii'));
}

/** The seq_num of a block digest, or undefined when it is not a decimal uint64. */
export function parseBlockDigest(id: Uint8Array): bigint | undefined {
  const text = Buffer.from(id).toString('latin1');
  if (!DECIMAL.test(text)) return undefined;
  const n = BigInt(text);
  return n <= MAX_U64 ? n : undefined;
}

function payloadOf(message: GossipMessage): { seqNum: bigint; data: Uint8Array } {
  if (message.content.case !== 'dataMsg' || !message.content.value.payload) {
    throw new BlockUpdateError(
      'not_block',
      `update element is ${message.content.case ?? 'empty'}, not a DataMessage with a payload`,
    );
  }
  return message.content.value.payload;
}

export function createBlockPuller(opts: BlockPullerOptions): BlockPuller {
  const { channel } = opts;
  const { maxBlockCountToStore, ...rest } = opts.config ?? {};
  const config = pullConfig(rest);
  const ref: { engine?: PullEngine } = {};
  const store = new BlockMessageStore({
    clock: opts.clock,
    channel,
    maxBlockCountToStore: maxBlockCountToStore ?? BLOCK_STORE_DEFAULTS.maxBlockCountToStore,
    ttlMs: config.pullIntervalMs * 100,
    metrics: opts.metrics,
    logger: opts.logger,
    onRemove: (seqNum) => ref.engine?.remove(blockItemId(seqNum)),
  });

  const acceptUpdate = (items: readonly PullItem[]): PullItem[] => {
    const verified: { item: PullItem; seqNum: bigint; data: Uint8Array }[] = [];
    for (const item of items) {
      const { seqNum, data } = payloadOf(item.message);
      if (channelName(item.message) !== channel) {
        throw new BlockUpdateError(
          'wrong_channel',
          `pulled block ${seqNum} is of channel ${JSON.stringify(channelName(item.message))}`,
        );
      }
      if (!store.checkValid(seqNum)) continue;
      try {
        opts.verifyBlock(seqNum, data, item.message);
      } catch (e) {
        opts.metrics
          ?.counter(
            'gossip_block_pull_rejected',
            'Block DataUpdates dropped for a block that failed verification',
            ['channel'],
          )
          .inc({ channel });
        throw new BlockUpdateError(
          'verify_failed',
          `pulled block ${seqNum} failed verification: ${(e as Error)?.message ?? String(e)}`,
          { cause: e },
        );
      }
      verified.push({ item, seqNum, data });
    }
    const added: PullItem[] = [];
    for (const v of verified) {
      if (!store.add(v.seqNum, v.item.envelope, v.item.message)) continue;
      added.push(v.item);
      opts.onBlock({ seqNum: v.seqNum, data: v.data, envelope: v.item.envelope, message: v.item.message });
    }
    return added;
  };

  const pullEngine = new PullEngine({
    name: 'block',
    transport: opts.transport,
    clock: opts.clock,
    rng: opts.rng,
    config,
    metrics: opts.metrics,
    logger: opts.logger,
    adapter: {
      msgType: PullMsgType.BLOCK_MSG,
      tag: Tag.CHAN_AND_ORG,
      channel,
      membership: opts.membership,
      itemId: (message) => blockItemId(payloadOf(message).seqNum),
      ingressDigestFilter: (digests) => {
        const height = opts.ledgerHeight();
        return digests.filter((d) => {
          const n = parseBlockDigest(d);
          return n !== undefined && n >= height;
        });
      },
      acceptUpdate,
    },
  });
  ref.engine = pullEngine;

  return {
    engine: pullEngine,
    store,
    start() {
      store.start();
      pullEngine.start();
    },
    stop() {
      pullEngine.stop();
      store.stop();
    },
    handleMessage: (m) => pullEngine.handleMessage(m),
    addBlock(envelope, message) {
      const { seqNum } = payloadOf(message);
      if (!store.add(seqNum, envelope, message)) return false;
      pullEngine.add({ id: blockItemId(seqNum), envelope, message });
      return true;
    },
  };
}
