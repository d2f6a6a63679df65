/**
 * Comm benchmarks (`npm run bench comm`), all over 127.0.0.1 with mutual TLS, both ends in this
 * process:
 *   comm-stream-1k / comm-stream-100k: one gossip stream A -> B (each envelope encoded by send()
 *     at A, decoded and dispatched to a subscriber at B), against a raw @grpc/grpc-js bidi
 *     stream of the same frame bytes (pre-encoded, no decoding), same TLS and channel options.
 *     In flight: both write until the stream signals back-pressure plus sendBuffSize more
 *     (ours holds those in its send queue, raw in the stream's buffer), then wait for room.
 *     Goals >= 0.7x at 1 KB and >= 0.8x at 100 KB.
 *   comm-handshake: dial + Ping + stream + ConnEstablish both ways (probe handshake), mean ms,
 *     against a raw mTLS connect + Ping (ratio = raw / ours, so higher is better).
 *   comm-mesh-20: time for 20 nodes to form a full mesh (each sends to every other).
 * The machine is shared: raw and ours run alternately, ROUNDS times each; a figure is the median
 * run, its ratio the median of the ratios of adjacent (raw, ours) pairs.
 */
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { join } from 'node:path';
import { testCrypto } from '../test/helpers/crypto.js';
import { orgTlsCaPem, peerFolder, startNode } from '../test/comm/fixtures.js';
import { until } from '../test/helpers/until.js';
import type { GrpcTransport } from '../src/comm/transport.js';
import { loadCommTls } from '../src/comm/identity.js';
import { channelCredentials, serverCredentials } from '../src/comm/tls.js';
import { clientChannelOptions } from '../src/comm/dialer.js';
import { serverOptions } from '../src/comm/server.js';
import { commConfig } from '../src/core/link/comm-config.js';
import { RawGossipService } from '../src/comm/stream.js';
import { EmptySchema } from '../src/wire/gen/gossip/message_pb.js';
import { Tag, encodeEnvelope, unsignedGossip } from '../src/wire/gossip.js';

interface Figure {
  bench: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  note?: string;
}

const root = await testCrypto({ orgs: 2, peersPerOrg: 10 });
const cfg = commConfig();
const tlsOf = (org: number, peer: number) =>
  loadCommTls(join(peerFolder(root, org, peer), 'tls'), [orgTlsCaPem(root, 1), orgTlsCaPem(root, 2)]);
const tick = () => new Promise<void>((r) => setImmediate(r));
const ROUNDS = Number(process.env.COMM_BENCH_ROUNDS ?? 5);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function envelopeOf(size: number) {
  return unsignedGossip({
    tag: Tag.CHAN_AND_ORG,
    channel: new Uint8Array(Buffer.from('mychannel')),
    content: { case: 'dataMsg', value: { payload: { seqNum: 1n, data: new Uint8Array(size) } } },
  }).envelope;
}

/** Our transport: A sends `count` envelopes to B, keeping its queue from overflowing. */
async function oursStream(size: number, count: number): Promise<{ msgs: number; mbs: number }> {
  const a = await startNode(root, { org: 1, peer: 0 });
  const b = await startNode(root, { org: 2, peer: 0 });
  let received = 0;
  b.subscribe(
    () => true,
    () => received++,
  );
  const env = envelopeOf(size);
  const target = { endpoint: b.endpoint, pkiId: b.selfPkiId };
  a.send(env, target);
  await until(() => received === 1, 'connected');
  const queued = () => a.connections()[0].queued;
  received = 0;
  const start = process.hrtime.bigint();
  let sent = 0;
  // Fill the send queue (the stream takes frames until it signals back-pressure), then wait a
  // turn; the queue length is read once per sendBuffSize sends.
  while (sent < count) {
    const room = cfg.sendBuffSize - queued();
    if (room <= 0) {
      await tick();
      continue;
    }
    for (let i = 0; i < room && sent < count; i++, sent++) a.send(env, target);
  }
  while (received < count) await tick();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const overflow = await a.metrics.value('gossip_comm_overflow_count');
  if (overflow > 0) throw new Error(`unexpected overflow ${overflow}`);
  await Promise.all([a.stop(), b.stop()]);
  const bytes = encodeEnvelope(env).length;
  return { msgs: count / secs, mbs: (count * bytes) / secs / 1e6 };
}

