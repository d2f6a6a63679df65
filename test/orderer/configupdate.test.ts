/**
 * CONFIG_UPDATE through Broadcast (Fabric v2.4.9 semantics):
 * - interop: the real CONFIG_UPDATEs of the vectors (Org1's anchor peers by Admin@org1, Org2's
 *   by Admin@org2) applied to block_0 give exactly the config Fabric's orderer put in its CONFIG
 *   blocks (notls block 16, block 24), in a block of its own that the peer's VerifyBlock accepts;
 * - our update builder + the orderer: anchor peers by the org admin (SUCCESS, config block cut
 *   alone after the pending batch, LAST_CONFIG), BatchSize by the orderer admin (applies to the
 *   next blocks), and the refusals: a non-admin signature, a stale read set, another channel, an
 *   empty delta (BAD_REQUEST), an envelope signer outside the channel (FORBIDDEN);
 * - arbitrary bytes as the ConfigUpdateEnvelope are answered BAD_REQUEST, never thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { equals } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { parseChannelConfig, verifyBlocks } from '../../src/channelconfig/index.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import type { LocalIdentity } from '../../src/identity/types.js';
import { processBroadcast, type BroadcastDeps } from '../../src/orderer/broadcast.js';
import {
  computeConfigUpdate,
  configUpdateEnvelope,
  signConfigUpdate,
  withAnchorPeers,
} from '../../src/orderer/updatebuilder.js';
import { VirtualClock } from '../../src/sim/clock.js';
import { blockLastConfigIndex, configEnvelopeOf, decodeBlock, decodeTx } from '../../src/wire/block.js';
import { decode, encode } from '../../src/wire/codec.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { EnvelopeSchema, HeaderType, Status, type Envelope } from '../../src/wire/gen/common/common_pb.js';
import { ConfigGroupSchema, ConfigUpdateSchema, type Config } from '../../src/wire/gen/common/configtx_pb.js';
import { BatchSizeSchema } from '../../src/wire/gen/orderer/configuration_pb.js';
import { signedEnvelope } from '../../src/wire/orderer.js';
import { SKIP_VECTORS, ordererDir, readVector, vectorIndex, vectorPath } from '../helpers/vectors.js';
import { fixture, tempChain, type Fixture } from './fixtures.js';

function captureTimeMs(file: string): number {
  const e = (vectorIndex().orderer as { file: string | null; time: number }[]).find(
    (o) => o.file === `deliver/${file}`,
  );
  assert.ok(e, `no index entry for ${file}`);
  return Math.round(e.time * 1000);
}

function deps(chain: { channelId: string }, clock: VirtualClock): BroadcastDeps {
  return { chain: (id) => (id === chain.channelId ? (chain as never) : undefined), now: () => clock.now() };
}

const submit = (env: Envelope, d: BroadcastDeps) => processBroadcast(env, encode(EnvelopeSchema, env), d);

/** Apply `update` (a CONFIG_UPDATE envelope) to a fresh chain on `genesis`; the new config block. */
async function applyToGenesis(genesis: Uint8Array, update: Envelope, atMs: number, signer: LocalIdentity) {
  const clock = new VirtualClock(atMs);
  const c = await tempChain(genesis, signer.signer, clock);
  try {
    const res = await submit(update, deps(c.chain, clock));
    assert.equal(res.status, Status.SUCCESS, res.info);
    await c.chain.waitForHeight(2n);
    return { block: (await c.store.getBlock(1n))!, sequence: c.chain.sequence };
  } finally {
    await c.close();
  }
}

