/**
 * A Grapevine peer daemon serves orderer.AtomicBroadcast/Deliver on its gossip port from its
 * ledger (the relay), over real TLS sockets on 127.0.0.1: seek Oldest..Newest and Specified
 * ranges with the ledger's exact bytes, BLOCK_UNTIL_READY waiting for a block committed later,
 * NOT_FOUND for an unknown channel, FORBIDDEN for a requester outside the channel's Readers,
 * Broadcast UNIMPLEMENTED, Fabric's deliver_* metrics by channel; with mutual TLS the request's
 * tls_cert_hash must be the client certificate's; grapevine.deliverServer.enabled false turns it off.
 */
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import { BlockStore } from '../../src/ledger/index.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import {
  peerCryptoDir,
  peerHome,
  userMspDir,
  type NetworkLayout,
  type PeerSpec,
} from '../../src/network/layout.js';
import { sha256 } from '../../src/wire/block.js';
import { encode } from '../../src/wire/codec.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { EnvelopeSchema, HeaderType, Status } from '../../src/wire/gen/common/common_pb.js';
import { SeekInfo_SeekBehavior } from '../../src/wire/gen/orderer/ab_pb.js';
import {
  encodeSeekInfo,
  MAX_UINT64,
  seekNewest,
  seekOldest,
  seekSpecified,
  signedEnvelope,
  type SeekOptions,
} from '../../src/wire/index.js';
import type { Signer } from '../../src/wire/signer.js';
import { testCrypto, testUserDir } from '../helpers/crypto.js';
import { until } from '../helpers/until.js';
import { blocksAfter } from './catchup-fixtures.js';

const STORED = 6; // genesis + 5
const LATER = 2;

/** One Deliver stream: the blocks received so far and the final status. */
class Stream {
  readonly blocks: Uint8Array[] = [];
  status: number | undefined;
  error: grpc.ServiceError | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly client: grpc.Client,
    env: Uint8Array,
  ) {
    const m = RawAtomicBroadcastService.Deliver;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    this.done = new Promise<void>((resolve) => {
      call.on('data', (b: Buffer) => {
        const r = parseDeliverResponse(b);
        if (r.case === 'block') this.blocks.push(new Uint8Array(r.block));
        else if (r.case === 'status') {
          this.status = r.status;
          call.end();
        }
      });
      call.on('end', () => resolve());
      call.on('error', (e: grpc.ServiceError) => {
        this.error = e;
        resolve();
      });
    });
    call.write(Buffer.from(env));
  }
}

