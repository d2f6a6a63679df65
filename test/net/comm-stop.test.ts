/**
 * stop() is bounded whatever the peers do (real sockets on 127.0.0.1). Node A has every timeout
 * at 60 s and a stop grace of 30 s, so only a stop that really aborts and closes everything can
 * finish within the bound. At the moment of stop A has:
 *   - a dial and a probe to a TCP server that accepts and never answers TLS;
 *   - a probe handshake with a server that answers Ping, opens the stream, never sends ConnEstablish;
 *   - a flood to a peer that completed the handshake and then never reads (A's stream is
 *     back-pressured, its send queue full, sendWithAck and responses waiting for room);
 *   - an inbound TCP connection that never starts TLS, and an inbound GossipStream that never
 *     sends its ConnEstablish.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { testCrypto } from '../helpers/crypto.js';
import {
  activeResources,
  nodeIdentity,
  noResourcesBeyond,
  orgTlsCaPem,
  peerFolder,
  startNode,
} from '../comm/fixtures.js';
import { until } from '../helpers/until.js';
import type { GrpcTransport } from '../../src/comm/transport.js';
import { loadCommTls } from '../../src/comm/identity.js';
import { channelCredentials, leafDer, serverCredentials } from '../../src/comm/tls.js';
import { clientChannelOptions } from '../../src/comm/dialer.js';
import { serverOptions } from '../../src/comm/server.js';
import { commConfig } from '../../src/core/link/comm-config.js';
import { exchangeHandshake } from '../../src/core/link/exchange.js';
import { RawGossipService, serverStream } from '../../src/comm/stream.js';
import { realClock } from '../../src/base/real-clock.js';
import { EmptySchema, GossipMessageSchema } from '../../src/wire/gen/gossip/message_pb.js';
import { Tag, unsignedGossip } from '../../src/wire/gossip.js';

let root: string;
before(async () => {
  root = await testCrypto({ orgs: 2, peersPerOrg: 3 });
});

const tlsOf = (org: number, peer: number) =>
  loadCommTls(join(peerFolder(root, org, peer), 'tls'), [orgTlsCaPem(root, 1), orgTlsCaPem(root, 2)]);
const listening = (s: NetServer) =>
  new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)),
  );

/** A gossip server on 127.0.0.1: Ping answers; each GossipStream goes to `onStream`. */
async function gossipServer(
  onStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => void,
): Promise<{ endpoint: string; server: grpc.Server }> {
  const server = new grpc.Server(serverOptions(commConfig()));
  server.addService(RawGossipService, {
    Ping: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, create(EmptySchema)),
    GossipStream: onStream,
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(tlsOf(2, 1), false), (e, p) => (e ? rej(e) : res(p))),
  );
  return { endpoint: `127.0.0.1:${port}`, server };
}

const SLOW = {
  dialTimeoutMs: 60_000,
  connTimeoutMs: 60_000,
  handshakeTimeoutMs: 60_000,
  serverConnTimeoutMs: 60_000,
  stopGraceMs: 30_000,
};
const STOP_BOUND_MS = 3_000;

