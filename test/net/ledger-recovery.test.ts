/**
 * Health that tells the truth, and a commit loop that resumes by itself (issue 15), with real
 * in-process peer daemons, real BlockStore ledgers on disk and a real write failure: the test
 * process's file-size limit (RLIMIT_FSIZE, set with prlimit(1)) is lowered while peer1 streams
 * 300 blocks from peer0, so its block file cannot grow (EFBIG, as a full disk refuses a write).
 *   - peer1's /healthz answers 503 in Fabric's format, naming the channel and the reason, and
 *     grapevine_state_commit_stopped is 1;
 *   - the limit is raised again (the space is back): with no restart the commit loop reopens the
 *     ledger (crash recovery), goes on from its last durable block and reaches every block;
 *     /healthz answers 200, grapevine_ledger_recoveries_total counts it, and the ledger holds
 *     every block in order.
 * Skips with a message where prlimit(1) is missing or not permitted.
 */
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import { blockFileName } from '../../src/ledger/index.js';
import { peerHome, type NetworkLayout, type PeerSpec } from '../../src/network/layout.js';
import { until } from '../helpers/until.js';
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';

const AHEAD = 300;

function setFileSizeLimit(bytes: number | 'unlimited'): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${bytes}:unlimited`]);
}

/** Why this machine cannot run the test, or undefined. */
function prlimitMissing(): string | undefined {
  try {
    setFileSizeLimit('unlimited');
    return undefined;
  } catch (e) {
    return `prlimit(1) cannot set this process's file-size limit here (${(e as Error).message.split('\n')[0]})`;
  }
}

let fx: DaemonFixture;
let layout: NetworkLayout;
const running: PeerDaemon[] = [];
const logger = pino({ level: 'silent' });
const skip = prlimitMissing();

const peer = (index: number): PeerSpec => layout.peers.find((p) => p.org === 1 && p.index === index)!;
const configOf = (p: PeerSpec) =>
  loadPeerConfig({
    file: join(peerHome(layout, p), 'core.yaml'),
    env: {},
    overrides: { 'operations.listenAddress': '127.0.0.1:0' },
  });

before(async () => {
  if (skip) return;
  fx = await daemonFixture('grapevine-ledger-recovery-');
  layout = fx.layout;
  await fx.seedLedger(configOf(peer(0)).grapevine.ledgerPath, AHEAD);
});

after(async () => {
  if (skip) return;
  setFileSizeLimit('unlimited');
  for (const d of running.splice(0).reverse()) await d.stop();
  await fx.close();
});

test(
  'a ledger that cannot write fails /healthz naming the channel; once it can, the commit loop recovers it without a restart',
  { skip },
  async () => {
    const source = await PeerDaemon.start({ config: configOf(peer(0)), logger });
    running.push(source);
    // every file this process writes from now on stops at 48 KiB: peer1's first block file fills
    // after a few dozen blocks (peer0 only reads)
    const cfg1 = configOf(peer(1));
    setFileSizeLimit(48 * 1024);
    let follower: PeerDaemon;
    try {
      follower = await PeerDaemon.start({ config: cfg1, logger });
      running.push(follower);
    } catch (e) {
      setFileSizeLimit('unlimited');
      throw e;
    }
    const ch = () => follower.service.channel(layout.channel)!;
    const healthz = async () => {
      const res = await fetch(`http://127.0.0.1:${follower.operations!.address()!.port}/healthz`);
      return {
        status: res.status,
        body: (await res.json()) as {
          status: string;
          failed_checks?: { component: string; reason: string }[];
        },
      };
    };
    try {
      await until(() => ch().commitFailure() !== undefined, 'the commit loop to stop on the full file', {
        timeoutMs: 30_000,
        detail: () => `height ${ch().height()}`,
      });
      const stuckAt = ch().height();
      assert.ok(
        stuckAt > 1n && stuckAt < BigInt(AHEAD + 1),
        `some blocks went in before the limit (${stuckAt})`,
      );
      const down = await healthz();
      assert.equal(down.status, 503);
      assert.equal(down.body.status, 'Service Unavailable');
      const check = down.body.failed_checks?.find((c) => c.component === 'ledger');
      assert.ok(check, JSON.stringify(down.body));
      assert.match(check.reason, new RegExp(`channel ${layout.channel} commits nothing`));
      assert.equal(
        await follower.service.metrics.value('grapevine_state_commit_stopped', { channel: layout.channel }),
        1,
      );
    } finally {
      setFileSizeLimit('unlimited'); // the space is back
    }
    await until(() => ch().height() === BigInt(AHEAD + 1), 'every block after the recovery', {
      timeoutMs: 60_000,
      detail: () => `height ${ch().height()}; ${ch().commitFailure()?.reason ?? 'running'}`,
    });
    const up = await healthz();
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.ok(
      (await follower.service.metrics.value('grapevine_ledger_recoveries_total', {
        channel: layout.channel,
      })) >= 1,
    );
    assert.equal(
      await follower.service.metrics.value('grapevine_state_commit_stopped', { channel: layout.channel }),
      0,
    );
    // the recovered ledger holds every block, in order, as peer0's
    const dir = join(cfg1.grapevine.ledgerPath, layout.channel);
    assert.ok(
      statSync(join(dir, blockFileName(0))).size > 48 * 1024,
      'the block file grew past the old limit',
    );
    for (const n of [1n, BigInt(AHEAD / 2), BigInt(AHEAD)]) {
      const a = await source.channels[0]!.ledger.getBlockBytes(n);
      const b = await follower.channels[0]!.ledger.getBlockBytes(n);
      assert.ok(a && b && Buffer.from(a).equals(Buffer.from(b)), `block ${n} equals peer0's`);
    }
  },
);
