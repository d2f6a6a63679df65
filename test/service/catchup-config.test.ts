/**
 * The gossip service's catch-up wiring (src/service/channel.ts) on a real transport: with a
 * catch-up client and the channel's config block as bytes, the state provider gets the MCS
 * worker verifier; a CONFIG block committed to the ledger is handed to those workers (the feed's
 * generation grows once per committed config block, not for other blocks); without a
 * config block as bytes (a parsed setup, as the simulation gives) there are no workers.
 */
import { realClock, cryptoRng } from '../../src/base/real-clock.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { loadCommIdentity } from '../../src/comm/identity.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import {
  commCryptoFromMcs,
  GossipService,
  ChannelCryptoRegistry,
  parseSetup,
} from '../../src/service/index.js';
import { MessageCryptoService } from '../../src/identity/index.js';
import { silentLogger } from '../../src/base/log.js';
import { blockDataHash, blockHeaderHash, decodeBlock, encodeBlock } from '../../src/wire/block.js';
import { BlockSchema } from '../../src/wire/gen/common/common_pb.js';
import { until } from '../helpers/until.js';
import { testPeerDir } from '../helpers/crypto.js';
import { MemLedger } from '../state/fixtures.js';
import { makeBlock } from '../../src/sim/blockmaker.js';
import { localOf, ordererSignerOf, tlsOf } from '../net/catchup-fixtures.js';
import { CHANNEL, netChannel, type NetChannel } from '../net/e2e-world.js';
import { gossipNodeConfig } from '../../src/core/gossip/nodeconfig.js';
import { electionConfig } from '../../src/core/election/index.js';
import { stateConfig } from '../../src/core/state/index.js';

let net: NetChannel;
const cleanup: (() => Promise<void> | void)[] = [];

before(async () => {
  net = await netChannel({ orgs: 1, peersPerOrg: 1 });
});
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** Block `number` holding the genesis block's config transaction, linked to `prev` (not signed: added as an orderer block). */
function configBlock(number: bigint, prev: Uint8Array): Uint8Array {
  const g = decodeBlock(net.genesis);
  const data = g.data!.data;
  return encodeBlock(
    create(BlockSchema, {
      header: {
        number,
        previousHash: blockHeaderHash(decodeBlock(prev).header!),
        dataHash: blockDataHash(data),
      },
      data: { data },
      metadata: g.metadata,
    }),
  );
}

async function service(withBytes: boolean) {
  const local = localOf(net, 1, 0);
  const registry = new ChannelCryptoRegistry();
  const mcs = new MessageCryptoService(local, registry, () => new Date());
  const transport = await GrpcTransport.start({
    clock: realClock,
    rng: cryptoRng,
    identity: loadCommIdentity(join(testPeerDir(net.root, 1, 0), 'msp'), 'Org1MSP'),
    crypto: commCryptoFromMcs(mcs),
    tls: tlsOf(net, 1, 0),
    listenAddress: '127.0.0.1:0',
    logger: silentLogger,
  });
  const svc = new GossipService({
    clock: realClock,
    rng: cryptoRng,
    transport,
    identityStore: transport.identityStore,
    crypto: mcs,
    signer: local.signer,
    mspId: 'Org1MSP',
    gossip: gossipNodeConfig(
      { discovery: { endpoint: transport.endpoint, externalEndpoint: transport.endpoint, bootstrap: [] } },
      'fast',
    ),
    election: electionConfig({ useLeaderElection: false, orgLeader: false }, 'fast'),
    state: stateConfig({ catchup: { verifyWorkers: 1 } }),
    catchup: { client: { stream: () => Promise.resolve(0) } },
    channelCrypto: registry,
    logger: silentLogger,
    ownsTransport: true,
  });
  cleanup.push(() => svc.stop());
  const ledger = new MemLedger([net.genesis]);
  svc.initializeChannel(withBytes ? net.genesis : parseSetup(decodeBlock(net.genesis)), ledger);
  svc.start();
  return { svc, ledger, channel: svc.channel(CHANNEL)! };
}

test('a committed config block reaches the catch-up verifier workers; other blocks do not', async () => {
  const { svc, ledger, channel } = await service(true);
  await channel.provider.verifierReady();
  assert.equal(channel.verifierConfigGeneration, 0);
  const b1 = configBlock(1n, net.genesis);
  await svc.addPayload(CHANNEL, { seqNum: 1n, data: b1 });
  await until(() => ledger.height() === 2n, 'config block 1 committed');
  await until(() => channel.verifierConfigGeneration === 1, 'the config to be published');
  const b2 = makeBlock({
    channel: CHANNEL,
    number: 2n,
    previousHash: blockHeaderHash(decodeBlock(b1).header!),
    orderer: ordererSignerOf(net),
  }).bytes;
  await svc.addPayload(CHANNEL, { seqNum: 2n, data: b2 });
  await until(() => ledger.height() === 3n, 'block 2 committed');
  const b3 = configBlock(3n, b2);
  await svc.addPayload(CHANNEL, { seqNum: 3n, data: b3 });
  await until(() => ledger.height() === 4n, 'config block 3 committed');
  await until(() => channel.verifierConfigGeneration === 2, 'the second config to be published');
  assert.equal(svc.catchupLedger(CHANNEL)?.height(), 4n);
  assert.equal(svc.catchupLedger('nochannel'), undefined);
});

test('a channel initialised from a parsed setup has no verifier workers', async () => {
  const { channel } = await service(false);
  assert.equal(channel.verifierConfigGeneration, undefined);
});
