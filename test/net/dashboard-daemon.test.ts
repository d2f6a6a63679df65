/**
 * `grapevine dashboard --peer ...` as a person runs it (a child process from bin/grapevine.js)
 * attached to three in-process peer daemons of org1 (prepareLayout's core.yaml: mutual TLS on
 * gossip, block streams, the fast profile; operations over plain HTTP on 127.0.0.1) and a fourth
 * status URL nobody listens on. The peer with the lowest PKI-ID holds 21 blocks and leads; the two
 * others stream the rest from it. In Chromium the page shows every peer with its height, the
 * leader, the unreachable URL in the alerts panel; then a peer is stopped and the page shows it
 * dead (the two others' view), its URL unreachable, the death in the event log. Screenshots are
 * written under os.tmpdir() (paths printed). Skips with a message without chromium.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { loadSigningIdentity } from '../../src/identity/signer.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import { peerHome, type PeerSpec } from '../../src/network/layout.js';
import {
  CHROMIUM_SKIP,
  checkDashboardPage,
  startDashboardProcess,
  type DashboardProcess,
} from '../helpers/dashboard-page.js';
import { until } from '../helpers/until.js';
import { daemonFixture, type DaemonFixture } from './daemon-fixtures.js';

const AHEAD = 20;

/** A port that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe(
  'grapevine dashboard attached to peer daemons, in Chromium',
  { skip: CHROMIUM_SKIP, timeout: 150_000 },
  () => {
    let fx: DaemonFixture;
    let dash: DashboardProcess | undefined;
    let specs: PeerSpec[];
    const peers: PeerDaemon[] = [];
    const logger = pino({ level: 'warn' }, { write: () => undefined });

    before(async () => {
      fx = await daemonFixture('grapevine-dashboard-daemon-');
      const layout = fx.layout;
      const configOf = (p: PeerSpec) =>
        loadPeerConfig({
          file: join(peerHome(layout, p), 'core.yaml'),
          env: {},
          overrides: { 'operations.listenAddress': '127.0.0.1:0' },
        });
      const pkiOf = (p: PeerSpec) =>
        pkiIdKey(
          loadSigningIdentity(configOf(p).peer.mspConfigPath, 'Org1MSP', { now: new Date() }).identity.pkiId,
        );
      // org1's peers, lowest PKI-ID first: the peer an election ends with as leader holds the blocks
      specs = layout.peers
        .filter((p) => p.org === 1)
        .map((p) => ({ p, id: pkiOf(p) }))
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((x) => x.p);
      await fx.seedLedger(configOf(specs[0]).grapevine.ledgerPath, AHEAD);
      peers.push(await PeerDaemon.start({ config: configOf(specs[0]), logger }));
      await until(() => peers[0].service.isLeader(layout.channel), 'the up-to-date peer leads its org', {
        timeoutMs: 20_000,
      });
      for (const i of [1, 2]) peers.push(await PeerDaemon.start({ config: configOf(specs[i]), logger }));
      await until(
        () => peers.every((d) => d.service.channel(layout.channel)!.height() === BigInt(AHEAD + 1)),
        'every peer caught up',
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    });
    after(async () => {
      if (dash) assert.equal(await dash.stop(), 0, dash.output());
      for (const d of peers.splice(0).reverse()) await d.stop();
      await fx.close();
    });

    test('every peer, its height, the leader, an unreachable URL; a stopped peer shown dead', async () => {
      const down = `http://127.0.0.1:${await closedPort()}`;
      const urls = [...peers.map((d) => d.operationsUrl()!), down];
      dash = await startDashboardProcess(urls, ['--interval', '300', '--timeout', '2000', '--stall', '60']);
      const names = specs.map((s) => s.name);
      const first = await checkDashboardPage(
        dash.url,
        {
          peers: names.map((name) => ({ name, height: AHEAD + 1, state: 'answering' })),
          leaders: { Org1MSP: names[0] },
          alert: new RegExp(`status_unreachable.*${down.replace(/[.:/]/g, '\\$&')}`, 's'),
          unreachable: [down],
          event: /first view: 3 members in 1 orgs, through 3 of 4 status URLs/,
        },
        {
          name: 'daemons',
          timeoutMs: 45_000,
          more: async (page) => {
            const flag = await page
              .locator(`[data-testid="peer-row"][data-peer="${names[0]}"] [data-testid="leader-flag"]`)
              .innerText();
            assert.match(flag, /leader/);
            // the followers stream their blocks from the leader
            for (const n of names.slice(1))
              assert.match(
                await page
                  .locator(`[data-testid="peer-row"][data-peer="${n}"] [data-testid="upstream"]`)
                  .innerText(),
                /stream ← |orderer|gossip/,
              );
          },
        },
      );
      assert.match(first.rows[names[0]], /★ leader/);

      // a peer stops: the others see it dead within the alive expiration; its URL stops answering
      const victim = peers.pop()!;
      const victimUrl = victim.operationsUrl()!;
      await victim.stop();
      await checkDashboardPage(
        dash.url,
        {
          peers: [
            ...names.slice(0, 2).map((name) => ({ name, height: AHEAD + 1, state: 'answering' })),
            { name: names[2], state: 'dead' },
          ],
          leaders: { Org1MSP: names[0] },
          alert: /status_unreachable/,
          unreachable: [down, victimUrl],
          event: new RegExp(`${names[2].replace(/\./g, '\\.')} is dead`),
        },
        { name: 'daemons-peer-stopped', timeoutMs: 45_000 },
      );
    });
  },
);
