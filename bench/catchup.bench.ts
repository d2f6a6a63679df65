/**
 * Fast catch-up benchmark (`npm run bench catchup`).
 *   catchup-10000: a peer 10,000 blocks behind catches up over real sockets with mutual TLS
 *     through the grapevine.Catchup stream: every block verified (§2.8, ECDSA), buffered,
 *     committed in order to a durable BlockStore. MB/s of block bytes, start of the round to the
 *     last commit.
 *   baseline: a raw @grpc/grpc-js server stream of the same block bytes (one message per block)
 *     with the same TLS material and the same HTTP/2 window as our client, the client only
 *     receiving them, in the same run. Ours sends several blocks per message (frame.ts) and
 *     verifies in worker threads (catchup.verifyWorkers); the verifier workers are started
 *     before the clock starts, as in a running peer. Each run verifies every block afresh
 *     (new workers, no memo shared with earlier runs) and fsyncs every block (group commit).
 * Both peers' StateCrypto and the workers' verifier are MessageCryptoService over the real MSPs
 * (test/state/verifier-module.ts). Environment: CATCHUP_BENCH_RUNS (default 3),
 * CATCHUP_BENCH_CONFIG (JSON StateConfigInput merged into the peer's config, for experiments),
 * CATCHUP_BENCH_MARKS (print each round's monotonic µs window, to cut a --cpu-prof profile),
 * CATCHUP_BENCH_TXS / CATCHUP_BENCH_TX_BYTES (block shape; default 2 txs of 5,000 bytes, ~10 KB).
 * One warm-up round (not counted), then CATCHUP_BENCH_RUNS rounds (default 5) of raw, ours,
 * ours with an in-memory ledger; each figure is the round with the median ratio (ours / raw of
 * that round). Prints a table and one JSON line per figure.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelCredentials, serverCredentials } from '../src/comm/tls.js';
import { BlockStore } from '../src/ledger/index.js';
import { CATCHUP_DEFAULTS, StateProvider, stateConfig } from '../src/core/state/index.js';
import { CatchupClient, CatchupServer } from '../src/comm/catchup/index.js';
import { CATCHUP_FLOW_CONTROL_WINDOW } from '../src/comm/catchup/client.js';
import { TEST_VERIFIER_MODULE, testMcs, type TestVerifierInit } from '../test/state/verifier-module.js';
import { asBuffer } from '../src/comm/catchup/service.js';
import { workerVerifierPool } from '../src/service/verify/pool.js';
import { cryptoRng, realClock } from '../src/base/real-clock.js';
import { silentLogger } from '../src/base/log.js';
import { Metrics } from '../src/base/metrics.js';
import { testCrypto } from '../test/helpers/crypto.js';
import { MemLedger } from '../test/state/fixtures.js';
import { FakeTransport } from '../test/helpers/fake-transport.js';
import { makeChain } from '../src/sim/blockmaker.js';
import { ordererSigner, peerSigner, peerTls } from '../test/net/state-fixtures.js';

const CHANNEL = 'benchchannel';
const N = 10_000;
const TRUST = [1, 2];

const root = await testCrypto({ orgs: 2, peersPerOrg: 2 });
const t0 = Date.now();
const blocks = makeChain({
  channel: CHANNEL,
  orderer: ordererSigner(root),
  n: N + 1,
  from: 0n,
  txCount: Number(process.env.CATCHUP_BENCH_TXS ?? 2),
  txBytes: Number(process.env.CATCHUP_BENCH_TX_BYTES ?? 5_000),
});
const bytes = blocks.slice(1).reduce((s, b) => s + b.length, 0);
console.log(
  `made ${N + 1} blocks (${(bytes / 1e6).toFixed(1)} MB, ~${Math.round(bytes / N)} B each) in ${Date.now() - t0} ms`,
);
const dir = await mkdtemp(join(tmpdir(), 'grapevine-catchup-bench-'));

/** Blocks per durable ledger write (group commit), per durable run. */
const writesPerRun: number[] = [];

