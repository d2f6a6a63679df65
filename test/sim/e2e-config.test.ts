/**
 * The service's config plumbing: a committed CONFIG block is recognised (one-transaction framing
 * walk, then decode) and handed on; ordinary blocks are not; initializeChannel's input is
 * normalised to a setup with typed errors for unusable blocks; the framing walk never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeChain } from '../../src/sim/blockmaker.js';
import { simOrg, simPeer } from '../../src/sim/index.js';
import { parseSetup, toSetup, txCountUpTo2, watchConfigBlocks } from '../../src/service/index.js';
import { firstTxType } from '../../src/service/configwatch.js';
import { decodeBlock } from '../../src/wire/block.js';
import { decode } from '../../src/wire/codec.js';
import { ChannelHeaderSchema, EnvelopeSchema, PayloadSchema } from '../../src/wire/gen/common/common_pb.js';
import { vectorBlocks, vectorsOrSkip } from '../helpers/vectors.js';
import { ConfigError } from '../../src/base/errors.js';
import type { Block } from '../../src/wire/gen/common/common_pb.js';
import { fixture } from '../orderer/fixtures.js';

test('txCountUpTo2: 1 for a config block, 1 or 2 for ordinary ones; arbitrary bytes never throw', async () => {
  const f = await fixture({ ordererEndpoints: ['127.0.0.1:7050', '127.0.0.1:8050'] });
  assert.equal(txCountUpTo2(f.genesis), 1);
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer = await simPeer(org, 0);
  const [one] = makeChain({ channel: 'c', orderer: orderer.signer, n: 1, txCount: 1 });
  const [five] = makeChain({ channel: 'c', orderer: orderer.signer, n: 1, txCount: 5 });
  assert.equal(txCountUpTo2(one!), 1);
  assert.equal(txCountUpTo2(five!), 2);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const r = txCountUpTo2(b);
      return r === undefined || (Number.isInteger(r) && r >= 0 && r <= 2);
    }),
  );
});

/** The first transaction's channel header type, by a full decode. */
function decodedType(bytes: Uint8Array): number {
  const env = decode(EnvelopeSchema, decodeBlock(bytes).data!.data[0]!);
  const payload = decode(PayloadSchema, env.payload);
  return decode(ChannelHeaderSchema, payload.header!.channelHeader).type;
}

test('firstTxType: the first transaction type without a decode, as a full decode reads it; never throws', async (t) => {
  const f = await fixture();
  assert.equal(firstTxType(f.genesis), 1, 'CONFIG');
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer = await simPeer(org, 0);
  const [plain] = makeChain({ channel: 'c', orderer: orderer.signer, n: 1, txCount: 1 });
  assert.notEqual(firstTxType(plain!), 1);
  assert.equal(firstTxType(plain!) ?? 0, decodedType(plain!));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const r = firstTxType(b);
      return r === undefined || Number.isInteger(r);
    }),
  );
  if (!vectorsOrSkip(t)) return;
  // real Fabric v2.4.9 blocks: the genesis and config updates are CONFIG (1), the rest ENDORSER_TRANSACTION (3)
  let configs = 0;
  for (const { n, bytes } of vectorBlocks()) {
    assert.equal(firstTxType(bytes) ?? 0, decodedType(bytes), `block ${n}`);
    if (firstTxType(bytes) === 1) configs++;
  }
  assert.ok(configs >= 1, 'the vectors hold at least the genesis block');
});

test('watchConfigBlocks: onConfig sees committed config blocks only, after the append', async () => {
  const f = await fixture();
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer = await simPeer(org, 0);
  const [plain] = makeChain({ channel: f.channel, orderer: orderer.signer, n: 1, txCount: 1 });
  const appended: Uint8Array[] = [];
  const seen: Block[] = [];
  const ledger = watchConfigBlocks(
    {
      height: () => BigInt(appended.length),
      getBlockBytes: async () => undefined,
      append: async (b) => (appended.push(b), BigInt(appended.length)),
    },
    (b) => {
      assert.equal(appended.length, 1, 'after the append');
      seen.push(b);
    },
  );
  await ledger.append(f.genesis);
  await ledger.append(plain!);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.header!.number, 0n);
  const setup = parseSetup(seen[0]!);
  assert.equal(setup.channelId, f.channel);
  assert.deepEqual(
    setup.join.orgs.map((o) => o.mspId),
    ['Org1MSP', 'Org2MSP'],
  );
  assert.deepEqual(
    [...setup.orderer.orgs.values()].flatMap((o) => o.addresses),
    ['127.0.0.1:7050'],
  );
});

test('toSetup: a non-config block and undecodable bytes are ConfigErrors with stable codes', async () => {
  const org = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer = await simPeer(org, 0);
  const [plain] = makeChain({ channel: 'c', orderer: orderer.signer, n: 1 });
  assert.throws(
    () => toSetup(plain!, parseSetup),
    (e: unknown) => e instanceof ConfigError && e.code === 'NOT_CONFIG_BLOCK',
  );
  assert.throws(
    () => toSetup(new Uint8Array([0xff, 0xff, 0xff]), parseSetup),
    (e: unknown) => e instanceof ConfigError && e.code === 'BAD_CONFIG_BLOCK',
  );
});
