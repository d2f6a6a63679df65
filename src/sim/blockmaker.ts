/**
 * Signed blocks as an orderer makes them (PROTOCOL.md §2.8), for simulations, tests and benches:
 * `txCount` ENDORSER_TRANSACTION envelopes of `txBytes` payload bytes each, signed by `txSigner`
 * (default: the orderer), the data hash, and one orderer signature in metadata[SIGNATURES] over
 * value ‖ signature_header ‖ DER(header). Deterministic for deterministic signers.
 */
import { create } from '@bufbuild/protobuf';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, encodeBlock, HeaderType } from '../wire/block.js';
import { encode } from '../wire/codec.js';
import {
  BlockHeaderSchema,
  BlockSchema,
  ChannelHeaderSchema,
  EnvelopeSchema,
  MetadataSchema,
  OrdererBlockMetadataSchema,
  PayloadSchema,
  SignatureHeaderSchema,
  type Block,
} from '../wire/gen/common/common_pb.js';
import type { Signer } from '../wire/signer.js';

export interface MakeBlockOptions {
  readonly channel: string;
  readonly number: bigint;
  readonly previousHash?: Uint8Array;
  readonly orderer: Signer;
  readonly txSigner?: Signer;
  readonly txCount?: number;
  readonly txBytes?: number;
}

export function makeBlock(o: MakeBlockOptions): { block: Block; bytes: Uint8Array } {
  const txSigner = o.txSigner ?? o.orderer;
  const data: Uint8Array[] = [];
  for (let i = 0; i < (o.txCount ?? 1); i++) {
    const channelHeader = encode(ChannelHeaderSchema, {
      type: HeaderType.ENDORSER_TRANSACTION,
      channelId: o.channel,
      txId: `${o.channel}-${o.number}-${i}`,
      timestamp: { seconds: 1_900_000_000n + o.number, nanos: i },
    });
    const signatureHeader = encode(SignatureHeaderSchema, {
      creator: txSigner.serializedIdentity,
      nonce: new TextEncoder().encode(`n-${o.number}-${i}`),
    });
    const body = new Uint8Array(o.txBytes ?? 64).fill((Number(o.number % 251n) + i) & 0xff);
    const payload = encode(PayloadSchema, { header: { channelHeader, signatureHeader }, data: body });
    data.push(encode(EnvelopeSchema, { payload, signature: txSigner.sign(payload) }));
  }
  const header = create(BlockHeaderSchema, {
    number: o.number,
    previousHash: o.previousHash ?? new Uint8Array(0),
    dataHash: blockDataHash(data),
  });
  const value = encode(OrdererBlockMetadataSchema, { lastConfig: { index: 0n } });
  const signatureHeader = encode(SignatureHeaderSchema, {
    creator: o.orderer.serializedIdentity,
    nonce: new TextEncoder().encode(`b-${o.number}`),
  });
  const signature = o.orderer.sign(Buffer.concat([value, signatureHeader, blockHeaderBytes(header)]));
  const metadata = encode(MetadataSchema, { value, signatures: [{ signatureHeader, signature }] });
  const block = create(BlockSchema, {
    header,
    data: { data },
    metadata: {
      metadata: [metadata, new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)],
    },
  });
  return { block, bytes: encodeBlock(block) };
}

/** A chain of `n` blocks numbered from `from`, each linking to the previous header hash. */
export function makeChain(
  o: Omit<MakeBlockOptions, 'number' | 'previousHash'> & { readonly from?: bigint; readonly n: number },
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev: Uint8Array | undefined;
  for (let i = 0; i < o.n; i++) {
    const { block, bytes } = makeBlock({ ...o, number: (o.from ?? 1n) + BigInt(i), previousHash: prev });
    prev = blockHeaderHash(block.header!);
    out.push(bytes);
  }
  return out;
}
