/**
 * The same comm scenarios through both worlds, expecting the same outcomes and error codes:
 * real gRPC + mutual TLS on 127.0.0.1 (GrpcTransport, a manual clock: time moves only when a
 * scenario says so) and the simulation (SimTransport on a SimNetwork, virtual time). Both wrap
 * the one link of src/core/link; a difference here is a difference between the worlds' streams.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { testCrypto } from '../helpers/crypto.js';
import { ManualClock, startNode } from '../comm/fixtures.js';
import { until as untilReal } from '../helpers/until.js';
import { HandshakeError } from '../../src/core/link/handshake.js';
import type { ConnectionSummary } from '../../src/core/link/link.js';
import type { ReceivedMessage, Transport } from '../../src/core/link/types.js';
import { pkiIdKey, type PkiId } from '../../src/base/pkiid.js';
import { SimNetwork, SimNode, simCrypto, type SimCrypto } from '../../src/sim/index.js';
import { GossipMessageSchema } from '../../src/wire/gen/gossip/message_pb.js';
import { Tag, unsignedGossip } from '../../src/wire/gossip.js';

interface Peer {
  readonly t: Transport & { connections(): ConnectionSummary[] };
  readonly endpoint: string;
  readonly pkiId: PkiId;
  /** Every message its subscriber received. */
  readonly inbox: ReceivedMessage[];
  /** The peer's process dies. */
  kill(): Promise<void>;
}

