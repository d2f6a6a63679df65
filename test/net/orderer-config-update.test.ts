/**
 * Real sockets on 127.0.0.1, end to end: an org admin changes its org's anchor peers with the
 * CLI's `channel anchor-peers` (config fetched from the orderer over TLS, update built and
 * signed, written to a file) and `channel update --file` (submitted through Broadcast); the
 * orderer cuts a config block of its own; every running peer (2 orgs x 2) commits it and its
 * gossip channel moves to the new config sequence, the channel config on its ledger shows the
 * new anchor peer, and blocks keep flowing after it. Submitting the same update again is
 * refused with the orderer's BAD_REQUEST reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { runAnchorPeers, runChannelUpdate } from '../../src/cli/commands/channel-update.js';
import { GrapevineError } from '../../src/base/errors.js';
import type { Orderer } from '../../src/orderer/server.js';
import { blockLastConfigIndex } from '../../src/wire/block.js';
import { Status } from '../../src/wire/gen/common/common_pb.js';
import { testOrdererDir, testUserDir } from '../helpers/crypto.js';
import { until } from '../helpers/until.js';
import { CHANNEL, Writer, netChannel, startOrderer, startPeer, type NetPeer } from './e2e-world.js';

test('anchor-peer update by the org admin reaches every running peer', { timeout: 120_000 }, async () => {
  const net = await netChannel({ orgs: 2, peersPerOrg: 2 });
  const orderers: Orderer[] = [await startOrderer(net, 0)];
  const peers: NetPeer[] = [];
  try {
    for (let org = 1; org <= 2; org++) for (let i = 0; i < 2; i++) peers.push(await startPeer(net, org, i));
    const address = orderers[0]!.address;
    const writer = new Writer(net);
    assert.deepEqual(await writer.broadcast(address, writer.envelopes(2)), [Status.SUCCESS, Status.SUCCESS]);
    await until(() => peers.every((p) => p.ledger.height() >= 3n), 'every peer at height 3', 60_000);

    const target = {
      orderer: address,
      cafile: join(testOrdererDir(net.root), 'tls', 'ca.crt'),
    };
    const newAnchor = `127.0.0.1:${net.peerPorts[0]![1]}`;
    const file = join(mkdtempSync(join(tmpdir(), 'grapevine-anchor-')), 'anchors.tx');
    const adminMsp = join(testUserDir(net.root, 1, 'Admin'), 'msp');
    const wrote = await runAnchorPeers({
      ...target,
      channel: CHANNEL,
      msp: adminMsp,
      mspid: 'Org1MSP',
      anchor: [newAnchor],
      output: file,
    });
    assert.match(wrote, /wrote the anchor peer update of Org1MSP/);
    assert.match(await runChannelUpdate({ ...target, file }), /accepted .* \(SUCCESS\)/);

    const chain = orderers[0]!.chain(CHANNEL)!;
    await chain.waitForHeight(4n);
    assert.equal(chain.sequence, 1n);
    const configNumber = 3n;
    await until(
      () =>
        peers.every(
          (p) => p.ledger.height() > configNumber && p.service.node.channel(CHANNEL)?.sequence === 1n,
        ),
      'every peer applied config sequence 1',
      60_000,
    );
    for (const p of peers) {
      const { block } = (await p.ledger.getBlock(configNumber))!;
      assert.equal(blockLastConfigIndex(block), configNumber);
      const cfg = parseChannelConfig(block);
      assert.equal(cfg.sequence, 1n);
      assert.deepEqual(
        cfg.applicationOrgs.find((o) => o.mspId === 'Org1MSP')!.anchorPeers.map((a) => `${a.host}:${a.port}`),
        [newAnchor],
        `peer${p.index}.org${p.org} sees the new anchor`,
      );
    }

    // blocks keep flowing after the config block, pointing at it
    assert.deepEqual(await writer.broadcast(address, writer.envelopes(1)), [Status.SUCCESS]);
    await until(() => peers.every((p) => p.ledger.height() >= 5n), 'every peer at height 5', 60_000);
    for (const p of peers)
      assert.equal(blockLastConfigIndex((await p.ledger.getBlock(4n))!.block), configNumber);

    // the same update again is refused with Fabric's reason
    await assert.rejects(runChannelUpdate({ ...target, file }), (e: unknown) => {
      assert.ok(e instanceof GrapevineError);
      assert.match(
        e.message,
        /BAD_REQUEST -- error applying config update to existing channel 'e2enet'.*AnchorPeers to version 1, but key is at version 1/,
      );
      return true;
    });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    for (const o of orderers) await o.stop();
  }
});
