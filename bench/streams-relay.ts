/**
 * The relay figure of `npm run bench streams` (stream-relay-p99-ms): 4 unmodified Fabric v2.4.9
 * peers (../shared/fabric; the figure is skipped with a message where absent), each a static org
 * leader with blockGossipEnabled false, so each takes every block from its own deliver client.
 *   baseline: their deliver clients pull from the embedded orderer directly;
 *   value: their peer.deliveryclient.addressOverrides point at one Grapevine peer (`grapevine peer
 *     node start` in a process of its own, static leader of Org1, blockGossipEnabled false as
 *     theirs), which alone pulls from the orderer.
 * Each phase: fresh peers, ledgers and orderer; BLOCKS blocks of one ~16 KB transaction, one every
 * 500 ms (2 blocks/s); ROUNDS rounds of (baseline, value) in alternation, pooled per mode; per (block, peer): the Fabric peer's "Committed block [n]" log time minus
 * the moment the orderer's append of block n resolved (same machine clock, ms). p99 over all.
 * Also counted: the orderer's Deliver streams (the relay phase must show 1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { userCryptoPath } from '../src/network/crypto-layout.js';
import {
  cryptoDir,
  genesisFile,
  peerCryptoDir,
  peerHome,
  prepareLayout,
  type PeerSpec,
} from '../src/network/layout.js';
import { Orderer } from '../src/orderer/server.js';
import { FabricPeer, HAVE_FABRIC, FABRIC_DIR, setAddressOverrides } from '../test/helpers/fabric.js';
import { startLayoutOrderer } from '../test/helpers/layout-orderer.js';
import { until } from '../test/helpers/until.js';
import { percentile, type Figure } from './lib/figures.js';

const BLOCKS = Number(process.env.GRAPEVINE_BENCH_RELAY_BLOCKS ?? 80);
/** Rounds of (orderer-direct, relay), pooled per mode. */
const ROUNDS = Number(process.env.GRAPEVINE_BENCH_RELAY_ROUNDS ?? 3);
const TX_BYTES = 16 * 1024;

interface PhaseResult {
  readonly latencies: number[];
  ordererStreams: number;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const COMPILED = existsSync(join(ROOT, 'dist', 'cli', 'main.js'));

/** A counter's value (summed over its series) from a Prometheus text endpoint; -1 unreachable. */
async function metricValue(url: string, name: string): Promise<number> {
  const res = await fetch(url).catch(() => undefined);
  if (!res?.ok) return -1;
  let sum = 0;
  for (const line of (await res.text()).split('\n'))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(' ').pop());
  return sum;
}

/** Fabric's log line of a commit: `2026-12-07 13:55:12.345 UTC ... Committed block [5] ...`. */
const COMMIT_LINE = /^(?:\S+ )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC .*Committed block \[(\d+)\]/;

function commitTimes(log: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of log.split('\n')) {
    // the log has colour codes off (not a TTY); the timestamp leads the line
    // eslint-disable-next-line no-control-regex -- strip ANSI colour codes (ESC [ ... m)
    const m = COMMIT_LINE.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
    if (m) out.set(Number(m[2]), Date.parse(`${m[1]!.replace(' ', 'T')}Z`));
  }
  return out;
}

