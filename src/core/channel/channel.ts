/**
 * One joined channel's gossip state (PROTOCOL.md §5; Fabric's gossip/gossip/channel), sans-IO.
 *
 *   configure(join): ignored when the org list is empty or the sequence is lower than the
 *     current one; otherwise the org list is replaced and every cached StateInfo is re-checked
 *     (creator's org still in the channel, Readers policy still accepts its signature).
 *   StateInfo (ours, §5.2): signed on every change (height, chaincodes, leave); every
 *     publishStateInfoInterval, if changed and some member is alive: cached, pushed, flag cleared.
 *   StateInfo received (§5.3; the node found this channel by MAC): MAC matches; the connection's
 *     org is a channel org; newer than cached; unless ours: identity known, creator's org in the
 *     channel, Readers policy accepts the signature -> cached, forwarded (when gossiped).
 *   every requestStateInfoInterval: StateInfoPullRequest{MAC(own, channel)} to pullPeerNum random
 *     alive members of channel orgs. A request (found by MAC of the requester) from a channel org
 *     is answered with a snapshot of the cache (foreign requesters do not see our own org's
 *     peers without an external endpoint). Snapshot elements: StateInfo, creator org known and in
 *     channel, MAC valid (any failure aborts the rest); PKI-IDs unknown to discovery skipped;
 *     the rest go through the cache add above (not forwarded).
 *   every pullInterval x 5: cached StateInfos of PKI-IDs discovery no longer knows are purged.
 *   Who is in the channel (§5.5): member org in channel; eligible = identity known and StateInfo
 *     cached; PeersOfChannel = alive, eligible, not left, with Properties.
 *   leave (§5.8): left_channel published; no peers, no pull.
 * Blocks and leadership are handled by Dissemination (dissemination.ts), which this owns.
 */
import type { ReceivedMessage } from '../link/types.js';
import type { PkiId } from '../../base/pkiid.js';
import type { TimerHandle } from '../../base/time.js';
import { pkiIdKey } from '../../base/pkiid.js';
import { errorMessage } from '../../base/errors.js';
import { remotePeerOf } from '../discovery/endpoint.js';
import type { MemberInfo } from '../discovery/types.js';
import type { Envelope } from '../../wire/gen/gossip/message_pb.js';
import { unsignedGossip, Tag } from '../../wire/gossip.js';
import { stateInfoCleanMs } from './config.js';
import { Dissemination } from './dissemination.js';
import { dropError, GossipDropError } from './errors.js';
import { orgsKey, type JoinInfo } from './join.js';
import { bytesEqual, channelMac } from './mac.js';
import { parseStateInfo, SelfStateInfo, type ChaincodeInfo, type StateInfoEnvelope } from './stateinfo.js';
import { createStateInfoCache, type StateInfoCache } from './stores.js';
import type { ChannelHost, ChannelPeer, PushItem } from './types.js';
import { METRICS } from '../../base/metric-table.js';

export class GossipChannel {
  readonly name: string;
  readonly self: SelfStateInfo;
  readonly cache: StateInfoCache;
  readonly dissemination: Dissemination;
  private orgs = new Set<string>();
  private orgKey = '';
  private seq = -1n;
  private readonly selfKey: string;
  private readonly mac: Uint8Array;
  private timers: TimerHandle[] = [];
  private readonly macs = new Map<string, Uint8Array>();
  private state: 'new' | 'running' | 'stopped' = 'new';
  /** The height our StateInfo carries last (StateInfoThrottle). */
  private publishedHeight: bigint | undefined;
  private pullTicks = 0;
  /** The ledger height last reported, and at the last publishStateInfo tick. */
  private ledgerHeight: bigint | undefined;
  private heightAtTick: bigint | undefined;
  private pulledAtSize = 0;

  constructor(
    private readonly host: ChannelHost,
    join: JoinInfo,
  ) {
    this.name = join.channelId;
    this.selfKey = pkiIdKey(host.selfPkiId);
    this.mac = channelMac(host.selfPkiId, this.name);
    this.self = new SelfStateInfo(this.name, host.selfPkiId, host.signer, host.clock);
    this.cache = createStateInfoCache({
      channel: this.name,
      clock: host.clock,
      maxEntries: host.config.maxStateInfos,
      metrics: host.metrics,
    });
    this.cache.add(this.self.latest);
    this.dissemination = new Dissemination(host, this);
    this.configure(join);
  }