interface World {
  /** peer<i>.org<org> */
  peer(org: 1 | 2, i: number): Promise<Peer>;
  /** Let the world run until `cond` holds (bounded). */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Move the world's clock `ms` forward. */
  advance(ms: number): Promise<void>;
  /** Let the world run until `p` settles; its outcome. */
  settle<T>(p: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

let root: string;
let simIds: SimCrypto;

function subscribeAll(t: Transport, inbox: ReceivedMessage[]): void {
  t.subscribe(
    () => true,
    (m) => inbox.push(m),
  );
}

async function realWorld(): Promise<World> {
  const clock = new ManualClock(Date.now());
  const started: Transport[] = [];
  return {
    async peer(org, i) {
      const t = await startNode(root, { org, peer: i, clock });
      started.push(t);
      const inbox: ReceivedMessage[] = [];
      subscribeAll(t, inbox);
      return { t, endpoint: t.endpoint, pkiId: t.selfPkiId, inbox, kill: () => t.stop() };
    },
    until: (cond, what) => untilReal(cond, what, 10_000),
    advance: async (ms) => clock.advance(ms),
    settle: (p) => p,
    close: async () => void (await Promise.all(started.map((t) => t.stop()))),
  };
}

async function simWorld(): Promise<World> {
  const net = new SimNetwork({ seed: 11 });
  return {
    async peer(org, i) {
      const node = new SimNode(net, { identity: simIds.peers[(org - 1) * 4 + i], trust: simIds.orgs });
      const inbox: ReceivedMessage[] = [];
      subscribeAll(node.transport, inbox);
      return {
        t: node.transport,
        endpoint: node.endpoint,
        pkiId: node.identity.pkiId,
        inbox,
        kill: async () => node.crash(),
      };
    },
    async until(cond, what) {
      assert.ok(await net.clock.runUntil(cond, 60_000), `timed out waiting for ${what}`);
    },
    advance: (ms) => net.clock.runFor(ms),
    async settle<T>(p: Promise<T>): Promise<T> {
      let done = false;
      p.then(
        () => (done = true),
        () => (done = true),
      );
      await net.clock.runUntil(() => done, 60_000);
      return p;
    },
    close: async () => undefined,
  };
}

const memReq = (n: number) =>
  unsignedGossip({ tag: Tag.EMPTY, nonce: BigInt(n), content: { case: 'memReq', value: {} } }).envelope;
const ask = () => create(GossipMessageSchema, { tag: Tag.EMPTY, content: { case: 'memReq', value: {} } });
const peerOf = (p: Peer) => ({ endpoint: p.endpoint, pkiId: p.pkiId });
const got = (p: Peer, n: number) => p.inbox.some((m) => m.message.nonce === BigInt(n));
const keys = (ids: PkiId[]) => ids.map(pkiIdKey).sort();
const codeOf = (e: unknown) =>
  e instanceof HandshakeError ? `HandshakeError ${e.code}` : (e as { code?: string }).code;

/** Each scenario builds its peers in a fresh world and returns an outcome to compare. */
type Scenario = (w: World) => Promise<unknown>;

const scenarios: Record<string, { run: Scenario; expect: unknown }> = {
  'send and receive; respond answers on the same connection': {
    async run(w) {
      const [a, b] = [await w.peer(1, 0), await w.peer(1, 1)];
      b.t.subscribe(
        (m) => m.message.nonce === 1n,
        (m) => m.respond(memReq(2)),
      );
      a.t.send(memReq(1), peerOf(b));
      await w.until(() => got(b, 1) && got(a, 2), 'the message and its response');
      const from = b.inbox.find((m) => m.message.nonce === 1n)!.conn.pkiId;
      return {
        from: pkiIdKey(from) === pkiIdKey(a.pkiId),
        aConns: keys(a.t.connectedPeers()).map((k) => k === pkiIdKey(b.pkiId)),
        bConns: keys(b.t.connectedPeers()).map((k) => k === pkiIdKey(a.pkiId)),
      };
    },
    expect: { from: true, aConns: [true], bConns: [true] },
  },

  'sendWithAck: acks, a remote error, and a timeout': {
    async run(w) {
      const [a, b, c, d] = [await w.peer(1, 0), await w.peer(1, 1), await w.peer(2, 0), await w.peer(2, 1)];
      b.t.subscribe(
        () => true,
        (m) => m.ack(),
      );
      c.t.subscribe(
        () => true,
        (m) => m.ack('busy'),
      );
      const acked = await w.settle(a.t.sendWithAck(ask(), 60_000, 2, [peerOf(b), peerOf(c)]));
      const byPeer = Object.fromEntries(acked.map((r) => [pkiIdKey(r.pkiId), r.error ?? 'ok']));
      const silent = a.t.sendWithAck(ask(), 5000, 1, [peerOf(d)]);
      await w.until(() => d.inbox.length === 1, 'the silent peer to get the message');
      await w.advance(5000);
      const [timedOut] = await w.settle(silent);
      return {
        b: byPeer[pkiIdKey(b.pkiId)],
        c: byPeer[pkiIdKey(c.pkiId)],
        d: timedOut.error,
        acksSeenBySubscribers: a.inbox.length,
      };
    },
    expect: { b: 'ok', c: 'busy', d: 'timed out waiting for ack after 5000 ms', acksSeenBySubscribers: 0 },
  },

  'simultaneous dials both ways keep one connection, the same at both ends': {
    async run(w) {
      const [a, b] = [await w.peer(1, 0), await w.peer(2, 0)];
      a.t.send(memReq(1), peerOf(b));
      b.t.send(memReq(2), peerOf(a));
      await w.until(
        () =>
          got(b, 1) && got(a, 2) && a.t.connectedPeers().length === 1 && b.t.connectedPeers().length === 1,
        'both messages over one connection',
      );
      a.t.send(memReq(3), peerOf(b));
      b.t.send(memReq(4), peerOf(a));
      await w.until(() => got(b, 3) && got(a, 4), 'traffic over the survivor');
      const [ca] = a.t.connections();
      const [cb] = b.t.connections();
      return {
        a: a.t.connectedPeers().length,
        b: b.t.connectedPeers().length,
        oppositeEnds: ca.direction !== cb.direction,
      };
    },
    expect: { a: 1, b: 1, oppositeEnds: true },
  },

  'presumed dead after the peer dies; a probe then fails to connect': {
    async run(w) {
      const [a, b] = [await w.peer(1, 0), await w.peer(1, 1)];
      a.t.send(memReq(1), peerOf(b));
      await w.until(() => got(b, 1), 'the first message');
      const dead = new Set<string>();
      a.t.onPresumedDead((p) => dead.add(pkiIdKey(p)));
      await b.kill();
      await w.until(() => a.t.connectedPeers().length === 0, 'the connection to close');
      a.t.send(memReq(2), peerOf(b));
      await w.until(() => dead.size > 0, 'presumed dead');
      const probe = await w.settle(a.t.probe(peerOf(b)).then(() => 'ok', codeOf));
      return { dead: [...dead].map((k) => k === pkiIdKey(b.pkiId)), probe };
    },
    expect: { dead: [true], probe: 'CONNECT' },
  },

  'a dial reaching a peer of another org than expected is refused: IDENTITY_REJECTED': {
    async run(w) {
      const [a, b, c] = [await w.peer(1, 0), await w.peer(1, 1), await w.peer(2, 0)];
      // a learns c's identity (Org2), then forgets the connection.
      a.t.send(memReq(1), peerOf(c));
      await w.until(() => got(c, 1), "c's identity known");
      a.t.closeConn(peerOf(c));
      await w.until(() => c.t.connectedPeers().length === 0, 'c to see the close');
      const impostor = { endpoint: b.endpoint, pkiId: c.pkiId }; // b (Org1) where c (Org2) is expected
      const handshake = await w.settle(a.t.handshake(impostor).then(() => 'ok', codeOf));
      const dead = new Set<string>();
      a.t.onPresumedDead((p) => dead.add(pkiIdKey(p)));
      a.t.send(memReq(2), impostor);
      await w.until(() => dead.size > 0, 'presumed dead');
      const [acked] = await w.settle(a.t.sendWithAck(ask(), 60_000, 1, [impostor]));
      return {
        handshake,
        dead: [...dead].map((k) => k === pkiIdKey(c.pkiId)),
        ackError: /claims to be a different peer/.test(acked.error ?? ''),
        bGotIt: got(b, 2),
        aConns: a.t.connectedPeers().length,
      };
    },
    expect: {
      handshake: 'HandshakeError IDENTITY_REJECTED',
      dead: [true],
      ackError: true,
      bGotIt: false,
      aConns: 0,
    },
  },

  'probe and a probe handshake authenticate without keeping a connection': {
    async run(w) {
      const [a, b] = [await w.peer(1, 0), await w.peer(2, 0)];
      const info = await w.settle(a.t.handshake({ endpoint: b.endpoint }));
      await w.settle(a.t.probe({ endpoint: b.endpoint }));
      const expected = await w.settle(a.t.handshake(peerOf(b)).then((i) => pkiIdKey(i.pkiId)));
      await w.until(() => b.t.connectedPeers().length === 0, 'b to end the probe streams');
      return {
        pkiId: pkiIdKey(info.pkiId) === pkiIdKey(b.pkiId),
        expected: expected === pkiIdKey(b.pkiId),
        aConns: a.t.connectedPeers().length,
        bInbox: b.inbox.length,
      };
    },
    expect: { pkiId: true, expected: true, aConns: 0, bInbox: 0 },
  },

  'closeConn closes at both ends; the next send dials again': {
    async run(w) {
      const [a, b] = [await w.peer(1, 0), await w.peer(1, 1)];
      a.t.send(memReq(1), peerOf(b));
      await w.until(() => got(b, 1), 'the first message');
      a.t.closeConn(peerOf(b));
      const right = a.t.connectedPeers().length;
      await w.until(() => b.t.connectedPeers().length === 0, 'b to see the close');
      a.t.send(memReq(2), peerOf(b));
      await w.until(() => got(b, 2) && a.t.connectedPeers().length === 1, 'a new connection');
      return { afterClose: right, reconnected: a.t.connectedPeers().length };
    },
    expect: { afterClose: 0, reconnected: 1 },
  },

  'stop is idempotent; afterwards nothing is sent and peers see it gone': {
    async run(w) {
      const [a, b] = [await w.peer(1, 0), await w.peer(1, 1)];
      a.t.send(memReq(1), peerOf(b));
      await w.until(() => got(b, 1), 'the first message');
      await w.settle(Promise.all([a.t.stop(), a.t.stop()]));
      await w.settle(a.t.stop());
      await w.until(() => b.t.connectedPeers().length === 0, 'b to see the connection end');
      a.t.send(memReq(2), peerOf(b));
      const [acked] = await w.settle(a.t.sendWithAck(ask(), 60_000, 1, [peerOf(b)]));
      const probe = await w.settle(a.t.probe(peerOf(b)).then(() => 'ok', codeOf));
      const dead = new Set<string>();
      b.t.onPresumedDead((p) => dead.add(pkiIdKey(p)));
      b.t.send(memReq(3), peerOf(a));
      await w.until(() => dead.size > 0, 'b to find a gone');
      return {
        aConns: a.t.connectedPeers().length,
        ack: acked.error,
        probe,
        bGot2: got(b, 2),
        dead: [...dead].map((k) => k === pkiIdKey(a.pkiId)),
      };
    },
    expect: { aConns: 0, ack: 'comm stopped', probe: 'STOPPED', bGot2: false, dead: [true] },
  },
};

before(async () => {
  [root, simIds] = await Promise.all([
    testCrypto({ orgs: 2, peersPerOrg: 4 }),
    simCrypto({ orgs: 2, peersPerOrg: 4 }),
  ]);
});

const worlds: Record<string, () => Promise<World>> = { real: realWorld, sim: simWorld };

for (const [scenario, { run, expect }] of Object.entries(scenarios)) {
  describe(scenario, () => {
    for (const [name, make] of Object.entries(worlds)) {
      test(name, async () => {
        const w = await make();
        try {
          assert.deepEqual(await run(w), expect);
        } finally {
          await w.close();
        }
      });
    }
  });
}
