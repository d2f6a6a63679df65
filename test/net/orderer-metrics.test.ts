/**
 * Real sockets on 127.0.0.1: the orderer's Fabric-named metrics move as traffic flows and are
 * served on its operations server's /metrics (with /healthz); the peer's deliver client metrics
 * count the blocks it pulled, show the endpoint in use and count the reconnect when the orderer
 * goes away.
 */
import { realClock, cryptoRng } from '../../src/base/real-clock.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { DeliverService } from '../../src/service/deliver.js';
import { RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { MessageCryptoService } from '../../src/identity/index.js';
import { Orderer } from '../../src/orderer/server.js';
import { Metrics } from '../../src/base/metrics.js';
import { encode } from '../../src/wire/codec.js';
import {
  encodeSeekInfo,
  MAX_UINT64,
  seekOldest,
  seekSpecified,
  SeekBehavior,
  signedEnvelope,
} from '../../src/wire/index.js';
import { EnvelopeSchema, HeaderType, Status } from '../../src/wire/gen/common/common_pb.js';
import type { Signer } from '../../src/wire/signer.js';
import { broadcastAll } from '../helpers/broadcast.js';
import { until } from '../helpers/until.js';
import { ORDERER_TLS, fixture, peerTls, endorserTxs, type Fixture } from '../orderer/fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'grapevine-net-ometrics-'));

function startOrderer(f: Fixture, dataDir = tmp()): Promise<Orderer> {
  return Orderer.start({
    signer: f.orderer.signer,
    listen: '127.0.0.1:0',
    dataDir,
    genesis: f.genesis,
    tls: {
      certPem: f.file(`${ORDERER_TLS}/server.crt`),
      keyPem: f.file(`${ORDERER_TLS}/server.key`),
      clientAuthRequired: false,
    },
    operations: { listenAddress: '127.0.0.1:0' },
  });
}

const creds = (f: Fixture) => grpc.credentials.createSsl(Buffer.from(f.file(`${ORDERER_TLS}/ca.crt`)));

const txs = (f: Fixture, signer: Signer, n: number) => endorserTxs(f, signer, n, 'm');

/** One Deliver stream oldest..stop: the number of blocks and the final status. */
async function deliverAll(address: string, c: grpc.ChannelCredentials, f: Fixture, stop: bigint) {
  const env = signedEnvelope(
    {
      type: HeaderType.DELIVER_SEEK_INFO,
      channelId: f.channel,
      data: encodeSeekInfo({
        start: seekOldest(),
        stop: seekSpecified(stop),
        behavior: SeekBehavior.BLOCK_UNTIL_READY,
      }),
      nowMs: Date.now(),
    },
    f.peer.signer,
  );
  const client = new grpc.Client(address, c);
  try {
    const m = RawAtomicBroadcastService.Deliver;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    let blocks = 0;
    let status: number | undefined;
    await new Promise<void>((resolve) => {
      call.on('data', (b: Buffer) => {
        const r = parseDeliverResponse(b);
        if (r.case === 'block') blocks++;
        else if (r.case === 'status') {
          status = r.status;
          call.end();
        }
      });
      call.on('end', resolve);
      call.on('error', () => resolve());
      call.write(Buffer.from(encode(EnvelopeSchema, env)));
    });
    return { blocks, status };
  } finally {
    client.close();
  }
}

test('orderer metrics move with Broadcast and Deliver and are served on /metrics', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const o = await startOrderer(f);
  const m = o.metrics;
  const ch = { channel: f.channel };
  try {
    const N = 5;
    assert.deepEqual(
      await broadcastAll(o.address, creds(f), txs(f, f.user.signer, N)),
      Array(N).fill(Status.SUCCESS),
    );
    assert.deepEqual(await broadcastAll(o.address, creds(f), txs(f, f.outsider.signer, 1)), [
      Status.FORBIDDEN,
    ]);
    await o.chain(f.channel)!.waitForHeight(BigInt(N + 1));
    await until(async () => (await m.value('ledger_blockchain_height', ch)) === N + 1, 'height gauge');

    const ok = { ...ch, type: 'ENDORSER_TRANSACTION', status: 'SUCCESS' };
    assert.equal(await m.value('broadcast_processed_count', ok), N);
    assert.equal(
      await m.value('broadcast_processed_count', {
        ...ch,
        type: 'ENDORSER_TRANSACTION',
        status: 'FORBIDDEN',
      }),
      1,
    );
    assert.equal(await m.value('consensus_etcdraft_committed_block_number', ch), N);
    assert.equal(await m.value('consensus_etcdraft_normal_proposals_received', ch), N);
    assert.equal(await m.value('consensus_etcdraft_cluster_size', ch), 1);
    assert.equal(await m.value('consensus_etcdraft_is_leader', ch), 1);

    // a deliver stream that receives N + 1 blocks (genesis included) shows deliver_blocks_sent = N + 1
    const got = await deliverAll(o.address, creds(f), f, BigInt(N));
    assert.deepEqual(got, { blocks: N + 1, status: Status.SUCCESS });
    const dl = { ...ch, filtered: 'false', data_type: 'block' };
    assert.equal(await m.value('deliver_blocks_sent', dl), N + 1);
    assert.equal(await m.value('deliver_requests_received', dl), 1);
    assert.equal(await m.value('deliver_requests_completed', { ...dl, success: 'true' }), 1);
    await until(async () => (await m.value('deliver_streams_closed')) === 1, 'stream closed');
    assert.equal(await m.value('deliver_streams_opened'), 1);

    // a non-member: the request is counted and completes without success
    const env = signedEnvelope(
      {
        type: HeaderType.DELIVER_SEEK_INFO,
        channelId: f.channel,
        data: encodeSeekInfo({
          start: seekOldest(),
          stop: seekSpecified(MAX_UINT64),
          behavior: SeekBehavior.BLOCK_UNTIL_READY,
        }),
        nowMs: Date.now(),
      },
      f.outsider.signer,
    );
    const client = new grpc.Client(o.address, creds(f));
    const mth = RawAtomicBroadcastService.Deliver;
    const call = client.makeBidiStreamRequest(mth.path, mth.requestSerialize, mth.responseDeserialize);
    const statuses: number[] = [];
    await new Promise<void>((resolve) => {
      call.on('data', (b: Buffer) => {
        const r = parseDeliverResponse(b);
        if (r.case === 'status') statuses.push(r.status);
      });
      call.on('end', resolve);
      call.on('error', () => resolve());
      call.write(Buffer.from(encode(EnvelopeSchema, env)));
    });
    client.close();
    assert.deepEqual(statuses, [Status.FORBIDDEN]);
    assert.equal(await m.value('deliver_requests_completed', { ...dl, success: 'false' }), 1);
    assert.equal(await m.value('deliver_blocks_sent', dl), N + 1, 'nothing sent to the non-member');

    // the operations endpoint serves the same registry
    const url = o.operationsUrl!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(
      text,
      new RegExp(
        `deliver_blocks_sent\\{channel="${f.channel}",filtered="false",data_type="block"\\} ${N + 1}`,
      ),
    );
    assert.match(
      text,
      new RegExp(
        `broadcast_processed_count\\{channel="${f.channel}",type="ENDORSER_TRANSACTION",status="SUCCESS"\\} ${N}`,
      ),
    );
    assert.match(text, new RegExp(`ledger_blockchain_height\\{channel="${f.channel}"\\} ${N + 1}`));
    assert.match(text, new RegExp(`blockcutter_block_fill_duration_count\\{channel="${f.channel}"\\} ${N}`));
    assert.match(text, /broadcast_validate_duration_bucket/);
    assert.match(
      text,
      /broadcast_enqueue_duration_count\{channel="[^"]+",type="ENDORSER_TRANSACTION",status="SUCCESS"\} 5/,
    );
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await o.stop();
  }
  assert.equal(o.operationsUrl, undefined, 'operations server stopped with the orderer');
});

