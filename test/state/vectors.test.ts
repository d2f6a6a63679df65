/**
 * Wire compatibility with Fabric v2.4.9 (../shared/fabric-vectors): the captured
 * RemoteStateRequest/Response exchange between peer2.org1 (behind) and peer0.org1.
 *   - what we send: our requests for [1, 11] and [12, 15] with the captured nonces are
 *     byte-identical to Fabric's (fields, tag CHAN_OR_ORG, channel, unsigned);
 *   - accepted: the captured responses, authorised by peer0.org1's captured handshake, verify
 *     against block_0's channel config with the real MessageCryptoService and commit (their
 *     blocks chain onto the shared genesis block);
 *   - served: the captured request, authorised by peer2.org1's handshake, is answered with the
 *     same shape as Fabric's response (nonce echoed, tag, channel, unsigned, payloads 1..11);
 *   - the same request on a handshake whose signature fails the Readers policy is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import type { ConnectionInfo } from '../../src/core/link/types.js';
import type { Rng } from '../../src/base/time.js';
import { MessageCryptoService, loadSigningIdentity } from '../../src/identity/index.js';
import { VirtualClock } from '../../src/sim/index.js';
import { stateConfig, StateProvider } from '../../src/core/state/index.js';
import { decodeEnvelope, encodeEnvelope, openEnvelope } from '../../src/wire/gossip.js';
import { SKIP_VECTORS, readVector, vectorBlocks, vectorPath } from '../helpers/vectors.js';
import { FakeTransport } from '../helpers/fake-transport.js';
import { MemLedger } from './fixtures.js';

const CAPTURED_AT = new Date(1795214569000);
const env = (f: string) => decodeEnvelope(readVector('gossip', f));

function connOf(file: string): ConnectionInfo {
  const e = env(file);
  const { message } = openEnvelope(e);
  assert.equal(message.content.case, 'conn');
  const c = message.content.value as { pkiId: Uint8Array; identity: Uint8Array };
  return {
    pkiId: c.pkiId,
    identity: c.identity,
    endpoint: 'captured',
    auth: { signedData: e.payload, signature: e.signature },
  };
}

function world(height: number, nonces: bigint[] = []) {
  const blocks = vectorBlocks().map((b) => b.bytes);
  const cfg = parseChannelConfig(blocks[0]);
  const ctx = cfg.cryptoContext();
  const local = loadSigningIdentity(
    join(vectorPath('crypto-config'), 'peerOrganizations/org1.example.com/peers/peer0.org1.example.com/msp'),
    'Org1MSP',
    { now: CAPTURED_AT },
  );
  const mcs = new MessageCryptoService(
    local,
    { get: (id) => (id === ctx.channelId ? ctx : undefined), all: () => [ctx] },
    () => CAPTURED_AT,
  );
  const ledger = new MemLedger(blocks.slice(0, height));
  const transport = new FakeTransport();
  const clock = new VirtualClock(CAPTURED_AT.getTime());
  const rng: Rng = {
    int: () => 0,
    float: () => 0,
    u64: () => nonces.shift() ?? 1n,
    bytes: (n) => new Uint8Array(n),
    sample: (a, k) => a.slice(0, k),
  };
  let max = 0n;
  const provider = new StateProvider({
    channel: 'mychannel',
    ledger,
    crypto: mcs,
    transport,
    view: {
      peersOfChannel: () => [
        {
          pkiId: connOf('01375_conn_peer0.org1_to_peer2.org1.pb').pkiId,
          endpoint: '127.0.0.1:7051',
          ledgerHeight: max,
        },
      ],
    },
    clock,
    rng,
    config: stateConfig({ enabled: true }),
  });
  provider.start();
  return { provider, ledger, transport, clock, setMax: (h: bigint) => (max = h) };
}

test(
  "our RemoteStateRequests are byte-identical to Fabric's, and Fabric's responses are accepted and committed",
  { skip: SKIP_VECTORS },
  async () => {
    const req1 = env('01857_state_request_peer2.org1_to_peer0.org1.pb');
    const req2 = env('01859_state_request_peer2.org1_to_peer0.org1.pb');
    const nonce = (e: typeof req1) => openEnvelope(e).message.nonce;
    const w = world(1, [nonce(req1), nonce(req2)]);
    w.setMax(16n);
    const round = w.provider.syncNow();
    await w.clock.runFor(0);
    assert.equal(w.transport.sent.length, 1);
    assert.deepEqual(
      encodeEnvelope(w.transport.sent[0].envelope),
      readVector('gossip', '01857_state_request_peer2.org1_to_peer0.org1.pb'),
    );
    const peer0 = connOf('01375_conn_peer0.org1_to_peer2.org1.pb');
    assert.deepEqual(w.transport.deliver(env('01858_state_response_peer0.org1_to_peer2.org1.pb'), peer0), []);
    assert.ok(await w.clock.runUntil(() => w.transport.sent.length === 2, 1000));
    assert.deepEqual(
      encodeEnvelope(w.transport.sent[1].envelope),
      readVector('gossip', '01859_state_request_peer2.org1_to_peer0.org1.pb'),
    );
    w.transport.deliver(env('01860_state_response_peer0.org1_to_peer2.org1.pb'), peer0);
    assert.ok(await w.clock.runUntil(() => w.ledger.height() === 16n, 1000), `height ${w.ledger.height()}`);
    await round;
    const captured = openEnvelope(env('01858_state_response_peer0.org1_to_peer2.org1.pb')).message;
    const payloads = (captured.content.value as { payloads: { data: Uint8Array }[] }).payloads;
    assert.deepEqual(w.ledger.blocks[1], payloads[0].data, 'the block bytes are stored exactly as received');
    assert.equal(await w.provider.metrics.value('grapevine_gossip_state_dropped_total'), 0);
    await w.provider.stop();
  },
);

test(
  "a captured Fabric RemoteStateRequest is served with the same shape as Fabric's response",
  { skip: SKIP_VECTORS },
  async () => {
    const w = world(27);
    const req = env('01857_state_request_peer2.org1_to_peer0.org1.pb');
    const peer2 = connOf('01374_conn_peer2.org1_to_peer0.org1.pb');
    const got = w.transport.deliver(req, peer2);
    assert.ok(
      await w.clock.runUntil(() => got.length === 1, 1000),
      'answered on the connection the request came on',
    );
    const ours = openEnvelope(got[0]);
    const fabric = openEnvelope(env('01858_state_response_peer0.org1_to_peer2.org1.pb'));
    assert.equal(got[0].signature.length, 0, 'unsigned');
    assert.equal(ours.message.tag, fabric.message.tag);
    assert.equal(ours.message.nonce, fabric.message.nonce);
    assert.deepEqual(ours.message.channel, fabric.message.channel);
    const seqs = (g: typeof ours) =>
      (g.message.content.value as { payloads: { seqNum: bigint; privateData: Uint8Array[] }[] }).payloads.map(
        (p) => [p.seqNum, p.privateData.length],
      );
    assert.deepEqual(seqs(ours), seqs(fabric));
    const blocks = vectorBlocks();
    (ours.message.content.value as { payloads: { seqNum: bigint; data: Uint8Array }[] }).payloads.forEach(
      (p) => assert.deepEqual(p.data, blocks[Number(p.seqNum)].bytes),
    );
    await w.provider.stop();
  },
);

test(
  'the captured request on a handshake that fails the channel Readers policy is refused',
  { skip: SKIP_VECTORS },
  async () => {
    const w = world(27);
    const peer2 = connOf('01374_conn_peer2.org1_to_peer0.org1.pb');
    // the handshake signature no longer matches (forged identity claim): Readers refuses it
    const forged = {
      ...peer2,
      auth: {
        signedData: peer2.auth.signedData,
        signature: connOf('01375_conn_peer0.org1_to_peer2.org1.pb').auth.signature,
      },
    };
    const req = env('01857_state_request_peer2.org1_to_peer0.org1.pb');
    const got = w.transport.deliver(req, forged);
    await w.clock.runFor(100);
    assert.equal(got.length, 0);
    assert.equal(
      await w.provider.metrics.value('grapevine_gossip_state_dropped_total', { reason: 'unauthorized' }),
      1,
    );
    await w.provider.stop();
  },
);
