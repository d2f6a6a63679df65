/**
 * End-to-end over real sockets (issue 6), all in one process on 127.0.0.1 with shortened timers:
 * 2 embedded orderers (TLS; the second replicates the first), 2 orgs x 4 peers each running the
 * GossipService (mutual-TLS gossip, MessageCryptoService with the channel's real MSPs and
 * policies, BlockStore ledgers, dynamic election, gRPC deliver client).
 *   exactly one leader per org; every peer commits every block in order, byte for byte as the
 *   orderer cut it; kill an org's leader: a new one carries on, no block missed; kill the orderer
 *   in use: delivery resumes from the other, no gap; a non-member peer's Deliver is FORBIDDEN;
 *   both leader options set is a clean ConfigError; stop leaves nothing running.
 */
import { realClock, cryptoRng } from '../../src/base/real-clock.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/base/errors.js';
import { GossipService } from '../../src/service/index.js';
import { Status } from '../../src/wire/gen/common/common_pb.js';
import { Orderer } from '../../src/orderer/server.js';
import { activeResources, noResourcesBeyond } from '../comm/fixtures.js';
import { until } from '../helpers/until.js';
import {
  CHANNEL,
  Writer,
  netChannel,
  replicate,
  startOrderer,
  startPeer,
  type NetChannel,
  type NetPeer,
} from './e2e-world.js';
import { gossipNodeConfig } from '../../src/core/gossip/nodeconfig.js';
import { electionConfig } from '../../src/core/election/index.js';

const ORGS = 2;
const PER_ORG = 4;
let net: NetChannel;
let orderers: Orderer[] = [];
let live: Orderer[] = [];
let repl: { stop(): void; done: Promise<void> } | undefined;
const peers: NetPeer[] = [];
let writer: Writer;
let baseline: string[];

before(async () => {
  baseline = activeResources();
  net = await netChannel({ orgs: ORGS, peersPerOrg: PER_ORG, outsiderOrgs: 1, maxMessageCount: 1 });
  orderers = [await startOrderer(net, 0), await startOrderer(net, 1)];
  live = [...orderers];
  repl = replicate(orderers[0]!, orderers[1]!);
  writer = new Writer(net);
  for (let org = 1; org <= ORGS; org++)
    for (let i = 0; i < PER_ORG; i++) peers.push(await startPeer(net, org, i));
});

after(async () => {
  repl?.stop();
  await Promise.all(peers.map((p) => p.stop()));
  for (const o of orderers) await o.stop();
});

const up = () => peers.filter((p) => !stopped.has(p));
const stopped = new Set<NetPeer>();
const leadersOf = (org: number) => up().filter((p) => p.org === org && p.service.isLeader(CHANNEL));
const producer = () => live[0]!;

async function produce(n: number): Promise<bigint> {
  const o = producer();
  const h = o.chain(CHANNEL)!.height() + BigInt(n);
  assert.deepEqual(await writer.broadcast(o.address, writer.envelopes(n)), Array(n).fill(Status.SUCCESS));
  await until(() => o.chain(CHANNEL)!.height() >= h, `orderer height ${h}`, 10_000);
  return o.chain(CHANNEL)!.height();
}

/** Every live peer's ledger equals the orderer's, block for block. */
async function assertLedgersMatch(height: bigint): Promise<void> {
  const o = producer().chain(CHANNEL)!;
  for (const p of up()) {
    assert.equal(p.ledger.height(), height, `${p.endpoint} height`);
    for (let n = 0n; n < height; n++) {
      const mine = await p.ledger.getBlockBytes(n);
      const theirs = await o.getBlockBytes(n);
      assert.ok(mine && theirs && Buffer.from(mine).equals(Buffer.from(theirs)), `${p.endpoint} block ${n}`);
    }
    assert.equal(
      await p.metrics.value('grapevine_gossip_state_dropped_total', {
        channel: CHANNEL,
        reason: 'ledger_rejected',
      }),
      0,
      `${p.endpoint}: ledger refused a block`,
    );
  }
}

const allAt = (h: bigint) => () => up().every((p) => p.ledger.height() >= h);
const lagging = (h: bigint) =>
  up()
    .filter((p) => p.ledger.height() < h)
    .map((p) => `${p.endpoint}@${p.ledger.height()}`)
    .join(', ');

