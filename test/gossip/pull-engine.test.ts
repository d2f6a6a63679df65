import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, VirtualClock } from '../../src/sim/index.js';
import { Metrics } from '../../src/base/metrics.js';
import {
  PullEngine,
  pullConfig,
  type PullAdapter,
  type PullItem,
  type PullMember,
} from '../../src/core/pull/index.js';
import {
  digestEnvelope,
  helloEnvelope,
  requestEnvelope,
  updateEnvelope,
} from '../../src/core/pull/messages.js';
import { PullMsgType, Tag, channelBytes, unsignedGossip } from '../../src/wire/gossip.js';
import type { GossipMessage } from '../../src/wire/gen/gossip/message_pb.js';
import { FakeNet, testPkiId } from './fakenet.js';
import type { FakeTransport } from '../helpers/fake-transport.js';

const CH = 'ch';
const KIND = { msgType: PullMsgType.BLOCK_MSG, tag: Tag.CHAN_AND_ORG, channel: CH };
const text = (b: Uint8Array) => Buffer.from(b).toString();

function item(n: number): PullItem {
  const { envelope, message } = unsignedGossip({
    tag: Tag.CHAN_AND_ORG,
    channel: channelBytes(CH),
    content: { case: 'dataMsg', value: { payload: { seqNum: BigInt(n), data: new Uint8Array([n]) } } },
  });
  return { id: Buffer.from(String(n)), envelope, message };
}

function idOf(message: GossipMessage): Uint8Array {
  if (message.content.case !== 'dataMsg' || !message.content.value.payload) throw new Error('not a block');
  return Buffer.from(String(message.content.value.payload.seqNum));
}

interface Node {
  readonly t: FakeTransport;
  readonly engine: PullEngine;
  readonly metrics: Metrics;
  readonly accepted: PullItem[][];
}

interface World {
  readonly clock: VirtualClock;
  readonly net: FakeNet;
  readonly nodes: Node[];
  readonly members: PullMember[];
}

function world(
  n: number,
  opts: {
    seed?: number;
    adapter?: (i: number) => Partial<PullAdapter>;
    config?: Parameters<typeof pullConfig>[0];
  } = {},
): World {
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  const members: PullMember[] = [];
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const t = net.node(`p${i}:7051`, testPkiId(i + 1));
    members.push({ pkiId: t.selfPkiId, endpoint: t.endpoint });
    const metrics = new Metrics();
    const accepted: PullItem[][] = [];
    const engine = new PullEngine({
      name: 'test',
      transport: t,
      clock,
      rng: new SeededRng((opts.seed ?? 1) * 100 + i),
      metrics,
      config: pullConfig(opts.config),
      adapter: {
        ...KIND,
        membership: () => members.filter((m) => m.endpoint !== t.endpoint),
        itemId: idOf,
        acceptUpdate: (items) => {
          accepted.push([...items]);
          return items;
        },
        ...opts.adapter?.(i),
      },
    });
    // every node answers; only started engines run rounds
    t.subscribe(
      (m) => engine.isMine(m.message),
      (m) => engine.handleMessage(m),
    );
    nodes.push({ t, engine, metrics, accepted });
  }
  return { clock, net, nodes, members };
}

const held = (e: PullEngine) =>
  e.store
    .ids()
    .map(text)
    .sort((a, b) => Number(a) - Number(b));
const dropped = (node: Node, reason: string) =>
  node.metrics.value('grapevine_gossip_pull_dropped_total', { reason });

