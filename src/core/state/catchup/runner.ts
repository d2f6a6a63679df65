/**
 * Fast catch-up towards Grapevine peers, as anti-entropy's first step when far behind:
 *
 *   candidates = channel peers whose StateInfo height is above ours, minus those that answered
 *     UNIMPLEMENTED within unsupportedTtl; highest first, ties in random order; up to 3 tried.
 *   per peer: stream [next, min(max, its height) - 1] (capped at maxBlocksPerStream); every
 *     block must be the next number, decode and pass VerifyBlock, else the stream is cancelled,
 *     the block dropped ('bad_block') and the next peer tried; good blocks go to the buffer
 *     with the blocking rule, so the commit loop and ledger set the pace (bounded window).
 *   Verification may run ahead of the buffer (verifier workers, verify/pool.ts): up to
 *     `verifyAhead` blocks are being verified while earlier ones are added; results are taken
 *     strictly in stream order, so a block reaches the buffer only after it and every block
 *     before it verified, and the first bad one stops the stream (later results are dropped).
 *   It returns when we reached max or ran out of candidates; anti-entropy then continues with
 *   RemoteStateRequest batches for what is left (a Fabric peer only ever sees those).
 */
import { pkiIdKey } from '../../../base/pkiid.js';
import { awaitedLater } from '../../../base/later.js';
import { type Clock, type Rng } from '../../../base/time.js';
import { errorMessage } from '../../../base/errors.js';
import type { Logger } from '../../../base/log.js';
import type { BufferedPayload, PushResult } from '../buffer.js';
import type { CatchupConfig } from '../config.js';
import { StateError, type StateDropReason } from '../errors.js';
import type { CatchupSource, StatePeer } from '../types.js';

export interface CatchupRunnerDeps {
  readonly channel: string;
  readonly client: CatchupSource;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly config: CatchupConfig;
  readonly logger: Logger;
  height(): bigint;
  /** Decode and VerifyBlock; rejects StateError 'bad_block' for a bad block. */
  verify(seq: bigint, bytes: Uint8Array): BufferedPayload | Promise<BufferedPayload>;
  /** Blocks verified ahead of the one being added (0: verify, then add, one at a time). */
  verifyAhead?(): number;
  add(p: BufferedPayload): Promise<PushResult>;
  drop(reason: StateDropReason, detail: string): void;
  /** Map a peer to the endpoint serving catch-up (default: its gossip endpoint). */
  endpointOf?(peer: StatePeer): string;
  /** Blocks received / streams by outcome, for metrics. */
  count?(outcome: 'ok' | 'unsupported' | 'failed' | 'bad_block', blocks: number): void;
}

const MAX_PEERS_PER_ROUND = 3;

export class CatchupRunner {
  private readonly unsupported = new Map<string, number>();

  constructor(private readonly d: CatchupRunnerDeps) {}

  /** Whether `peer` is currently believed not to serve catch-up. */
  isUnsupported(peer: StatePeer): boolean {
    const until = this.unsupported.get(this.key(peer));
    if (until === undefined) return false;
    if (until <= this.d.clock.now()) {
      this.unsupported.delete(this.key(peer));
      return false;
    }
    return true;
  }

  async run(max: bigint, peers: readonly StatePeer[]): Promise<void> {
    const from = this.d.height();
    const candidates = this.d.rng
      .sample(
        peers.filter((p) => p.ledgerHeight > from && !this.isUnsupported(p)),
        peers.length,
      )
      .sort((a, b) => (a.ledgerHeight === b.ledgerHeight ? 0 : a.ledgerHeight > b.ledgerHeight ? -1 : 1));
    for (const peer of candidates.slice(0, MAX_PEERS_PER_ROUND)) {
      const start = this.d.height();
      if (start >= max) return;
      const top = (peer.ledgerHeight < max ? peer.ledgerHeight : max) - 1n;
      const cap = start + BigInt(this.d.config.maxBlocksPerStream) - 1n;
      const end = top < cap ? top : cap;
      if (end < start) continue;
      await this.fromPeer(peer, start, end);
    }
  }

  private async fromPeer(peer: StatePeer, start: bigint, end: bigint): Promise<void> {
    const endpoint = this.d.endpointOf?.(peer) ?? peer.endpoint;
    let badBlock = false;
    const ahead = Math.max(0, this.d.verifyAhead?.() ?? 0);
    const window: Promise<BufferedPayload>[] = [];
    /** Takes the oldest verification; false: stop (bad block or provider stopped). */
    const settleHead = async (): Promise<boolean> => {
      let p: BufferedPayload;
      try {
        p = await window.shift()!;
      } catch (e) {
        if (!(e instanceof StateError && e.code === 'bad_block')) throw e;
        badBlock = true;
        window.length = 0; // their results are never used (rejections already handled)
        this.d.drop('bad_block', `catch-up from ${endpoint}: ${errorMessage(e)}`);
        return false;
      }
      const r = await this.d.add(p);
      return r !== 'stopped';
    };
    try {
      let go = true;
      const blocks = await this.d.client.stream(endpoint, this.d.channel, start, end, async (seq, bytes) => {
        window.push(awaitedLater(() => this.d.verify(seq, bytes)));
        while (window.length > ahead) if (!(go = await settleHead())) return false;
        return true;
      });
      while (go && window.length > 0) go = await settleHead();
      this.d.count?.(badBlock ? 'bad_block' : 'ok', blocks);
      this.d.logger.debug({ endpoint, start: String(start), blocks }, 'catch-up stream ended');
    } catch (e) {
      window.length = 0;
      if (e instanceof StateError && e.code === 'UNSUPPORTED') {
        this.unsupported.set(this.key(peer), this.d.clock.now() + this.d.config.unsupportedTtlMs);
        if (this.unsupported.size > 10_000) this.unsupported.clear();
        this.d.count?.('unsupported', 0);
        this.d.logger.debug({ endpoint }, 'peer does not serve catch-up; using RemoteStateRequest with it');
        return;
      }
      if (e instanceof StateError && e.code === 'malformed') this.d.drop('malformed', errorMessage(e));
      this.d.count?.('failed', 0);
      this.d.logger.info({ endpoint, err: errorMessage(e) }, 'catch-up stream failed');
    }
  }

  private key(peer: StatePeer): string {
    return pkiIdKey(peer.pkiId);
  }
}
