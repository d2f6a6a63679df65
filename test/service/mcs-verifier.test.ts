/**
 * The production catch-up verifier (src/state/verify/mcs-verifier.ts) in real worker threads
 * (BlockVerifyPool): the MCS built from the channel's config block accepts the channel
 * orderer's blocks with their ledger facts and refuses a tampered block, a block of another
 * ordering service and a block of another channel; after ConfigFeed.publish(new config block)
 * every worker verifies with the new config (the other orderer's blocks pass, the old ones are
 * refused); a config that does not parse leaves the previous one in place.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StateError } from '../../src/core/state/errors.js';
import { ConfigFeed, MCS_VERIFIER_MODULE } from '../../src/service/verify/mcs-verifier.js';
import { BlockVerifyPool } from '../../src/service/verify/pool.js';
import { blocksAfter, ordererSignerOf } from '../net/catchup-fixtures.js';
import { CHANNEL, netChannel, type NetChannel } from '../net/e2e-world.js';
import { makeBlock } from '../../src/sim/blockmaker.js';

let a: NetChannel;
let b: NetChannel;
let blocksA: Uint8Array[];
let blocksB: Uint8Array[];
const pools: BlockVerifyPool[] = [];

before(async () => {
  // two ordering services (different CAs) for the same channel name: config A, then config B
  [a, b] = await Promise.all([
    netChannel({ orgs: 1, peersPerOrg: 1 }),
    netChannel({ orgs: 1, peersPerOrg: 2 }), // another spec: another (cached) crypto root
  ]);
  blocksA = blocksAfter(a.genesis, ordererSignerOf(a), 8);
  blocksB = blocksAfter(b.genesis, ordererSignerOf(b), 8);
});
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function pool(configBlock: Uint8Array, feed?: ConfigFeed): Promise<BlockVerifyPool> {
  const p = new BlockVerifyPool({
    module: MCS_VERIFIER_MODULE,
    init: { channel: CHANNEL, configBlock, feed: feed?.shared },
    channel: CHANNEL,
    workers: 2,
    maxInFlight: 16,
  });
  pools.push(p);
  await p.ready;
  return p;
}

/** Verify blocks 1..n of `blocks` at once (spread over both workers): 'ok' or the refusal code per block. */
async function verifyAll(p: BlockVerifyPool, blocks: readonly Uint8Array[]): Promise<string[]> {
  return Promise.all(
    blocks.map((bytes, i) =>
      p.verify(BigInt(i + 1), new Uint8Array(bytes)).then(
        (v) => {
          assert.equal(v.facts.number, BigInt(i + 1));
          assert.equal(v.facts.dataHashChecked, true);
          return 'ok';
        },
        (e: unknown) => (e instanceof StateError ? e.code : `unexpected ${String(e)}`),
      ),
    ),
  );
}

test('the MCS of the config block accepts its orderer, refuses a tampered, foreign or other-channel block', async () => {
  const p = await pool(a.genesis);
  assert.equal(p.size, 2);
  assert.deepEqual(await verifyAll(p, blocksA), Array(8).fill('ok'));
  assert.deepEqual(await verifyAll(p, blocksB), Array(8).fill('bad_block'));
  const tampered = new Uint8Array(blocksA[0]);
  tampered[tampered.length - 200] ^= 1;
  await assert.rejects(
    p.verify(1n, tampered),
    (e: unknown) => e instanceof StateError && e.code === 'bad_block',
  );
  const other = makeBlock({ channel: 'otherchannel', number: 1n, orderer: ordererSignerOf(a) }).bytes;
  await assert.rejects(
    p.verify(1n, other),
    (e: unknown) =>
      e instanceof StateError && e.code === 'bad_block' && /WRONG_CHANNEL|channel/.test(e.message),
  );
});

test('a published config block reaches every worker; a config that does not parse is ignored', async () => {
  const feed = new ConfigFeed();
  const p = await pool(a.genesis, feed);
  assert.deepEqual(await verifyAll(p, blocksA), Array(8).fill('ok'));
  feed.publish(b.genesis);
  assert.equal(feed.generation, 1);
  assert.deepEqual(await verifyAll(p, blocksB), Array(8).fill('ok'), 'the new orderer is trusted everywhere');
  assert.deepEqual(await verifyAll(p, blocksA), Array(8).fill('bad_block'), 'the old one no longer');
  feed.publish(new Uint8Array([1, 2, 3]));
  assert.equal(feed.generation, 2);
  assert.deepEqual(await verifyAll(p, blocksB), Array(8).fill('ok'), 'garbage leaves config B in place');
  feed.publish(a.genesis);
  assert.deepEqual(await verifyAll(p, blocksA), Array(8).fill('ok'), 'and a later good one still applies');
  assert.throws(() => new ConfigFeed(16).publish(new Uint8Array(17)), RangeError);
});
