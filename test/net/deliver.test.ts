/**
 * Real sockets on 127.0.0.1: our deliver client against our orderer over TLS (plain and mutual),
 * fail-over between two orderers serving the same ledger with no gap, and the orderer's answers
 * to a non-member, FAIL_IF_NOT_READY and a badly signed Broadcast.
 */
import { realClock, cryptoRng } from '../../src/base/real-clock.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { resolveDeliverConfig, type DeliverConnector } from '../../src/core/deliver/index.js';
import { DeliverService } from '../../src/service/deliver.js';
import { GrpcDeliverConnector, RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { MessageCryptoService } from '../../src/identity/index.js';
import type { LocalIdentity } from '../../src/identity/types.js';
import { Orderer } from '../../src/orderer/server.js';
import { SeededRng } from '../../src/sim/rng.js';
import { decode, encode } from '../../src/wire/codec.js';
import {
  encodeSeekInfo,
  seekSpecified,
  signedEnvelope,
  SeekBehavior,
  MAX_UINT64,
} from '../../src/wire/index.js';
import { EnvelopeSchema, HeaderType, Status } from '../../src/wire/gen/common/common_pb.js';
import type { Signer } from '../../src/wire/signer.js';
import { broadcastAll } from '../helpers/broadcast.js';
import { ORDERER_TLS, fixture, peerTls, endorserTxs, type Fixture } from '../orderer/fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'grapevine-net-orderer-'));

async function startOrderer(
  f: Fixture,
  opts: { clientAuthRequired?: boolean; dataDir?: string } = {},
): Promise<Orderer> {
  return Orderer.start({
    signer: f.orderer.signer,
    listen: '127.0.0.1:0',
    dataDir: opts.dataDir ?? tmp(),
    genesis: f.genesis,
    tls: {
      certPem: f.file(`${ORDERER_TLS}/server.crt`),
      keyPem: f.file(`${ORDERER_TLS}/server.key`),
      clientAuthRequired: opts.clientAuthRequired ?? false,
    },
  });
}

function clientCreds(f: Fixture, withCert: boolean): grpc.ChannelCredentials {
  const ca = Buffer.from(f.file(`${ORDERER_TLS}/ca.crt`));
  return withCert
    ? grpc.credentials.createSsl(
        ca,
        Buffer.from(f.file(`${peerTls(1)}/server.key`)),
        Buffer.from(f.file(`${peerTls(1)}/server.crt`)),
      )
    : grpc.credentials.createSsl(ca);
}

/** One Deliver stream with one SeekInfo: the responses until the server ends the stream. */
async function deliverRaw(
  address: string,
  creds: grpc.ChannelCredentials,
  env: Uint8Array,
): Promise<(bigint | number)[]> {
  const client = new grpc.Client(address, creds);
  try {
    const m = RawAtomicBroadcastService.Deliver;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    const out: (bigint | number)[] = [];
    const done = new Promise<void>((resolve) => {
      call.on('data', (b: Buffer) => {
        const r = parseDeliverResponse(b);
        if (r.case === 'status') {
          out.push(r.status);
          call.end();
        } else if (r.case === 'block') out.push(BigInt(out.length));
      });
      call.on('end', resolve);
      call.on('error', () => resolve());
    });
    call.write(Buffer.from(env));
    await done;
    return out;
  } finally {
    client.close();
  }
}

const txs = (f: Fixture, signer: Signer, n: number) => endorserTxs(f, signer, n, 't');

function mcs(f: Fixture, local: LocalIdentity): MessageCryptoService {
  const ctx = parseChannelConfig(f.genesis).cryptoContext();
  return new MessageCryptoService(
    local,
    {
      get: (id) => (id === ctx.channelId ? ctx : undefined),
      all: () => [ctx],
    },
    () => new Date(),
  );
}

/** A receiver that records blocks and resolves when `want` blocks have arrived. */
function receiver(want: number) {
  const got: { seq: bigint; bytes: Uint8Array }[] = [];
  let height = 1n;
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  let hook: ((seq: bigint) => Promise<void> | void) | undefined;
  return {
    got,
    all,
    height: () => height,
    setHook: (h: typeof hook) => (hook = h),
    async addPayload(seq: bigint, bytes: Uint8Array) {
      got.push({ seq, bytes: new Uint8Array(bytes) });
      height = seq + 1n;
      await hook?.(seq);
      if (got.length === want) resolve();
    },
  };
}

test('our deliver client pulls every block from our orderer over TLS, verified, and waits for new ones', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const o = await startOrderer(f);
  const svc = new DeliverService({
    clock: realClock,
    rng: cryptoRng,
    signer: f.peer.signer,
    verifier: mcs(f, f.peer),
    tls: {
      clientAuthRequired: false,
      certPem: f.file(`${peerTls(1)}/server.crt`),
      keyPem: f.file(`${peerTls(1)}/server.key`),
    },
  });
  try {
    assert.deepEqual(
      await broadcastAll(o.address, clientCreds(f, false), txs(f, f.user.signer, 8)),
      Array(8).fill(Status.SUCCESS),
    );
    await o.chain(f.channel)!.waitForHeight(9n);
    // endpoints as the channel config gives them (org endpoint + the orderer org TLS CA), pointed at our port
    const cfgEndpoints = parseChannelConfig(f.genesis).ordererEndpoints();
    assert.deepEqual(
      cfgEndpoints.map((e) => e.address),
      ['127.0.0.1:7050'],
    );
    svc.updateEndpoints(
      f.channel,
      [],
      new Map([['OrdererOrg', { addresses: [o.address], rootCerts: cfgEndpoints[0].tlsRootCerts }]]),
    );
    const r = receiver(11);
    const gossiped: bigint[] = [];
    svc.start(f.channel, {
      ledgerHeight: r.height,
      addPayload: r.addPayload,
      gossip: (seq) => gossiped.push(seq),
      yieldLeadership: false,
    });
    assert.deepEqual(
      await broadcastAll(o.address, clientCreds(f, false), txs(f, f.user.signer, 3)),
      Array(3).fill(Status.SUCCESS),
    );
    await r.all;
    assert.deepEqual(
      r.got.map((g) => g.seq),
      Array.from({ length: 11 }, (_, i) => BigInt(i + 1)),
    );
    for (const g of r.got)
      assert.deepEqual(
        Buffer.from(g.bytes),
        Buffer.from((await o.chain(f.channel)!.getBlockBytes(g.seq))!),
        `block ${g.seq} as stored`,
      );
    assert.deepEqual(
      gossiped,
      r.got.map((g) => g.seq),
    );
    assert.equal(svc.deliverer(f.channel)!.stats.failures, 0);
  } finally {
    await svc.stopAll();
    await o.stop();
  }
});

