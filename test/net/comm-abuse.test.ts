/**
 * Hostile and broken input on real sockets: a hand-driven client sends whatever it likes on a
 * GossipStream; the transport refuses or drops it, counts it by reason, and other connections
 * keep working. Plus a flood that overflows the send queue with bounded memory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { testCrypto } from '../helpers/crypto.js';
import { nodeIdentity, orgTlsCaPem, peerFolder, startNode, type NodeSpec } from '../comm/fixtures.js';
import { until, untilMetric } from '../helpers/until.js';
import type { GrpcTransport } from '../../src/comm/transport.js';
import { buildConnEstablish } from '../../src/core/link/handshake.js';
import { loadCommTls } from '../../src/comm/identity.js';
import { channelCredentials, leafDer } from '../../src/comm/tls.js';
import { clientChannelOptions } from '../../src/comm/dialer.js';
import { commConfig } from '../../src/core/link/comm-config.js';
import { RawGossipService } from '../../src/comm/stream.js';
import { Tag, encodeEnvelope, unsignedGossip } from '../../src/wire/gossip.js';
import { create } from '@bufbuild/protobuf';
import { EnvelopeSchema } from '../../src/wire/gen/gossip/message_pb.js';
import { encode } from '../../src/wire/codec.js';

let root: string;
const running: GrpcTransport[] = [];
const rawClients: grpc.Client[] = [];

before(async () => {
  root = await testCrypto({ orgs: 2, peersPerOrg: 3 });
});
after(async () => {
  for (const c of rawClients) c.close();
  await Promise.all(running.map((n) => n.stop()));
});

async function node(spec: NodeSpec): Promise<GrpcTransport> {
  const n = await startNode(root, spec);
  running.push(n);
  return n;
}

const memReq = (n = 0) =>
  unsignedGossip({ tag: Tag.EMPTY, nonce: BigInt(n), content: { case: 'memReq', value: {} } }).envelope;
const frameOf = (env: Parameters<typeof encodeEnvelope>[0]) => Buffer.from(encodeEnvelope(env));

/** A GossipStream driven by hand, with the TLS client certificate of peer<peer>.org<org>. */
function rawStream(org: number, peer: number, endpoint: string) {
  const tls = loadCommTls(join(peerFolder(root, org, peer), 'tls'), [
    orgTlsCaPem(root, 1),
    orgTlsCaPem(root, 2),
  ]);
  const client = new grpc.Client(endpoint, channelCredentials(tls), clientChannelOptions(commConfig()));
  rawClients.push(client);
  const s = RawGossipService.GossipStream;
  const call = client.makeBidiStreamRequest(
    s.path,
    s.requestSerialize,
    s.responseDeserialize,
    new grpc.Metadata(),
    {},
  );
  const frames: Buffer[] = [];
  let ended = false;
  let status: number | undefined;
  call.on('data', (f: Buffer) => frames.push(f));
  call.on('status', (st: grpc.StatusObject) => (status = st.code));
  call.on('error', () => (ended = true));
  call.on('end', () => (ended = true));
  const id = nodeIdentity(root, org, peer);
  return {
    call,
    frames,
    ended: () => ended,
    status: () => status,
    ownLeaf: leafDer(tls.certPem),
    id,
    /** A correct ConnEstablish of this client. */
    hello: () =>
      frameOf(buildConnEstablish({ pkiId: id.pkiId, signer: id.signer }, leafDer(tls.certPem), false)),
  };
}

describe('comm refuses bad handshakes', () => {
  test('mismatched TLS hash, replayed, unsigned, garbage and missing ConnEstablish are refused by reason', async () => {
    const server = await node({ org: 1, peer: 0, config: { connTimeoutMs: 300 } });
    const fails = (reason: string, want: number) =>
      untilMetric(server.metrics, 'grapevine_gossip_comm_handshake_failures_total', { reason }, want);

    // Our own identity, but the TLS hash of another certificate.
    const a = rawStream(2, 0, server.endpoint);
    const otherLeaf = leafDer(loadCommTls(join(peerFolder(root, 2, 1), 'tls')).certPem);
    a.call.write(frameOf(buildConnEstablish({ pkiId: a.id.pkiId, signer: a.id.signer }, otherLeaf, false)));
    await fails('TLS_HASH_MISMATCH', 1);
    await until(a.ended, 'refused stream to end');

    // A genuine ConnEstablish of peer1.org2, replayed over peer2.org2's TLS session.
    const victimId = nodeIdentity(root, 2, 1);
    const victimLeaf = leafDer(loadCommTls(join(peerFolder(root, 2, 1), 'tls')).certPem);
    const replay = rawStream(2, 2, server.endpoint);
    replay.call.write(
      frameOf(buildConnEstablish({ pkiId: victimId.pkiId, signer: victimId.signer }, victimLeaf, false)),
    );
    await fails('TLS_HASH_MISMATCH', 2);

    // Correct everything but no signature.
    const u = rawStream(1, 1, server.endpoint);
    const env = buildConnEstablish({ pkiId: u.id.pkiId, signer: u.id.signer }, u.ownLeaf, false);
    u.call.write(frameOf(create(EnvelopeSchema, { payload: env.payload })));
    await fails('BAD_SIGNATURE', 1);

    // Garbage, then nothing at all.
    const g = rawStream(1, 2, server.endpoint);
    g.call.write(Buffer.from([0xff, 0xff, 0xff, 0x01]));
    await fails('NOT_CONN', 1);
    rawStream(2, 2, server.endpoint).call.write(frameOf(memReq()));
    await fails('NOT_CONN', 2);
    rawStream(2, 1, server.endpoint);
    await fails('TIMEOUT', 1);

    assert.equal(server.connectedPeers().length, 0);
    assert.equal(await server.metrics.value('grapevine_gossip_comm_handshake_failures_total'), 6);
  });
});

