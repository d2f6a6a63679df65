/**
 * Synthetic chained blocks for ledger tests and benchmarks, built with the wire helpers:
 * each transaction is a common.Envelope whose channel header carries a tx id; filler bytes
 * come from a seeded generator so runs repeat exactly.
 */
import { create } from '@bufbuild/protobuf';
import { encode } from '../../src/wire/codec.js';
import { blockDataHash, blockHeaderHash, encodeBlock } from '../../src/wire/block.js';
import {
  BlockSchema,
  ChannelHeaderSchema,
  EnvelopeSchema,
  HeaderType,
  PayloadSchema,
  SignatureHeaderSchema,
  type Block,
} from '../../src/wire/gen/common/common_pb.js';

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filler(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = Math.floor(rand() * 0xffffffff) >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function makeTx(channel: string, txId: string, payloadBytes: number, rand: () => number): Uint8Array {
  const channelHeader = encode(ChannelHeaderSchema, {
    type: HeaderType.ENDORSER_TRANSACTION,
    channelId: channel,
    txId,
  });
  const signatureHeader = encode(SignatureHeaderSchema, {
    creator: filler(rand, 16),
    nonce: filler(rand, 24),
  });
  const payload = encode(PayloadSchema, {
    header: { channelHeader, signatureHeader },
    data: filler(rand, payloadBytes),
  });
  return encode(EnvelopeSchema, { payload, signature: filler(rand, 70) });
}

export function makeBlock(number: bigint, previousHash: Uint8Array, txs: Uint8Array[]): Block {
  return create(BlockSchema, {
    header: { number, previousHash, dataHash: blockDataHash(txs) },
    data: { data: txs },
    metadata: {
      metadata: [new Uint8Array(), new Uint8Array(), new Uint8Array(), new Uint8Array(), new Uint8Array()],
    },
  });
}

/** Builds blocks continuing a chain; tx ids are `tx-<block>-<index>`. */
export class ChainBuilder {
  private readonly rand: () => number;
  constructor(
    private nextNumber = 0n,
    private prevHash: Uint8Array = new Uint8Array(),
    seed = 1,
    readonly channel = 'testchannel',
  ) {
    this.rand = seededRandom(seed);
  }

  /** Next block with txCount transactions of about txBytes payload each, as bytes. */
  next(txCount = 2, txBytes = 100): Uint8Array {
    const n = this.nextNumber;
    const txs = Array.from({ length: txCount }, (_, i) =>
      makeTx(this.channel, `tx-${n}-${i}`, txBytes, this.rand),
    );
    const block = makeBlock(n, this.prevHash, txs);
    this.prevHash = blockHeaderHash(block.header!);
    this.nextNumber++;
    return encodeBlock(block);
  }

  /** A block of about `bytes` total, split into txs of at most ~64 KiB. */
  nextOfSize(bytes: number): Uint8Array {
    const per = Math.min(bytes, 64 * 1024);
    const count = Math.max(1, Math.round(bytes / per));
    return this.next(count, Math.max(0, Math.floor(bytes / count) - 200));
  }
}

/** n chained blocks from block 0. */
export function makeChain(n: number, seed = 1, txCount = 2, txBytes = 100): Uint8Array[] {
  const b = new ChainBuilder(0n, new Uint8Array(), seed);
  return Array.from({ length: n }, () => b.next(txCount, txBytes));
}