test('mutual TLS: the client binds its certificate hash; a client without a certificate cannot connect', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const o = await startOrderer(f, { clientAuthRequired: true });
  const tlsOpts = {
    clientAuthRequired: true,
    certPem: f.file(`${peerTls(1)}/server.crt`),
    keyPem: f.file(`${peerTls(1)}/server.key`),
  };
  const svc = new DeliverService({
    clock: realClock,
    rng: cryptoRng,
    signer: f.peer.signer,
    verifier: mcs(f, f.peer),
    tls: tlsOpts,
  });
  try {
    assert.deepEqual(await broadcastAll(o.address, clientCreds(f, true), txs(f, f.user.signer, 2)), [
      Status.SUCCESS,
      Status.SUCCESS,
    ]);
    const ca = f.file(`${ORDERER_TLS}/ca.crt`);
    svc.updateEndpoints(
      f.channel,
      [],
      new Map([['OrdererOrg', { addresses: [o.address], rootCerts: [ca] }]]),
    );
    const r = receiver(2);
    svc.start(f.channel, { ledgerHeight: r.height, addPayload: r.addPayload, yieldLeadership: false });
    await r.all;
    assert.deepEqual(
      r.got.map((g) => g.seq),
      [1n, 2n],
    );
    // a SeekInfo over mutual TLS without tls_cert_hash -> BAD_REQUEST
    const env = encode(
      EnvelopeSchema,
      signedEnvelope(
        {
          type: HeaderType.DELIVER_SEEK_INFO,
          channelId: f.channel,
          data: encodeSeekInfo({ start: seekSpecified(0n), stop: seekSpecified(0n) }),
          nowMs: Date.now(),
        },
        f.peer.signer,
      ),
    );
    assert.deepEqual(await deliverRaw(o.address, clientCreds(f, true), env), [Status.BAD_REQUEST]);
    // no client certificate: the TLS handshake is refused
    const conn = new GrpcDeliverConnector(resolveDeliverConfig({ connTimeoutMs: 2000 }), undefined);
    const noCert = new GrpcDeliverConnector(resolveDeliverConfig({ connTimeoutMs: 2000 }), {
      ...tlsOpts,
      clientAuthRequired: false,
    });
    const ep = svc.source(f.channel).endpoints()[0];
    await assert.rejects(noCert.connect(ep, env), { code: 'CONNECT' });
    await assert.rejects(conn.connect(ep, env), { code: 'CONNECT' }, 'plaintext to a TLS port');
  } finally {
    await svc.stopAll();
    await o.stop();
  }
});