async function catchup(durable = true): Promise<number> {
  const source = new MemLedger(blocks);
  const crypto = testMcs({ root, channel: CHANNEL, channelOrgs: TRUST });
  const server = await CatchupServer.start('127.0.0.1:0', peerTls(root, 1, 0, TRUST), {
    ledger: () => source,
    crypto,
    clock: realClock,
    config: CATCHUP_DEFAULTS,
    logger: silentLogger,
  });
  const store = durable ? await BlockStore.open(join(dir, `b-${Date.now()}`)) : new MemLedger();
  await store.append(blocks[0]);
  const client = new CatchupClient({
    signer: peerSigner(root, 2, 0),
    clock: realClock,
    rng: cryptoRng,
    tls: peerTls(root, 2, 0, TRUST),
    idleTimeoutMs: 10_000,
  });
  const provider = new StateProvider({
    channel: CHANNEL,
    ledger: store,
    crypto,
    transport: new FakeTransport(),
    view: {
      peersOfChannel: () => [
        { pkiId: new Uint8Array(32), endpoint: `127.0.0.1:${server.port}`, ledgerHeight: BigInt(N + 1) },
      ],
    },
    clock: realClock,
    rng: cryptoRng,
    // CATCHUP_BENCH_CONFIG: JSON StateConfigInput merged in, for experiments (e.g. verifyWorkers)
    config: stateConfig({
      enabled: false,
      checkIntervalMs: 3_600_000,
      ...JSON.parse(process.env.CATCHUP_BENCH_CONFIG ?? '{}'),
    }),
    metrics: new Metrics(),
    logger: silentLogger,
    catchup: client,
    catchupVerifier: workerVerifierPool({
      module: TEST_VERIFIER_MODULE,
      init: { root, channel: CHANNEL, channelOrgs: TRUST, allOrgs: TRUST } satisfies TestVerifierInit,
    }),
  });
  provider.start();
  await provider.verifierReady();
  const start = process.hrtime.bigint();
  await provider.syncNow();
  let committed = store.height();
  // a 1 ms poll, not a setImmediate spin: a spinning main thread takes a core from the workers
  while (committed < BigInt(N + 1)) {
    await new Promise((r) => setTimeout(r, 1));
    committed = store.height();
  }
  const end = process.hrtime.bigint();
  const secs = Number(end - start) / 1e9;
  // CPU profile windows (µs of the monotonic clock, as .cpuprofile timestamps)
  if (process.env.CATCHUP_BENCH_MARKS)
    console.log(`mark ${durable ? 'durable' : 'mem'} ${start / 1000n} ${end / 1000n}`);
  await provider.stop();
  client.close();
  await server.stop();
  if (store instanceof BlockStore) {
    const st = store.stats();
    writesPerRun.push(st.appends / Math.max(1, st.writes));
    await store.close();
  }
  return bytes / 1e6 / secs;
}

async function rawStream(): Promise<number> {
  const tlsA = peerTls(root, 1, 0, TRUST);
  const server = new grpc.Server({ 'grpc.max_send_message_length': 100 * 1024 * 1024 });
  const path = '/bench.Raw/Stream';
  const def = {
    Stream: {
      path,
      requestStream: false,
      responseStream: true,
      requestSerialize: asBuffer,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: asBuffer,
      responseDeserialize: (b: Buffer) => b,
    },
  };
  server.addService(def, {
    Stream: async (call: grpc.ServerWritableStream<Uint8Array, Uint8Array>) => {
      for (let i = 1; i <= N; i++)
        if (!call.write(blocks[i])) await new Promise((r) => call.once('drain', r));
      call.end();
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(tlsA, false), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, channelCredentials(peerTls(root, 2, 0, TRUST)), {
    'grpc.max_receive_message_length': 100 * 1024 * 1024,
    'grpc-node.flow_control_window': CATCHUP_FLOW_CONTROL_WINDOW,
  });
  const start = process.hrtime.bigint();
  let got = 0;
  const call = client.makeServerStreamRequest<Uint8Array, Uint8Array>(
    path,
    asBuffer,
    (b: Buffer) => b,
    new Uint8Array(0),
  );
  for await (const m of call as AsyncIterable<Uint8Array>) got += m.length;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (got !== bytes) throw new Error(`raw stream got ${got} bytes, want ${bytes}`);
  client.close();
  await new Promise<void>((r) => {
    server.tryShutdown(() => r());
    server.forceShutdown();
  });
  return bytes / 1e6 / secs;
}

const runs: { ours: number; raw: number; mem: number }[] = [];
const RUNS = Number(process.env.CATCHUP_BENCH_RUNS ?? 5); // fewer for a CPU profile
// one round first, not counted: both paths JIT-compiled and both sockets' code warm
await rawStream();
await catchup(false);
writesPerRun.length = 0;
for (let i = 0; i < RUNS; i++) {
  const raw = await rawStream();
  const ours = await catchup();
  const mem = await catchup(false);
  runs.push({ ours, raw, mem });
  console.log(
    `run ${i + 1}: catch-up ${ours.toFixed(1)} MB/s (${writesPerRun[i].toFixed(1)} blocks per durable write; in-memory ledger ${mem.toFixed(1)} MB/s), raw stream ${raw.toFixed(1)} MB/s, ratio ${(ours / raw).toFixed(2)}`,
  );
}
await rm(dir, { recursive: true, force: true });
/** The run whose ratio (ours / raw of that same run) is the median: its value, baseline and ratio. */
function medianRun(key: 'ours' | 'mem') {
  const r = runs.slice().sort((a, b) => a[key] / a.raw - b[key] / b.raw)[Math.floor(runs.length / 2)];
  const value = Math.round(r[key] * 10) / 10;
  const baseline = Math.round(r.raw * 10) / 10;
  return { value, baseline, ratio: Math.round((value / baseline) * 100) / 100 };
}
const { value, baseline, ratio } = medianRun('ours');
const m = medianRun('mem');
console.log('\n| figure | value | baseline (raw grpc-js TLS stream) | ratio |');
console.log('|---|---|---|---|');
console.log(`| catchup-10000 (verify + durable commit) | ${value} MB/s | ${baseline} MB/s | ${ratio} |`);
console.log(
  `| catchup-10000-memledger (verify, in-memory ledger: no fsync) | ${m.value} MB/s | ${m.baseline} MB/s | ${m.ratio} |`,
);
console.log(JSON.stringify({ bench: 'catchup-10000', value, unit: 'MB/s', baseline, ratio }));
console.log(JSON.stringify({ bench: 'catchup-10000-memledger', unit: 'MB/s', ...m }));
