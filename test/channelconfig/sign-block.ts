/** Test helper: re-seal a block (data hash, header fields) and sign it as an orderer does (§2.8). */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { decode, encode } from '../../src/wire/codec.js';
import { blockDataHash, blockHeaderBytes, decodeBlock, encodeBlock } from '../../src/wire/block.js';
import {
  MetadataSchema,
  MetadataSignatureSchema,
  SignatureHeaderSchema,
} from '../../src/wire/gen/common/common_pb.js';
import type { Signer } from '../../src/wire/signer.js';

export interface Reseal {
  number?: bigint;
  previousHash?: Uint8Array;
  /** Replace block.data.data[0] (e.g. an edited config envelope). */
  firstTx?: Uint8Array;
}

export function resignBlock(bytes: Uint8Array, signers: Signer[], opts: Reseal = {}): Uint8Array {
  const block = decodeBlock(bytes);
  const header = block.header!;
  if (opts.firstTx) block.data!.data[0] = opts.firstTx;
  if (opts.number !== undefined) header.number = opts.number;
  if (opts.previousHash) header.previousHash = opts.previousHash;
  header.dataHash = blockDataHash(block.data!.data);
  const md = decode(MetadataSchema, block.metadata!.metadata[0]);
  md.signatures = signers.map((s) => {
    const signatureHeader = encode(SignatureHeaderSchema, {
      creator: s.serializedIdentity,
      nonce: randomBytes(24),
    });
    const signature = s.sign(Buffer.concat([md.value, signatureHeader, blockHeaderBytes(header)]));
    return create(MetadataSignatureSchema, { signatureHeader, signature });
  });
  block.metadata!.metadata[0] = encode(MetadataSchema, md);
  return encodeBlock(block);
}

/** The same block with its SIGNATURES metadata holding no signatures. */
export function stripSignatures(bytes: Uint8Array): Uint8Array {
  const block = decodeBlock(bytes);
  const md = decode(MetadataSchema, block.metadata!.metadata[0]);
  md.signatures = [];
  block.metadata!.metadata[0] = encode(MetadataSchema, md);
  return encodeBlock(block);
}
