import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Unsubscribe } from '../../src/core/link/types.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import type { ChannelPeer, LeadershipEvent } from '../../src/core/channel/types.js';
import { ConfigError } from '../../src/base/errors.js';
import {
  FABRIC_ELECTION_DEFAULTS,
  GossipElectionAdapter,
  LeaderElection,
  createChannelLeadership,
  electionConfig,
  leadershipMode,
  type ElectionGossip,
} from '../../src/core/election/index.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { Metrics } from '../../src/base/metrics.js';
import { METRICS } from '../../src/base/metric-table.js';

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('no error');
}

test("config: Fabric's code defaults; 0 means the default; fast divides the timers by 10", () => {
  assert.deepEqual(
    { ...electionConfig() },
    {
      useLeaderElection: false,
      orgLeader: false,
      startupGracePeriodMs: 15_000,
      membershipSampleIntervalMs: 1000,
      leaderAliveThresholdMs: 10_000,
      leaderElectionDurationMs: 5000,
    },
  );
  assert.deepEqual(electionConfig({ leaderAliveThresholdMs: 0, startupGracePeriodMs: 3000 }), {
    ...FABRIC_ELECTION_DEFAULTS,
    startupGracePeriodMs: 3000,
  });
  const fast = electionConfig({ useLeaderElection: true }, 'fast');
  assert.equal(fast.leaderAliveThresholdMs, 1000);
  assert.equal(fast.leaderElectionDurationMs, 500);
  assert.ok(Object.isFrozen(fast));
});

test('config: bad values are ConfigErrors naming the core.yaml key', () => {
  let e = configError(() => electionConfig({ leaderElectionDurationMs: -1 }));
  assert.equal(e.code, 'BAD_VALUE');
  assert.match(e.message, /peer\.gossip\.election\.leaderElectionDuration/);
  e = configError(() => electionConfig({ membershipSampleIntervalMs: 1.5 }));
  assert.match(e.message, /membershipSampleInterval/);
  e = configError(() => electionConfig({ orgLeader: 'yes' as unknown as boolean }));
  assert.match(e.message, /peer\.gossip\.orgLeader must be true or false/);
  e = configError(() => electionConfig({ leaderAliveThresholdMs: 1 }));
  assert.match(e.message, /leaderAliveThreshold must be at least 2 ms/);
  e = configError(() => electionConfig({ nope: 1 } as never));
  assert.equal(e.code, 'UNKNOWN_KEY');
  configError(() => electionConfig(null as never));
});

test('modes (§7.1): dynamic, static, none; both flags is a ConfigError with a clear message, not a crash', () => {
  assert.equal(leadershipMode({ useLeaderElection: true, orgLeader: false }), 'dynamic');
  assert.equal(leadershipMode({ useLeaderElection: false, orgLeader: true }), 'static');
  assert.equal(leadershipMode({ useLeaderElection: false, orgLeader: false }), 'none');
  const e = configError(() => electionConfig({ useLeaderElection: true, orgLeader: true }));
  assert.equal(e.code, 'LEADER_MODE_CONFLICT');
  assert.match(e.message, /peer\.gossip\.useLeaderElection and peer\.gossip\.orgLeader are both true/);
  assert.match(e.message, /set one of them to false/);
  const both = { ...FABRIC_ELECTION_DEFAULTS, useLeaderElection: true, orgLeader: true };
  const clock = new VirtualClock();
  configError(() =>
    createChannelLeadership({
      channel: 'ch',
      selfPkiId: Uint8Array.of(1),
      mspId: 'Org1MSP',
      config: both,
      clock,
    }),
  );
});

test('static leader: leader from start (callback true once), never yields, gauge 1; stop does not call back', async () => {
  const clock = new VirtualClock();
  const metrics = new Metrics();
  const calls: boolean[] = [];
  const l = createChannelLeadership({
    channel: 'ch',
    selfPkiId: Uint8Array.of(1),
    mspId: 'Org1MSP',
    config: electionConfig({ orgLeader: true }),
    clock,
    metrics,
    onLeadershipChange: (b) => calls.push(b),
  });
  assert.equal(l.mode, 'static');
  assert.equal(l.isLeader(), false);
  l.start();
  l.start();
  l.yield();
  await clock.runFor(600_000);
  assert.deepEqual(calls, [true]);
  assert.equal(l.isLeader(), true);
  assert.equal(await metrics.value(METRICS.gossipLeaderElectionLeader, { channel: 'ch' }), 1);
  l.stop();
  l.stop();
  assert.deepEqual(calls, [true]);
  assert.equal(await metrics.value(METRICS.gossipLeaderElectionLeader, { channel: 'ch' }), 0);
  assert.equal(clock.nextDue(), undefined);
});

