/**
 * What a running peer tells the network view about itself (the dashboard's raw material):
 * per channel its ledger height, whether it is the org's leader, the channel members it knows
 * and, for every block it commits, when (wall-clock ms) and how the block reached it:
 *   'orderer' (our deliver client handed it over: we lead or act as the org's stream source),
 *   'stream' (our upstream Grapevine peer's Deliver stream, with its PKI-ID), 'push' / 'pull' (the
 *   first gossip copy that arrived, with the sender's PKI-ID), or 'state' (anti-entropy, catch-up).
 * The tracker watches the transport for DataMsg arrivals (the first copy of each block per
 * channel, bounded) and wraps each channel's ledger so every append is timed.
 */
import type { Transport, Unsubscribe } from '../core/link/types.js';
import type { PkiId } from '../base/pkiid.js';
import { pkiIdKey } from '../base/pkiid.js';
import type { StateLedger } from '../core/state/types.js';
import type { BlockFacts } from '../ledger/inspect.js';
import type { Block } from '../wire/gen/common/common_pb.js';

export type CommitSource = 'orderer' | 'stream' | 'push' | 'pull' | 'state';

export interface CommitRecord {
  readonly channel: string;
  readonly block: number;
  /** Wall-clock time of the commit (ms since the epoch, fractional). */
  readonly at: number;
  readonly source: CommitSource;
  /** PKI-ID (hex) of the peer whose copy arrived first (push/pull), or of our upstream (stream). */
  readonly from?: string;
  /** ms from the first gossip copy's arrival to the commit (push), when known. */
  readonly latencyMs?: number;
}

export interface ChannelMemberState {
  readonly pkiId: string;
  readonly endpoint: string;
  readonly height: number;
}

export interface StreamState {
  /** 'leader', 'source' (acting source), 'upstream' (we follow one) or 'none' (no streaming member). */
  readonly plan: string;
  /** Endpoint and PKI-ID (hex) of the upstream peer we stream from. */
  readonly upstream?: { readonly endpoint: string; readonly pkiId: string };
  readonly depth?: number;
}

export interface ChannelState {
  readonly name: string;
  readonly height: number;
  readonly leader: boolean;
  readonly mode: string;
  /** Block streams (absent when off): our plan, the upstream we stream from, our depth. */
  readonly stream?: StreamState;
  /** The anchor peers of the channel's config (absent when none). */
  readonly anchors?: readonly { readonly org: string; readonly endpoint: string }[];
  readonly members: readonly ChannelMemberState[];
}

export interface PeerStateSnapshot {
  readonly id: string;
  readonly mspId: string;
  readonly endpoint: string;
  readonly pkiId: string;
  readonly operations?: string;
  readonly pid: number;
  readonly rssBytes: number;
  readonly startedAt: number;
  readonly channels: readonly ChannelState[];
  /** PKI-IDs (hex) with an open gossip connection. */
  readonly connections: readonly string[];
  /** Commits since the previous snapshot that drained them. */
  readonly commits: readonly CommitRecord[];
}

/** The number in a decoded block's header (a Block or the verifier's BlockFacts), when given. */
function numberOf(decoded: Block | BlockFacts | undefined): bigint | undefined {
  if (decoded === undefined) return undefined;
  return 'kind' in decoded && decoded.kind === 'facts' ? decoded.number : (decoded as Block).header?.number;
}

/** Wall-clock ms with sub-millisecond precision. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

const MAX_ARRIVALS = 2048;
const MAX_PENDING_COMMITS = 4096;
/** How many of the last commits recent() keeps (GET /status). */
export const RECENT_COMMITS = 50;

interface Arrival {
  readonly source: 'push' | 'pull';
  readonly from: string;
  /** wall-clock ms */
  readonly at: number;
}

export class CommitTracker {
  private readonly arrivals = new Map<string, Arrival>();
  private pending: CommitRecord[] = [];
  /** The last RECENT_COMMITS commits, a ring (next write at `recentNext`), never drained. */
  private readonly ring: CommitRecord[] = [];
  private recentNext = 0;
  private readonly unsubscribe: Unsubscribe;

