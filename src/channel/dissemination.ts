/**
 * Blocks and leadership messages of one channel (PROTOCOL.md §6.1–§6.3, §7.2, §5.7), sans-IO.
 *
 *   originate(seq, block): DataMessage{Payload{seq, data}} in GossipMessage{CHAN_AND_ORG,
 *     channel, nonce 0}, unsigned; into the block store and the pull store; pushed (emitter).
 *   pushed block received: we have not left; sender's org in the channel; payload present; new
 *     for the block store (else a duplicate, counted); VerifyBlock passes -> stored, added to the
 *     pull store, forwarded once (push, sender excluded), handed to the state layer.
 *   pulled blocks (a solicited DataUpdate): every item must be a DataMessage of a verified block
 *     of this channel (one failure drops the whole update); new ones are stored and handed over,
 *     never forwarded. Block pull messages are refused once we left, and from senders that are
 *     not eligible same-org members.
 *   hand-over: at most once per seq per incarnation, and never below the ledger height.
 *   leadership received: signed by the stored identity of its pki_id; connection's and creator's
 *     orgs are ours; newer (PeerTime) than the last one of that PKI-ID (kept leaderAliveThreshold
 *     x 10) -> handed to the election; never forwarded. Ours: signed, pushed to every eligible
 *     same-org member.
 *   routing (§5.7): blocks to propagatePeerNum random eligible same-org members; leadership to
 *     all of them; the peer a message came from is excluded.
 */
import type { PkiId, ReceivedMessage } from '../comm/types.js';
import { pkiIdKey } from '../comm/types.js';
import { errorMessage } from '../errors.js';
import type { MemberInfo } from '../discovery/types.js';
import { decodeBlock } from '../wire/block.js';
import type { Block } from '../wire/gen/common/common_pb.js';
import type { Envelope, GossipMessage, LeadershipMessage, Payload } from '../wire/gen/gossip/message_pb.js';
import { openEnvelope, signGossip, unsignedGossip, Tag } from '../wire/gossip.js';
import type { GossipChannel } from './channel.js';
import { blockTtlMs, leadershipTtlMs } from './config.js';
import { dropError } from './errors.js';
import { BlockMessageStore } from './blockmsgs.js';
import { keyOf } from './keys.js';
import { peerTimeNewer, type PeerTime } from './stateinfo.js';
import type { BlockSource, ChannelBlockPull, ChannelHost, PushItem } from './types.js';

interface Verified {
  readonly seq: bigint;
  readonly envelope: Envelope;
  readonly payload: Payload;
  readonly block: Block;
}

export class Dissemination {
  readonly blocks: BlockMessageStore;
  private readonly puller?: ChannelBlockPull;
  private readonly delivered = new Set<bigint>();
  private readonly leaders = new Map<string, { time: PeerTime; at: number }>();
  private readonly channelBytes: Uint8Array;

  constructor(
    private readonly host: ChannelHost,
    private readonly channel: GossipChannel,
  ) {
    const c = host.config;
    this.channelBytes = new TextEncoder().encode(channel.name);
    this.blocks = new BlockMessageStore(c.maxBlockCountToStore, blockTtlMs(c), c.maxSeenBlocks, (seq) => this.puller?.remove(seq));
    this.puller = host.createBlockPull?.({
      channel: channel.name,
      membership: () => this.channel.sameOrgEligible(),
      ledgerHeight: () => this.channel.self.ledgerHeight,
      acceptBlocks: (items, from) => this.acceptPulled(items, from),
    });
  }

  start(): void {
    this.puller?.start();
  }

  stop(): void {
    this.puller?.stop();
  }

  upkeep(): void {
    const now = this.host.clock.now();
    this.blocks.sweep(now);
    const ttl = leadershipTtlMs(this.host.config);
    for (const [k, v] of this.leaders) if (now - v.at > ttl) this.leaders.delete(k);
  }

  onLeave(): void {
    this.puller?.stop();
  }

  /** The ledger height moved: forget hand-over records below it. */
  onHeight(height: bigint): void {
    for (const seq of this.delivered) if (seq < height) this.delivered.delete(seq);
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
    if (!this.blocks.add(seqNum, envelope, this.host.clock.now())) return false;
    this.puller?.add(seqNum, envelope, message);
    this.delivered.add(seqNum);
    if (this.host.config.pushBlocks) this.host.push({ kind: 'block', channel: this.channel.name, envelope });
    return true;
  }

  /** §6.2 */
  handlePushedBlock(m: ReceivedMessage): void {
    if (this.channel.left) throw dropError('left_channel', 'block for a channel we left');
    if (!this.channel.isMemberInChan(m.conn.pkiId)) throw dropError('org_not_in_channel', "the sender's org is not in the channel");
    const seq = seqOf(m.message);
    if (!this.blocks.isNew(seq, this.host.clock.now())) {
      this.count('gossip_blocks_duplicate', 'Blocks received that the block store already had', 'push');
      return;
    }
    const v = this.verify(m.envelope, m.message);
    this.blocks.add(v.seq, v.envelope, this.host.clock.now());
    this.puller?.add(v.seq, v.envelope, m.message);
    if (this.host.config.pushBlocks) this.host.push({ kind: 'block', channel: this.channel.name, envelope: m.envelope, from: m.conn.pkiId });
    this.deliver(v, 'push');
  }

