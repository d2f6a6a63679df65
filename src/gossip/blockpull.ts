/**
 * Block pull of one channel (PROTOCOL.md §6.4) on the generic pull engine: msg_type BLOCK_MSG,
 * tag CHAN_AND_ORG, channel set, item id = decimal ASCII of seq_num; membership = alive,
 * eligible, same-org members (the channel's); incoming digests below our ledger height are not
 * wanted; a solicited DataUpdate goes to the channel, which verifies every block (one failure
 * drops the whole update) and returns the new ones. The channel checks the sender (we have not
 * left; same org; eligible) before a message reaches the engine.
 */
import type { Clock, Rng, Transport } from '../comm/types.js';
import type { BlockPullHooks, ChannelBlockPull } from '../channel/types.js';
import { preferredEndpoint } from '../discovery/discovery.js';
import type { Logger } from '../util/log.js';
import type { Metrics } from '../util/metrics.js';
import type { GossipMessage } from '../wire/gen/gossip/message_pb.js';
import { PullMsgType, Tag } from '../wire/gossip.js';
import type { PullConfig } from './pull/config.js';
import { PullEngine } from './pull/engine.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export function blockItemId(seq: bigint): Uint8Array {
  return enc.encode(seq.toString(10));
}

/** The seq of a block digest, or undefined when it is not a decimal number. */
export function blockDigestSeq(id: Uint8Array): bigint | undefined {
  const s = dec.decode(id);
  return /^[0-9]{1,20}$/.test(s) ? BigInt(s) : undefined;
}

export interface BlockPullDeps {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly config?: Partial<PullConfig>;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
}

export function createChannelBlockPull(deps: BlockPullDeps, hooks: BlockPullHooks): ChannelBlockPull {
  const engine = new PullEngine({
    name: 'block',
    transport: deps.transport,
    clock: deps.clock,
    rng: deps.rng,
    config: deps.config,
    metrics: deps.metrics,
    logger: deps.logger,
    subscribe: false,
    adapter: {
      msgType: PullMsgType.BLOCK_MSG,
      tag: Tag.CHAN_AND_ORG,
      channel: hooks.channel,
      membership: () => hooks.membership().map((m) => ({ pkiId: m.pkiId, endpoint: preferredEndpoint(m) })),
      itemId: (message) => blockItemId(seqOf(message)),
      ingressDigestFilter: (digests) => {
        const height = hooks.ledgerHeight();
        return digests.filter((d) => {
          const seq = blockDigestSeq(d);
          return seq !== undefined && seq >= height;
        });
      },
      acceptUpdate: (items, from) => {
        const fresh = new Set(hooks.acceptBlocks(items, from).map((i) => i.envelope));
        return items.filter((i) => fresh.has(i.envelope));
      },
    },
  });
  return {
    add: (seqNum, envelope, message) => void engine.add({ id: blockItemId(seqNum), envelope, message }),
    remove: (seqNum) => void engine.remove(blockItemId(seqNum)),
    handleMessage: (m) => engine.handleMessage(m),
    start: () => engine.start(),
    stop: () => engine.stop(),
  };
}

function seqOf(message: GossipMessage): bigint {
  if (message.content.case !== 'dataMsg' || !message.content.value.payload) throw new Error('not a DataMessage with a payload');
  return message.content.value.payload.seqNum;
}
