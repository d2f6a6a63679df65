/**
 * Interop with real Fabric v2.4.9 data (../shared/fabric-vectors):
 * - blocks our block writer makes from the vectors' transactions mirror the orderer's blocks
 *   (same header, same SIGNATURES value and LAST_CONFIG bytes, same metadata layout) and pass
 *   the peer's VerifyBlock;
 * - the captured Broadcast envelopes are accepted and cut into verifiable blocks;
 * - the captured SeekInfo envelopes are accepted by our Deliver handler, and its responses are
 *   byte-identical to the orderer's captured DeliverResponses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { verifyBlocks } from '../../src/channelconfig/index.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import { BlockWriter, writerStateAfter } from '../../src/orderer/blockwriter.js';
import { processBroadcast } from '../../src/orderer/broadcast.js';
import { handleDeliver } from '../../src/orderer/deliver.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { decode } from '../../src/wire/codec.js';
import {
  EnvelopeSchema,
  MetadataSchema,
  SignatureHeaderSchema,
  Status,
} from '../../src/wire/gen/common/common_pb.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { SKIP_VECTORS, ordererDir, readVector, vectorPath, vectorIndex } from '../helpers/vectors.js';
import { MemDeliverIO, tempChain } from './fixtures.js';
import { until } from '../helpers/until.js';

const rng = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function ordererSigner() {
  return loadSigningIdentity(join(ordererDir(), 'msp'), 'OrdererMSP', { now: new Date() }).signer;
}

function deliverFile(pattern: RegExp): Uint8Array {
  const f = readdirSync(vectorPath('deliver')).find((n) => pattern.test(n));
  assert.ok(f, `no deliver vector matching ${pattern}`);
  return readVector('deliver', f);
}

function captureTimeMs(file: string): number {
  const e = (vectorIndex().orderer as { file: string | null; time: number }[]).find(
    (o) => o.file === `deliver/${file}`,
  );
  assert.ok(e, `no index entry for ${file}`);
  return Math.round(e.time * 1000);
}

test('our block writer mirrors the orderer blocks 1 and 25 of the vectors', { skip: SKIP_VECTORS }, () => {
  const signer = ordererSigner();
  for (const [prevN, n, seq] of [
    [0, 1, 0n],
    [24, 25, 1n],
  ] as const) {
    const prev = decodeBlock(readVector('blocks', `block_${prevN}.pb`));
    const theirs = decodeBlock(readVector('blocks', `block_${n}.pb`));
    const writer = new BlockWriter(signer, rng, writerStateAfter(prev, seq));
    const ours = writer.createNextBlock(theirs.data!.data);
    const bytes = writer.seal(ours, seq);
    const back = decodeBlock(bytes);
    assert.equal(back.header!.number, theirs.header!.number);
    assert.equal(
      hex(back.header!.previousHash),
      hex(theirs.header!.previousHash),
      `block ${n} previous_hash`,
    );
    assert.equal(hex(back.header!.dataHash), hex(theirs.header!.dataHash), `block ${n} data_hash`);
    assert.equal(back.metadata!.metadata.length, theirs.metadata!.metadata.length);
    const ourSig = decode(MetadataSchema, back.metadata!.metadata[0]);
    const theirSig = decode(MetadataSchema, theirs.metadata!.metadata[0]);
    assert.equal(
      hex(ourSig.value),
      hex(theirSig.value),
      `block ${n} SIGNATURES value (OrdererBlockMetadata)`,
    );
    assert.equal(ourSig.signatures.length, 1);
    const ourHdr = decode(SignatureHeaderSchema, ourSig.signatures[0].signatureHeader);
    const theirHdr = decode(SignatureHeaderSchema, theirSig.signatures[0].signatureHeader);
    assert.equal(hex(ourHdr.creator), hex(theirHdr.creator));
    assert.equal(ourHdr.nonce.length, 24);
    for (let i = 1; i < 5; i++) {
      assert.equal(
        hex(back.metadata!.metadata[i]),
        hex(theirs.metadata!.metadata[i]),
        `block ${n} metadata[${i}]`,
      );
    }
    // the peer's checks, with the channel config in force for that block
    const config = readVector('blocks', n === 25 ? 'block_24.pb' : 'block_0.pb');
    const [r] = verifyBlocks(config, [{ name: `ours_${n}`, bytes }], new Date());
    assert.ok(r.ok, r.reason);
  }
});

test(
  'captured Broadcast envelopes are ordered into blocks that pass VerifyBlock',
  { skip: SKIP_VECTORS },
  async () => {
    const clock = new VirtualClock(
      captureTimeMs('0003_broadcast_req_endorser_transaction_User1@org1_to_orderer0.pb'),
    );
    const genesis = readVector('blocks', 'block_0.pb');
    const { chain, store, close } = await tempChain(genesis, ordererSigner(), clock);
    try {
      const files = readdirSync(vectorPath('deliver')).filter((f) => f.includes('broadcast_req_endorser'));
      assert.equal(files.length, 3);
      for (const f of files) {
        const bytes = readVector('deliver', f);
        const res = await processBroadcast(decode(EnvelopeSchema, bytes), bytes, {
          chain: (id) => (id === 'mychannel' ? chain : undefined),
          now: () => clock.now(),
        });
        assert.equal(res.status, Status.SUCCESS, res.info);
      }
      // MaxMessageCount is 5: the batch is cut by BatchTimeout (1s)
      assert.equal(chain.height(), 1n);
      await clock.runFor(999);
      assert.equal(chain.height(), 1n);
      await clock.runFor(1);
      await chain.waitForHeight(2n);
      const block = (await store.getBlock(1n))!;
      assert.equal(block.block.data!.data.length, 3);
      files.forEach((f, i) =>
        assert.equal(
          hex(block.block.data!.data[i]),
          hex(readVector('deliver', f)),
          'envelopes stored as received',
        ),
      );
      const [r] = verifyBlocks(genesis, [{ name: 'cut', bytes: block.bytes }], new Date(clock.now()));
      assert.ok(r.ok, r.reason);
    } finally {
      await close();
    }
  },
);

/** The no-TLS run's chain: block_0 then the blocks the orderer delivered (1..31). */
function notlsBlocks(): Map<number, { frame: Uint8Array; block: Uint8Array }> {
  const out = new Map<number, { frame: Uint8Array; block: Uint8Array }>();
  for (const f of readdirSync(vectorPath('deliver'))) {
    const m = /_deliver_resp_block(\d+)_/.exec(f);
    if (!m || out.has(Number(m[1]))) continue;
    const frame = readVector('deliver', f);
    const r = parseDeliverResponse(frame);
    assert.equal(r.case, 'block');
    if (r.case === 'block') out.set(Number(m[1]), { frame, block: new Uint8Array(r.block) });
  }
  return out;
}