test('two engines exchange their items in one round; wire fields as Fabric sends them', async () => {
  const { clock, net, nodes } = world(2);
  const [a, b] = nodes as [Node, Node];
  a.engine.add(item(1));
  a.engine.add(item(2));
  b.engine.add(item(3));
  a.engine.start();
  b.engine.start();
  await clock.runFor(4000 + 3000 + 10);
  assert.deepEqual(held(a.engine), ['1', '2', '3']);
  assert.deepEqual(held(b.engine), ['1', '2', '3']);
  for (const kind of ['hello', 'dataDig', 'dataReq', 'dataUpdate'] as const) {
    const msgs = net.sent(kind);
    assert.ok(msgs.length >= 2, `${kind} sent both ways`);
    for (const s of msgs) {
      assert.equal(s.message.nonce, 0n, 'outer nonce 0');
      assert.equal(s.message.tag, Tag.CHAN_AND_ORG);
      assert.equal(text(s.message.channel), CH);
      assert.equal(s.envelope.signature.length, 0, 'unsigned');
      const v = s.message.content.value as { nonce: bigint; msgType: PullMsgType };
      assert.equal(v.msgType, PullMsgType.BLOCK_MSG);
      assert.notEqual(v.nonce, 0n);
    }
  }
  // a's request to b carries the nonce of a's hello to b, and asks only for what a lacks
  const hello = net.sent('hello', 'p0:7051', 'p1:7051')[0]!;
  const req = net.sent('dataReq', 'p0:7051', 'p1:7051')[0]!;
  assert.equal(
    (req.message.content.value as { nonce: bigint }).nonce,
    (hello.message.content.value as { nonce: bigint }).nonce,
  );
  assert.deepEqual((req.message.content.value as { digests: Uint8Array[] }).digests.map(text), ['3']);
  // the update carries the stored envelope bytes unchanged
  const upd = net.sent('dataUpdate', 'p1:7051', 'p0:7051')[0]!;
  const data = (upd.message.content.value as { data: { payload: Uint8Array }[] }).data;
  assert.deepEqual(Buffer.from(data[0]!.payload), Buffer.from(item(3).envelope.payload));
  assert.equal(await a.metrics.value('grapevine_gossip_pull_items_pulled_total'), 1);
  assert.equal(await a.metrics.value('grapevine_gossip_pull_items'), 3);
  a.engine.stop();
  b.engine.stop();
  assert.deepEqual(clock.errors, []);
});

test('several engines converge; each round hellos min(pullPeerNum, n) distinct peers with fresh nonces', async () => {
  const { clock, net, nodes } = world(7, { seed: 3 });
  nodes.forEach((n, i) => n.engine.add(item(i)));
  for (const n of nodes) n.engine.start();
  await clock.runUntil(() => nodes.every((n) => n.engine.store.size === 7), 10 * 4000);
  for (const n of nodes) assert.deepEqual(held(n.engine), ['0', '1', '2', '3', '4', '5', '6']);
  const firstAt = Math.min(...net.sent('hello').map((s) => s.at));
  const byFrom = new Map<string, Set<string>>();
  for (const s of net.sent('hello').filter((x) => x.at === firstAt)) {
    const set = byFrom.get(s.from) ?? new Set();
    set.add(s.to);
    byFrom.set(s.from, set);
  }
  assert.equal(byFrom.size, 7);
  for (const [, tos] of byFrom) assert.equal(tos.size, 3);
  const nonces = net.sent('hello').map((s) => (s.message.content.value as { nonce: bigint }).nonce);
  assert.equal(new Set(nonces).size, nonces.length, 'nonces unique');
  for (const n of nodes) n.engine.stop();
});

test('an item advertised by several owners is requested from exactly one of them', async () => {
  const { clock, net, nodes } = world(4);
  const [a, ...rest] = nodes as [Node, ...Node[]];
  for (const n of rest) n.engine.add(item(9));
  a.engine.start();
  await clock.runFor(4000 + 3000);
  assert.equal(net.sent('dataReq', 'p0:7051').length, 1);
  assert.equal(net.sent('dataUpdate').length, 1);
  assert.deepEqual(held(a.engine), ['9']);
  a.engine.stop();
});

test('no digest is sent for an empty store or when the egress filter hides everything', async () => {
  const { clock, net, nodes } = world(3, {
    adapter: (i) => (i === 2 ? { egressFilter: () => () => false } : {}),
  });
  nodes[2]!.engine.add(item(5));
  nodes[0]!.engine.start();
  await clock.runFor(4000 + 3000);
  assert.equal(net.sent('hello', 'p0:7051').length, 2);
  assert.equal(net.sent('dataDig').length, 0);
  assert.equal(net.sent('dataReq').length, 0);
  // the filter also applies to requests: a request for the hidden item gets no update
  const hello = helloEnvelope(KIND, 77n);
  const p2 = nodes[2]!;
  p2.engine.handleMessage(p2.t.received(hello, nodes[0]!.t));
  p2.engine.handleMessage(p2.t.received(requestEnvelope(KIND, 77n, [Buffer.from('5')]), nodes[0]!.t));
  await clock.runFor(10);
  assert.equal(net.sent('dataUpdate').length, 0);
  nodes[0]!.engine.stop();
});

