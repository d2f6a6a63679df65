/**
 * Real sockets (127.0.0.1, TLS, real MSPs, channel configs from configtx, orderer-signed blocks):
 * membership converges, a pushed block reaches every peer of its org, pull alone delivers every
 * block, and a peer of an org outside the channel gets no block. Timers shortened ('fast').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeChain } from '../../src/sim/blockmaker.js';
import { membershipSummary, netWorld, type NetPeer } from './dissemination-net.js';
import { poll, until } from '../helpers/until.js';

const has = (p: NetPeer, ch: string, seq: bigint) => p.got.get(ch)?.has(seq) === true;

test(
  'net: 2 orgs x 5 peers (+1 org outside the channel): membership, push within the org, no block outside',
  { timeout: 120_000 },
  async () => {
    const w = await netWorld({ orgs: 3, peersPerOrg: 5, channels: { mychannel: [1, 2], other: [1, 2, 3] } });
    try {
      const inChannel = w.peers.filter((p) => p.org !== 3);
      await until(
        () => inChannel.every((p) => p.node.peersOfChannel('mychannel').length === 9),
        'channel membership to converge',
        { timeoutMs: 90_000, detail: () => membershipSummary(w.peers, 'mychannel') },
      );
      for (const p of inChannel) {
        const peers = p.node.peersOfChannel('mychannel');
        assert.ok(peers.every((q) => q.mspId === 'Org1MSP' || q.mspId === 'Org2MSP'));
        assert.ok(peers.every((q) => q.properties && q.properties.ledgerHeight >= 1n));
      }
      const blocks = makeChain({ channel: 'mychannel', orderer: w.orderer, n: 3 });
      const leader = w.peers.find((p) => p.org === 1)!;
      assert.equal(leader.node.gossipBlock('mychannel', 1n, blocks[0]!), true);
      assert.equal(
        leader.node.gossipBlock('mychannel', 1n, blocks[0]!),
        false,
        'the same block again is a duplicate',
      );
      const org1 = w.peers.filter((p) => p.org === 1 && p !== leader);
      await until(() => org1.every((p) => has(p, 'mychannel', 1n)), 'block 1 at every org1 peer', 20_000);
      // Fabric pushes blocks within the org only, and block pull is same-org too: org2 never sees it
      // unless its own leader gets it; org3 is not in the channel at all.
      const org2Leader = w.peers.find((p) => p.org === 2)!;
      for (let s = 2; s <= 3; s++) {
        leader.node.gossipBlock('mychannel', BigInt(s), blocks[s - 1]!);
        org2Leader.node.gossipBlock('mychannel', BigInt(s), blocks[s - 1]!);
      }
      const others = w.peers.filter((p) => p !== leader && p !== org2Leader && p.org !== 3);
      await until(
        () => others.every((p) => has(p, 'mychannel', 3n) && has(p, 'mychannel', 2n)),
        'blocks 2-3 everywhere in the channel',
        20_000,
      );
      for (const p of w.peers.filter((q) => q.org === 2))
        assert.equal(has(p, 'mychannel', 1n), false, `${p.name} got org1's block 1`);
      for (const p of w.peers.filter((q) => q.org === 3)) {
        assert.equal(p.got.size, 0, `${p.name} got a block`);
        assert.deepEqual(p.node.channelNames(), ['other']);
      }
      for (const p of w.peers) assert.equal(p.dupes, 0);
      for (const p of w.peers)
        assert.equal(await p.metrics.value('grapevine_gossip_dropped_total', { reason: 'bad_block' }), 0);
    } finally {
      await w.stop();
    }
  },
);

test('net: with push off, pull alone delivers every block', { timeout: 120_000 }, async () => {
  const w = await netWorld({
    orgs: 2,
    peersPerOrg: 5,
    channels: { mychannel: [1, 2] },
    gossip: { channel: { pushBlocks: false } },
  });
  try {
    await until(
      () => w.peers.every((p) => p.node.peersOfChannel('mychannel').length === 9),
      'channel membership to converge',
      { timeoutMs: 90_000, detail: () => membershipSummary(w.peers, 'mychannel') },
    );
    const blocks = makeChain({ channel: 'mychannel', orderer: w.orderer, n: 5 });
    const leaders = [1, 2].map((org) => w.peers.find((p) => p.org === org)!);
    for (let s = 1; s <= 5; s++)
      for (const l of leaders) l.node.gossipBlock('mychannel', BigInt(s), blocks[s - 1]!);
    const rest = w.peers.filter((p) => !leaders.includes(p));
    await until(
      () => rest.every((p) => [1n, 2n, 3n, 4n, 5n].every((s) => has(p, 'mychannel', s))),
      'every block by pull',
      30_000,
    );
    for (const p of rest)
      assert.equal(
        await p.metrics.value('grapevine_gossip_blocks_received_total', { source: 'push' }),
        0,
        `${p.name} got a pushed block`,
      );
    for (const p of w.peers) assert.equal(p.dupes, 0);
  } finally {
    await w.stop();
  }
});

test('net: a forged block is dropped and not forwarded', { timeout: 120_000 }, async () => {
  const w = await netWorld({ orgs: 2, peersPerOrg: 3, channels: { mychannel: [1, 2] } });
  try {
    await until(
      () => w.peers.every((p) => p.node.peersOfChannel('mychannel').length === 5),
      'channel membership to converge',
      { timeoutMs: 90_000, detail: () => membershipSummary(w.peers, 'mychannel') },
    );
    // a block "signed" by a peer instead of the orderer fails BlockValidation
    const forger = w.peers.find((p) => p.org === 1)!;
    const forged = makeChain({
      channel: 'mychannel',
      orderer: forger.signer,
      n: 1,
    });
    forger.node.gossipBlock('mychannel', 1n, forged[0]!);
    const org1 = w.peers.filter((p) => p.org === 1 && p !== forger);
    let refused = 0;
    await poll(
      async () =>
        (refused = (
          await Promise.all(
            org1.map((p) => p.metrics.value('grapevine_gossip_dropped_total', { reason: 'bad_block' })),
          )
        ).reduce((a, b) => a + b, 0)) > 0,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    assert.ok(refused >= 1, 'no peer refused the forged block');
    for (const p of org1) assert.equal(has(p, 'mychannel', 1n), false);
  } finally {
    await w.stop();
  }
});
