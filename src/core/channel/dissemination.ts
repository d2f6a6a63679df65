/**
 * Blocks and leadership messages of one channel (PROTOCOL.md §6.1–§6.3, §7.2, §5.7), sans-IO.
 *
 *   originate(seq, block): DataMessage{Payload{seq, data}} in GossipMessage{CHAN_AND_ORG,
 *     channel, nonce 0}, unsigned; into the block store and the pull store; pushed (emitter).
 *   pushed block received: we have not left; sender's org in the channel; payload present; the
 *     block store would take it (else a duplicate or too old, counted); VerifyBlock passes ->
 *     stored, added to the pull store, forwarded once (push, sender excluded), handed over.
 *   block store (blockstore.ts, §6.3): Fabric's replacement policy (maxBlockCountToStore) and
 *     TTL; evicted/expired blocks leave the pull store.
 *   block pull (src/gossip/pull/block-puller.ts, §6.4): messages are refused once we left and
 *     from senders that are not eligible same-org members; a solicited DataUpdate skips blocks
 *     the store would refuse, verifies the rest (one failure drops the whole update, counted as
 *     bad_block), stores and hands over the new ones, never forwards them.
 *   hand-over: at most once per seq per incarnation, and never below the ledger height; a block
 *     the state layer refuses as too far ahead (refused(), during the hand-over) is parked, not
 *     delivered, and offered again, lowest first, whenever the ledger height moves.
 *   leadership received: signed by the stored identity of its pki_id; connection's and creator's
 *     orgs are ours; newer (PeerTime) than the last one of that PKI-ID (kept leaderAliveThreshold
 *     x 10) -> handed to the election; never forwarded. Ours: signed, pushed to every eligible
 *     same-org member.
 *   routing (§5.7): blocks to propagatePeerNum random eligible same-org members; leadership to
 *     all of them; the peer a message came from is excluded.
 */
import type { ReceivedMessage } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { remotePeerOf } from '../discovery/endpoint.js';
import { errorMessage, type GrapevineError } from '../../base/errors.js';
import type { MemberInfo } from '../discovery/types.js';
import { decodeBlock } from '../../wire/block.js';
import type { Block } from '../../wire/gen/common/common_pb.js';
import type {
  Envelope,
  GossipMessage,
  LeadershipMessage,
  Payload,
} from '../../wire/gen/gossip/message_pb.js';
import { signGossip, unsignedGossip, Tag } from '../../wire/gossip.js';
import { BlockMessageStore } from './blockstore.js';
import type { GossipChannel } from './channel.js';
import { blockTtlMs, leadershipTtlMs } from './config.js';
import { dropError, type GossipDropReason } from './errors.js';
import type { PeerTime } from './stateinfo.js';
import { createLeadershipStore, type LeadershipStore } from './stores.js';
import type { BlockSource, ChannelBlockPull, ChannelHost, PushItem } from './types.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';

/** Reason (grapevine_gossip_dropped_total) of a refused block DataUpdate, by BlockUpdateError code. */
const PULL_REJECT_REASON: Record<string, GossipDropReason> = {
  verify_failed: 'bad_block',
  wrong_channel: 'unknown_channel',
  not_block: 'malformed',
};

export class Dissemination {
  readonly blocks: BlockMessageStore;
  private readonly puller?: ChannelBlockPull;
  private readonly delivered = new Set<bigint>();
  /** Blocks the state layer refused as too far ahead, offered again as the height moves. */
  private readonly parked = new Map<bigint, { payload: Payload; block: Block; source: BlockSource }>();
  private lastDelivered?: { seq: bigint; payload: Payload; block: Block; source: BlockSource };
  private readonly leaders: LeadershipStore;
  private readonly channelBytes: Uint8Array;

  constructor(
    private readonly host: ChannelHost,
    private readonly channel: GossipChannel,
  ) {
    const c = host.config;
    this.channelBytes = new TextEncoder().encode(channel.name);
    this.leaders = createLeadershipStore({
      clock: host.clock,
      ttlMs: leadershipTtlMs(c),
      maxEntries: c.maxStateInfos,
      metrics: host.metrics,
    });
    this.blocks = new BlockMessageStore({
      clock: host.clock,
      channel: channel.name,
      maxBlockCountToStore: c.maxBlockCountToStore,
      ttlMs: blockTtlMs(c),
      metrics: host.metrics,
      logger: host.logger,
      onRemove: (seq) => this.puller?.remove(seq),
    });
    this.puller = host.createBlockPull?.({
      channel: channel.name,
      store: this.blocks,
      membership: () => this.blockPeers(this.channel.sameOrgEligible()).map(remotePeerOf),
      ledgerHeight: () => this.channel.self.ledgerHeight,
      verifyBlock: (seq, data) => this.verifyBlock(seq, data),
      onBlock: (b) => this.deliver(b.seqNum, payloadOf(b.message), b.block, 'pull'),
      onRejected: (err: GrapevineError, from) =>
        this.host.drop(PULL_REJECT_REASON[err.code] ?? 'malformed', err.message, from),
    });
  }