describe('comm drops bad frames on an authenticated connection', () => {
  test('garbage, bad payloads, extra ConnEstablish and oversized frames; other connections untouched', async () => {
    const server = await node({ org: 1, peer: 0, config: { maxRecvMsgSize: 64 * 1024 } });
    const friend = await node({ org: 1, peer: 1 });
    const heard: string[] = [];
    server.subscribe(
      () => true,
      (m) => heard.push(`${m.message.content.case}:${m.message.nonce}`),
    );
    friend.send(memReq(1), { endpoint: server.endpoint, pkiId: server.selfPkiId });
    await until(() => heard.includes('memReq:1'), 'friend connected');
    const bad = (reason: string, want: number) =>
      untilMetric(server.metrics, 'grapevine_gossip_comm_bad_input_total', { reason }, want);

    const open = async (org: number, peer: number) => {
      const s = rawStream(org, peer, server.endpoint);
      s.call.write(s.hello());
      await until(() => s.frames.length > 0 && server.connectedPeers().length === 2, 'raw handshake');
      return s;
    };
    // An extra ConnEstablish and a message without content are dropped; the connection stays.
    let s = await open(2, 0);
    s.call.write(s.hello());
    s.call.write(frameOf(create(EnvelopeSchema, { payload: new Uint8Array(0) })));
    s.call.write(frameOf(memReq(2)));
    await until(() => heard.includes('memReq:2'), 'the good frame after the bad ones');
    await bad('unexpected_conn', 1);
    await bad('no_content', 1);
    assert.equal(s.ended(), false);
    // Bytes that are not an Envelope close the connection.
    s.call.write(Buffer.from([0x0a, 0xff]));
    await bad('malformed_envelope', 1);
    await until(s.ended, 'closed after garbage');
    // A payload that is not a GossipMessage closes it too.
    s = await open(2, 1);
    s.call.write(Buffer.from(encode(EnvelopeSchema, { payload: new Uint8Array([0x2a, 0x05, 1]) })));
    await bad('malformed_payload', 1);
    await until(s.ended, 'closed after bad payload');
    // Over the size limit: refused by gRPC, the stream ends.
    s = await open(2, 2);
    s.call.write(
      frameOf(
        unsignedGossip({
          tag: Tag.EMPTY,
          content: { case: 'memRes', value: { alive: [{ payload: new Uint8Array(100 * 1024) }] } },
        }).envelope,
      ),
    );
    await until(s.ended, 'closed after an oversized frame');
    assert.equal(s.status(), grpc.status.RESOURCE_EXHAUSTED);
    // The friend's connection never noticed.
    friend.send(memReq(3), { endpoint: server.endpoint, pkiId: server.selfPkiId });
    await until(() => heard.includes('memReq:3'), 'friend still connected');
    assert.deepEqual(server.connectedPeers(), [friend.selfPkiId]);
    assert.equal(await friend.metrics.value('grapevine_gossip_comm_conns_open'), 1);
  });
});

describe('comm send queue', () => {
  test('a flood overflows the bounded queue: drops are counted, nothing else is lost, memory stays bounded', async () => {
    const sender = await node({ org: 1, peer: 2 });
    const receiver = await node({ org: 2, peer: 2 });
    let received = 0;
    receiver.subscribe(
      () => true,
      () => received++,
    );
    const target = { endpoint: receiver.endpoint, pkiId: receiver.selfPkiId };
    sender.send(memReq(), target);
    await until(() => received === 1, 'connected');
    const total = 3000;
    const body = new Uint8Array(100 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let i = 0; i < total; i++) {
      sender.send(
        unsignedGossip({
          tag: Tag.EMPTY,
          nonce: BigInt(i),
          content: { case: 'memRes', value: { alive: [{ payload: body }] } },
        }).envelope,
        target,
      );
      if (i % 100 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      const queued = sender.connections()[0]?.queued ?? 0;
      assert.ok(queued <= sender.config.sendBuffSize, `queue ${queued} over its bound`);
    }
    const overflow = await sender.metrics.value('gossip_comm_overflow_count');
    assert.ok(overflow > 0, 'the queue overflowed');
    assert.ok(
      peak < 120 * 1024 * 1024,
      `buffers grew by ${Math.round(peak / 1048576)} MiB for ${Math.round((total * body.length) / 1048576)} MiB sent`,
    );
    await until(() => sender.connections()[0].queued === 0, 'the queue to drain');
    const sent = await sender.metrics.value('gossip_comm_messages_sent');
    assert.equal(sent + overflow, total + 1, 'every message was either written or counted as overflow');
    await until(() => received === sent, 'everything written arrives');
    assert.equal(await receiver.metrics.value('gossip_comm_messages_received'), sent);
  });
});