test('deliver client metrics: blocks received, endpoint in use, reconnect by reason, time since last block', async () => {
  const f = await fixture({ maxMessageCount: 1 });
  const dataDir = tmp();
  const o = await startOrderer(f, dataDir);
  const metrics = new Metrics();
  const ctx = parseChannelConfig(f.genesis).cryptoContext();
  const svc = new DeliverService({
    clock: realClock,
    rng: cryptoRng,
    signer: f.peer.signer,
    verifier: new MessageCryptoService(
      f.peer,
      {
        get: (id) => (id === ctx.channelId ? ctx : undefined),
        all: () => [ctx],
      },
      () => new Date(),
    ),
    tls: {
      clientAuthRequired: false,
      certPem: f.file(`${peerTls(1)}/server.crt`),
      keyPem: f.file(`${peerTls(1)}/server.key`),
    },
    metrics,
  });
  const ch = { channel: f.channel };
  try {
    const cfgEndpoints = parseChannelConfig(f.genesis).ordererEndpoints();
    svc.updateEndpoints(
      f.channel,
      [],
      new Map([['OrdererOrg', { addresses: [o.address], rootCerts: cfgEndpoints[0].tlsRootCerts }]]),
    );
    let height = 1n;
    svc.start(f.channel, {
      ledgerHeight: () => height,
      addPayload: async (seq) => {
        height = seq + 1n;
      },
      yieldLeadership: false,
    });
    const N = 4;
    assert.deepEqual(
      await broadcastAll(o.address, creds(f), txs(f, f.user.signer, N)),
      Array(N).fill(Status.SUCCESS),
    );
    await until(
      async () => (await metrics.value('grapevine_deliver_blocks_received_total', ch)) === N,
      'blocks received',
    );
    assert.equal(await metrics.value('grapevine_deliver_connected', { ...ch, endpoint: o.address }), 1);
    const text = await metrics.text();
    const since = new RegExp(
      `grapevine_deliver_seconds_since_last_block\\{channel="${f.channel}"\\} ([0-9.e-]+)`,
    ).exec(text);
    assert.ok(since, 'seconds since last block exported');
    assert.ok(Number(since[1]) >= 0 && Number(since[1]) < 60);
    assert.equal(await metrics.value('grapevine_deliver_reconnects_total'), 0);

    // the orderer goes away: the session ends and is counted, the endpoint is no longer in use
    await o.stop();
    await until(
      async () => (await metrics.value('grapevine_deliver_reconnects_total', ch)) >= 1,
      'reconnect counted',
    );
    assert.equal(await metrics.value('grapevine_deliver_connected', { ...ch, endpoint: o.address }), 0);
    const reasons = (
      await metrics.registry.getSingleMetric('grapevine_deliver_reconnects_total')!.get()
    ).values.map((v) => String(v.labels.reason));
    assert.ok(
      reasons.every((r) => ['stream_ended', 'bad_status', 'connect_failed'].includes(r)),
      `reasons: ${reasons.join(',')}`,
    );
  } finally {
    await svc.stopAll();
    await o.stop();
  }
});