test('neither mode: never a leader, never calls back (never connects to the orderer)', async () => {
  const clock = new VirtualClock();
  const calls: boolean[] = [];
  const l = createChannelLeadership({
    channel: 'ch',
    selfPkiId: Uint8Array.of(1),
    mspId: 'Org1MSP',
    config: electionConfig(),
    clock,
    onLeadershipChange: (b) => calls.push(b),
  });
  assert.equal(l.mode, 'none');
  l.start();
  await clock.runFor(600_000);
  assert.equal(l.isLeader(), false);
  assert.deepEqual(calls, []);
  l.stop();
});

class FakeNode implements ElectionGossip {
  readonly sent: { channel: string; msg: Parameters<ElectionGossip['gossipLeadership']>[1] }[] = [];
  readonly handlers = new Set<(e: LeadershipEvent) => void>();
  peers: ChannelPeer[] = [];
  gossipLeadership(channel: string, msg: Parameters<ElectionGossip['gossipLeadership']>[1]): undefined {
    this.sent.push({ channel, msg });
    return undefined;
  }
  onLeadership(h: (e: LeadershipEvent) => void): Unsubscribe {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  peersOfChannel(channel: string): ChannelPeer[] {
    return channel === 'ch' ? this.peers : [];
  }
  emit(channel: string, pkiId: Uint8Array, isDeclaration: boolean): void {
    for (const h of this.handlers) {
      h({
        channel,
        from: pkiId,
        envelope: {} as never,
        message: { pkiId, isDeclaration, timestamp: { incNum: 5n, seqNum: 9n } } as never,
      });
    }
  }
}

const peer = (id: number, mspId: string): ChannelPeer => ({
  pkiId: Uint8Array.of(id),
  endpoint: `p${id}:7051`,
  internalEndpoint: '',
  mspId,
  properties: undefined,
  metadata: new Uint8Array(0),
});

test('gossip adapter: inc_num fixed at creation (ns), seq_num 1, 2, ...; own org peers only; own channel messages only', async () => {
  const clock = new VirtualClock();
  await clock.runFor(1234);
  const node = new FakeNode();
  const a = new GossipElectionAdapter(node, {
    channel: 'ch',
    selfPkiId: Uint8Array.of(0x50),
    mspId: 'Org1MSP',
    clock,
  });
  assert.equal(a.incNum, BigInt(clock.now()) * 1_000_000n);
  await clock.runFor(1000);
  const m1 = a.createMessage(false);
  const m2 = a.createMessage(true);
  assert.deepEqual(
    [m1.timestamp, m2.timestamp],
    [
      { incNum: a.incNum, seqNum: 1n },
      { incNum: a.incNum, seqNum: 2n },
    ],
  );
  a.gossip(m2);
  assert.deepEqual(node.sent, [
    {
      channel: 'ch',
      msg: { pkiId: Uint8Array.of(0x50), isDeclaration: true, timestamp: { incNum: a.incNum, seqNum: 2n } },
    },
  ]);
  node.peers = [peer(1, 'Org1MSP'), peer(2, 'Org2MSP'), peer(3, 'Org1MSP'), peer(4, undefined as never)];
  assert.deepEqual(
    a.peers().map((p) => pkiIdKey(p.pkiId)),
    ['01', '03'],
  );
  const got: string[] = [];
  const off = a.accept((m) => got.push(`${pkiIdKey(m.pkiId)}:${m.isDeclaration}:${m.timestamp.seqNum}`));
  node.emit('ch', Uint8Array.of(1), true);
  node.emit('other', Uint8Array.of(1), true);
  off();
  node.emit('ch', Uint8Array.of(3), false);
  assert.deepEqual(got, ['01:true:9']);
});

test('dynamic leadership over the gossip adapter: elected alone, declarations go to the node', async () => {
  const clock = new VirtualClock();
  const node = new FakeNode();
  const calls: boolean[] = [];
  const l = createChannelLeadership({
    channel: 'ch',
    selfPkiId: Uint8Array.of(0x50),
    mspId: 'Org1MSP',
    config: electionConfig({ useLeaderElection: true }),
    gossip: node,
    clock,
    onLeadershipChange: (b) => calls.push(b),
  });
  assert.ok(l instanceof LeaderElection);
  l.start();
  await clock.runFor(6000);
  assert.deepEqual(calls, [true]);
  assert.deepEqual(
    node.sent.map((s) => [s.msg.isDeclaration, s.msg.timestamp.seqNum]),
    [
      [false, 1n],
      [true, 2n],
    ],
  );
  node.peers = [peer(0x20, 'Org1MSP')];
  node.emit('ch', Uint8Array.of(0x20), true);
  assert.deepEqual(calls, [true, false]);
  l.stop();
  assert.equal(node.handlers.size, 0);
  assert.throws(
    () =>
      createChannelLeadership({
        channel: 'ch',
        selfPkiId: Uint8Array.of(1),
        mspId: 'm',
        config: electionConfig({ useLeaderElection: true }),
        clock,
      }),
    TypeError,
  );
});
