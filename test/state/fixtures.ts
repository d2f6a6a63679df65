/** Shared pieces for the state tests: an in-memory ledger with Fabric's commit checks, chains, views. */
import { createPrivateKey } from 'node:crypto';
import { GrapevineError } from '../../src/base/errors.js';
import { signEcdsa } from '../../src/identity/ecdsa.js';
import type { SimIdentity } from '../../src/sim/index.js';
import type { StateLedger, StatePeer, ChannelView } from '../../src/core/state/index.js';
import { blockHeaderHash, decodeBlock } from '../../src/wire/block.js';
import type { AppendOptions, BlockFacts } from '../../src/ledger/index.js';
import type { Block, BlockHeader } from '../../src/wire/gen/common/common_pb.js';
import type { Signer } from '../../src/wire/signer.js';
import { makeChain } from '../../src/sim/blockmaker.js';

/** Blocks by number; append checks number = height and previous_hash as the ledger does. */
export class MemLedger implements StateLedger {
  readonly blocks: Uint8Array[] = [];
  private lastHash?: Uint8Array;
  appends = 0;
  /** Appends whose caller said the data hash was already checked (AppendOptions). */
  vouchedAppends = 0;
  /** Most appends running at once. */
  peakInFlight = 0;
  private active = 0;
  /** Make append fail with this error (tests of the commit loop's failure paths). */
  failWith?: GrapevineError;

  constructor(initial: readonly Uint8Array[] = []) {
    for (const b of initial) this.put(b);
  }

  height(): bigint {
    return BigInt(this.blocks.length);
  }

  async append(bytes: Uint8Array, decoded?: Block | BlockFacts, opts?: AppendOptions): Promise<bigint> {
    this.peakInFlight = Math.max(this.peakInFlight, ++this.active);
    try {
      await Promise.resolve();
      return this.appendNow(bytes, decoded, opts);
    } finally {
      this.active--;
    }
  }

  private appendNow(bytes: Uint8Array, decoded?: Block | BlockFacts, opts?: AppendOptions): bigint {
    if (this.failWith) throw this.failWith;
    this.put(bytes, decoded && 'kind' in decoded ? decoded : undefined);
    this.appends++;
    if (opts?.dataHashChecked) this.vouchedAppends++;
    return this.height();
  }

  async getBlockBytes(n: bigint): Promise<Uint8Array | undefined> {
    return this.blocks[Number(n)];
  }

  /** With facts (from the verifier workers) the bytes are not decoded again. */
  private put(bytes: Uint8Array, facts?: BlockFacts): void {
    let h;
    try {
      h = facts ?? decodeBlock(bytes).header!;
    } catch (e) {
      throw new GrapevineError('MALFORMED', (e as Error).message);
    }
    if (h.number !== this.height())
      throw new GrapevineError('WRONG_NUMBER', `block ${h.number} at height ${this.height()}`);
    if (h.number > 0n && !Buffer.from(h.previousHash).equals(Buffer.from(this.lastHash!))) {
      throw new GrapevineError('BAD_PREVIOUS_HASH', `block ${h.number} previous hash`);
    }
    this.lastHash = facts ? facts.headerHash : blockHeaderHash(h as BlockHeader);
    this.blocks.push(bytes);
  }
}

/** The same key as a sim identity's, signing through node:crypto (much faster than the deterministic signer). */
export function fastSigner(id: SimIdentity): Signer {
  const key = createPrivateKey({ key: id.key.jwk(true), format: 'jwk' });
  return { serializedIdentity: id.serialized, sign: (d) => signEcdsa(key, d) };
}

const chains = new Map<string, Uint8Array[]>();

/** Blocks 0..n-1 of `channel` (block 0 included), memoised per (channel, signer, n). */
export function chain(channel: string, orderer: Signer, n: number, txBytes = 64): Uint8Array[] {
  const key = `${channel}/${Buffer.from(orderer.serializedIdentity).toString('base64').slice(-32)}/${n}/${txBytes}`;
  let c = chains.get(key);
  if (!c) {
    c = makeChain({ channel, orderer, n, from: 0n, txBytes });
    chains.set(key, c);
  }
  return c;
}

/** A channel view whose heights the test sets. */
export class StaticView implements ChannelView {
  peers: StatePeer[] = [];
  peersOfChannel(): StatePeer[] {
    return this.peers;
  }
}
