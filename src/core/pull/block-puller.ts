/**
 * Block pull of one channel (PROTOCOL.md §6.4; Fabric's channel.go block puller): the pull
 * engine with msg_type BLOCK_MSG, tag CHAN_AND_ORG, the channel set, item id = decimal ASCII of
 * the block's seq_num. The channel owns the block message store (§6.3) and hands it in; it adds
 * pushed/originated blocks to the pull store (add) and removes evicted/expired ones (remove).
 *
 *   Membership: supplied by the channel (alive, eligible, same-org members; empty once left).
 *   Ingress digests: ids that parse as decimal uint64 and are >= our ledger height.
 *   A solicited DataUpdate (the engine checked nonce and window): every element must be a
 *     DataMessage with a payload in this channel; blocks the store would refuse (duplicates, too
 *     old) are skipped before verification; every other block must pass verifyBlock, or the
 *     whole update is dropped (onRejected is told why). Then each block the store accepts is
 *     held for pulling and handed to onBlock (the state module); pulled blocks are never
 *     forwarded.
 */
import { GrapevineError, errorMessage } from '../../base/errors.js';
import type { BlockPullHooks, ChannelBlockPull } from '../channel/types.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type { GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { PullMsgType, Tag, channelName } from '../../wire/gossip.js';
import { PullEngine, type PullEngineOptions } from './engine.js';
import type { PullItem } from './store.js';
import { METRICS } from '../../base/metric-table.js';

/** Why a block DataUpdate was refused; `code`: not_block | wrong_channel | verify_failed. */
export class BlockUpdateError extends GrapevineError {}

/** What the node supplies to every channel's block puller (the pull engine's I/O and config). */
export type BlockPullDeps = Pick<
  PullEngineOptions,
  'transport' | 'clock' | 'rng' | 'config' | 'metrics' | 'logger'
>;

export type BlockPullerOptions = BlockPullDeps & BlockPullHooks;

export interface BlockPuller extends ChannelBlockPull {
  readonly engine: PullEngine;
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
  const { channel, store } = opts;

  const verified = (
    items: readonly PullItem[],
  ): { item: PullItem; seqNum: bigint; data: Uint8Array; block: Block }[] => {
    const out: { item: PullItem; seqNum: bigint; data: Uint8Array; block: Block }[] = [];
    for (const item of items) {
      const { seqNum, data } = payloadOf(item.message);
      if (channelName(item.message) !== channel) {
        throw new BlockUpdateError(
          'wrong_channel',
          `pulled block ${seqNum} is of channel ${JSON.stringify(channelName(item.message))}`,
        );
      }
      if (!store.checkValid(seqNum)) continue;
      let block: Block;
      try {
        block = opts.verifyBlock(seqNum, data, item.message);
      } catch (e) {
        opts.metrics?.counter(METRICS.grapevineGossipBlockPullRejectedTotal).inc({ channel });
        throw new BlockUpdateError(
          'verify_failed',
          `pulled block ${seqNum} failed verification: ${errorMessage(e)}`,
          { cause: e },
        );
      }
      out.push({ item, seqNum, data, block });
    }
    return out;
  };

  const engine = new PullEngine({
    name: 'block',
    transport: opts.transport,
    clock: opts.clock,
    rng: opts.rng,
    config: opts.config,
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
      acceptUpdate: (items, from) => {
        let ok;
        try {
          ok = verified(items);
        } catch (e) {
          if (e instanceof BlockUpdateError) opts.onRejected?.(e, from);
          throw e;
        }
        const added: PullItem[] = [];
        for (const v of ok) {
          if (!store.add(v.seqNum, v.item.envelope, v.item.message)) continue;
          added.push(v.item);
          opts.onBlock({
            seqNum: v.seqNum,
            data: v.data,
            block: v.block,
            envelope: v.item.envelope,
            message: v.item.message,
          });
        }
        return added;
      },
    },
  });

  return {
    engine,
    start: () => engine.start(),
    stop: () => engine.stop(),
    handleMessage: (m) => engine.handleMessage(m),
    add: (seqNum, envelope, message) => void engine.add({ id: blockItemId(seqNum), envelope, message }),
    remove: (seqNum) => void engine.remove(blockItemId(seqNum)),
  };
}