  constructor(
    transport: Transport,
    private readonly isLeader: (channel: string) => boolean,
    private readonly now: () => number = wallNow,
    /** The PKI-ID (hex) of the upstream peer streamed block `block` of `channel` came from. */
    private readonly upstreamOf: (channel: string, block: bigint) => string | undefined = () => undefined,
  ) {
    this.unsubscribe = transport.subscribe(
      (m) => m.message.content.case === 'dataMsg' || m.message.content.case === 'dataUpdate',
      (m) => this.onData(m.message, m.conn.pkiId),
    );
  }

  private onData(
    message: { channel: Uint8Array; content: { case: string | undefined; value?: unknown } },
    from: PkiId,
  ): void {
    const channel = Buffer.from(message.channel).toString('utf8');
    const sender = pkiIdKey(from);
    if (message.content.case === 'dataMsg') {
      const seq = (message.content.value as { payload?: { seqNum: bigint } }).payload?.seqNum;
      if (seq !== undefined) this.arrived(channel, seq, { source: 'push', from: sender, at: this.now() });
    }
    // a pull response (dataUpdate) carries envelopes that are decoded later; recorded as 'pull' at commit
  }

  private arrived(channel: string, seq: bigint, a: Arrival): void {
    const key = `${channel}/${seq}`;
    if (this.arrivals.has(key)) return;
    if (this.arrivals.size >= MAX_ARRIVALS) {
      const oldest = this.arrivals.keys().next().value;
      if (oldest !== undefined) this.arrivals.delete(oldest);
    }
    this.arrivals.set(key, a);
  }

  /** A ledger whose appends are recorded. */
  wrap(channel: string, ledger: StateLedger): StateLedger {
    return {
      height: () => ledger.height(),
      getBlockBytes: (n) => ledger.getBlockBytes(n),
      // The number reported is the appended block's own (its header, decoded by the verifier);
      // several appends are in flight at once, so the ledger's height, read before or after an
      // append resolves, may be another block's. Without a decoded header: the height this
      // append resolved with, less one (the block store resolves each append with its own).
      append: async (bytes, decoded, opts) => {
        const h = await ledger.append(bytes, decoded, opts);
        this.committed(channel, numberOf(decoded) ?? h - 1n, opts?.source);
        return h;
      },
      ...(ledger.recover ? { recover: () => ledger.recover!() } : {}),
    };
  }

  /** `payloadSource`: the state layer's (orderer, stream, gossip, state, catchup), when it said. */
  private committed(channel: string, n: bigint, payloadSource?: string): void {
    const key = `${channel}/${n}`;
    const a = this.arrivals.get(key);
    this.arrivals.delete(key);
    let source: CommitSource;
    let from: string | undefined;
    let arrivedAt: number | undefined;
    if (payloadSource === 'stream') {
      source = 'stream';
      from = this.upstreamOf(channel, n);
    } else if (payloadSource === 'orderer') source = 'orderer';
    else if (a && (payloadSource === undefined || payloadSource === 'gossip')) {
      source = a.source;
      from = a.from;
      arrivedAt = a.at;
    } else if (payloadSource === undefined && this.isLeader(channel)) source = 'orderer';
    else source = 'state';
    const at = this.now();
    const record: CommitRecord = {
      channel,
      block: Number(n),
      at,
      source,
      ...(from ? { from } : {}),
      ...(arrivedAt !== undefined ? { latencyMs: Math.max(0, at - arrivedAt) } : {}),
    };
    if (this.pending.length >= MAX_PENDING_COMMITS) this.pending.shift();
    this.pending.push(record);
    this.ring[this.recentNext] = record;
    this.recentNext = (this.recentNext + 1) % RECENT_COMMITS;
  }

  /** The last RECENT_COMMITS commits (all channels), oldest first; drain() does not clear them. */
  recent(): CommitRecord[] {
    return [...this.ring.slice(this.recentNext), ...this.ring.slice(0, this.recentNext)];
  }

  /** The commits recorded since the last drain. */
  drain(): CommitRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  stop(): void {
    this.unsubscribe();
  }
}