test(
  'captured SeekInfo envelopes are served as Fabric served them, byte for byte',
  { skip: SKIP_VECTORS },
  async () => {
    const blocks = notlsBlocks();
    const genesis = readVector('blocks', 'block_0.pb');
    const clock = new VirtualClock(captureTimeMs('0183_deliver_req_seekinfo_Admin@org1_to_orderer0.pb'));
    const { chain, close } = await tempChain(genesis, ordererSigner(), clock);
    const deps = {
      chain: (id: string) => (id === 'mychannel' ? chain : undefined),
      now: () => clock.now(),
      timeWindowMs: 15 * 60_000,
      mutualTls: false,
    };
    try {
      for (let n = 1; n <= 15; n++) await chain.importBlock(blocks.get(n)!.block);
      // Admin@org1 `peer channel fetch newest` then `fetch 0`, on one stream each
      for (const [req, resp, success] of [
        ['0183_deliver_req', '0184_deliver_resp_block15', '0185_deliver_resp_success'],
        ['0186_deliver_req', '0187_deliver_resp_block0', '0188_deliver_resp_success'],
      ]) {
        const io = new MemDeliverIO();
        io.push(deliverFile(new RegExp(`^${req}`)));
        io.push(undefined);
        await handleDeliver(io, deps);
        assert.equal(io.frames.length, 2);
        assert.equal(hex(io.frames[0]), hex(deliverFile(new RegExp(`^${resp}`))), `${req}: block response`);
        assert.equal(
          hex(io.frames[1]),
          hex(deliverFile(new RegExp(`^${success}`))),
          `${req}: status response`,
        );
      }
      // peer1.org1 (leader) seeks from 1 and waits for blocks to come
      const io = new MemDeliverIO();
      io.push(deliverFile(/^0001_deliver_req/));
      const seekTime = captureTimeMs('0001_deliver_req_seekinfo_peer1.org1_to_orderer0.pb');
      const session = handleDeliver(io, { ...deps, now: () => seekTime });
      await new Promise((r) => setImmediate(r));
      for (let n = 16; n <= 31; n++) await chain.importBlock(blocks.get(n)!.block);
      await until(() => io.frames.length >= 31, '31 deliver frames', { intervalMs: 0 });
      io.cancel();
      await assert.rejects(session, { code: 'CANCELLED' });
      for (let n = 1; n <= 31; n++) {
        const theirs = readdirSync(vectorPath('deliver')).find((f) =>
          f.endsWith(`_deliver_resp_block${n}_orderer0_to_peer1.org1.pb`),
        );
        const expected = theirs ? readVector('deliver', theirs) : blocks.get(n)!.frame;
        assert.equal(hex(io.frames[n - 1]), hex(expected), `block ${n}`);
      }
      // the same envelope outside the 15 min window is refused
      const late = new MemDeliverIO();
      late.push(deliverFile(/^0001_deliver_req/));
      await handleDeliver(late, { ...deps, now: () => seekTime + 15 * 60_000 + 1000 });
      assert.deepEqual(late.responses(), [{ status: Status.BAD_REQUEST }]);
    } finally {
      await close();
    }
  },
);

test(
  'a block from the vectors re-encodes to its own bytes (the orderer sends stored bytes)',
  { skip: SKIP_VECTORS },
  () => {
    const bytes = new Uint8Array(readFileSync(vectorPath('blocks', 'block_1.pb')));
    assert.equal(hex(encodeBlock(decodeBlock(bytes))), hex(bytes));
  },
);