test('a digest arriving after digestWaitTime is ignored; no request follows', async () => {
  const { clock, net, nodes } = world(2);
  net.latency = (_f, _t, m) => (m.content.case === 'dataDig' ? 1001 : 1);
  nodes[1]!.engine.add(item(1));
  nodes[0]!.engine.start();
  await clock.runFor(4000 + 3000);
  assert.equal(net.sent('dataDig').length, 1);
  assert.equal(net.sent('dataReq').length, 0);
  assert.equal(nodes[0]!.engine.store.size, 0);
  assert.equal(await dropped(nodes[0]!, 'digest_outside_window'), 1);
  nodes[0]!.engine.stop();
});

test('a digest just inside digestWaitTime is used', async () => {
  const { clock, net, nodes } = world(2);
  net.latency = (_f, _t, m) => (m.content.case === 'dataDig' ? 998 : 1);
  nodes[1]!.engine.add(item(1));
  nodes[0]!.engine.start();
  await clock.runFor(4000 + 3000);
  assert.deepEqual(held(nodes[0]!.engine), ['1']);
  nodes[0]!.engine.stop();
});

test('an update arriving after responseWaitTime is ignored (its nonce is forgotten)', async () => {
  const { clock, net, nodes } = world(2);
  net.latency = (_f, _t, m) => (m.content.case === 'dataUpdate' ? 2001 : 1);
  nodes[1]!.engine.add(item(1));
  nodes[0]!.engine.start();
  await clock.runFor(4000 + 3100);
  assert.equal(net.sent('dataUpdate').length, 1);
  assert.equal(nodes[0]!.engine.store.size, 0);
  assert.equal(nodes[0]!.accepted.length, 0);
  assert.equal(await dropped(nodes[0]!, 'unexpected_nonce'), 1);
  nodes[0]!.engine.stop();
});

test('a request after requestWaitTime (forgotten nonce) or with a never-seen nonce is unanswered', async () => {
  const { clock, net, nodes } = world(2);
  net.latency = (_f, _t, m) => (m.content.case === 'dataReq' ? 600 : 1); // hello at +1, request at +1600 > +1501
  nodes[1]!.engine.add(item(1));
  nodes[0]!.engine.start();
  await clock.runFor(4000 + 3000);
  assert.equal(net.sent('dataReq').length, 1);
  assert.equal(net.sent('dataUpdate').length, 0);
  assert.equal(await dropped(nodes[1]!, 'request_unknown_nonce'), 1);
  nodes[0]!.engine.stop();
  // a nonce remembered for one requester does not serve another
  const { nodes: n2, net: net2, clock: c2 } = world(3);
  const [x, y, z] = n2 as [Node, Node, Node];
  y.engine.add(item(4));
  y.engine.handleMessage(y.t.received(helloEnvelope(KIND, 5n), x.t));
  y.engine.handleMessage(y.t.received(requestEnvelope(KIND, 5n, [Buffer.from('4')]), z.t));
  y.engine.handleMessage(y.t.received(requestEnvelope(KIND, 6n, [Buffer.from('4')]), x.t));
  await c2.runFor(5);
  assert.equal(net2.sent('dataUpdate').length, 0);
  assert.equal(await dropped(y, 'request_unknown_nonce'), 2);
  y.engine.handleMessage(
    y.t.received(requestEnvelope(KIND, 5n, [Buffer.from('4'), Buffer.from('4'), Buffer.from('8')]), x.t),
  );
  await c2.runFor(5);
  const upd = net2.sent('dataUpdate');
  assert.equal(upd.length, 1);
  assert.equal(
    (upd[0]!.message.content.value as { data: unknown[]; nonce: bigint }).data.length,
    1,
    'held items only, once',
  );
  assert.equal((upd[0]!.message.content.value as { nonce: bigint }).nonce, 5n);
});

