/**
 * A process of its own for the catch-up figure of bench/streams-net.ts (as a peer is, in a real
 * network): argv[2] is a JSON job on stdin-free argv, one of
 *   { kind: 'peer', net, org, index, height }: start peer<index>.org<org> with streams (e2e-world)
 *     and report when its ledger reaches `height`;
 *   { kind: 'raw', net, org, index, endpoint, height }: open a raw Deliver stream on `endpoint`
 *     with that peer's identity from block 1 and report when block height-1 arrived.
 * Prints one JSON line { ms, cpuMs, streamed?, marks?, signatureChecks? } on stdout (ms from the
 * start of the catch-up; cpuMs: this process's CPU over it, worker threads included).
 * GRAPEVINE_BENCH_CHILD_STATE: JSON StateConfigInput for the peer (experiments).
 * GRAPEVINE_BENCH_CHILD_INLINE=1: the peer verifies streamed blocks on its main thread, without
 *   verifier workers (to compare).
 * GRAPEVINE_BENCH_CHILD_HEAP: a file: the peer's allocations over the catch-up (V8's sampling heap
 *   profiler, garbage included, as .heapprofile JSON for Chrome DevTools), for allocation work.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { GrpcUpstreamConnector } from '../src/comm/deliver/grpc.js';
import { loadCommTls } from '../src/comm/identity.js';
import { resolveDeliverConfig } from '../src/core/deliver/index.js';
import { silentLogger } from '../src/base/log.js';
import { loadSigningIdentity } from '../src/identity/index.js';
import { encode } from '../src/wire/codec.js';
import { parseDeliverResponse } from '../src/wire/deliver-frames.js';
import { EnvelopeSchema } from '../src/wire/gen/common/common_pb.js';
import { deliverSeekEnvelope } from '../src/wire/orderer.js';
import { testOrgMspDir, testPeerDir } from '../test/helpers/crypto.js';
import { CHANNEL, startPeer, type NetChannel } from '../test/net/e2e-world.js';
import type { StateConfigInput } from '../src/core/state/config.js';

interface Job {
  readonly kind: 'peer' | 'raw';
  readonly net: Omit<NetChannel, 'genesis'> & { readonly genesis: string };
  readonly org: number;
  readonly index: number;
  readonly height: string;
  readonly endpoint?: string;
}

const job = JSON.parse(process.argv[2]!) as Job;
const net: NetChannel = { ...job.net, genesis: new Uint8Array(Buffer.from(job.net.genesis, 'base64')) };
const height = BigInt(job.height);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (job.kind === 'peer') {
  // as the daemon runs: stream blocks verified in the catch-up verifier worker(s)
  const state = process.env.GRAPEVINE_BENCH_CHILD_STATE; // JSON StateConfigInput, for experiments
  const p = await startPeer(net, job.org, job.index, {
    streams: true,
    verifyWorkers: process.env.GRAPEVINE_BENCH_CHILD_INLINE !== '1',
    logger: silentLogger,
    ...(state ? { state: JSON.parse(state) as StateConfigInput } : {}),
  });
  const heapFile = process.env.GRAPEVINE_BENCH_CHILD_HEAP;
  const session = heapFile ? new Session() : undefined;
  const post = (method: string, params: object = {}) =>
    new Promise<{ profile?: unknown }>((resolve, reject) =>
      session!.post(method, params, (e, r) => (e ? reject(e) : resolve(r as { profile?: unknown }))),
    );
  if (session) {
    session.connect();
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // when blocks 1, 1000, 5000 and 9000 were in (ms): start-up, ramp and steady rate
  const marks: number[] = [];
  for (const h of [2n, 1001n, 5001n, 9001n]) {
    while (p.ledger.height() < h) await sleep(2);
    marks.push(Math.round(performance.now() - t0));
  }
  while (p.ledger.height() < height) await sleep(2);
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  if (session) writeFileSync(heapFile!, JSON.stringify((await post('HeapProfiler.stopSampling')).profile));
  const cpuMs = (used.user + used.system) / 1000;
  const streamed = await p.metrics.value('grapevine_stream_blocks_total');
  const signatureChecks = await p.metrics.value('grapevine_catchup_signature_checks_total');
  process.stdout.write(`${JSON.stringify({ ms, streamed, cpuMs, marks, signatureChecks })}\n`);
  await p.stop();
} else {
  const dir = testPeerDir(net.root, job.org, job.index);
  const d = join(testOrgMspDir(net.root, job.org), 'tlscacerts');
  const ca = readFileSync(join(d, readdirSync(d).filter((x) => !x.startsWith('.'))[0]!));
  const c = new GrpcUpstreamConnector(resolveDeliverConfig({}), loadCommTls(join(dir, 'tls'), [ca]));
  const signer = loadSigningIdentity(join(dir, 'msp'), `Org${job.org}MSP`, { now: new Date() }).signer;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const raw = await c.open(
    job.endpoint!,
    encode(EnvelopeSchema, deliverSeekEnvelope(CHANNEL, 1n, signer, Date.now(), c.tlsCertHash)),
  );
  let got = 0n;
  while (got < height - 1n) {
    const f = await raw.recv();
    if (!f) throw new Error('raw stream ended');
    if (parseDeliverResponse(f).case === 'block') got++;
  }
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 })}\n`);
  raw.close();
  c.closeAll();
}
process.exit(0);