  start(): void {
    this.blocks.start();
    this.puller?.start();
  }

  stop(): void {
    this.puller?.stop();
    this.blocks.stop();
  }

  upkeep(): void {
    this.leaders.expire();
  }

  onLeave(): void {
    this.puller?.stop();
  }

  /** The ledger height moved: forget hand-over records below it. */
  onHeight(height: bigint): void {
    for (const seq of this.delivered) if (seq < height) this.delivered.delete(seq);
    for (const seq of this.parked.keys()) if (seq < height) this.parked.delete(seq);
    // offer the parked blocks again, lowest first, until one is refused again (the rest would be too)
    for (const seq of [...this.parked.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const p = this.parked.get(seq)!;
      this.parked.delete(seq);
      this.deliver(seq, p.payload, p.block, p.source);
      if (this.parked.has(seq)) break;
    }
  }

  /**
   * The state layer refused block `seq` (too far ahead): it is not delivered after all, and is
   * offered again once the ledger height moves (onHeight). Bounded by maxSeenBlocks, oldest out.
   */
  refused(seq: bigint): void {
    const d = this.lastDelivered;
    if (!d || d.seq !== seq) return;
    this.delivered.delete(seq);
    if (this.parked.size >= this.host.config.maxSeenBlocks) {
      this.host.metrics?.counter(METRICS.grapevineGossipChannelMapFullTotal).inc({ map: 'parked' });
      const highest = [...this.parked.keys()].reduce((a, b) => (a > b ? a : b));
      if (highest < seq) return;
      this.parked.delete(highest);
    }
    this.parked.set(seq, { payload: d.payload, block: d.block, source: d.source });
  }

  // ---- blocks ----------------------------------------------------------------------------

  /** §6.1: a block of ours (e.g. from the orderer) enters the stores and is pushed. */
  originate(seqNum: bigint, blockBytes: Uint8Array): boolean {
    const { envelope, message } = unsignedGossip({
      tag: Tag.CHAN_AND_ORG,
      nonce: 0n,
      channel: this.channelBytes,
      content: { case: 'dataMsg', value: { payload: { seqNum, data: blockBytes } } },
    });
    if (!this.blocks.add(seqNum, envelope, message)) return false;
    this.puller?.add(seqNum, envelope, message);
    this.delivered.add(seqNum);
    if (this.host.config.pushBlocks) this.host.push({ kind: 'block', channel: this.channel.name, envelope });
    return true;
  }

  /** §6.2 */
  handlePushedBlock(m: ReceivedMessage): void {
    if (this.channel.left) throw dropError('left_channel', 'block for a channel we left');
    if (!this.channel.isMemberInChan(m.conn.pkiId))
      throw dropError('org_not_in_channel', "the sender's org is not in the channel");
    const payload = payloadOf(m.message);
    const seq = payload.seqNum;
    if (!this.blocks.checkValid(seq)) {
      this.count(METRICS.grapevineGossipBlocksDuplicateTotal, 'push');
      return;
    }
    const block = this.verifyBlock(seq, payload.data);
    if (!this.blocks.add(seq, m.envelope, m.message)) return;
    this.puller?.add(seq, m.envelope, m.message);
    if (this.host.config.pushBlocks)
      this.host.push({ kind: 'block', channel: this.channel.name, envelope: m.envelope, from: m.conn.pkiId });
    this.deliver(seq, payload, block, 'push');
  }

  /** Block pull messages of this channel (§6.4 receiver-side rules), then the puller. */
  handleBlockPull(m: ReceivedMessage): void {
    if (this.channel.left) throw dropError('left_channel', 'block pull message for a channel we left');
    if (this.host.membership.orgOf(m.conn.pkiId) !== this.host.ownOrg)
      throw dropError('not_same_org', 'block pull message from another org');
    if (!this.channel.eligible(m.conn.pkiId))
      throw dropError('not_eligible', 'block pull message from a peer without a StateInfo');
    if (!this.puller) return;
    this.puller.handleMessage(m);
  }

  /** §2.8 VerifyBlock; throws GossipDropError('bad_block'). */
  private verifyBlock(seqNum: bigint, data: Uint8Array): Block {
    try {
      const block = decodeBlock(data);
      this.host.crypto.verifyBlock(this.channel.name, seqNum, block);
      return block;
    } catch (e) {
      throw dropError('bad_block', `block ${seqNum} refused: ${errorMessage(e)}`, e);
    }
  }

  private deliver(seq: bigint, payload: Payload, block: Block, source: BlockSource): void {
    this.count(METRICS.grapevineGossipBlocksReceivedTotal, source);
    if (seq < this.channel.self.ledgerHeight || this.delivered.has(seq)) return;
    if (this.delivered.size >= this.host.config.maxSeenBlocks) {
      this.host.metrics?.counter(METRICS.grapevineGossipChannelMapFullTotal).inc({ map: 'delivered' });
      const oldest = [...this.delivered].reduce((a, b) => (a < b ? a : b));
      this.delivered.delete(oldest);
    }
    this.delivered.add(seq);
    this.lastDelivered = { seq, payload, block, source };
    this.host.deliverBlock({ channel: this.channel.name, seqNum: seq, payload, block, source });
    this.lastDelivered = undefined;
  }

  // ---- leadership ------------------------------------------------------------------------

  /** §7.2: sign and push a LeadershipMessage to every eligible same-org member. */
  originateLeadership(msg: {
    readonly pkiId?: PkiId;
    readonly timestamp: PeerTime;
    readonly isDeclaration: boolean;
  }): Envelope {
    const { envelope } = signGossip(
      {
        tag: Tag.CHAN_AND_ORG,
        nonce: 0n,
        channel: this.channelBytes,
        content: {
          case: 'leadershipMsg',
          value: {
            pkiId: msg.pkiId ?? this.host.selfPkiId,
            timestamp: msg.timestamp,
            isDeclaration: msg.isDeclaration,
          },
        },
      },
      this.host.signer,
    );
    this.host.push({ kind: 'leadership', channel: this.channel.name, envelope });
    return envelope;
  }

  handleLeadership(m: ReceivedMessage): void {
    if (m.message.content.case !== 'leadershipMsg') return;
    const lm: LeadershipMessage = m.message.content.value;
    if (lm.pkiId.length === 0) throw dropError('malformed', 'LeadershipMessage without pki_id');
    const identity = this.host.identities.get(lm.pkiId);
    if (!identity) throw dropError('unknown_identity', 'leadership message creator identity is unknown');
    if (m.envelope.signature.length === 0) throw dropError('unsigned', 'leadership message is not signed');
    try {
      this.host.crypto.verify(identity, m.envelope.signature, m.envelope.payload);
    } catch (e) {
      throw dropError('bad_signature', `leadership signature refused: ${errorMessage(e)}`, e);
    }
    const own = this.host.ownOrg;
    if (this.host.membership.orgOf(m.conn.pkiId) !== own || this.host.membership.orgOf(lm.pkiId) !== own) {
      throw dropError('not_same_org', 'leadership message from or about another org');
    }
    const time: PeerTime = { incNum: lm.timestamp?.incNum ?? 0n, seqNum: lm.timestamp?.seqNum ?? 0n };
    const added = this.leaders.add({ pkiId: lm.pkiId, time });
    if (added === 'invalid') throw dropError('stale', 'leadership message is not newer than the last one');
    if (added === 'full') throw dropError('full', 'leadership store is full');
    this.host.deliverLeadership({
      channel: this.channel.name,
      message: lm,
      envelope: m.envelope,
      from: m.conn.pkiId,
    });
  }

  // ---- routing ---------------------------------------------------------------------------

  /** §5.7 targets of a block or leadership push item. */
  targets(item: PushItem): MemberInfo[] {
    const from = item.from ? pkiIdKey(item.from) : undefined;
    const candidates = this.channel
      .sameOrgEligible()
      .filter((m) => this.channel.isOrgInChannel(m.mspId) && pkiIdKey(m.pkiId) !== from);
    if (item.kind === 'leadership') return candidates;
    return this.host.rng.sample(this.blockPeers(candidates), this.host.config.propagatePeerNum);
  }

  /** The members that take part in block push and pull (all, unless streams leave some out). */
  private blockPeers(members: MemberInfo[]): MemberInfo[] {
    const keep = this.host.blockGossipPeer;
    return keep ? members.filter((m) => keep(m)) : members;
  }

  private count(def: CounterDef<'channel' | 'source'>, source: string): void {
    this.host.metrics?.counter(def).inc({ channel: this.channel.name, source });
  }
}

function payloadOf(message: GossipMessage): Payload {
  if (message.content.case !== 'dataMsg' || !message.content.value.payload)
    throw dropError('malformed', 'DataMessage without payload');
  return message.content.value.payload;
}
