/**
 * Connection limits of the gRPC servers (comm/listener.ts, base/conn-gate.ts) over real sockets on
 * 127.0.0.1: above the per-address or total cap a new connection closes the oldest connection that
 * has not authenticated, and is itself closed at accept only when all have, while a peer or client
 * already connected keeps working; an idle TCP connection and an idle TLS connection (HTTP/2
 * session up, no stream) are closed after the idle deadline, a stream without a handshake after
 * another, a stranger that sends too much at once; a half-done TLS handshake is closed after the
 * orderer's handshake deadline; each is counted in grapevine_conn_*.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { testCrypto } from '../helpers/crypto.js';
import { startNode, type NodeSpec } from '../comm/fixtures.js';
import { until, untilMetric } from '../helpers/until.js';
import type { GrpcTransport } from '../../src/comm/transport.js';
import { Tag, unsignedGossip } from '../../src/wire/gossip.js';
import { RawGossipService } from '../../src/comm/stream.js';
import { Orderer } from '../../src/orderer/server.js';
import { RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { sslCredentials, tlsTargetOptions } from '../../src/comm/tls.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { encode } from '../../src/wire/codec.js';
import {
  encodeSeekInfo,
  seekOldest,
  seekSpecified,
  SeekBehavior,
  signedEnvelope,
} from '../../src/wire/index.js';
import { EnvelopeSchema, HeaderType } from '../../src/wire/gen/common/common_pb.js';
import { ORDERER_TLS, fixture, type Fixture } from '../orderer/fixtures.js';
import type { Metrics } from '../../src/base/metrics.js';
import { rawConn } from '../helpers/raw-conn.js';

let root: string;
const running: GrpcTransport[] = [];
const sockets: Socket[] = [];

before(async () => {
  root = await testCrypto({ orgs: 2, peersPerOrg: 3 });
});
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(running.map((n) => n.stop()));
});

async function node(spec: NodeSpec): Promise<GrpcTransport> {
  const n = await startNode(root, spec);
  running.push(n);
  return n;
}

const memReq = (n = 0) =>
  unsignedGossip({ tag: Tag.EMPTY, nonce: BigInt(n), content: { case: 'memReq', value: {} } }).envelope;
const peerOf = (n: GrpcTransport) => ({ endpoint: n.endpoint, pkiId: n.selfPkiId });
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/** An HTTP/2 session (TLS or not) that opens no stream; `closed()` once the server closed it. */
async function idleSession(port: number, tls: boolean): Promise<() => boolean> {
  const session = http2Connect(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`, {
    rejectUnauthorized: false,
  });
  let closed = false;
  session.on('error', () => undefined);
  session.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('close', () => reject(new Error('idle session closed before it connected')));
  });
  return () => closed;
}

const open = (m: Metrics, server: string) => m.value('grapevine_conn_open', { server });

/** A gossip round trip: b sends to a (b dials a when not connected), a answers. */
async function roundTrip(a: GrpcTransport, b: GrpcTransport, nonce: number): Promise<void> {
  const heard = { a: false, b: false };
  const ua = a.subscribe(
    (m) => m.message.nonce === BigInt(nonce),
    () => (heard.a = true),
  );
  const ub = b.subscribe(
    (m) => m.message.nonce === BigInt(nonce),
    () => (heard.b = true),
  );
  b.send(memReq(nonce), peerOf(a));
  await until(() => heard.a, `a to hear b (${nonce})`);
  a.send(memReq(nonce), peerOf(b));
  await until(() => heard.b, `b to hear a (${nonce})`);
  ua();
  ub();
}

describe('gossip server connection limits', () => {
  test('over the per-address cap a new connection closes the oldest unauthenticated one; the connected peer keeps working', async () => {
    const a = await node({ org: 1, peer: 0, config: { maxConnsPerAddress: 4 } });
    const b = await node({ org: 1, peer: 1 });
    await roundTrip(a, b, 1);
    const before = await open(a.metrics, 'gossip');
    assert.ok(before >= 1 && before < 4, `connections from b: ${before}`);
    const held = [];
    for (let i = before; i < 4; i++) held.push(await rawConn(portOf(a.endpoint), sockets));
    await until(async () => (await open(a.metrics, 'gossip')) === 4, 'a to hold 4 connections');
    const over = await rawConn(portOf(a.endpoint), sockets);
    await until(held[0]!.closed, 'the oldest stranger to be closed for the new connection');
    await untilMetric(
      a.metrics,
      'grapevine_conn_evicted_total',
      { server: 'gossip', reason: 'per_address' },
      1,
    );
    assert.ok(!over.closed(), 'the new connection is admitted');
    assert.equal(await a.metrics.value('grapevine_conn_refused_total'), 0);
    assert.ok(
      held.slice(1).every((h) => !h.closed()),
      'only the oldest stranger is shed',
    );
    // the authenticated peer is never shed, and a new peer gets through the full cap
    await roundTrip(a, b, 2);
    const c = await node({ org: 2, peer: 0 });
    await roundTrip(a, c, 3);
    await roundTrip(a, b, 4);
    for (const h of held) h.socket.destroy();
    over.socket.destroy();
  });

  test('when every connection in scope authenticated, one more is closed at accept and counted', async () => {
    const a = await node({ org: 1, peer: 2, tls: false, config: { maxConns: 1 } });
    const b = await node({ org: 2, peer: 2, tls: false });
    await roundTrip(a, b, 5);
    await until(async () => (await open(a.metrics, 'gossip')) === 1, 'a to hold b only');
    const over = await rawConn(portOf(a.endpoint), sockets);
    await until(over.closed, 'the connection over the cap to be closed');
    await untilMetric(a.metrics, 'grapevine_conn_refused_total', { server: 'gossip', reason: 'total' }, 1);
    assert.equal(await a.metrics.value('grapevine_conn_evicted_total'), 0);
    await roundTrip(a, b, 6);
  });

  test('a stream that never authenticates and a stranger that sends too much are closed and counted', async () => {
    const a = await node({
      org: 2,
      peer: 1,
      tls: false,
      config: { idleTimeoutMs: 300, maxUnauthenticatedBytes: 65536 },
    });
    // a GossipStream opened and left without a handshake: the authentication deadline
    const client = new grpc.Client(a.endpoint, grpc.credentials.createInsecure());
    const m = RawGossipService.GossipStream;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    const ended = new Promise<void>((resolve) => {
      call.on('error', () => resolve());
      call.on('end', () => resolve());
    });
    await ended;
    client.close();
    await untilMetric(a.metrics, 'grapevine_conn_closed_idle_total', { server: 'gossip' }, 1);
    // 256 KB of gRPC messages on a stream before any handshake: over the 64 KB allowance
    const b = await node({ org: 2, peer: 2, tls: false, config: { maxUnauthenticatedBytes: 65536 } });
    const flooder = new grpc.Client(b.endpoint, grpc.credentials.createInsecure());
    const flood = flooder.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    flood.on('error', () => undefined);
    for (let i = 0; i < 8; i++) flood.write(Buffer.alloc(32 * 1024, 0x41));
    await untilMetric(b.metrics, 'grapevine_conn_closed_bytes_total', { server: 'gossip' }, 1);
    flooder.close();
    assert.equal(await a.metrics.value('grapevine_conn_closed_idle_total'), 1);
  });

  test('an idle TCP and an idle TLS connection are closed after the idle deadline; a peer with a stream is not', async () => {
    const plain = await node({ org: 2, peer: 1, tls: false, config: { idleTimeoutMs: 300 } });
    const tcp = await rawConn(portOf(plain.endpoint), sockets);
    const h2 = await idleSession(portOf(plain.endpoint), false);
    await until(() => tcp.closed() && h2(), 'idle plaintext connections to be closed');
    await untilMetric(plain.metrics, 'grapevine_conn_closed_idle_total', { server: 'gossip' }, 2);

    const a = await node({ org: 2, peer: 2, config: { idleTimeoutMs: 300 } });
    const b = await node({ org: 2, peer: 0 });
    await roundTrip(a, b, 4);
    const t0 = Date.now();
    const tlsIdle = await idleSession(portOf(a.endpoint), true);
    await until(tlsIdle, 'the idle TLS connection to be closed');
    assert.ok(Date.now() - t0 >= 250, `closed after ${Date.now() - t0} ms, before the idle deadline`);
    await untilMetric(a.metrics, 'grapevine_conn_closed_idle_total', { server: 'gossip' }, 1);
    assert.equal(await a.metrics.value('grapevine_conn_handshake_timeouts_total'), 0);
    // b's connection (older than the deadline, with its stream) still carries messages
    await roundTrip(a, b, 5);
    // plaintext HTTP to the TLS port: a failed TLS handshake, counted by layer
    const http = await rawConn(portOf(a.endpoint), sockets);
    http.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(http.closed, 'the plaintext client to be closed');
    await untilMetric(a.metrics, 'grapevine_conn_errors_total', { server: 'gossip', kind: 'tls' }, 1);
    assert.equal(await a.metrics.value('grapevine_conn_closed_idle_total'), 1);
  });
});

/** One Deliver of the genesis block over an existing client: the number of blocks received. */
async function deliverGenesis(client: grpc.Client, f: Fixture): Promise<number> {
  const env = signedEnvelope(
    {
      type: HeaderType.DELIVER_SEEK_INFO,
      channelId: f.channel,
      data: encodeSeekInfo({
        start: seekOldest(),
        stop: seekSpecified(0n),
        behavior: SeekBehavior.BLOCK_UNTIL_READY,
      }),
      nowMs: Date.now(),
    },
    f.peer.signer,
  );
  const m = RawAtomicBroadcastService.Deliver;
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
  let blocks = 0;
  await new Promise<void>((resolve) => {
    call.on('data', (b: Buffer) => {
      const r = parseDeliverResponse(b);
      if (r.case === 'block') blocks++;
      else if (r.case === 'status') call.end();
    });
    call.on('end', resolve);
    call.on('error', () => resolve());
    call.write(Buffer.from(encode(EnvelopeSchema, env)));
  });
  return blocks;
}

describe('orderer connection limits', () => {
  test('a half-done TLS handshake is closed after the handshake deadline; the per-address cap sheds a stranger, not the connected client', async () => {
    const f = await fixture();
    const o = await Orderer.start({
      signer: f.orderer.signer,
      listen: '127.0.0.1:0',
      dataDir: mkdtempSync(join(tmpdir(), 'grapevine-net-connlimits-')),
      genesis: f.genesis,
      tls: {
        certPem: f.file(`${ORDERER_TLS}/server.crt`),
        keyPem: f.file(`${ORDERER_TLS}/server.key`),
        clientAuthRequired: false,
      },
      connLimits: { handshakeTimeoutMs: 300, idleTimeoutMs: 300, maxConnsPerAddress: 3 },
    });
    const client = new grpc.Client(
      o.address,
      sslCredentials(Buffer.from(f.file(`${ORDERER_TLS}/ca.crt`))),
      tlsTargetOptions(o.address),
    );
    try {
      assert.equal(await deliverGenesis(client, f), 1);
      // half a TLS handshake: a record header announcing a ClientHello that never comes
      const half = await rawConn(o.port, sockets);
      half.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x01, 0x00, 0x01]));
      const t0 = Date.now();
      await until(half.closed, 'the half-done handshake to be closed');
      assert.ok(Date.now() - t0 >= 250, `closed after ${Date.now() - t0} ms`);
      await untilMetric(o.metrics, 'grapevine_conn_handshake_timeouts_total', { server: 'orderer' }, 1);
      // TLS done, no stream: the idle deadline
      const idle = await idleSession(o.port, true);
      await until(idle, 'the idle TLS connection to be closed');
      await untilMetric(o.metrics, 'grapevine_conn_closed_idle_total', { server: 'orderer' }, 1);
      // fill the per-address cap next to the connected client: one more sheds the oldest stranger
      const n = await open(o.metrics, 'orderer');
      assert.equal(n, 1, 'only the Deliver client is connected');
      const held = [await rawConn(o.port, sockets), await rawConn(o.port, sockets)];
      await until(async () => (await open(o.metrics, 'orderer')) === 3, 'the orderer to hold 3 connections');
      const over = await rawConn(o.port, sockets);
      await until(held[0]!.closed, 'the oldest stranger to be closed');
      await untilMetric(
        o.metrics,
        'grapevine_conn_evicted_total',
        { server: 'orderer', reason: 'per_address' },
        1,
      );
      assert.ok(!over.closed() && !held[1]!.closed());
      assert.equal(
        await deliverGenesis(client, f),
        1,
        'the connected (authenticated) client is still served',
      );
      for (const h of held) h.socket.destroy();
      over.socket.destroy();
    } finally {
      client.close();
      await o.stop();
    }
  });
});
