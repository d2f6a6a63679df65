/**
 * The real gossip transport over 127.0.0.1 with mutual TLS: mesh, de-duplication, refusals,
 * probe/handshake, presumed dead, acks, identity switch, and stop leaving nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testCrypto } from '../helpers/crypto.js';
import { join } from 'node:path';
import {
  activeResources,
  noResourcesBeyond,
  peerFolder,
  startNode,
  type NodeSpec,
} from '../comm/fixtures.js';
import { until, untilMetric } from '../helpers/until.js';
import { loadCommIdentity } from '../../src/comm/identity.js';
import type { GrpcTransport } from '../../src/comm/transport.js';
import { type ReceivedMessage } from '../../src/core/link/types.js';
import { pkiIdKey, type PkiId } from '../../src/base/pkiid.js';
import { Tag, unsignedGossip } from '../../src/wire/gossip.js';
import { create } from '@bufbuild/protobuf';
import { GossipMessageSchema } from '../../src/wire/gen/gossip/message_pb.js';

let root: string;
const running: GrpcTransport[] = [];
// Node warns once per process when a TLS dial uses an IP address as the server name (DEP0123)
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${(w as { code?: string }).code ?? ''} ${w.message}`));

before(async () => {
  root = await testCrypto({ orgs: 3, peersPerOrg: 5 });
});
after(async () => {
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
const keys = (ids: PkiId[]) => ids.map(pkiIdKey).sort();

describe('comm over real sockets', () => {
  test('a full mesh of 10 nodes: one connection per pair, every message delivered', async () => {
    const nodes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => node({ org: 1 + (i % 2), peer: Math.floor(i / 2) })),
    );
    const got = new Map<string, Set<string>>(nodes.map((n) => [pkiIdKey(n.selfPkiId), new Set<string>()]));
    for (const n of nodes) {
      n.subscribe(
        (m) => m.message.content.case === 'memReq',
        (m) => got.get(pkiIdKey(n.selfPkiId))!.add(pkiIdKey(m.conn.pkiId)),
      );
    }
    for (const n of nodes) n.send(memReq(), ...nodes.filter((o) => o !== n).map(peerOf));
    await until(() => [...got.values()].every((s) => s.size === 9), 'every node to hear from the 9 others');
    await until(
      () => nodes.every((n) => n.connectedPeers().length === 9),
      'each node to settle on 9 connections',
    );
    for (const n of nodes) {
      assert.deepEqual(keys(n.connectedPeers()), keys(nodes.filter((o) => o !== n).map((o) => o.selfPkiId)));
      assert.equal(await n.metrics.value('grapevine_gossip_comm_conns_open'), 9);
      assert.equal(await n.metrics.value('grapevine_gossip_comm_handshake_failures_total'), 0);
    }
    await Promise.all(nodes.map((n) => n.stop()));
  });

  test('both sides dialling at once leave exactly one connection, the same one at both ends', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await node({ org: 1, peer: 0 });
      const b = await node({ org: 2, peer: 0 });
      const heardByA: number[] = [];
      const heardByB: number[] = [];
      a.subscribe(
        () => true,
        (m) => heardByA.push(Number(m.message.nonce)),
      );
      b.subscribe(
        () => true,
        (m) => heardByB.push(Number(m.message.nonce)),
      );
      a.send(memReq(1), peerOf(b));
      b.send(memReq(1), peerOf(a));
      await until(() => heardByA.length >= 1 && heardByB.length >= 1, 'first messages');
      await until(() => a.connections().length === 1 && b.connections().length === 1, 'one connection each');
      const [ca] = a.connections();
      const [cb] = b.connections();
      assert.notEqual(
        ca.direction,
        cb.direction,
        'one end dialled, the other accepted: the same TCP connection',
      );
      const aLower = pkiIdKey(a.selfPkiId) < pkiIdKey(b.selfPkiId);
      assert.equal(ca.direction, aLower ? 'out' : 'in', 'the survivor is the one the lower PKI-ID opened');
      // The surviving connection carries traffic both ways.
      a.send(memReq(2), peerOf(b));
      b.send(memReq(2), peerOf(a));
      await until(() => heardByA.includes(2) && heardByB.includes(2), 'traffic on the survivor');
      assert.equal(a.connections().length, 1);
      assert.equal(b.connections().length, 1);
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('probe and handshake: authenticate without keeping a connection', async () => {
    const a = await node({ org: 1, peer: 1 });
    const b = await node({ org: 2, peer: 1 });
    await a.probe({ endpoint: b.endpoint });
    const info = await a.handshake({ endpoint: b.endpoint });
    assert.deepEqual(info.pkiId, b.selfPkiId);
    assert.ok(info.auth.signature.length > 0 && info.auth.signedData.length > 0);
    await until(() => b.connections().length === 0, 'responder drops the probed stream');
    assert.equal(a.connections().length, 0);
    await assert.rejects(a.handshake({ endpoint: b.endpoint, pkiId: a.selfPkiId }), {
      code: 'IDENTITY_REJECTED',
    });
    await b.stop();
    await assert.rejects(a.probe({ endpoint: b.endpoint }), { code: 'CONNECT' });
    await a.stop();
  });

  test("the server counts Fabric's gRPC metrics: Ping (unary), GossipStream (stream, messages), connections", async () => {
    const a = await node({ org: 1, peer: 2 });
    const b = await node({ org: 2, peer: 2, grpcMetrics: true });
    await a.probe({ endpoint: b.endpoint });
    await a.handshake({ endpoint: b.endpoint });
    const ping = { service: 'gossip.Gossip', method: 'Ping' };
    const stream = { service: 'gossip.Gossip', method: 'GossipStream' };
    await until(
      async () => (await b.metrics.value('grpc_server_stream_requests_completed', stream)) >= 1,
      'the probed stream to complete',
    );
    // a probe pings; a handshake may ping before it opens its stream
    const pings = await b.metrics.value('grpc_server_unary_requests_received', ping);
    assert.ok(pings >= 1);
    assert.equal(
      await b.metrics.value('grpc_server_unary_requests_completed', { ...ping, code: 'OK' }),
      pings,
    );
    assert.equal(await b.metrics.value('grpc_server_stream_requests_received', stream), 1);
    assert.ok((await b.metrics.value('grpc_server_stream_messages_received', stream)) >= 1);
    assert.ok((await b.metrics.value('grpc_server_stream_messages_sent', stream)) >= 1);
    const text = await b.metrics.text();
    assert.match(
      text,
      new RegExp(
        `^grpc_server_unary_request_duration_count\\{service="gossip.Gossip",method="Ping",code="OK"\\} ${pings}$`,
        'm',
      ),
    );
    assert.ok((await b.metrics.value('grpc_comm_conn_opened')) >= 1);
    // the client (no grpcMetrics) exposes none of them
    assert.equal(await a.metrics.value('grpc_server_unary_requests_received'), 0);
    await a.stop();
    await until(
      async () =>
        (await b.metrics.value('grpc_comm_conn_closed')) === (await b.metrics.value('grpc_comm_conn_opened')),
      'every connection closed',
    );
    await b.stop();
  });

  test('TLS dials of 127.0.0.1 never use the IP address as server name (no DEP0123 warning so far)', () => {
    assert.deepEqual(
      warnings.filter((w) => w.startsWith('DEP0123')),
      [],
    );
  });

  test('a peer that cannot be reached is presumed dead', async () => {
    const a = await node({ org: 1, peer: 2 });
    const b = await node({ org: 2, peer: 2 });
    const target = peerOf(b);
    await b.stop();
    const dead: string[] = [];
    a.onPresumedDead((id) => dead.push(pkiIdKey(id)));
    a.send(memReq(), target);
    await until(() => dead.length === 1, 'presumed dead');
    assert.equal(dead[0], pkiIdKey(target.pkiId));
    await a.stop();
  });

  test('sendWithAck: success, remote error and timeout; acks are not delivered to subscribers', async () => {
    const a = await node({ org: 1, peer: 3 });
    const ok = await node({ org: 1, peer: 4 });
    const bad = await node({ org: 2, peer: 3 });
    const silent = await node({ org: 2, peer: 4 });
    const nonces: bigint[] = [];
    ok.subscribe(
      (m) => m.message.content.case === 'dataMsg',
      (m) => (nonces.push(m.message.nonce), m.ack()),
    );
    bad.subscribe(
      (m) => m.message.content.case === 'dataMsg',
      (m) => m.ack('no room'),
    );
    const seenByA: ReceivedMessage[] = [];
    a.subscribe(
      () => true,
      (m) => seenByA.push(m),
    );
    const msg = create(GossipMessageSchema, {
      tag: Tag.CHAN_AND_ORG,
      channel: new Uint8Array([1]),
      content: { case: 'dataMsg', value: {} },
    });
    const results = await a.sendWithAck(msg, 1500, 3, [peerOf(ok), peerOf(bad), peerOf(silent)]);
    const by = new Map(results.map((r) => [pkiIdKey(r.pkiId), r.error]));
    assert.equal(results.length, 3);
    assert.equal(by.get(pkiIdKey(ok.selfPkiId)), undefined);
    assert.equal(by.get(pkiIdKey(bad.selfPkiId)), 'no room');
    assert.match(by.get(pkiIdKey(silent.selfPkiId)) ?? '', /timed out/);
    assert.equal(nonces.length, 1);
    assert.notEqual(nonces[0], 0n, 'a fresh nonce was stamped');
    assert.equal(seenByA.length, 0, 'acks are intercepted');
    // minAck = 1 returns as soon as one peer acked.
    const quick = await a.sendWithAck(msg, 60_000, 1, [peerOf(ok), peerOf(silent)]);
    assert.equal(quick.length, 1);
    assert.deepEqual(quick[0].pkiId, ok.selfPkiId);
    await Promise.all([a.stop(), ok.stop(), bad.stop(), silent.stop()]);
  });

  test('a dial that reaches another peer of the same org is an identity switch; of another org, refused and recorded', async () => {
    const a = await node({ org: 1, peer: 0, trust: [1, 2, 3] });
    const old = await node({ org: 2, peer: 0, trust: [1, 2, 3] });
    const sameOrg = await node({ org: 2, peer: 1, trust: [1, 2, 3] });
    const otherOrg = await node({ org: 3, peer: 0, trust: [1, 2, 3] });
    await a.handshake(peerOf(old)); // a learns old's identity
    const switched: string[] = [];
    a.onIdentitySwitch((id) => switched.push(pkiIdKey(id)));
    const heard: string[] = [];
    sameOrg.subscribe(
      () => true,
      (m) => heard.push(pkiIdKey(m.conn.pkiId)),
    );
    a.send(memReq(), { endpoint: sameOrg.endpoint, pkiId: old.selfPkiId });
    await until(() => switched.length === 1 && heard.length === 1, 'identity switch');
    assert.equal(switched[0], pkiIdKey(old.selfPkiId));
    const dead: string[] = [];
    a.onPresumedDead((id) => dead.push(pkiIdKey(id)));
    a.send(memReq(), { endpoint: otherOrg.endpoint, pkiId: old.selfPkiId });
    await until(() => dead.length === 1, 'refusal reported');
    assert.ok(!keys(a.connectedPeers()).includes(pkiIdKey(otherOrg.selfPkiId)));
    assert.equal(
      await a.metrics.value('grapevine_gossip_comm_handshake_failures_total'),
      0,
      'the handshake itself succeeded',
    );
    // the refusal is recorded: it claims to be a different peer; the same-org switch is not
    const refused = a.refusedHandshakes();
    assert.equal(refused.length, 1, JSON.stringify(refused));
    const r = refused[0];
    assert.equal(r.direction, 'out');
    assert.equal(r.endpoint, otherOrg.endpoint);
    assert.equal(r.reason, 'IDENTITY_REJECTED');
    assert.equal(r.identityMismatch, true);
    assert.equal(r.claimedPkiId, pkiIdKey(otherOrg.selfPkiId));
    assert.equal(r.expectedPkiId, pkiIdKey(old.selfPkiId));
    assert.match(r.cert?.subject ?? '', /CN=peer0\.org3\.example\.com/);
    assert.equal(r.cert?.mspId, 'Org3MSP');
    assert.equal(r.expired, false);
    await Promise.all([a.stop(), old.stop(), sameOrg.stop(), otherOrg.stop()]);
  });

  test('after stop no handle or timer is left', async () => {
    const baseline = activeResources();
    const a = await node({ org: 1, peer: 0 });
    const b = await node({ org: 2, peer: 0 });
    const c = await node({ org: 1, peer: 1 });
    b.subscribe(
      () => true,
      (m) => m.ack(),
    );
    const msg = create(GossipMessageSchema, { tag: Tag.EMPTY, content: { case: 'memReq', value: {} } });
    await a.sendWithAck(msg, 5000, 1, [peerOf(b)]);
    a.send(memReq(), peerOf(c));
    await until(() => c.connectedPeers().length === 1, 'a->c connection');
    void a.sendWithAck(msg, 60_000, 1, [peerOf(c)]); // left waiting: stop must release its timer
    await a.handshake(peerOf(b));
    assert.ok(activeResources().length > baseline.length);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
    await a.stop(); // idempotent
    await noResourcesBeyond(baseline);
  });
});

describe('comm refuses peers the channel orgs do not vouch for', () => {
  test('an identity from an org no channel org knows is refused and counted (UNKNOWN_MSP)', async () => {
    const server = await node({ org: 1, peer: 0, trust: [1, 2] });
    const stranger = await node({ org: 3, peer: 0, trust: [1, 2, 3] });
    const heard: unknown[] = [];
    server.subscribe(
      () => true,
      (m) => heard.push(m),
    );
    stranger.send(memReq(), peerOf(server));
    await untilMetric(
      server.metrics,
      'grapevine_gossip_comm_handshake_failures_total',
      { reason: 'UNKNOWN_MSP' },
      1,
    );
    await until(() => stranger.connectedPeers().length === 0, 'the refused stream to end');
    assert.equal(server.connectedPeers().length, 0);
    assert.equal(heard.length, 0);
    await Promise.all([server.stop(), stranger.stop()]);
  });

  test('an identity issued by a CA of no org, under a known MSP ID, is refused and counted', async () => {
    const server = await node({ org: 1, peer: 0, trust: [1, 2] });
    // org3's certificate and key presented as an Org1MSP identity.
    const forged = await node({
      org: 3,
      peer: 1,
      trust: [1, 2, 3],
      identity: loadCommIdentity(join(peerFolder(root, 3, 1), 'msp'), 'Org1MSP'),
    });
    forged.send(memReq(), peerOf(server));
    await untilMetric(
      server.metrics,
      'grapevine_gossip_comm_handshake_failures_total',
      { reason: 'IDENTITY_REJECTED' },
      1,
    );
    assert.equal(await server.metrics.value('grapevine_gossip_comm_handshake_failures_total'), 1);
    assert.equal(server.connectedPeers().length, 0);
    await Promise.all([server.stop(), forged.stop()]);
  });

  test('with clientAuthRequired a client TLS certificate from an unknown CA fails at TLS', async () => {
    const server = await node({ org: 1, peer: 2, trust: [1, 2], config: { clientAuthRequired: true } });
    const stranger = await node({ org: 3, peer: 2, trust: [1, 2, 3] });
    const friend = await node({ org: 2, peer: 2, trust: [1, 2] });
    await assert.rejects(stranger.probe({ endpoint: server.endpoint }), { code: 'CONNECT' });
    await friend.probe({ endpoint: server.endpoint });
    await Promise.all([server.stop(), stranger.stop(), friend.stop()]);
  });
});