test('unsolicited digests and updates, wrong msg_type, tag or channel are dropped and counted', async () => {
  const { clock, net, nodes } = world(2);
  const [a, b] = nodes as [Node, Node];
  const inject = (env: ReturnType<typeof helloEnvelope>) => a.engine.handleMessage(a.t.received(env, b.t));
  inject(digestEnvelope(KIND, 1234n, [Buffer.from('1')]));
  inject(updateEnvelope(KIND, 1234n, [item(1).envelope]));
  assert.equal(await dropped(a, 'unexpected_nonce'), 2);
  inject(helloEnvelope({ ...KIND, msgType: PullMsgType.IDENTITY_MSG, tag: Tag.EMPTY, channel: '' }, 1n));
  inject(helloEnvelope({ ...KIND, tag: Tag.EMPTY }, 1n));
  inject(helloEnvelope({ ...KIND, channel: 'other' }, 1n));
  inject(unsignedGossip({ tag: Tag.EMPTY, content: { case: 'memReq', value: {} } }).envelope);
  assert.equal(await dropped(a, 'wrong_msg_type'), 1);
  assert.equal(await dropped(a, 'bad_tag'), 1);
  assert.equal(await dropped(a, 'wrong_channel'), 1);
  assert.equal(await dropped(a, 'not_pull'), 1);
  // an update during the digest window (before our request) is not accepted
  a.engine.initiatePull();
  const nonce = (net.sent('hello', 'p0:7051')[0]!.message.content.value as { nonce: bigint }).nonce;
  inject(updateEnvelope(KIND, nonce, [item(1).envelope]));
  assert.equal(await dropped(a, 'update_outside_window'), 1);
  assert.equal(a.engine.store.size, 0);
  a.engine.stop();
  await clock.runFor(5000);
  assert.deepEqual(clock.errors, []);
});

test('one malformed element or a rejecting validator drops the whole update', async () => {
  let reject = false;
  const { clock, net, nodes } = world(2, {
    adapter: (i) =>
      i === 0
        ? {
            acceptUpdate: (items) => {
              if (reject) throw new Error('bad block');
              return items;
            },
          }
        : {},
  });
  const [a, b] = nodes as [Node, Node];
  const round = async (data: PullItem['envelope'][]) => {
    a.engine.initiatePull();
    const hellos = net.sent('hello', 'p0:7051');
    const nonce = (hellos[hellos.length - 1]!.message.content.value as { nonce: bigint }).nonce;
    a.engine.handleMessage(
      a.t.received(digestEnvelope(KIND, nonce, [Buffer.from('1'), Buffer.from('2')]), b.t),
    );
    await clock.runFor(1000);
    a.engine.handleMessage(a.t.received(updateEnvelope(KIND, nonce, data), b.t));
    await clock.runFor(2000);
  };
  const garbage = { ...item(2).envelope, payload: new Uint8Array([0xff, 0xff, 0xff]) };
  await round([item(1).envelope, garbage]);
  assert.equal(a.engine.store.size, 0);
  assert.equal(await dropped(a, 'malformed_update'), 1);
  const noId = unsignedGossip({
    tag: Tag.CHAN_AND_ORG,
    channel: channelBytes(CH),
    content: { case: 'memReq', value: {} },
  }).envelope;
  await round([item(1).envelope, noId]);
  assert.equal(a.engine.store.size, 0);
  assert.equal(await dropped(a, 'malformed_update'), 2);
  reject = true;
  await round([item(1).envelope, item(2).envelope]);
  assert.equal(a.engine.store.size, 0);
  assert.equal(await dropped(a, 'invalid_update'), 1);
  reject = false;
  await round([item(1).envelope, item(2).envelope]);
  assert.deepEqual(held(a.engine), ['1', '2']);
  assert.deepEqual(clock.errors, []);
});