  /** Block pull messages of this channel (§6.4 receiver-side rules), then the puller. */
  handleBlockPull(m: ReceivedMessage): void {
    if (this.channel.left) throw dropError('left_channel', 'block pull message for a channel we left');
    if (this.host.membership.orgOf(m.conn.pkiId) !== this.host.ownOrg) throw dropError('not_same_org', 'block pull message from another org');
    if (!this.channel.eligible(m.conn.pkiId)) throw dropError('not_eligible', 'block pull message from a peer without a StateInfo');
    if (!this.puller) return;
    this.puller.handleMessage(m);
  }

  private acceptPulled(items: readonly { readonly envelope: Envelope }[], from: ReceivedMessage): { readonly envelope: Envelope }[] {
    if (this.channel.left) throw dropError('left_channel', 'pulled blocks for a channel we left');
    const now = this.host.clock.now();
    const fresh: Verified[] = [];
    const seen = new Set<bigint>();
    for (const item of items) {
      let message: GossipMessage;
      try {
        message = openEnvelope(item.envelope).message;
      } catch (e) {
        throw dropError('malformed', `pulled item does not parse: ${errorMessage(e)}`, e);
      }
      if (message.content.case !== 'dataMsg') throw dropError('malformed', 'pulled item is not a DataMessage');
      if (Buffer.from(message.channel).toString('utf8') !== this.channel.name) throw dropError('unknown_channel', 'pulled block of another channel');
      const seq = seqOf(message);
      const v = this.verify(item.envelope, message);
      if (seen.has(seq) || !this.blocks.isNew(seq, now)) continue;
      seen.add(seq);
      fresh.push(v);
    }
    for (const v of fresh) {
      if (!this.blocks.add(v.seq, v.envelope, now)) continue;
      this.deliver(v, 'pull');
    }
    void from;
    return fresh.map((v) => ({ envelope: v.envelope }));
  }

  private verify(envelope: Envelope, message: GossipMessage): Verified {
    if (message.content.case !== 'dataMsg') throw dropError('malformed', 'not a DataMessage');
    const payload = message.content.value.payload;
    if (!payload) throw dropError('malformed', 'DataMessage without payload');
    let block: Block;
    try {
      block = decodeBlock(payload.data);
      this.host.crypto.verifyBlock(this.channel.name, payload.seqNum, block);
    } catch (e) {
      throw dropError('bad_block', `block ${payload.seqNum} refused: ${errorMessage(e)}`, e);
    }
    return { seq: payload.seqNum, envelope, payload, block };
  }

  private deliver(v: Verified, source: BlockSource): void {
    this.count('gossip_blocks_received', 'Verified new blocks received, by source', source);
    if (v.seq < this.channel.self.ledgerHeight || this.delivered.has(v.seq)) return;
    if (this.delivered.size >= this.host.config.maxSeenBlocks) {
      this.host.metrics?.counter('gossip_channel_map_full', 'Entries refused because a bounded channel map was full', ['map']).inc({ map: 'delivered' });
      const oldest = [...this.delivered].reduce((a, b) => (a < b ? a : b));
      this.delivered.delete(oldest);
    }
    this.delivered.add(v.seq);
    this.host.deliverBlock({ channel: this.channel.name, seqNum: v.seq, payload: v.payload, block: v.block, source });
  }

  // ---- leadership ------------------------------------------------------------------------

  /** §7.2: sign and push a LeadershipMessage to every eligible same-org member. */
  originateLeadership(msg: { readonly pkiId?: PkiId; readonly timestamp: PeerTime; readonly isDeclaration: boolean }): Envelope {
    const { envelope } = signGossip(
      {
        tag: Tag.CHAN_AND_ORG,
        nonce: 0n,
        channel: this.channelBytes,
        content: { case: 'leadershipMsg', value: { pkiId: msg.pkiId ?? this.host.selfPkiId, timestamp: msg.timestamp, isDeclaration: msg.isDeclaration } },
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
    const key = pkiIdKey(lm.pkiId);
    const last = this.leaders.get(key);
    if (last && !peerTimeNewer(time, last.time)) throw dropError('stale', 'leadership message is not newer than the last one');
    if (!last && this.leaders.size >= this.host.config.maxStateInfos) throw dropError('full', 'leadership store is full');
    this.leaders.set(key, { time, at: this.host.clock.now() });
    this.host.deliverLeadership({ channel: this.channel.name, message: lm, envelope: m.envelope, from: m.conn.pkiId });
  }

  // ---- routing ---------------------------------------------------------------------------

  /** §5.7 targets of a block or leadership push item. */
  targets(item: PushItem): MemberInfo[] {
    const from = item.from ? pkiIdKey(item.from) : undefined;
    const candidates = this.channel.sameOrgEligible().filter((m) => this.channel.isOrgInChannel(m.mspId) && keyOf(m.pkiId) !== from);
    if (item.kind === 'leadership') return candidates;
    return this.host.rng.sample(candidates, this.host.config.propagatePeerNum);
  }

  private count(name: string, help: string, source: string): void {
    this.host.metrics?.counter(name, help, ['channel', 'source']).inc({ channel: this.channel.name, source });
  }
}

function seqOf(message: GossipMessage): bigint {
  if (message.content.case !== 'dataMsg' || !message.content.value.payload) throw dropError('malformed', 'DataMessage without payload');
  return message.content.value.payload.seqNum;
}