test('two orderers with the same ledger: kill the one in use, delivery resumes from the other with no gap', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const a = await startOrderer(f);
  const b = await startOrderer(f);
  const svc0 = resolveDeliverConfig({ connTimeoutMs: 1000 });
  let current = '';
  const grpcConn = new GrpcDeliverConnector(svc0, {
    clientAuthRequired: false,
    certPem: f.file(`${peerTls(1)}/server.crt`),
    keyPem: f.file(`${peerTls(1)}/server.key`),
  });
  const recording: DeliverConnector = {
    connect: (ep, env) => {
      current = ep.address;
      return grpcConn.connect(ep, env);
    },
  };
  const svc = new DeliverService({
    clock: realClock,
    signer: f.peer.signer,
    verifier: mcs(f, f.peer),
    connector: recording,
    rng: new SeededRng(3),
    config: resolveDeliverConfig({ connTimeoutMs: 1000 }),
  });
  const stopped = new Set<string>();
  try {
    assert.deepEqual(
      await broadcastAll(a.address, clientCreds(f, false), txs(f, f.user.signer, 20)),
      Array(20).fill(Status.SUCCESS),
    );
    await a.chain(f.channel)!.waitForHeight(21n);
    for (let n = 1n; n <= 20n; n++)
      await b.chain(f.channel)!.importBlock((await a.chain(f.channel)!.getBlockBytes(n))!);
    const ca = f.file(`${ORDERER_TLS}/ca.crt`);
    svc.updateEndpoints(
      f.channel,
      [],
      new Map([['OrdererOrg', { addresses: [a.address, b.address], rootCerts: [ca] }]]),
    );
    const r = receiver(20);
    let firstOrderer = '';
    r.setHook(async (seq) => {
      if (seq === 5n) {
        firstOrderer = current;
        const victim = current === a.address ? a : b;
        stopped.add(current);
        await victim.stop();
      }
    });
    svc.start(f.channel, { ledgerHeight: r.height, addPayload: r.addPayload, yieldLeadership: false });
    await r.all;
    assert.deepEqual(
      r.got.map((g) => g.seq),
      Array.from({ length: 20 }, (_, i) => BigInt(i + 1)),
      'every block once, in order',
    );
    assert.ok(firstOrderer);
    assert.notEqual(current, firstOrderer, 'the last blocks came from the other orderer');
    assert.ok(svc.deliverer(f.channel)!.stats.failures >= 1);
  } finally {
    await svc.stopAll();
    await a.stop();
    await b.stop();
  }
});

test('over the socket: non-member Deliver -> FORBIDDEN, FAIL_IF_NOT_READY -> NOT_FOUND, bad Broadcast signature -> FORBIDDEN', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const o = await startOrderer(f);
  try {
    const creds = clientCreds(f, false);
    const seek = (signer: Signer, start: bigint, behavior = SeekBehavior.BLOCK_UNTIL_READY) =>
      encode(
        EnvelopeSchema,
        signedEnvelope(
          {
            type: HeaderType.DELIVER_SEEK_INFO,
            channelId: f.channel,
            data: encodeSeekInfo({ start: seekSpecified(start), stop: seekSpecified(MAX_UINT64), behavior }),
            nowMs: Date.now(),
          },
          signer,
        ),
      );
    assert.deepEqual(await deliverRaw(o.address, creds, seek(f.outsider.signer, 0n)), [Status.FORBIDDEN]);
    assert.deepEqual(
      await deliverRaw(o.address, creds, seek(f.peer.signer, 0n, SeekBehavior.FAIL_IF_NOT_READY)),
      [0n, Status.NOT_FOUND],
    );
    const [good] = txs(f, f.user.signer, 1);
    const env = decode(EnvelopeSchema, good);
    const bad = encode(
      EnvelopeSchema,
      create(EnvelopeSchema, { payload: env.payload, signature: f.user.signer.sign(new Uint8Array([1])) }),
    );
    assert.deepEqual(
      await broadcastAll(o.address, creds, [bad, good]),
      [Status.FORBIDDEN],
      'the stream ends after the error status',
    );
    assert.equal(o.chain(f.channel)!.height(), 1n);
  } finally {
    await o.stop();
  }
});