test('ingress filter: digests it rejects are never requested', async () => {
  const { clock, net, nodes } = world(2, {
    adapter: (i) => (i === 0 ? { ingressDigestFilter: (d) => d.filter((x) => Number(text(x)) >= 5) } : {}),
  });
  for (const n of [3, 4, 5, 6]) nodes[1]!.engine.add(item(n));
  nodes[0]!.engine.start();
  await clock.runFor(7000);
  assert.deepEqual(
    (net.sent('dataReq')[0]!.message.content.value as { digests: Uint8Array[] }).digests.map(text),
    ['5', '6'],
  );
  assert.deepEqual(held(nodes[0]!.engine), ['5', '6']);
  nodes[0]!.engine.stop();
});

test('bounds: item store, remembered nonces, ids per message', async () => {
  const { clock, net, nodes } = world(2, {
    config: { maxItems: 2, maxIncomingNonces: 3, maxDigestItems: 4 },
  });
  const [a, b] = nodes as [Node, Node];
  assert.equal(a.engine.add(item(1)), true);
  assert.equal(a.engine.add(item(1)), false, 'already held');
  assert.equal(a.engine.add(item(2)), true);
  assert.equal(a.engine.add(item(3)), false);
  assert.equal(await dropped(a, 'store_full'), 1);
  for (let n = 1n; n <= 5n; n++) a.engine.handleMessage(a.t.received(helloEnvelope(KIND, n), b.t));
  assert.equal(await dropped(a, 'nonce_overflow'), 2);
  assert.equal(await a.metrics.value('grapevine_gossip_pull_nonces', { side: 'incoming' }), 3);
  // nonce 1 was forgotten (oldest), nonce 5 is remembered
  a.engine.handleMessage(a.t.received(requestEnvelope(KIND, 1n, [Buffer.from('1')]), b.t));
  a.engine.handleMessage(a.t.received(requestEnvelope(KIND, 5n, [Buffer.from('1')]), b.t));
  a.engine.handleMessage(
    a.t.received(
      requestEnvelope(
        KIND,
        5n,
        [1, 2, 3, 4, 5].map((x) => Buffer.from(String(x))),
      ),
      b.t,
    ),
  );
  await clock.runFor(5);
  assert.equal(net.sent('dataUpdate').length, 1);
  assert.equal(await dropped(a, 'too_many_items'), 1);
  // remembered nonces expire after requestWaitTime
  await clock.runFor(1600);
  a.engine.handleMessage(a.t.received(helloEnvelope(KIND, 9n), b.t));
  assert.equal(await a.metrics.value('grapevine_gossip_pull_nonces', { side: 'incoming' }), 1);
});

test('start subscribes, stop releases every timer and the subscription; stop is idempotent', async () => {
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  const t = net.node('x:1', testPkiId(1));
  const other = net.node('y:1', testPkiId(2));
  const engine = new PullEngine({
    name: 'test',
    transport: t,
    clock,
    rng: new SeededRng(1),
    subscribe: true,
    adapter: {
      ...KIND,
      membership: () => [{ pkiId: other.selfPkiId, endpoint: other.endpoint }],
      itemId: idOf,
      acceptUpdate: (i) => i,
    },
  });
  engine.add(item(1));
  engine.start();
  engine.start();
  assert.equal(t.subscribers, 1);
  other.send(helloEnvelope(KIND, 3n), { endpoint: t.endpoint });
  await clock.runFor(4500);
  assert.equal(net.sent('dataDig', 'x:1', 'y:1').length, 1, 'subscribed engine answered');
  assert.equal(net.sent('hello', 'x:1').length, 1, 'one round started');
  engine.stop();
  engine.stop();
  assert.equal(t.subscribers, 0);
  await clock.runFor(10_000);
  assert.equal(clock.nextDue(), undefined, 'no live timer left');
  engine.initiatePull();
  assert.equal(clock.nextDue(), undefined, 'a stopped engine starts no round');
});

test('config: 0 means the Fabric default; bad values name the key', () => {
  assert.equal(pullConfig({ pullIntervalMs: 0 }).pullIntervalMs, 4000);
  assert.equal(pullConfig().requestWaitTimeMs, 1500);
  assert.throws(() => pullConfig({ pullPeerNum: -1 }), /pullPeerNum/);
  assert.throws(() => pullConfig({ nope: 1 } as never), /unknown key nope/);
});