describe('comm stop is bounded', () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('mid-dial, mid-handshake (both directions), mid-flood and with silent sockets', async () => {
    const baseline = activeResources();
    // A TCP server that accepts and never answers TLS.
    const silentSockets = new Set<Socket>();
    const silent = createServer((s) => {
      silentSockets.add(s);
      s.on('error', () => undefined);
    });
    const silentPort = await listening(silent);
    cleanups.push(
      () => new Promise((r) => silent.close(r)),
      () => silentSockets.forEach((s) => s.destroy()),
    );
    // A server that answers Ping, accepts the stream and never sends its ConnEstablish.
    const mute = await gossipServer((call) => call.on('error', () => undefined));
    cleanups.push(() => mute.server.forceShutdown());
    // A peer that completes the handshake (peer1.org2), then never reads again.
    const sinkId = nodeIdentity(root, 2, 1);
    const sinkCalls: grpc.ServerDuplexStream<Buffer, Buffer>[] = [];
    const sink = await gossipServer((call) => {
      sinkCalls.push(call);
      const stream = serverStream(call, leafDer(tlsOf(2, 1).certPem));
      exchangeHandshake(stream, {
        self: { pkiId: sinkId.pkiId, signer: sinkId.signer },
        tlsEnabled: true,
        verifier: { putIdentity: () => undefined, verifySignature: () => true },
        clock: realClock,
        timeoutMs: 60_000,
        probe: false,
      }).then(
        () => call.pause(), // and never resumed
        () => undefined,
      );
    });
    cleanups.push(() => sink.server.forceShutdown());

    const a: GrpcTransport = await startNode(root, {
      org: 1,
      peer: 0,
      config: { ...SLOW, sendBuffSize: 20 },
    });
    cleanups.push(() => a.stop());
    const silentPeer = { endpoint: `127.0.0.1:${silentPort}`, pkiId: new Uint8Array(32).fill(1) };
    const sinkPeer = { endpoint: sink.endpoint, pkiId: sinkId.pkiId };
    const settled = (p: Promise<unknown>) =>
      p.then(
        (v) => ({ ok: true as const, v }),
        (e: Error & { code?: string }) => ({ ok: false as const, code: e.code, message: e.message }),
      );

    // Outbound: a dial and a probe stuck in TLS, a handshake stuck waiting for ConnEstablish.
    const hello = unsignedGossip({ tag: Tag.EMPTY, content: { case: 'memReq', value: {} } }).envelope;
    a.send(hello, silentPeer);
    const probe = settled(a.probe(silentPeer));
    const handshake = settled(a.handshake({ endpoint: mute.endpoint }));
    // The flood: 64 KB messages to a peer that stopped reading, until A's send queue is full.
    const big = unsignedGossip({
      tag: Tag.CHAN_AND_ORG,
      channel: new Uint8Array(Buffer.from('c')),
      content: { case: 'dataMsg', value: { payload: { seqNum: 1n, data: new Uint8Array(64 * 1024) } } },
    }).envelope;
    a.send(big, sinkPeer);
    await until(
      () => a.connections().some((c) => c.endpoint === sinkPeer.endpoint || c.queued > 0),
      'connection to the sink',
    );
    const queue = () =>
      a.connections().find((c) => Buffer.from(c.pkiId).equals(Buffer.from(sinkId.pkiId)))?.queued ?? 0;
    await until(
      () => {
        for (let i = 0; i < 50; i++) a.send(big, sinkPeer);
        return queue() >= 20;
      },
      'a full send queue',
      20_000,
    );
    assert.ok((await a.metrics.value('gossip_comm_overflow_count')) > 0, 'the flood overflowed');
    const ackMsg = create(GossipMessageSchema, { tag: Tag.EMPTY, content: { case: 'memReq', value: {} } });
    const acks = a.sendWithAck(ackMsg, 60_000, 1, [sinkPeer]);

    // Inbound: a TCP client that never starts TLS, a GossipStream that never sends ConnEstablish.
    const port = Number(a.endpoint.split(':')[1]);
    const mutedClient = connect(port, '127.0.0.1');
    mutedClient.on('error', () => undefined);
    const mutedClosed = new Promise((r) => mutedClient.once('close', r));
    await new Promise((r) => mutedClient.once('connect', r));
    const client = new grpc.Client(
      a.endpoint,
      channelCredentials(tlsOf(2, 2)),
      clientChannelOptions(commConfig()),
    );
    cleanups.push(() => client.close());
    const s = RawGossipService.GossipStream;
    const inbound = client.makeBidiStreamRequest(
      s.path,
      s.requestSerialize,
      s.responseDeserialize,
      new grpc.Metadata(),
      {},
    );
    inbound.on('error', () => undefined);
    const inboundDone = new Promise((r) => inbound.once('status', r));
    await new Promise((r) => inbound.once('data', r)); // A's ConnEstablish: A now waits for ours
    await until(() => a.openHandles().sockets >= 2, 'both inbound sockets accepted');

    const t0 = Date.now();
    await a.stop();
    const took = Date.now() - t0;
    assert.ok(took < STOP_BOUND_MS, `stop took ${took} ms`);

    const p = await probe;
    assert.equal(p.ok, false);
    assert.equal(!p.ok && p.code, 'STOPPED');
    const h = await handshake;
    assert.equal(h.ok, false);
    assert.equal(!h.ok && h.code, 'STOPPED');
    const results = await acks;
    assert.equal(results.length, 1);
    assert.match(results[0].error ?? '', /stopped|closed/);
    assert.equal(a.openHandles().sockets, 0);
    assert.equal(a.openHandles().clients, 0);
    assert.deepEqual(a.connectedPeers(), []);
    // The remote ends see their connections go, without waiting for any timeout.
    const within = (p: Promise<unknown>, what: string) =>
      Promise.race([
        p,
        new Promise((_, rej) =>
          setTimeout(() => rej(new Error(`${what} still open`)), STOP_BOUND_MS).unref(),
        ),
      ]);
    await within(mutedClosed, 'the silent TCP client');
    await within(inboundDone, 'the inbound GossipStream');
    await until(
      () => sinkCalls.every((c) => c.destroyed || c.cancelled),
      'the sink saw its stream end',
      STOP_BOUND_MS,
    );

    for (const c of cleanups.splice(0).reverse()) await c();
    await noResourcesBeyond(baseline);
  });
});
