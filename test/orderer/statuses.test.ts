/**
 * Broadcast and Deliver statuses of our orderer (Fabric v2.4.9 semantics), on a temp ledger with
 * a virtual clock: BAD_REQUEST / FORBIDDEN / SUCCESS for Broadcast, every SeekInfo behaviour and
 * status for Deliver, tls_cert_hash binding, session expiry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { processBroadcast } from '../../src/orderer/broadcast.js';
import { handleDeliver, type DeliverDeps } from '../../src/orderer/deliver.js';
import { VirtualClock } from '../../src/sim/clock.js';
import {
  decodeBlock,
  encodeSeekInfo,
  seekNewest,
  seekOldest,
  seekSpecified,
  MAX_UINT64,
  signedEnvelope,
  SeekBehavior,
  SeekErrorResponse,
  sha256,
} from '../../src/wire/index.js';
import { decode, encode } from '../../src/wire/codec.js';
import {
  EnvelopeSchema,
  HeaderType,
  PayloadSchema,
  Status,
  type Envelope,
} from '../../src/wire/gen/common/common_pb.js';
import type { Signer } from '../../src/wire/signer.js';
import { MemDeliverIO, fixture, tempChain, type Fixture } from './fixtures.js';
import { until } from '../helpers/until.js';

let fx: Fixture | undefined;
async function fix(): Promise<Fixture> {
  fx ??= await fixture({
    maxMessageCount: 2,
    batchTimeout: '1s',
    absoluteMaxBytes: '4 KB',
    preferredMaxBytes: '2 KB',
  });
  return fx;
}

function tx(
  f: Fixture,
  signer: Signer,
  nowMs: number,
  opts: { channel?: string; type?: HeaderType; data?: Uint8Array } = {},
): Envelope {
  return signedEnvelope(
    {
      type: opts.type ?? HeaderType.ENDORSER_TRANSACTION,
      channelId: opts.channel ?? f.channel,
      data: opts.data ?? new Uint8Array([1, 2, 3]),
      nowMs,
      txId: 'tx',
      preciseTimestamp: true,
    },
    signer,
  );
}

async function setup() {
  const f = await fix();
  const clock = new VirtualClock(Date.now());
  const c = await tempChain(f.genesis, f.orderer.signer, clock);
  const bdeps = { chain: (id: string) => (id === f.channel ? c.chain : undefined), now: () => clock.now() };
  const ddeps: DeliverDeps = { ...bdeps, timeWindowMs: 15 * 60_000, mutualTls: false };
  const broadcast = (env: Envelope) => processBroadcast(env, encode(EnvelopeSchema, env), bdeps);
  return { f, clock, ...c, bdeps, ddeps, broadcast };
}

test('Broadcast: SUCCESS for a writer, then cut by MaxMessageCount', async () => {
  const s = await setup();
  try {
    for (let i = 0; i < 4; i++)
      assert.equal((await s.broadcast(tx(s.f, s.f.user.signer, s.clock.now()))).status, Status.SUCCESS);
    await s.chain.waitForHeight(3n);
    assert.equal(s.chain.height(), 3n);
    const b = decodeBlock((await s.chain.getBlockBytes(2n))!);
    assert.equal(b.data!.data.length, 2);
  } finally {
    await s.close();
  }
});

test('Broadcast: error statuses as Fabric', async () => {
  const s = await setup();
  try {
    const now = s.clock.now();
    const good = tx(s.f, s.f.user.signer, now);
    // bad signature -> FORBIDDEN (SigFilter on /Channel/Writers)
    const badSig = create(EnvelopeSchema, {
      payload: good.payload,
      signature: s.f.peer.signer.sign(good.payload),
    });
    const r1 = await s.broadcast(badSig);
    assert.equal(r1.status, Status.FORBIDDEN, r1.info);
    // a peer is a reader but not a writer -> FORBIDDEN
    assert.equal((await s.broadcast(tx(s.f, s.f.peer.signer, now))).status, Status.FORBIDDEN);
    // a non-member -> FORBIDDEN
    assert.equal((await s.broadcast(tx(s.f, s.f.outsider.signer, now))).status, Status.FORBIDDEN);
    // unknown channel: no system channel -> BAD_REQUEST
    const r2 = await s.broadcast(tx(s.f, s.f.user.signer, now, { channel: 'nochannel' }));
    assert.equal(r2.status, Status.BAD_REQUEST);
    assert.match(r2.info, /system channel/);
    // CONFIG and ORDERER_TRANSACTION cannot be broadcast directly; CONFIG_UPDATE is not implemented
    for (const type of [HeaderType.CONFIG, HeaderType.ORDERER_TRANSACTION, HeaderType.CONFIG_UPDATE]) {
      assert.equal((await s.broadcast(tx(s.f, s.f.user.signer, now, { type }))).status, Status.BAD_REQUEST);
    }
    // malformed payload / no header
    assert.equal(
      (
        await s.broadcast(
          create(EnvelopeSchema, { payload: new Uint8Array([0xff, 0xff]), signature: new Uint8Array([1]) }),
        )
      ).status,
      Status.BAD_REQUEST,
    );
    assert.equal(
      (
        await s.broadcast(
          create(EnvelopeSchema, { payload: encode(PayloadSchema, { data: new Uint8Array([1]) }) }),
        )
      ).status,
      Status.BAD_REQUEST,
    );
    // above AbsoluteMaxBytes (4 KB) -> BAD_REQUEST, as Fabric's MaxBytesRule
    const big = await s.broadcast(tx(s.f, s.f.user.signer, now, { data: new Uint8Array(5000) }));
    assert.equal(big.status, Status.BAD_REQUEST);
    assert.match(big.info, /exceeds maximum allowed 4096 bytes/);
    // a writer's envelope encoded otherwise than canonically (signature before payload, a length as a
    // non-minimal varint): it decodes and its signature holds, but the peers' well-formedness check
    // (decode, re-encode, compare) refuses a block holding it -> BAD_REQUEST, never ordered
    const field = (tag: number, b: Uint8Array, pad = false) => {
      const len: number[] = [];
      let n = b.length;
      while (n >= 0x80) {
        len.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      len.push(n);
      if (pad) {
        len[len.length - 1]! |= 0x80;
        len.push(0);
      }
      return [tag, ...len, ...b];
    };
    for (const bytes of [
      new Uint8Array([...field(0x12, good.signature), ...field(0x0a, good.payload)]),
      new Uint8Array([...field(0x0a, good.payload, true), ...field(0x12, good.signature)]),
    ]) {
      const r = await processBroadcast(decode(EnvelopeSchema, bytes, 'env'), bytes, s.bdeps);
      assert.equal(r.status, Status.BAD_REQUEST, r.info);
      assert.match(r.info, /not well formed/);
    }
    // expired creator -> BAD_REQUEST
    const expired = await processBroadcast(good, undefined, { ...s.bdeps, now: () => Date.UTC(2200, 0, 1) });
    assert.equal(expired.status, Status.BAD_REQUEST);
    assert.equal(expired.info, 'broadcast client identity expired');
    // nothing was ordered
    assert.equal(s.chain.blocksCut, 0);
    // halted/stopped chain -> SERVICE_UNAVAILABLE
    await s.chain.stop();
    assert.equal((await s.broadcast(good)).status, Status.SERVICE_UNAVAILABLE);
  } finally {
    await s.close();
  }
});

test('BatchTimeout cuts a pending batch on the injected clock; an oversized message is cut alone', async () => {
  const s = await setup();
  try {
    await s.broadcast(tx(s.f, s.f.user.signer, s.clock.now()));
    await s.clock.runFor(999);
    assert.equal(s.chain.blocksCut, 0);
    await s.clock.runFor(1);
    assert.equal(s.chain.blocksCut, 1);
    // > PreferredMaxBytes (2 KB): the pending one is cut, then the big one alone
    await s.broadcast(tx(s.f, s.f.user.signer, s.clock.now()));
    await s.broadcast(tx(s.f, s.f.user.signer, s.clock.now(), { data: new Uint8Array(2500) }));
    assert.equal(s.chain.blocksCut, 3);
    await s.chain.waitForHeight(4n);
    assert.equal(decodeBlock((await s.chain.getBlockBytes(3n))!).data!.data.length, 1);
    await s.clock.runFor(5000);
    assert.equal(s.chain.blocksCut, 3, 'no timer left armed');
  } finally {
    await s.close();
  }
});

function seek(
  f: Fixture,
  signer: Signer,
  nowMs: number,
  o: {
    start: ReturnType<typeof seekOldest>;
    stop: ReturnType<typeof seekOldest>;
    behavior?: SeekBehavior;
    channel?: string;
    tlsCertHash?: Uint8Array;
    errorResponse?: SeekErrorResponse;
  },
): Uint8Array {
  const data = encodeSeekInfo(o);
  return encode(
    EnvelopeSchema,
    signedEnvelope(
      {
        type: HeaderType.DELIVER_SEEK_INFO,
        channelId: o.channel ?? f.channel,
        data,
        nowMs,
        tlsCertHash: o.tlsCertHash,
      },
      signer,
    ),
  );
}

async function serve(
  s: Awaited<ReturnType<typeof setup>>,
  req: Uint8Array,
  deps: Partial<DeliverDeps> = {},
  io = new MemDeliverIO(),
) {
  io.push(req);
  io.push(undefined);
  await handleDeliver(io, { ...s.ddeps, ...deps });
  return io.responses().map((r) => ('status' in r ? r.status : decodeBlock(r.block).header!.number));
}

test('Deliver: seek positions, stop positions and statuses', async () => {
  const s = await setup();
  try {
    for (let i = 0; i < 6; i++) await s.broadcast(tx(s.f, s.f.user.signer, s.clock.now()));
    await s.chain.waitForHeight(4n); // blocks 0..3
    const now = s.clock.now();
    const peer = s.f.peer.signer;
    const q = (o: Parameters<typeof seek>[3], deps?: Partial<DeliverDeps>) =>
      serve(s, seek(s.f, peer, now, o), deps);
    assert.deepEqual(await q({ start: seekOldest(), stop: seekNewest() }), [0n, 1n, 2n, 3n, Status.SUCCESS]);
    assert.deepEqual(await q({ start: seekNewest(), stop: seekNewest() }), [3n, Status.SUCCESS]);
    assert.deepEqual(await q({ start: seekSpecified(1n), stop: seekSpecified(2n) }), [
      1n,
      2n,
      Status.SUCCESS,
    ]);
    assert.deepEqual(await q({ start: seekSpecified(2n), stop: seekOldest() }), [2n, Status.SUCCESS]);
    assert.deepEqual(await q({ start: seekSpecified(3n), stop: seekSpecified(1n) }), [Status.BAD_REQUEST]);
    // FAIL_IF_NOT_READY past the end -> NOT_FOUND after what exists
    assert.deepEqual(
      await q({
        start: seekSpecified(2n),
        stop: seekSpecified(MAX_UINT64),
        behavior: SeekBehavior.FAIL_IF_NOT_READY,
      }),
      [2n, 3n, Status.NOT_FOUND],
    );
    assert.deepEqual(
      await q({
        start: seekSpecified(4n),
        stop: seekSpecified(4n),
        behavior: SeekBehavior.FAIL_IF_NOT_READY,
      }),
      [Status.NOT_FOUND],
    );
    // start beyond the height -> NOT_FOUND even when blocking
    assert.deepEqual(await q({ start: seekSpecified(9n), stop: seekSpecified(9n) }), [Status.NOT_FOUND]);
    // unknown channel -> NOT_FOUND
    assert.deepEqual(await q({ start: seekOldest(), stop: seekOldest(), channel: 'nochannel' }), [
      Status.NOT_FOUND,
    ]);
    // a non-member -> FORBIDDEN
    assert.deepEqual(
      await serve(s, seek(s.f, s.f.outsider.signer, now, { start: seekOldest(), stop: seekOldest() })),
      [Status.FORBIDDEN],
    );
    // timestamp outside the window -> BAD_REQUEST
    assert.deepEqual(
      await serve(s, seek(s.f, peer, now - 16 * 60_000, { start: seekOldest(), stop: seekOldest() })),
      [Status.BAD_REQUEST],
    );
    // malformed SeekInfo / missing stop -> BAD_REQUEST
    const noStop = encode(
      EnvelopeSchema,
      signedEnvelope(
        {
          type: HeaderType.DELIVER_SEEK_INFO,
          channelId: s.f.channel,
          data: new Uint8Array([0x0a, 0x02, 0x12, 0x00]),
          nowMs: now,
        },
        peer,
      ),
    );
    assert.deepEqual(await serve(s, noStop), [Status.BAD_REQUEST]);
    const junk = encode(
      EnvelopeSchema,
      signedEnvelope(
        {
          type: HeaderType.DELIVER_SEEK_INFO,
          channelId: s.f.channel,
          data: new Uint8Array([0xff]),
          nowMs: now,
        },
        peer,
      ),
    );
    assert.deepEqual(await serve(s, junk), [Status.BAD_REQUEST]);
    // a bad signature by a member -> FORBIDDEN
    const env = decode(EnvelopeSchema, seek(s.f, peer, now, { start: seekOldest(), stop: seekOldest() }));
    env.signature = s.f.user.signer.sign(new Uint8Array([9]));
    assert.deepEqual(await serve(s, encode(EnvelopeSchema, env)), [Status.FORBIDDEN]);
    // identity expired -> FORBIDDEN
    assert.deepEqual(
      await q(
        { start: seekOldest(), stop: seekOldest() },
        { now: () => Date.UTC(2200, 0, 1), timeWindowMs: Infinity },
      ),
      [Status.FORBIDDEN],
    );
    // SUCCESS keeps the stream open for the next SeekInfo
    const io = new MemDeliverIO();
    io.push(seek(s.f, peer, now, { start: seekOldest(), stop: seekOldest() }));
    io.push(seek(s.f, peer, now, { start: seekNewest(), stop: seekNewest() }));
    io.push(seek(s.f, peer, now, { start: seekSpecified(1n), stop: seekSpecified(0n) }));
    io.push(seek(s.f, peer, now, { start: seekOldest(), stop: seekOldest() }));
    await handleDeliver(io, s.ddeps);
    assert.deepEqual(
      io.responses().map((r) => ('status' in r ? r.status : decodeBlock(r.block).header!.number)),
      [0n, Status.SUCCESS, 3n, Status.SUCCESS, Status.BAD_REQUEST],
    );
    // a malformed envelope is a stream error, not a status
    const bad = new MemDeliverIO();
    bad.push(new Uint8Array([0xff]));
    await assert.rejects(handleDeliver(bad, s.ddeps), { code: 'MALFORMED' });
  } finally {
    await s.close();
  }
});

test('Deliver: BLOCK_UNTIL_READY waits for new blocks; expiry ends a session; halt -> SERVICE_UNAVAILABLE', async () => {
  const s = await setup();
  try {
    const now = s.clock.now();
    const io = new MemDeliverIO();
    let t = now;
    io.push(seek(s.f, s.f.peer.signer, now, { start: seekSpecified(1n), stop: seekSpecified(MAX_UINT64) }));
    const session = handleDeliver(io, { ...s.ddeps, now: () => t });
    await new Promise((r) => setImmediate(r));
    assert.equal(io.frames.length, 0);
    await s.broadcast(tx(s.f, s.f.user.signer, now));
    await s.broadcast(tx(s.f, s.f.user.signer, now));
    await until(() => io.frames.length >= 1, 'a deliver frame', { intervalMs: 0 });
    assert.deepEqual(
      io.responses().map((r) => ('block' in r ? decodeBlock(r.block).header!.number : r.status)),
      [1n],
    );
    // the client's certificate expires: the next block is not sent, FORBIDDEN ends the session
    t = Date.UTC(2200, 0, 1);
    await s.broadcast(tx(s.f, s.f.user.signer, now));
    await s.broadcast(tx(s.f, s.f.user.signer, now));
    await session;
    assert.deepEqual(
      io.responses().map((r) => ('block' in r ? decodeBlock(r.block).header!.number : r.status)),
      [1n, Status.FORBIDDEN],
    );
    // a waiting session ends with SERVICE_UNAVAILABLE when the chain stops
    const io2 = new MemDeliverIO();
    io2.push(seek(s.f, s.f.peer.signer, now, { start: seekSpecified(3n), stop: seekSpecified(MAX_UINT64) }));
    const waiting = handleDeliver(io2, s.ddeps);
    await new Promise((r) => setImmediate(r));
    await s.chain.stop();
    await waiting;
    assert.deepEqual(io2.responses(), [{ status: Status.SERVICE_UNAVAILABLE }]);
  } finally {
    await s.close();
  }
});

test('Deliver with mutual TLS: tls_cert_hash must equal the hash of the presented certificate', async () => {
  const s = await setup();
  try {
    const now = s.clock.now();
    const cert = sha256(new Uint8Array([1, 2, 3]));
    const mk = (h?: Uint8Array) =>
      seek(s.f, s.f.peer.signer, now, { start: seekOldest(), stop: seekOldest(), tlsCertHash: h });
    assert.deepEqual(await serve(s, mk(cert), { mutualTls: true }, new MemDeliverIO(cert)), [
      0n,
      Status.SUCCESS,
    ]);
    assert.deepEqual(await serve(s, mk(), { mutualTls: true }, new MemDeliverIO(cert)), [Status.BAD_REQUEST]);
    assert.deepEqual(
      await serve(s, mk(sha256(new Uint8Array([4]))), { mutualTls: true }, new MemDeliverIO(cert)),
      [Status.BAD_REQUEST],
    );
    assert.deepEqual(await serve(s, mk(cert), { mutualTls: true }, new MemDeliverIO()), [Status.BAD_REQUEST]);
    // without mutual TLS the hash is not looked at
    assert.deepEqual(await serve(s, mk(), { mutualTls: false }, new MemDeliverIO()), [0n, Status.SUCCESS]);
  } finally {
    await s.close();
  }
});