test(
  "interop: the captured anchor-peer CONFIG_UPDATEs give Fabric's config blocks",
  { skip: SKIP_VECTORS },
  async () => {
    const orderer = loadSigningIdentity(join(ordererDir(), 'msp'), 'OrdererMSP', { now: new Date() });
    const genesis = readVector('blocks', 'block_0.pb');
    const cuFile = readdirSync(vectorPath('deliver')).find((n) => /broadcast_req_config_update/.test(n))!;
    const notls16 = readdirSync(vectorPath('deliver')).find((n) => /_deliver_resp_block16_/.test(n))!;
    const fabric16 = parseDeliverResponse(readVector('deliver', notls16));
    assert.equal(fabric16.case, 'block');
    const block24 = decodeBlock(readVector('blocks', 'block_24.pb'));
    const cases: { name: string; update: Envelope; at: number; fabric: Config }[] = [
      {
        name: 'Org1 anchors (captured Broadcast)',
        update: decode(EnvelopeSchema, readVector('deliver', cuFile)),
        at: captureTimeMs(cuFile),
        fabric: configEnvelopeOf(decodeBlock((fabric16 as { block: Uint8Array }).block)).config!,
      },
      {
        name: 'Org2 anchors (last_update of block 24)',
        update: configEnvelopeOf(block24).lastUpdate!,
        at: Number(decodeTx(block24.data!.data[0]).channelHeader.timestamp!.seconds) * 1000,
        fabric: configEnvelopeOf(block24).config!,
      },
    ];
    for (const c of cases) {
      const { block, sequence } = await applyToGenesis(genesis, c.update, c.at, orderer);
      assert.equal(sequence, 1n, c.name);
      assert.equal(block.block.data!.data.length, 1, `${c.name}: the config block holds only the config tx`);
      const tx = decodeTx(block.block.data!.data[0]);
      assert.equal(tx.channelHeader.type, HeaderType.CONFIG);
      const env = configEnvelopeOf(block.block);
      assert.equal(env.config!.sequence, c.fabric.sequence, c.name);
      assert.ok(
        equals(ConfigGroupSchema, env.config!.channelGroup!, c.fabric.channelGroup!),
        `${c.name}: channel group equals Fabric's`,
      );
      assert.equal(
        Buffer.from(encode(EnvelopeSchema, env.lastUpdate!)).toString('hex'),
        Buffer.from(encode(EnvelopeSchema, c.update)).toString('hex'),
        'last_update is the update envelope',
      );
      assert.equal(blockLastConfigIndex(block.block), 1n);
      const [r] = verifyBlocks(genesis, [{ name: 'cfg', bytes: block.bytes }], new Date(c.at));
      assert.ok(r.ok, r.reason);
    }
  },
);

let fx: Fixture | undefined;
async function fix(): Promise<Fixture> {
  fx ??= await fixture({ maxMessageCount: 10, batchTimeout: '1s' });
  return fx;
}

interface ChainCtx {
  readonly f: Fixture;
  readonly c: Awaited<ReturnType<typeof tempChain>>;
  readonly clock: VirtualClock;
  readonly d: BroadcastDeps;
}

/** Runs body against a fresh chain on the fixture's genesis block (virtual clock at now), closed after. */
async function withChain(body: (ctx: ChainCtx) => Promise<void>): Promise<void> {
  const f = await fix();
  const clock = new VirtualClock(Date.now());
  const c = await tempChain(f.genesis, f.orderer.signer, clock);
  try {
    await body({ f, c, clock, d: deps(c.chain, clock) });
  } finally {
    await c.close();
  }
}

const admin = (f: Fixture, org: number) =>
  loadSigningIdentity(
    join(f.root, `peerOrganizations/org${org}.example.com/users/Admin@org${org}.example.com/msp`),
    `Org${org}MSP`,
    { now: new Date() },
  );
const ordererAdmin = (f: Fixture) =>
  loadSigningIdentity(
    join(f.root, 'ordererOrganizations/example.com/users/Admin@example.com/msp'),
    'OrdererMSP',
    { now: new Date() },
  );

function updateEnvelope(
  f: Fixture,
  original: Config,
  updated: Config,
  signers: LocalIdentity[],
  submitter: LocalIdentity,
  nowMs: number,
  channel = f.channel,
): Envelope {
  const cu = encode(ConfigUpdateSchema, computeConfigUpdate(channel, original, updated));
  return configUpdateEnvelope({
    channelId: f.channel,
    configUpdate: cu,
    signatures: signers.map((s) => signConfigUpdate(cu, s.signer)),
    submitter: submitter.signer,
    nowMs,
  });
}