/** Raw grpc-js: the same bytes over a bidi stream with the same TLS and options, no decoding. */
async function rawStream(size: number, count: number): Promise<{ msgs: number; mbs: number }> {
  const frame = Buffer.from(encodeEnvelope(envelopeOf(size)));
  const server = new grpc.Server(serverOptions(cfg));
  let received = 0;
  server.addService(RawGossipService, {
    Ping: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, create(EmptySchema)),
    GossipStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', () => received++);
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(tlsOf(2, 1), false), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new grpc.Client(
    `127.0.0.1:${port}`,
    channelCredentials(tlsOf(1, 1)),
    clientChannelOptions(cfg),
  );
  const s = RawGossipService.GossipStream;
  const call = client.makeBidiStreamRequest(
    s.path,
    s.requestSerialize,
    s.responseDeserialize,
    new grpc.Metadata(),
    {},
  );
  call.on('error', () => undefined);
  call.write(frame);
  while (received < 1) await tick();
  received = 0;
  const start = process.hrtime.bigint();
  // As many in flight as ours: write past the stream's back-pressure by sendBuffSize frames.
  const limit = call.writableHighWaterMark + cfg.sendBuffSize;
  for (let i = 0; i < count; i++) {
    call.write(frame);
    if (call.writableLength >= limit) await new Promise((r) => call.once('drain', r));
  }
  while (received < count) await tick();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  call.end();
  client.close();
  server.forceShutdown();
  return { msgs: count / secs, mbs: (count * frame.length) / secs / 1e6 };
}

/** Mean ms per handshake (ours) and per connect + Ping (raw), both against B, alternating. */
async function handshakeLatency(
  rounds: number,
  perRound: number,
): Promise<{ ours: number[]; raw: number[] }> {
  const a = await startNode(root, { org: 1, peer: 2 });
  const b = await startNode(root, { org: 2, peer: 2 });
  const creds = channelCredentials(tlsOf(1, 2));
  const raw = async () => {
    const client = new grpc.Client(b.endpoint, creds, clientChannelOptions(cfg));
    await new Promise<void>((res, rej) =>
      client.makeUnaryRequest(
        RawGossipService.Ping.path,
        RawGossipService.Ping.requestSerialize,
        RawGossipService.Ping.responseDeserialize,
        create(EmptySchema),
        (e) => (e ? rej(e) : res()),
      ),
    );
    client.close();
  };
  const ours = () => a.handshake({ endpoint: b.endpoint });
  const mean = async (f: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) await f();
    return Number(process.hrtime.bigint() - t) / 1e6 / perRound;
  };
  await ours();
  await raw();
  const out = { ours: [] as number[], raw: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    out.raw.push(await mean(raw));
    out.ours.push(await mean(ours));
  }
  await Promise.all([a.stop(), b.stop()]);
  return out;
}

async function mesh(n: number): Promise<number> {
  const nodes: GrpcTransport[] = await Promise.all(
    Array.from({ length: n }, (_, i) => startNode(root, { org: 1 + (i % 2), peer: Math.floor(i / 2) })),
  );
  const hello = unsignedGossip({ tag: Tag.EMPTY, content: { case: 'memReq', value: {} } }).envelope;
  const start = process.hrtime.bigint();
  // As discovery would: every second, greet the peers we have no connection to (a dial that
  // timed out under the initial burst of n*(n-1) TLS handshakes on one machine is retried).
  const greet = () => {
    for (const x of nodes) {
      const have = new Set(x.connectedPeers().map((p) => Buffer.from(p).toString('hex')));
      const missing = nodes.filter((o) => o !== x && !have.has(Buffer.from(o.selfPkiId).toString('hex')));
      if (missing.length)
        x.send(hello, ...missing.map((o) => ({ endpoint: o.endpoint, pkiId: o.selfPkiId })));
    }
  };
  greet();
  const timer = setInterval(greet, 1000);
  try {
    await until(() => nodes.every((x) => x.connectedPeers().length === n - 1), 'full mesh', 120_000);
    return Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    // also when the mesh never formed, so the bench ends by itself
    clearInterval(timer);
    await Promise.all(nodes.map((x) => x.stop()));
  }
}

const figures: Figure[] = [];
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
for (const [name, size, count] of [
  ['comm-stream-1k', 1024, 30_000],
  ['comm-stream-100k', 100 * 1024, 1500],
] as const) {
  await rawStream(size, Math.floor(count / 5)); // warm-up
  await oursStream(size, Math.floor(count / 5));
  const raw: { msgs: number; mbs: number }[] = [];
  const ours: { msgs: number; mbs: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    raw.push(await rawStream(size, count));
    ours.push(await oursStream(size, count));
  }
  const ratios = ours.map((o, i) => o.mbs / raw[i].mbs);
  figures.push({
    bench: name,
    value: round(median(ours.map((o) => o.mbs))),
    unit: 'MB/s',
    baseline: round(median(raw.map((o) => o.mbs))),
    ratio: round(median(ratios), 2),
    note: `${Math.round(median(ours.map((o) => o.msgs)))} vs ${Math.round(median(raw.map((o) => o.msgs)))} msgs/s; pair ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}`,
  });
}
const hs = await handshakeLatency(ROUNDS, 20);
const hsRatios = hs.ours.map((o, i) => hs.raw[i] / o);
figures.push({
  bench: 'comm-handshake',
  value: round(median(hs.ours), 2),
  unit: 'ms',
  baseline: round(median(hs.raw), 2),
  ratio: round(median(hsRatios), 2),
  note: `baseline: raw mTLS connect + Ping; ratio = baseline / value; pair ratios ${hsRatios.map((x) => x.toFixed(2)).join(' ')}`,
});
figures.push({
  bench: 'comm-mesh-20',
  value: round(await mesh(20)),
  unit: 'ms',
  baseline: null,
  ratio: null,
  note: '20 nodes, 190 connections',
});

console.log('figure              value        unit   baseline   ratio  note');
for (const f of figures) {
  console.log(
    `${f.bench.padEnd(18)} ${String(f.value).padStart(8)}  ${f.unit.padEnd(5)} ${String(f.baseline ?? '-').padStart(9)}  ${String(f.ratio ?? '-').padStart(6)}  ${f.note ?? ''}`,
  );
}
for (const f of figures) {
  const { note: _note, ...json } = f;
  console.log(JSON.stringify(json));
}