test('exactly one leader per org', async () => {
  await until(() => leadersOf(1).length === 1 && leadersOf(2).length === 1, 'one leader per org', 20_000);
  for (let org = 1; org <= ORGS; org++) {
    const [leader] = leadersOf(org);
    assert.ok(leader!.service.deliverer(CHANNEL), 'the leader delivers');
    for (const p of up().filter((x) => x.org === org && x !== leader))
      assert.equal(p.service.deliverer(CHANNEL), undefined, `${p.endpoint} is a follower`);
  }
});

test('every peer commits every block in order, verified', async () => {
  const h = await produce(12);
  await until(allAt(h), `all peers at ${h}: ${lagging(h)}`, 20_000);
  await assertLedgersMatch(h);
  for (const p of up())
    assert.equal(await p.metrics.value('grapevine_gossip_dropped_total', { reason: 'bad_block' }), 0);
});

test('kill an org leader: a new one carries on with no block missed', async () => {
  const [old] = leadersOf(1);
  assert.ok(old);
  stopped.add(old);
  await old.stop();
  await produce(4);
  await until(() => leadersOf(1).length === 1, 'a new leader in org 1', 20_000);
  assert.notEqual(leadersOf(1)[0], old);
  const h = await produce(4);
  await until(allAt(h), `all peers at ${h}: ${lagging(h)}`, 20_000);
  await assertLedgersMatch(h);
});

test('two orderer endpoints: kill the one in use, delivery resumes from the other with no gap', async () => {
  const leader = leadersOf(1)[0]!;
  await until(() => leader.connector.current !== '', 'a connection');
  const victimAddr = leader.connector.current;
  const victim = live.find((o) => o.address === victimAddr)!;
  assert.ok(victim, `orderer ${victimAddr} is ours`);
  // the replica holds everything before the kill
  await until(
    () => orderers[1]!.chain(CHANNEL)!.height() === orderers[0]!.chain(CHANNEL)!.height(),
    'the replica to catch up',
  );
  repl!.stop();
  live = live.filter((o) => o !== victim);
  await victim.stop();
  const h = await produce(6);
  await until(allAt(h), `all peers at ${h}: ${lagging(h)}`, 30_000);
  await assertLedgersMatch(h);
  // the peers may have the blocks through gossip/state transfer before the leader's backoff ends
  await until(
    () => leader.connector.current !== victimAddr,
    'the leader to move to the other orderer',
    30_000,
  );
  assert.equal(leader.connector.current, live[0]!.address);
  assert.ok(leader.service.deliverer(CHANNEL)!.stats.failures >= 1, 'the lost stream counted as a failure');
});

test("a non-member's Deliver gets FORBIDDEN (and it joins nothing)", async () => {
  const outsider = await startPeer(net, 3, 0, { election: { orgLeader: true } });
  try {
    assert.equal(
      outsider.service.channel(CHANNEL)!.joined,
      false,
      'Org3MSP is not a channel org: no JoinChan',
    );
    assert.deepEqual(outsider.service.node.channelNames(), []);
    await until(() => outsider.connector.statuses.length >= 1, 'an answer from the orderer', 10_000);
    assert.equal(outsider.connector.statuses[0], Status.FORBIDDEN);
    assert.equal(outsider.ledger.height(), 1n);
    assert.ok(outsider.service.isLeader(CHANNEL), 'a static leader keeps retrying');
  } finally {
    await outsider.stop();
  }
});

test('both leader options set: a clean ConfigError naming both keys, nothing started', async () => {
  const p = peers[0]!;
  let err: unknown;
  try {
    new GossipService({
      clock: realClock,
      rng: cryptoRng,
      transport: p.transport,
      identityStore: p.transport.identityStore,
      crypto: p.service.node as never,
      signer: undefined as never,
      mspId: 'Org1MSP',
      gossip: gossipNodeConfig({ discovery: { endpoint: p.endpoint } }),
      election: electionConfig({ useLeaderElection: true, orgLeader: true }),
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `got ${String(err)}`);
  assert.equal(err.code, 'LEADER_MODE_CONFLICT');
  assert.match(err.message, /peer\.gossip\.useLeaderElection/);
  assert.match(err.message, /peer\.gossip\.orgLeader/);
});

test('stop: every peer and orderer stopped leaves no handle behind', async () => {
  repl?.stop();
  await Promise.all(peers.map((p) => p.stop()));
  const again = peers.map((p) => p.service.stop());
  await Promise.all(again);
  for (const o of orderers) await o.stop();
  await noResourcesBeyond(baseline);
});
