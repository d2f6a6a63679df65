/**
 * The dashboard page in a real browser (playwright-core driving Debian's chromium): served by
 * DashboardServer over a NetworkState fed with peer reports, the page shows the six peers with
 * their heights, the leader per org and channel, the topology and block paths; a later report
 * reaches the page through server-sent events without a reload. A screenshot is written.
 * Skips with a message when /usr/bin/chromium (or GRAPEVINE_CHROMIUM) is missing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { DashboardServer } from '../../src/dashboard/server.js';
import type { CommitRecord, PeerStateSnapshot } from '../../src/node/peerstate.js';
import { NetworkState } from '../../src/network/state.js';

const CHROMIUM = process.env.GRAPEVINE_CHROMIUM ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM)
  ? false
  : `chromium not found at ${CHROMIUM} (apt-get install chromium, or set GRAPEVINE_CHROMIUM)`;

const PEERS = [1, 2].flatMap((org) =>
  [0, 1, 2].map((i) => ({
    name: `peer${i}.org${org}.example.com`,
    mspId: `Org${org}MSP`,
    endpoint: `127.0.0.1:${7000 + org * 10 + i}`,
  })),
);
const pki = (name: string) => Buffer.from(name).toString('hex').slice(0, 64).padEnd(64, '0');

function snapshotOf(
  p: (typeof PEERS)[number],
  height: number,
  leader: boolean,
  commits: CommitRecord[],
): PeerStateSnapshot {
  return {
    id: p.name,
    mspId: p.mspId,
    endpoint: p.endpoint,
    pkiId: pki(p.name),
    pid: 100,
    rssBytes: 60 * 1048576,
    startedAt: 0,
    channels: [{ name: 'grapevine', height, leader, mode: 'dynamic', members: [] }],
    connections: PEERS.filter((q) => q.mspId === p.mspId && q !== p).map((q) => pki(q.name)),
    commits,
  };
}

/** Every peer at `height`; peer1 of org1 and peer2 of org2 lead; block height-1 committed everywhere. */
function feed(state: NetworkState, height: number): void {
  const leaders = new Set(['peer1.org1.example.com', 'peer2.org2.example.com']);
  const base = 1_700_000_000_000 + height * 1000;
  PEERS.forEach((p, k) => {
    const leader = leaders.has(p.name);
    const src = PEERS.find((q) => q.mspId === p.mspId && leaders.has(q.name))!;
    const commit: CommitRecord = leader
      ? { channel: 'grapevine', block: height - 1, at: base, source: 'orderer' }
      : { channel: 'grapevine', block: height - 1, at: base + 2 + k, source: 'push', from: pki(src.name) };
    state.report(p.name, snapshotOf(p, height, leader, [commit]));
  });
}

test('the dashboard shows peers, heights and leaders, live', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const state = new NetworkState(
    'grapevine',
    PEERS,
    { name: 'orderer0.example.com', endpoint: '127.0.0.1:7050' },
    Date.now(),
  );
  state.orderer.status = 'running';
  feed(state, 2); // a first report from everyone, so PKI-IDs resolve to names
  feed(state, 24);
  const server = new DashboardServer({ state: () => state.snapshot(), intervalMs: 100 });
  const url = await server.start();
  const profile = mkdtempSync(join(tmpdir(), 'grapevine-chromium-'));
  t.after(async () => {
    await server.stop();
    rmSync(profile, { recursive: true, force: true });
  });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(url);
    const rows = page.getByTestId('peer-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 6);
    for (const p of PEERS) {
      const row = page.locator(`[data-testid="peer-row"][data-peer="${p.name}"]`);
      assert.equal(await row.getByTestId('height').innerText(), '24');
      assert.ok(await row.isVisible());
    }
    const flag = (name: string) =>
      page.locator(`[data-testid="peer-row"][data-peer="${name}"] [data-testid="leader-flag"]`).innerText();
    assert.match(await flag('peer1.org1.example.com'), /leader/);
    assert.equal(await flag('peer0.org1.example.com'), '');
    assert.equal(await page.getByTestId('leader-Org1MSP').innerText(), 'peer1.org1.example.com');
    assert.equal(await page.getByTestId('leader-Org2MSP').innerText(), 'peer2.org2.example.com');
    // the topology draws 6 peers (leaders starred) and the orderer
    assert.equal(await page.locator('#topology [data-peer]').count(), 6);
    assert.match(
      (await page.locator('#topology [data-peer="peer1.org1.example.com"]').textContent()) ?? '',
      /★/,
    );
    // the block path: block 23 came from the orderer to each leader, then pushed within the org
    const block = page.getByTestId('block').first();
    const text = await block.innerText();
    assert.match(text, /#23/);
    assert.match(text, /peer1\.org1 \+0 ms · from orderer/);
    assert.match(text, /peer0\.org1 \+2 ms · push from peer1\.org1/);
    // live: a new report shows up without a reload (server-sent events)
    feed(state, 31);
    await page
      .locator('[data-testid="peer-row"][data-peer="peer0.org2.example.com"] [data-testid="height"]')
      .filter({ hasText: /^31$/ })
      .waitFor({ timeout: 5000 });
    assert.match(await page.getByTestId('summary').innerText(), /heights 31–31/);
    const shot = join(profile, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'a screenshot with content');
    if (process.env.GRAPEVINE_SCREENSHOT)
      await page.screenshot({ path: process.env.GRAPEVINE_SCREENSHOT, fullPage: true });
  } finally {
    await context.close();
  }
});
