/**
 * Block writer (Fabric orderer/common/multichannel/blockwriter.go @v2.4.9 with etcdraft metadata).
 *
 * createNextBlock(envelopes): header{number = last + 1, previous_hash = SHA-256(DER(last header)),
 *   data_hash = SHA-256(concatenated envelopes)}, data = the envelopes as received, metadata =
 *   5 empty slots (SIGNATURES, LAST_CONFIG, TRANSACTIONS_FILTER, ORDERER, COMMIT_HASH).
 * seal(block, configSeq): if configSeq grew, this block becomes the last config block; then
 *   LAST_CONFIG = Metadata{value = LastConfig{index}} (no signatures), and
 *   SIGNATURES = Metadata{value = OrdererBlockMetadata{last_config{index},
 *   consenter_metadata = Metadata{value = etcdraft.BlockMetadata{consenter_ids [1],
 *   next_consenter_id 2, raft_index}}}, signatures = [{signature_header = SignatureHeader{creator,
 *   24-byte nonce}, signature = sign(value || signature_header || DER(header))}]}.
 * raft_index grows by one per block (a single-node Raft log holds one entry per block); it is
 *   read back from the last block on restart.
 */
import { create } from '@bufbuild/protobuf';
import type { Rng } from '../base/time.js';
import { decode, encode } from '../wire/codec.js';
import {
  blockDataHash,
  blockHeaderBytes,
  blockHeaderHash,
  blockLastConfigIndex,
  BlockMetadataIndex,
} from '../wire/block.js';
import {
  BlockSchema,
  LastConfigSchema,
  MetadataSchema,
  MetadataSignatureSchema,
  OrdererBlockMetadataSchema,
  SignatureHeaderSchema,
  type Block,
  type BlockHeader,
} from '../wire/gen/common/common_pb.js';
import {
  BlockMetadataSchema as RaftBlockMetadataSchema,
  type BlockMetadata as RaftBlockMetadata,
} from '../wire/gen/orderer/etcdraft/metadata_pb.js';
import type { Signer } from '../wire/signer.js';

/** Number of metadata slots Fabric's protoutil.NewBlock allocates. */
export const METADATA_SLOTS = 5;
/** raft_index of the genesis block, so block 1 carries 4 as in a fresh Fabric single-node Raft. */
const GENESIS_RAFT_INDEX = 3n;

export interface WriterState {
  readonly lastHeader: BlockHeader;
  readonly lastConfigBlockNum: bigint;
  readonly lastConfigSeq: bigint;
  readonly raft: { consenterIds: bigint[]; nextConsenterId: bigint; raftIndex: bigint };
}

/** The etcdraft BlockMetadata carried in a block's OrdererBlockMetadata, if any. */
export function raftMetadataOf(block: Block): RaftBlockMetadata | undefined {
  try {
    const sig = decode(
      MetadataSchema,
      block.metadata?.metadata[BlockMetadataIndex.SIGNATURES] ?? new Uint8Array(),
    );
    const obm = decode(OrdererBlockMetadataSchema, sig.value);
    if (obm.consenterMetadata.length === 0) return undefined;
    const inner = decode(MetadataSchema, obm.consenterMetadata);
    if (inner.value.length === 0) return undefined;
    return decode(RaftBlockMetadataSchema, inner.value);
  } catch {
    return undefined;
  }
}

/** Writer state continuing after `last` (the chain's last block), whose config sequence is `configSeq`. */
export function writerStateAfter(last: Block, configSeq: bigint): WriterState {
  const header = last.header!;
  const raft = raftMetadataOf(last);
  return {
    lastHeader: header,
    lastConfigBlockNum: blockLastConfigIndex(last) ?? 0n,
    lastConfigSeq: configSeq,
    raft: raft
      ? {
          consenterIds: [...raft.consenterIds],
          nextConsenterId: raft.nextConsenterId,
          raftIndex: raft.raftIndex,
        }
      : { consenterIds: [1n], nextConsenterId: 2n, raftIndex: GENESIS_RAFT_INDEX + header.number },
  };
}

export class BlockWriter {
  private lastHeader: BlockHeader;
  private lastConfigBlockNum: bigint;
  private lastConfigSeq: bigint;
  private readonly raft: WriterState['raft'];

  constructor(
    private readonly signer: Signer,
    private readonly rng: Pick<Rng, 'bytes'>,
    state: WriterState,
  ) {
    this.lastHeader = state.lastHeader;
    this.lastConfigBlockNum = state.lastConfigBlockNum;
    this.lastConfigSeq = state.lastConfigSeq;
    this.raft = { ...state.raft, consenterIds: [...state.raft.consenterIds] };
  }

  get nextNumber(): bigint {
    return this.lastHeader.number + 1n;
  }

  createNextBlock(envelopes: readonly Uint8Array[]): Block {
    const data = [...envelopes];
    return create(BlockSchema, {
      header: {
        number: this.lastHeader.number + 1n,
        previousHash: blockHeaderHash(this.lastHeader),
        dataHash: blockDataHash(data),
      },
      data: { data },
      metadata: { metadata: Array.from({ length: METADATA_SLOTS }, () => new Uint8Array()) },
    });
  }

  /** Add LAST_CONFIG and the signed SIGNATURES metadata; returns the block's bytes. */
  seal(block: Block, configSeq: bigint): Uint8Array {
    const header = block.header!;
    if (configSeq > this.lastConfigSeq) {
      this.lastConfigBlockNum = header.number;
      this.lastConfigSeq = configSeq;
    }
    const md = block.metadata!.metadata;
    while (md.length < METADATA_SLOTS) md.push(new Uint8Array());
    const lastConfig = create(LastConfigSchema, { index: this.lastConfigBlockNum });
    md[BlockMetadataIndex.LAST_CONFIG] = encode(MetadataSchema, {
      value: encode(LastConfigSchema, lastConfig),
    });

    this.raft.raftIndex += 1n;
    const consenterMetadata = encode(MetadataSchema, {
      value: encode(RaftBlockMetadataSchema, {
        consenterIds: this.raft.consenterIds,
        nextConsenterId: this.raft.nextConsenterId,
        raftIndex: this.raft.raftIndex,
      }),
    });
    const value = encode(OrdererBlockMetadataSchema, { lastConfig, consenterMetadata });
    const signatureHeader = encode(SignatureHeaderSchema, {
      creator: this.signer.serializedIdentity,
      nonce: this.rng.bytes(24),
    });
    const signature = this.signer.sign(Buffer.concat([value, signatureHeader, blockHeaderBytes(header)]));
    md[BlockMetadataIndex.SIGNATURES] = encode(MetadataSchema, {
      value,
      signatures: [create(MetadataSignatureSchema, { signatureHeader, signature })],
    });
    this.lastHeader = header;
    return encode(BlockSchema, block);
  }

  /** Follow a block written elsewhere (imported into the ledger). */
  follow(block: Block, configSeq: bigint): void {
    const s = writerStateAfter(block, configSeq);
    this.lastHeader = s.lastHeader;
    this.lastConfigBlockNum = s.lastConfigBlockNum;
    this.lastConfigSeq = s.lastConfigSeq;
    Object.assign(this.raft, s.raft);
  }
}