async function phase(fabric: string, viaRelay: boolean): Promise<PhaseResult> {
  const root = mkdtempSync(join(tmpdir(), `grapevine-bench-relay-${viaRelay ? 'relay' : 'direct'}-`));
  const logger = pino({ level: 'error' });
  let orderer: Orderer | undefined;
  let relay: ChildProcess | undefined;
  let relayMetrics = '';
  const fabs: FabricPeer[] = [];
  try {
    const layout = (await prepareLayout(join(root, 'net'))).layout;
    const spec = (org: number, i: number): PeerSpec =>
      layout.peers.find((p) => p.org === org && p.index === i)!;
    const lo = await startLayoutOrderer(layout, join(root, 'orderer'), logger);
    orderer = lo.orderer;
    const ordererAddress = lo.address;
    let overrides: { from: string; to: string; caCertsFile: string }[] = [];
    if (viaRelay) {
      // the relay in a process of its own, as deployed (in this process it would share one event
      // loop with the orderer, which the Fabric peers of the baseline do not)
      const s = spec(1, 0);
      const logFile = join(root, 'relay.log');
      const fd = openSync(logFile, 'a');
      try {
        // bin/grapevine.js executed itself, as an operator runs it (its `#!` line may carry Node flags)
        relay = spawn(
          join(ROOT, 'bin', 'grapevine.js'),
          ['peer', 'node', 'start', '--config', join(peerHome(layout, s), 'core.yaml')],
          {
            env: {
              ...process.env,
              CORE_PEER_GOSSIP_USELEADERELECTION: 'false',
              CORE_PEER_GOSSIP_ORGLEADER: 'true',
              // Fabric v3's orderer-direct mode on both sides: the relay serves Deliver and does not
              // also push every block to the org's Fabric peers by gossip
              CORE_PEER_DELIVERYCLIENT_BLOCKGOSSIPENABLED: 'false',
            },
            stdio: ['ignore', fd, fd],
          },
        );
      } finally {
        closeSync(fd);
      }
      relayMetrics = `http://127.0.0.1:${s.opsPort}/metrics`;
      await until(async () => (await metricValue(relayMetrics, 'deliver_streams_opened')) >= 0, 'the relay', {
        timeoutMs: 60_000,
        detail: () => readFileSync(logFile, 'utf8').slice(-2000),
      });
      const relayCa = join(peerCryptoDir(layout, s), 'tls', 'ca.crt');
      overrides = [{ from: ordererAddress, to: `127.0.0.1:${s.port}`, caCertsFile: relayCa }];
    }
    for (const [org, i] of [
      [1, 1],
      [1, 2],
      [2, 1],
      [2, 2],
    ] as const) {
      const s = spec(org, i);
      const crypto = peerCryptoDir(layout, s);
      fabs.push(
        await FabricPeer.start({
          fabric,
          dir: join(root, s.name),
          name: s.name,
          mspId: `Org${org}MSP`,
          mspDir: join(crypto, 'msp'),
          tlsDir: join(crypto, 'tls'),
          env: {
            CORE_PEER_GOSSIP_USELEADERELECTION: 'false',
            CORE_PEER_GOSSIP_ORGLEADER: 'true',
            CORE_PEER_DELIVERYCLIENT_BLOCKGOSSIPENABLED: 'false',
          },
          core: (doc) => setAddressOverrides(doc, overrides),
        }),
      );
    }
    for (const [k, f] of fabs.entries()) {
      const org = k < 2 ? 1 : 2;
      await f.joinChannel(genesisFile(layout), join(userCryptoPath(cryptoDir(layout), org, 'Admin'), 'msp'));
    }
    // every Fabric peer's deliver client is connected before the first block is cut
    const streamsWanted = viaRelay ? 1 : fabs.length;
    await until(
      async () => (await orderer!.metrics.value('deliver_streams_opened')) >= streamsWanted,
      'the orderer streams',
      { timeoutMs: 60_000 },
    );
    if (relay) {
      await until(
        async () => (await metricValue(relayMetrics, 'deliver_streams_opened')) >= fabs.length,
        'the Fabric peers on the relay',
        { timeoutMs: 60_000 },
      );
    }
    const cutAt = new Map<number, number>();
    const t0 = Date.now();
    for (let i = 0; i < BLOCKS; i++) {
      await lo.cutBlock(new Uint8Array(TX_BYTES).fill(i & 0xff), `relaybench${i}`);
      cutAt.set(i + 1, Date.now());
      const next = t0 + (i + 1) * 500;
      if (next > Date.now()) await new Promise((r) => setTimeout(r, next - Date.now()));
    }
    const height = BLOCKS + 1;
    await until(
      async () =>
        (await Promise.all(fabs.map((f) => f.metricHeight(layout.channel)))).every((h) => h === height),
      'every Fabric peer at the orderer height',
      { timeoutMs: 60_000 },
    );
    const latencies: number[] = [];
    for (const f of fabs) {
      const times = commitTimes(readFileSync(f.logFile, 'utf8'));
      for (const [n, cut] of cutAt) {
        const at = times.get(n);
        if (at === undefined) throw new Error(`${f.o.name}: no commit line for block ${n}`);
        latencies.push(Math.max(0, at - cut));
      }
    }
    return { latencies, ordererStreams: await orderer.metrics.value('deliver_streams_opened') };
  } finally {
    for (const f of fabs) await f.stop();
    if (relay && relay.exitCode === null) {
      const exited = new Promise((r) => relay!.once('exit', r));
      relay.kill('SIGTERM');
      await exited;
    }
    await orderer?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The relay figure, or none (with a message) where ../shared/fabric is absent. */
export async function relayFigures(log: (line: string) => void = console.log): Promise<Figure[]> {
  if (!HAVE_FABRIC) {
    log(`stream-relay-p99-ms skipped: no Fabric binaries at ${FABRIC_DIR}`);
    return [];
  }
  // rounds of (orderer-direct, relay) in alternation, latencies pooled per mode: one slow moment of
  // a noisy machine then weighs on one round of one mode, not on the whole figure
  const direct: PhaseResult = { latencies: [], ordererStreams: 0 };
  const relayed: PhaseResult = { latencies: [], ordererStreams: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [viaRelay, into] of [
      [false, direct],
      [true, relayed],
    ] as const) {
      const got = await phase(FABRIC_DIR, viaRelay);
      into.latencies.push(...got.latencies);
      into.ordererStreams = Math.max(into.ordererStreams, got.ordererStreams);
    }
  }
  const p = (xs: number[], q: number) => Math.round(percentile(xs, q) * 10) / 10;
  log(
    `\nrelay: 4 Fabric v2.4.9 peers, 2 blocks/s, ~16 KB blocks, ${ROUNDS} x ${BLOCKS} blocks per mode in alternating rounds; ` +
      `the relay runs ${COMPILED ? 'the compiled dist/' : 'the sources through tsx (npm run build for dist/)'}; cut -> committed (ms)`,
  );
  log('phase              p50     p99     max   orderer streams');
  for (const [name, r] of [
    ['orderer-direct', direct],
    ['through relay', relayed],
  ] as const)
    log(
      `${name.padEnd(16)}${String(p(r.latencies, 50)).padStart(6)}  ${String(p(r.latencies, 99)).padStart(6)}  ${String(p(r.latencies, 100)).padStart(6)}   ${r.ordererStreams}`,
    );
  const value = p(relayed.latencies, 99);
  const baseline = p(direct.latencies, 99);
  return [
    {
      bench: 'stream-relay-p99-ms',
      value,
      unit: 'ms',
      baseline,
      ratio: baseline === 0 ? 0 : Math.round((value / baseline) * 100) / 100,
    },
  ];
}