test('anchor peers by the org admin: SUCCESS, pending batch cut first, config block alone, LAST_CONFIG', () =>
  withChain(async ({ f, c, clock, d }) => {
    const tx = signedEnvelope(
      {
        type: HeaderType.ENDORSER_TRANSACTION,
        channelId: f.channel,
        data: new Uint8Array([7]),
        nowMs: clock.now(),
        txId: 'a',
      },
      f.user.signer,
    );
    assert.equal((await submit(tx, d)).status, Status.SUCCESS);
    const cfg0 = c.chain.config.config;
    const next = withAnchorPeers(cfg0, 'Org1MSP', [{ host: 'peer9.org1.example.com', port: 9051 }]);
    const a1 = admin(f, 1);
    const res = await submit(updateEnvelope(f, cfg0, next, [a1], a1, clock.now()), d);
    assert.equal(res.status, Status.SUCCESS, res.info);
    await c.chain.waitForHeight(3n);
    const b1 = (await c.store.getBlock(1n))!.block;
    const b2 = (await c.store.getBlock(2n))!.block;
    assert.equal(decodeTx(b1.data!.data[0]).channelHeader.type, HeaderType.ENDORSER_TRANSACTION);
    assert.equal(blockLastConfigIndex(b1), 0n);
    assert.equal(b2.data!.data.length, 1);
    assert.equal(blockLastConfigIndex(b2), 2n);
    const parsed = parseChannelConfig(b2);
    assert.equal(parsed.sequence, 1n);
    assert.deepEqual(parsed.applicationOrgs.find((o) => o.mspId === 'Org1MSP')!.anchorPeers, [
      { host: 'peer9.org1.example.com', port: 9051 },
    ]);
    assert.equal(c.chain.sequence, 1n);
    // the next normal block points at the config block
    assert.equal((await submit(tx, d)).status, Status.SUCCESS);
    await clock.runFor(1000);
    await c.chain.waitForHeight(4n);
    assert.equal(blockLastConfigIndex((await c.store.getBlock(3n))!.block), 2n);

    // the same update again: the value is at version 1 already
    const again = await submit(updateEnvelope(f, cfg0, next, [a1], a1, clock.now()), d);
    assert.equal(again.status, Status.BAD_REQUEST);
    assert.match(
      again.info,
      /error applying config update to existing channel 'testchannel': error authorizing update: error validating DeltaSet: attempt to set key \[Value\] {2}\/Channel\/Application\/Org1MSP\/AnchorPeers to version 1, but key is at version 1/,
    );
    // an update that read Org1MSP at a version it no longer has: stale read set
    const stale = withAnchorPeers(cfg0, 'Org1MSP', []);
    delete stale.channelGroup!.groups['Application']!.groups['Org1MSP']!.values['AnchorPeers'];
    const gone = await submit(updateEnvelope(f, cfg0, stale, [a1], a1, clock.now()), d);
    assert.equal(gone.status, Status.SUCCESS, gone.info);
    const late = await submit(updateEnvelope(f, cfg0, stale, [a1], a1, clock.now()), d);
    assert.equal(late.status, Status.BAD_REQUEST);
    assert.match(
      late.info,
      /error validating ReadSet: proposed update requires that key \[Group\] {2}\/Channel\/Application\/Org1MSP be at version 0, but it is currently at version 1/,
    );
  }));

