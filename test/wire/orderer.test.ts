import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import {
  decode,
  deliverSeekEnvelope,
  decodeTx,
  HeaderType,
  MAX_UINT64,
  SeekBehavior,
  SeekErrorResponse,
} from '../../src/wire/index.js';
import { EnvelopeSchema } from '../../src/wire/gen/common/common_pb.js';
import { SeekInfoSchema } from '../../src/wire/gen/orderer/ab_pb.js';
import { encode } from '../../src/wire/codec.js';
import { SKIP_VECTORS, readVector, vectorPath } from '../helpers/vectors.js';

const fakeSigner = {
  serializedIdentity: new Uint8Array([10, 3, 65, 66, 67]),
  sign: () => new Uint8Array([48, 0]),
};

function seekOf(envBytes: Uint8Array) {
  const tx = decodeTx(envBytes);
  return { tx, seek: decode(SeekInfoSchema, tx.payload.data) };
}

test(
  'our deliver SeekInfo envelope has the fields a Fabric v2.4.9 peer sends',
  { skip: SKIP_VECTORS },
  () => {
    const file = readdirSync(vectorPath('deliver')).find((f) =>
      f.includes('deliver_req_seekinfo_peer1.org1'),
    )!;
    const theirs = seekOf(readVector('deliver', file));
    const env = deliverSeekEnvelope('mychannel', 1n, fakeSigner, 1_795_214_516_987);
    const ours = seekOf(encode(EnvelopeSchema, env));
    for (const s of [theirs, ours]) {
      const ch = s.tx.channelHeader;
      assert.equal(ch.type, HeaderType.DELIVER_SEEK_INFO);
      assert.equal(ch.version, 0);
      assert.equal(ch.channelId, 'mychannel');
      assert.equal(ch.txId, '');
      assert.equal(ch.epoch, 0n);
      assert.equal(ch.timestamp?.nanos, 0);
      assert.equal(ch.tlsCertHash.length, 0);
      assert.equal(s.tx.signatureHeader.nonce.length, 24);
      assert.equal(s.seek.start?.Type.case, 'specified');
      assert.equal(s.seek.stop?.Type.case, 'specified');
      assert.equal((s.seek.stop?.Type.value as { number: bigint }).number, MAX_UINT64);
      assert.equal(s.seek.behavior, SeekBehavior.BLOCK_UNTIL_READY);
      assert.equal(s.seek.errorResponse, SeekErrorResponse.STRICT);
    }
    assert.equal((ours.seek.start?.Type.value as { number: bigint }).number, 1n);
    assert.equal(ours.tx.channelHeader.timestamp?.seconds, 1_795_214_516n);
    // SeekInfo bytes have the same layout as Fabric's for the same positions.
    assert.deepEqual(Buffer.from(ours.tx.payload.data), Buffer.from(theirs.tx.payload.data));
  },
);
