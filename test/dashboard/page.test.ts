/**
 * The dashboard page in a real browser (playwright-core driving Debian's chromium): served by
 * DashboardServer over a NetworkWatch fed GET /status documents (test/watch/fixtures.ts: two
 * answering Grapevine peers of Org1MSP, Org2MSP's peers seen only as members; a third status URL
 * that does not answer), the page shows every peer with its height and lag, the leader of Org1MSP
 * (Org2MSP's unknown), the alerts panel (the peers' alerts and the unreachable URL), each block's
 * arrival at the answering peers, the event log, the refused handshakes (a peer with an expired
 * certificate); the peer table fits its panel at 1400 px; a
 * later poll reaches the page through server-sent events without a reload (a peer dies: the
 * table and the event log say so). A screenshot is written (its path printed).
 * Skips with a message when /usr/bin/chromium (or GRAPEVINE_CHROMIUM) is missing.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { DashboardServer } from '../../src/dashboard/server.js';
import { NetworkWatch } from '../../src/watch/model.js';
import { CHROMIUM_SKIP, checkDashboardPage } from '../helpers/dashboard-page.js';
import { ALL, LEADER, facts, pki, statusDoc } from '../watch/fixtures.js';

const ANSWERS: Record<string, string> = {
  'http://127.0.0.1:9000/status': 'peer0.org1.example.com',
  'http://127.0.0.1:9001/status': LEADER,
};
const DOWN = 'http://127.0.0.1:9002';

test(
  'the dashboard shows every peer, heights, leaders, alerts and block arrivals, live',
  { skip: CHROMIUM_SKIP, timeout: 90_000 },
  async (t) => {
    const f = facts(24);
    f.heights['peer1.org2.example.com'] = 20;
    f.alerts = [
      {
        kind: 'lag',
        severity: 'critical',
        since: '2026-12-07T10:00:00.000Z',
        message: 'peer1.org2.example.com is 4 blocks behind on ch for 30 s',
        pkiId: pki('peer1.org2.example.com'),
        channel: 'ch',
        value: 4,
      },
    ];
    // peer0.org1 refused a peer with an expired certificate, over and over
    f.refusedHandshakes = [
      {
        direction: 'in',
        endpoint: '127.0.0.1:51234',
        reason: 'IDENTITY_REJECTED',
        count: 97,
        first: '2026-12-07T09:59:00.000Z',
        last: '2026-12-07T10:00:00.000Z',
        error: 'identity refused: certificate has expired',
        cert: {
          subject: 'C=US, OU=peer, CN=peer9.org1.example.com',
          notAfter: '2026-12-01T00:00:00.000Z',
          expired: true,
          from: 'identity',
          mspId: 'Org1MSP',
        },
        claimedPkiId: pki('peer9.org1.example.com'),
        identityMismatch: false,
      },
    ];
    const watch = new NetworkWatch({
      urls: ['http://127.0.0.1:9000', 'http://127.0.0.1:9001', DOWN],
      intervalMs: 100,
      fetch: (url) => {
        const self = ANSWERS[url.href];
        return self
          ? // one clock reading per poll round (100 ms), so both answers place each arrival alike
            Promise.resolve(statusDoc(self, { ...f, at: Math.floor(Date.now() / 1000) * 1000 }))
          : Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9002'));
      },
    });
    await watch.start();
    const server = new DashboardServer({ state: () => watch.snapshot(), intervalMs: 100 });
    const url = await server.start();
    t.after(async () => {
      watch.stop();
      await server.stop();
    });
    const check = await checkDashboardPage(
      url,
      {
        peers: ALL.map((name) => ({
          name,
          height: name === 'peer1.org2.example.com' ? 20 : 24,
          state: ANSWERS['http://127.0.0.1:9000/status'] === name || name === LEADER ? 'answering' : 'alive',
        })),
        leaders: { Org1MSP: LEADER, Org2MSP: 'unknown (no answering peer in this org)' },
        alert: /lag.*peer1\.org2\.example\.com is 4 blocks behind/s,
        unreachable: [DOWN],
        event: /first view: 6 members in 2 orgs, through 2 of 3 status URLs/,
      },
      {
        name: 'page-test',
        more: async (page) => {
          const flag = (name: string) =>
            page
              .locator(`[data-testid="peer-row"][data-peer="${name}"] [data-testid="leader-flag"]`)
              .innerText();
          assert.match(await flag(LEADER), /leader/);
          assert.equal(await flag('peer0.org1.example.com'), '');
          assert.equal(
            await page
              .locator('[data-testid="peer-row"][data-peer="peer1.org2.example.com"] [data-testid="lag"]')
              .innerText(),
            '−4',
          );
          assert.match(
            await page
              .locator(
                '[data-testid="peer-row"][data-peer="peer0.org1.example.com"] [data-testid="upstream"]',
              )
              .innerText(),
            /stream ← peer1\.org1/,
          );
          // the member the alert is about is marked in the table
          assert.equal(
            await page
              .locator(
                '[data-testid="peer-row"][data-peer="peer1.org2.example.com"] [data-testid="member-alert"]',
              )
              .innerText(),
            '⚠ lag',
          );
          // the unreachable URL is also an alert
          assert.ok(
            (await page.getByTestId('alert').allInnerTexts()).some(
              (x) => x.includes('status_unreachable') && x.includes(DOWN),
            ),
          );
          // the topology draws every member, the leader starred, the answering peers ringed
          assert.equal(await page.locator('#topology [data-peer]').count(), 6);
          assert.match((await page.locator(`#topology [data-peer="${LEADER}"]`).textContent()) ?? '', /★/);
          assert.equal(await page.locator('#topology .observer-ring').count(), 2);
          // block 23's arrival: from the orderer at the leader, streamed from it to peer0
          const block = await page.getByTestId('block').first().innerText();
          assert.match(block, /#23/);
          assert.match(block, /peer1\.org1 \+0 ms · from orderer/);
          assert.match(block, /peer0\.org1 \+3 ms · stream from peer1\.org1/);
          // live: a peer dies; the next poll reaches the page without a reload
          f.dead.add('peer2.org2.example.com');
          await page
            .locator('[data-testid="peer-row"][data-peer="peer2.org2.example.com"] [data-testid="state"]')
            .filter({ hasText: /^dead/ })
            .waitFor({ timeout: 10_000 });
          await page
            .locator('[data-testid="event"][data-kind="died"]')
            .filter({ hasText: 'peer2.org2.example.com is dead' })
            .waitFor({ timeout: 10_000 });
          assert.match(await page.getByTestId('summary').innerText(), /6 peers in 2 orgs \(1 dead\)/);
          // the refused handshakes: who, why, how often, the expired certificate
          const refused = await page.getByTestId('refused-row').allInnerTexts();
          assert.equal(refused.length, 1, refused.join('\n'));
          assert.match(refused[0], /from\s+127\.0\.0\.1:51234\s+IDENTITY_REJECTED\s+97/);
          assert.match(refused[0], /CN=peer9\.org1\.example\.com \(Org1MSP\) · EXPIRED 2026-12-01/);
          assert.match(refused[0], /peer0\.org1/);
        },
      },
    );
    assert.ok(statSync(check.screenshot).size > 10_000, 'a screenshot with content');
    assert.match(check.rows['peer1.org2.example.com'], /Org2MSP/);
  },
);