test('refusals: non-admin, wrong channel, empty delta (BAD_REQUEST); non-member submitter (FORBIDDEN)', () =>
  withChain(async ({ f, c, clock, d }) => {
    const cfg0 = c.chain.config.config;
    const next = withAnchorPeers(cfg0, 'Org1MSP', [{ host: 'h', port: 1 }]);
    const a1 = admin(f, 1);
    const a2 = admin(f, 2);

    const byUser = await submit(updateEnvelope(f, cfg0, next, [f.user], f.user, clock.now()), d);
    assert.equal(byUser.status, Status.BAD_REQUEST);
    assert.match(
      byUser.info,
      /error validating DeltaSet: policy for \[Value\] {2}\/Channel\/Application\/Org1MSP\/AnchorPeers not satisfied/,
    );

    const otherAdmin = await submit(updateEnvelope(f, cfg0, next, [a2], a2, clock.now()), d);
    assert.equal(otherAdmin.status, Status.BAD_REQUEST, 'Org2 admin cannot change Org1 anchors');

    const wrong = await submit(updateEnvelope(f, cfg0, next, [a1], a1, clock.now(), 'otherchannel'), d);
    assert.equal(wrong.status, Status.BAD_REQUEST);
    assert.match(
      wrong.info,
      /ConfigUpdate for channel 'otherchannel' but envelope for channel 'testchannel'/,
    );

    const outsider = await submit(updateEnvelope(f, cfg0, next, [a1], f.outsider, clock.now()), d);
    assert.equal(outsider.status, Status.FORBIDDEN);
    assert.match(outsider.info, /did not pass initial checks/);

    // a write set equal to the read set changes nothing
    const cu = computeConfigUpdate(f.channel, cfg0, next);
    cu.writeSet = cu.readSet;
    const cuBytes = encode(ConfigUpdateSchema, cu);
    const empty = configUpdateEnvelope({
      channelId: f.channel,
      configUpdate: cuBytes,
      signatures: [signConfigUpdate(cuBytes, a1.signer)],
      submitter: a1.signer,
      nowMs: clock.now(),
    });
    const e = await submit(empty, d);
    assert.equal(e.status, Status.BAD_REQUEST);
    assert.match(e.info, /delta set was empty -- update would have no effect/);
    assert.equal(c.chain.height(), 1n, 'nothing was ordered');
  }));

test('BatchSize needs the orderer admin, then applies to the next batches', () =>
  withChain(async ({ f, c, clock, d }) => {
    const cfg0 = c.chain.config.config;
    const next = structuredClone(cfg0) as Config;
    const v = next.channelGroup!.groups['Orderer']!.values['BatchSize']!;
    const bs = decode(BatchSizeSchema, v.value);
    bs.maxMessageCount = 2;
    v.value = encode(BatchSizeSchema, bs);
    const a1 = admin(f, 1);
    const denied = await submit(updateEnvelope(f, cfg0, next, [a1], a1, clock.now()), d);
    assert.equal(denied.status, Status.BAD_REQUEST);
    assert.match(denied.info, /policy for \[Value\] {2}\/Channel\/Orderer\/BatchSize not satisfied/);
    const oa = ordererAdmin(f);
    const ok = await submit(updateEnvelope(f, cfg0, next, [oa], oa, clock.now()), d);
    assert.equal(ok.status, Status.SUCCESS, ok.info);
    await c.chain.waitForHeight(2n);
    assert.equal(c.chain.config.batchSize.maxMessageCount, 2);
    for (let i = 0; i < 2; i++) {
      const tx = signedEnvelope(
        {
          type: HeaderType.ENDORSER_TRANSACTION,
          channelId: f.channel,
          data: new Uint8Array([i]),
          nowMs: clock.now(),
          txId: `t${i}`,
        },
        f.user.signer,
      );
      assert.equal((await submit(tx, d)).status, Status.SUCCESS);
    }
    await c.chain.waitForHeight(3n);
    assert.equal((await c.store.getBlock(2n))!.block.data!.data.length, 2, 'cut by the new MaxMessageCount');
  }));

test('property: arbitrary ConfigUpdateEnvelope bytes are answered BAD_REQUEST, never thrown', () =>
  withChain(async ({ f, c, clock, d }) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (data) => {
        const env = signedEnvelope(
          { type: HeaderType.CONFIG_UPDATE, channelId: f.channel, data, nowMs: clock.now() },
          admin(f, 1).signer,
        );
        const r = await submit(env, d);
        assert.equal(r.status, Status.BAD_REQUEST);
      }),
      { numRuns: 60 },
    );
    assert.equal(c.chain.height(), 1n);
  }));