describe('Deliver served by a Grapevine peer (the relay)', { timeout: 90_000 }, () => {
  let fx: DaemonFixture;
  let layout: NetworkLayout;
  let later: Uint8Array[];
  let stored: Uint8Array[];
  let reader: Signer;
  let outsider: Signer;
  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
  const running: PeerDaemon[] = [];
  const clients: grpc.Client[] = [];

  const peer = (index: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === index)!;
  const start = async (overrides: Record<string, unknown> = {}): Promise<PeerDaemon> => {
    const config = loadPeerConfig({
      file: join(peerHome(layout, peer(0)), 'core.yaml'),
      env: {},
      overrides: {
        'peer.gossip.useLeaderElection': false,
        'peer.gossip.orgLeader': false,
        'operations.listenAddress': '',
        ...overrides,
      },
    });
    const d = await PeerDaemon.start({ config, logger });
    running.push(d);
    return d;
  };
  const ca = () => readFileSync(join(peerCryptoDir(layout, peer(0)), 'tls', 'ca.crt'));
  const client = (d: PeerDaemon, mutual = false): grpc.Client => {
    const tlsDir = join(peerCryptoDir(layout, peer(1)), 'tls');
    const creds = mutual
      ? grpc.credentials.createSsl(
          ca(),
          readFileSync(join(tlsDir, 'server.key')),
          readFileSync(join(tlsDir, 'server.crt')),
        )
      : grpc.credentials.createSsl(ca());
    const c = new grpc.Client(d.transport.endpoint, creds);
    clients.push(c);
    return c;
  };
  const seek = (o: SeekOptions, signer = reader, channel = layout.channel, tlsCertHash?: Uint8Array) =>
    encode(
      EnvelopeSchema,
      signedEnvelope(
        {
          type: HeaderType.DELIVER_SEEK_INFO,
          channelId: channel,
          data: encodeSeekInfo(o),
          nowMs: Date.now(),
          tlsCertHash,
        },
        signer,
      ),
    );
  const metric = (d: PeerDaemon, name: string, labels?: Record<string, string>) =>
    d.service.metrics.value(name, labels);

  before(async () => {
    fx = await daemonFixture('grapevine-deliver-server-');
    layout = fx.layout;
    const { genesis, ordererSigner: signer } = fx;
    const all = blocksAfter(genesis, signer, STORED - 1 + LATER, { channel: layout.channel });
    stored = [genesis, ...all.slice(0, STORED - 1)];
    later = all.slice(STORED - 1);
    const cfg = loadPeerConfig({ file: join(peerHome(layout, peer(0)), 'core.yaml'), env: {} });
    const store = await BlockStore.open(join(cfg.grapevine.ledgerPath, layout.channel));
    await store.appendMany(stored);
    await store.close();
    reader = loadSigningIdentity(userMspDir(layout, 2), 'Org2MSP', { now: new Date() }).signer;
    // Org3MSP (another crypto tree) is not a member of the channel
    const other = await testCrypto({ orgs: 3, peersPerOrg: 1 });
    outsider = loadSigningIdentity(join(testUserDir(other, 3, 'User1'), 'msp'), 'Org3MSP', {
      now: new Date(),
    }).signer;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const d of running.splice(0).reverse()) await d.stop();
  });
  after(() => fx.close());

  test('seeks, statuses, exact bytes, waiting for a later block, metrics', async () => {
    const d = await start();
    const c = client(d);
    const hex = (bs: readonly Uint8Array[]) => bs.map((b) => Buffer.from(b).toString('hex'));

    const all = new Stream(c, seek({ start: seekOldest(), stop: seekNewest() }));
    await all.done;
    assert.equal(all.status, Status.SUCCESS);
    assert.deepEqual(hex(all.blocks), hex(stored), 'Oldest..Newest: every block, byte-identical');

    const range = new Stream(c, seek({ start: seekSpecified(2n), stop: seekSpecified(4n) }));
    await range.done;
    assert.equal(range.status, Status.SUCCESS);
    assert.deepEqual(hex(range.blocks), hex(stored.slice(2, 5)));

    const newest = new Stream(c, seek({ start: seekNewest(), stop: seekNewest() }));
    await newest.done;
    assert.deepEqual([newest.status, hex(newest.blocks)], [Status.SUCCESS, hex(stored.slice(-1))]);

    const beyond = new Stream(
      c,
      seek({
        start: seekSpecified(BigInt(STORED)),
        stop: seekSpecified(MAX_UINT64),
        behavior: SeekInfo_SeekBehavior.FAIL_IF_NOT_READY,
      }),
    );
    await beyond.done;
    assert.deepEqual([beyond.status, beyond.blocks.length], [Status.NOT_FOUND, 0]);

    const unknown = new Stream(c, seek({ start: seekOldest(), stop: seekNewest() }, reader, 'nosuchchannel'));
    await unknown.done;
    assert.deepEqual([unknown.status, unknown.blocks.length], [Status.NOT_FOUND, 0]);

    const refused = new Stream(c, seek({ start: seekOldest(), stop: seekNewest() }, outsider));
    await refused.done;
    assert.deepEqual([refused.status, refused.blocks.length], [Status.FORBIDDEN, 0]);

    // BLOCK_UNTIL_READY: a stream from the ledger's height gets the blocks committed later
    const live = new Stream(
      c,
      seek({ start: seekSpecified(BigInt(STORED)), stop: seekSpecified(MAX_UINT64) }),
    );
    for (let i = 0; i < LATER; i++)
      await d.service.addPayload(layout.channel, { seqNum: BigInt(STORED + i), data: later[i] });
    await until(() => live.blocks.length === LATER, 'the later blocks on the waiting stream');
    assert.deepEqual(hex(live.blocks), hex(later));
    assert.equal(live.status, undefined);

    const ch = { channel: layout.channel, filtered: 'false', data_type: 'block' };
    assert.equal(await metric(d, 'deliver_streams_opened'), 7);
    assert.equal(
      await metric(d, 'deliver_requests_received', ch),
      6,
      'every request but the unknown channel',
    );
    assert.equal(await metric(d, 'deliver_requests_completed', { ...ch, success: 'true' }), 3);
    assert.equal(await metric(d, 'deliver_requests_completed', { ...ch, success: 'false' }), 2);
    assert.equal(await metric(d, 'deliver_blocks_sent', ch), STORED + 3 + 1 + LATER);

    // a peer is not an orderer
    const m = RawAtomicBroadcastService.Broadcast;
    const bcast = c.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    const code = await new Promise<number>((resolve) => {
      bcast.on('data', () => undefined);
      bcast.on('error', (e: grpc.ServiceError) => resolve(e.code));
      bcast.on('end', () => resolve(grpc.status.OK));
    });
    assert.equal(code, grpc.status.UNIMPLEMENTED);
  });

  test('mutual TLS: tls_cert_hash must be the hash of the client certificate', async () => {
    const d = await start({ 'peer.tls.clientAuthRequired': true });
    const c = client(d, true);
    const pem = readFileSync(join(peerCryptoDir(layout, peer(1)), 'tls', 'server.crt'));
    const hash = sha256(new Uint8Array(new X509Certificate(pem).raw));
    const bound = new Stream(
      c,
      seek({ start: seekOldest(), stop: seekSpecified(1n) }, reader, layout.channel, hash),
    );
    await bound.done;
    assert.deepEqual([bound.status, bound.blocks.length], [Status.SUCCESS, 2]);
    const unbound = new Stream(c, seek({ start: seekOldest(), stop: seekSpecified(1n) }));
    await unbound.done;
    assert.deepEqual([unbound.status, unbound.blocks.length], [Status.BAD_REQUEST, 0]);
  });

  test('grapevine.deliverServer.enabled false: Deliver answers UNIMPLEMENTED', async () => {
    const d = await start({ 'grapevine.deliverServer.enabled': false });
    const s = new Stream(client(d), seek({ start: seekOldest(), stop: seekNewest() }));
    await s.done;
    assert.equal(s.error?.code, grpc.status.UNIMPLEMENTED);
    assert.equal(s.blocks.length, 0);
  });
});
