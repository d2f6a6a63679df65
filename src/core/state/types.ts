/**
 * What the state layer needs from the layers around it, as small interfaces of its own
 * (implemented by the gossip node, the ledger and the MessageCryptoService; fakes in tests).
 */
import type { PkiId } from '../../base/pkiid.js';
import type { BlockFacts } from '../../ledger/inspect.js';
import type { AppendOptions } from '../../ledger/store.js';
import type { Block } from '../../wire/gen/common/common_pb.js';

/** A channel member as anti-entropy sees it (§5.5 PeersOfChannel + StateInfo ledger height). */
export interface StatePeer {
  readonly pkiId: PkiId;
  /** Preferred endpoint (internal if known, else external). */
  readonly endpoint: string;
  readonly ledgerHeight: bigint;
}

export interface ChannelView {
  peersOfChannel(): readonly StatePeer[];
}

/** The block store as the state layer uses it (src/ledger BlockStore satisfies it). */
export interface StateLedger {
  height(): bigint;
  /**
   * Append the next block as received bytes; rejects (LedgerError) on a wrong number or hash
   * chain. `decoded`, when given, is decodeBlock(block) or the BlockFacts of it (computed by the
   * verifier workers): saves the ledger a second decode.
   */
  /** opts.dataHashChecked: the block passed VerifyBlock, which checked its data hash. */
  append(block: Uint8Array, decoded?: Block | BlockFacts, opts?: AppendOptions): Promise<bigint>;
  getBlockBytes(n: bigint): Promise<Uint8Array | undefined>;
  /**
   * After an append failed on I/O (disk full, a failed sync): bring the ledger back to its last
   * durable block (a peer reopens its store, which runs the crash recovery); rejects while the
   * cause remains. Absent: a failed ledger stays failed (the commit loop stops).
   */
  recover?(): Promise<void>;
}

/** The identity layer's checks (MessageCryptoService satisfies it). Both throw when refused. */
export interface StateCrypto {
  verifyBlock(channel: string, seqNum: bigint, block: Block): void;
  verifyByChannel(channel: string, identity: Uint8Array, signature: Uint8Array, message: Uint8Array): void;
}

/** Where a payload came from: gossip (push/pull, non-blocking) or blocking sources. */
export type PayloadSource = 'gossip' | 'orderer' | 'state' | 'catchup' | 'stream';

/**
 * Verifies catch-up blocks off the protocol's thread: in a peer, src/service/verify's pool of
 * worker threads. `size` 0 means no worker runs (blocks are then verified inline).
 */
export interface CatchupVerifierPool {
  readonly ready: Promise<void>;
  /** Workers running. */
  readonly size: number;
  /** Jobs submitted and not settled. */
  readonly pending: number;
  /** Decoded and VerifyBlock-checked; rejects StateError 'bad_block'. The bytes belong to the pool. */
  verify(seq: bigint, bytes: Uint8Array): Promise<{ readonly bytes: Uint8Array; readonly facts: BlockFacts }>;
  close(): Promise<void>;
}

/** Opens a CatchupVerifierPool for one channel with the state config's catch-up settings. */
export type CatchupVerifierFactory = (o: {
  readonly channel: string;
  readonly workers: number;
  readonly maxInFlight: number;
  readonly allSignatures: boolean;
  readonly onBatch: (blocks: number, signatureChecks: number) => void;
}) => CatchupVerifierPool;

/** Where fast catch-up streams blocks from (a peer passes src/comm/catchup's CatchupClient). */
export interface CatchupSource {
  /**
   * Stream blocks start..end of `channel` from `endpoint`; `onBlock(seq, bytes)` returns false to
   * stop early. Resolves with the number of blocks handed over.
   */
  stream(
    endpoint: string,
    channel: string,
    start: bigint,
    end: bigint,
    onBlock: (seq: bigint, bytes: Uint8Array) => Promise<boolean>,
  ): Promise<number>;
}