  /** The config sequence last applied. */
  get sequence(): bigint {
    return this.seq;
  }

  get channelOrgs(): string[] {
    return [...this.orgs];
  }

  get left(): boolean {
    return this.self.leftChannel;
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    const { clock, config } = this.host;
    this.timers.push(
      clock.setInterval(() => this.publishStateInfo(), config.publishStateInfoIntervalMs),
      clock.setInterval(() => this.requestStateInfo(), config.requestStateInfoIntervalMs),
      clock.setInterval(() => this.upkeep(), stateInfoCleanMs(config)),
    );
    this.dissemination.start();
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const t of this.timers.splice(0)) this.host.clock.clearTimer(t);
    this.dissemination.stop();
  }

  /**
   * §5.1: apply a join/config; returns whether it was applied (false: empty org list or an older
   * sequence). Returns 'changed' when the org set or anchors differ from before.
   */
  configure(join: JoinInfo): false | 'same' | 'changed' {
    if (join.orgs.length === 0) return false;
    if (join.sequence < this.seq) return false;
    this.seq = join.sequence;
    const key = orgsKey(join.orgs);
    const changed = key !== this.orgKey;
    this.orgKey = key;
    this.orgs = new Set(join.orgs.map((o) => o.mspId));
    this.cache.removeWhere((si) => !this.isSelf(si.pkiId) && !this.stillValid(si));
    return changed ? 'changed' : 'same';
  }

  isOrgInChannel(org: string | undefined): boolean {
    return org !== undefined && this.orgs.has(org);
  }

  /** §5.5 IsMemberInChan: the member's org (from its stored identity) is a channel org. */
  isMemberInChan(pkiId: PkiId): boolean {
    return this.isOrgInChannel(this.host.membership.orgOf(pkiId));
  }

  /** §5.5 EligibleForChannel: identity known and a StateInfo from it cached. */
  eligible(pkiId: PkiId): boolean {
    return this.cache.get(pkiId) !== undefined && this.host.identities.get(pkiId) !== undefined;
  }

  /** §5.5 PeersOfChannel: alive, eligible, not left, each with its Properties. Empty once we left. */
  peersOfChannel(): ChannelPeer[] {
    if (this.left) return [];
    const out: ChannelPeer[] = [];
    for (const m of this.host.membership.aliveMembers()) {
      const si = this.cache.get(m.pkiId);
      if (!si || si.properties?.leftChannel || !this.eligible(m.pkiId)) continue;
      out.push({
        pkiId: m.pkiId,
        endpoint: m.endpoint,
        internalEndpoint: m.internalEndpoint,
        mspId: m.mspId,
        properties: si.properties,
        metadata: m.metadata,
      });
    }
    return out;
  }

  /** Alive, eligible, same-org members (block pull membership and block/leadership push). */
  sameOrgEligible(alive: readonly MemberInfo[] = this.host.membership.aliveMembers()): MemberInfo[] {
    if (this.left) return [];
    return alive.filter((m) => m.mspId === this.host.ownOrg && this.eligible(m.pkiId));
  }

  /** Does a StateInfo with this MAC belong to this channel (MAC(pkiId, channel))? */
  matchesMac(pkiId: PkiId, mac: Uint8Array): boolean {
    const key = pkiIdKey(pkiId);
    let expected = this.macs.get(key);
    if (!expected) {
      expected = channelMac(pkiId, this.name);
      if (this.macs.size >= 2 * this.host.config.maxStateInfos) this.macs.clear();
      this.macs.set(key, expected);
    }
    return bytesEqual(expected, mac);
  }

  // ---- our StateInfo ---------------------------------------------------------------------

  updateLedgerHeight(height: bigint): void {
    this.ledgerHeight = height;
    const t = this.host.stateInfoThrottle?.();
    if (t && t.heightStep > 1 && this.publishedHeight !== undefined && height >= this.publishedHeight) {
      const step = BigInt(t.heightStep);
      if (height / step === this.publishedHeight / step) {
        this.dissemination.onHeight(height);
        return;
      }
    }
    this.publishedHeight = height;
    if (this.self.update({ height })) this.cache.add(this.self.latest);
    this.dissemination.onHeight(height);
  }

  /** A chaincode change publishes at once (§5.2). */
  updateChaincodes(chaincodes: readonly ChaincodeInfo[]): void {
    if (!this.self.update({ chaincodes })) return;
    this.cache.add(this.self.latest);
    this.publish();
  }

  /** §5.8 */
  leave(): void {
    if (this.self.update({ left: true })) this.cache.add(this.self.latest);
    this.dissemination.onLeave();
  }

  private publishStateInfo(): void {
    // throttled heights: once the height stopped moving for a whole tick, the exact one goes out
    // (peers behind us then see it, and so do anti-entropy and the stream's stall check)
    const h = this.ledgerHeight;
    if (h !== undefined && h !== this.publishedHeight && h === this.heightAtTick) {
      this.publishedHeight = h;
      if (this.self.update({ height: h })) this.cache.add(this.self.latest);
    }
    this.heightAtTick = h;
    if (!this.self.dirty || this.host.membership.aliveMembers().length === 0) return;
    this.publish();
  }

  private publish(): void {
    this.self.dirty = false;
    this.host.push({
      kind: 'stateInfo',
      channel: this.name,
      envelope: this.self.latest.envelope,
      creator: this.host.selfPkiId,
    });
  }

  private requestStateInfo(): void {
    const t = this.host.stateInfoThrottle?.();
    if (t && t.pullEvery > 1) {
      // full rate for the first 3 ticks and while the cache still changes (membership
      // forming); then every pullEvery-th tick
      const size = this.cache.size;
      const grew = size !== this.pulledAtSize;
      this.pulledAtSize = size;
      if (++this.pullTicks > 3 && !grew && this.pullTicks % t.pullEvery !== 0) return;
    }
    const candidates = this.host.membership.aliveMembers().filter((m) => this.isMemberInChan(m.pkiId));
    const targets = this.host.rng.sample(candidates, this.host.config.pullPeerNum);
    if (targets.length === 0) return;
    const req = unsignedGossip({
      tag: Tag.CHAN_OR_ORG,
      nonce: 0n,
      content: { case: 'stateInfoPullReq', value: { channelMAC: this.mac } },
    });
    this.host.transport.send(req.envelope, ...targets.map(remotePeerOf));
  }

  private upkeep(): void {
    const m = this.host.membership;
    this.cache.removeWhere((si) => !this.isSelf(si.pkiId) && m.lookup(si.pkiId) === undefined);
    this.dissemination.upkeep();
  }

  // ---- receiving -------------------------------------------------------------------------

  /** A StateInfo the node matched to this channel by MAC (signature not yet checked). */
  handleStateInfo(m: ReceivedMessage): void {
    const si = parseStateInfo(m.envelope, m.message);
    if (!this.matchesMac(si.pkiId, si.info.channelMAC))
      throw dropError('bad_mac', 'StateInfo MAC does not match the channel');
    if (this.isSelf(si.pkiId) || !this.cache.checkValid(si)) {
      // not newer (PeerTime) than the cached one, or our own coming back: dropped, not forwarded
      this.host.drop('stale', 'StateInfo is not newer than the cached one', m);
      return;
    }
    if (!this.isMemberInChan(m.conn.pkiId))
      throw dropError('org_not_in_channel', "the sender's org is not in the channel");
    if (this.addStateInfo(si)) {
      this.host.push({
        kind: 'stateInfo',
        channel: this.name,
        envelope: m.envelope,
        creator: si.pkiId,
        from: m.conn.pkiId,
      });
    }
  }

  /** §5.4 responder (the node matched the request's MAC with the connection's PKI-ID). */
  handleStateInfoPullRequest(m: ReceivedMessage): void {
    const requesterOrg = this.host.membership.orgOf(m.conn.pkiId);
    if (!this.isOrgInChannel(requesterOrg))
      throw dropError('org_not_in_channel', "the requester's org is not in the channel");
    const sameOrg = requesterOrg === this.host.ownOrg;
    const elements: Envelope[] = [];
    for (const si of this.cache.values()) {
      if (!sameOrg && !this.disclosableToForeign(si.pkiId)) continue;
      elements.push(si.envelope);
    }
    const snap = unsignedGossip({
      tag: Tag.CHAN_OR_ORG,
      nonce: 0n,
      channel: new TextEncoder().encode(this.name),
      content: { case: 'stateSnapshot', value: { elements } },
    });
    m.respond(snap.envelope);
  }

  /** §5.4 snapshot receiver. */
  handleStateSnapshot(m: ReceivedMessage): void {
    if (m.message.content.case !== 'stateSnapshot') return;
    if (!this.isMemberInChan(m.conn.pkiId))
      throw dropError('org_not_in_channel', "the sender's org is not in the channel");
    for (const env of m.message.content.value.elements) {
      const si = parseStateInfo(env);
      const org = this.host.membership.orgOf(si.pkiId);
      if (org === undefined)
        throw dropError('unknown_identity', 'snapshot element from a peer whose identity is unknown');
      if (!this.isOrgInChannel(org))
        throw dropError('org_not_in_channel', "snapshot element whose creator's org is not in the channel");
      if (!this.matchesMac(si.pkiId, si.info.channelMAC))
        throw dropError('bad_mac', 'snapshot element MAC does not match');
      if (this.isSelf(si.pkiId) || this.host.membership.lookup(si.pkiId) === undefined) continue;
      this.addStateInfo(si);
    }
  }

  /**
   * §5.3 cache add: newer; unless ours, identity known, org in channel and the Readers policy
   * accepts the signature. Returns whether it was added. A stale copy is no error (the snapshot
   * path sees many); a newer one that fails a check throws.
   */
  private addStateInfo(si: StateInfoEnvelope): boolean {
    if (this.isSelf(si.pkiId)) return false;
    if (!this.cache.checkValid(si)) {
      this.countStale();
      return false;
    }
    this.checkStateInfo(si);
    const r = this.cache.add(si);
    if (r === 'full') throw dropError('full', 'StateInfo cache is full');
    return r === 'added';
  }

  private countStale(): void {
    this.host.metrics?.counter(METRICS.grapevineGossipChannelStateInfoStaleTotal).inc({ channel: this.name });
  }

  private checkStateInfo(si: StateInfoEnvelope): void {
    const identity = this.host.identities.get(si.pkiId);
    if (!identity) throw dropError('unknown_identity', 'StateInfo creator identity is unknown');
    if (!this.isOrgInChannel(this.host.membership.orgOf(si.pkiId)))
      throw dropError('org_not_in_channel', "StateInfo creator's org is not in the channel");
    if (si.envelope.signature.length === 0) throw dropError('unsigned', 'StateInfo is not signed');
    try {
      this.host.crypto.verifyByChannel(this.name, identity, si.envelope.signature, si.envelope.payload);
    } catch (e) {
      throw dropError('bad_signature', `StateInfo signature refused: ${errorMessage(e)}`, e);
    }
  }

  private stillValid(si: StateInfoEnvelope): boolean {
    try {
      this.checkStateInfo(si);
      return true;
    } catch (e) {
      if (!(e instanceof GossipDropError)) throw e;
      this.host.logger.debug(
        { channel: this.name, peer: pkiIdKey(si.pkiId), reason: e.code },
        'cached StateInfo no longer valid after reconfiguration',
      );
      return false;
    }
  }

  /** Foreign requesters do not learn of our org's peers without an external endpoint (§5.4). */
  private disclosableToForeign(pkiId: PkiId): boolean {
    const mb = this.host.membership;
    const org = mb.orgOf(pkiId);
    if (org === undefined) return false;
    if (org !== this.host.ownOrg) return true;
    if (this.isSelf(pkiId)) return this.host.externalEndpoint !== '';
    const member = mb.lookup(pkiId);
    return member !== undefined && member.endpoint !== '';
  }

  /** §5.7 routing of a StateInfo of this channel. */
  stateInfoTargets(item: PushItem, alive: readonly MemberInfo[]): MemberInfo[] {
    const creator = item.creator;
    const hasExternal =
      creator && this.isSelf(creator)
        ? this.host.externalEndpoint !== ''
        : creator
          ? (this.host.membership.lookup(creator)?.endpoint ?? '') !== ''
          : false;
    return alive.filter((m) => (hasExternal ? this.isOrgInChannel(m.mspId) : m.mspId === this.host.ownOrg));
  }

  isSelf(pkiId: PkiId): boolean {
    return pkiIdKey(pkiId) === this.selfKey;
  }
}
