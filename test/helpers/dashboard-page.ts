/**
 * The dashboard page as a person sees it, in a real browser (playwright-core driving Debian's
 * chromium), for any running dashboard (`grapevine dashboard --peer ...`, `network up`, a
 * DashboardServer in-process): checkDashboardPage waits until the page shows every expected peer
 * (and its height, its state), checks the leaders and the alerts panel, that the peer table fits
 * its panel, and writes a full-page screenshot to os.tmpdir()/grapevine-dashboard-<name>-*.png,
 * printing its path. startDashboardProcess runs `grapevine dashboard` as a child process (the
 * real command, from bin/grapevine.js) and resolves with the page's URL.
 * Reusable against a network of real Fabric peers with a Grapevine observer: expect the Fabric
 * peers by name (their certificate's CN) with their heights.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { until } from './until.js';

export const CHROMIUM = process.env.GRAPEVINE_CHROMIUM ?? '/usr/bin/chromium';
/** false, or why a browser test skips. */
export const CHROMIUM_SKIP: false | string = existsSync(CHROMIUM)
  ? false
  : `chromium not found at ${CHROMIUM} (apt-get install chromium, or set GRAPEVINE_CHROMIUM)`;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ExpectedPeer {
  /** As the page names it: peer.id of an answering peer, else its certificate's CN. */
  readonly name: string;
  /** Its height on the first channel, as shown; a function for "at least". */
  readonly height?: number | ((h: number) => boolean);
  /** answering, alive, dead, disputed, 'not seen'. */
  readonly state?: string;
}

export interface DashboardExpectations {
  readonly peers: readonly ExpectedPeer[];
  /** Leader shown per org (first channel): org MSP ID to peer name. */
  readonly leaders?: Readonly<Record<string, string>>;
  /** An alert whose text matches (kind or message), shown in the alerts panel. */
  readonly alert?: RegExp;
  /** More alerts: one shown in the alerts panel matching each. */
  readonly alerts?: readonly RegExp[];
  /** Status URLs the sources table shows as unreachable. */
  readonly unreachable?: readonly string[];
  /** An event whose text matches, in the event log. */
  readonly event?: RegExp;
}

export interface DashboardCheck {
  /** The screenshot's path. */
  readonly screenshot: string;
  /** The page's visible text of each peer row, by name. */
  readonly rows: Readonly<Record<string, string>>;
}

export interface CheckOptions {
  /** In the screenshot's file name. */
  readonly name?: string;
  /** Longest wait for the page to show what is expected (default 30 s). */
  readonly timeoutMs?: number;
  /** Viewport width (default 1400: the table must fit its panel at that width). */
  readonly width?: number;
  /** More checks on the page before the screenshot. */
  readonly more?: (page: Page) => Promise<void>;
}

const rowOf = (page: Page, name: string) => page.locator(`[data-testid="peer-row"][data-peer="${name}"]`);

async function heightOf(page: Page, name: string): Promise<number | undefined> {
  const cell = rowOf(page, name).getByTestId('height');
  if ((await cell.count()) === 0) return undefined;
  const text = (await cell.innerText()).trim();
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? undefined : n;
}

/** Open `url` in chromium and check it shows `expect`; the screenshot's path is printed. */
export async function checkDashboardPage(
  url: string,
  expect: DashboardExpectations,
  o: CheckOptions = {},
): Promise<DashboardCheck> {
  const profile = mkdtempSync(join(tmpdir(), 'grapevine-chromium-'));
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
    await page.setViewportSize({ width: o.width ?? 1400, height: 1000 });
    await page.goto(url);
    const matches = async (): Promise<string[]> => {
      const wrong: string[] = [];
      for (const p of expect.peers) {
        const row = rowOf(page, p.name);
        if ((await row.count()) !== 1) {
          wrong.push(`${p.name}: no row`);
          continue;
        }
        if (p.height !== undefined) {
          const h = await heightOf(page, p.name);
          const ok = h !== undefined && (typeof p.height === 'number' ? h === p.height : p.height(h));
          if (!ok) wrong.push(`${p.name}: height ${h}`);
        }
        if (p.state !== undefined) {
          const st = (await row.getByTestId('state').innerText()).trim();
          if (!st.startsWith(p.state)) wrong.push(`${p.name}: state ${st}`);
        }
      }
      for (const [org, leader] of Object.entries(expect.leaders ?? {})) {
        const cell = page.getByTestId(`leader-${org}`).first();
        const text = (await cell.count()) ? (await cell.innerText()).trim() : '';
        if (text !== leader) wrong.push(`leader of ${org}: ${text || 'none shown'}`);
      }
      const alerts = [...(expect.alert ? [expect.alert] : []), ...(expect.alerts ?? [])];
      if (alerts.length > 0) {
        const texts = (await page.getByTestId('alert').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
        for (const re of alerts)
          if (!texts.some((t) => re.test(t))) wrong.push(`no alert ${re}: ${texts.join(' | ')}`);
      }
      for (const u of expect.unreachable ?? []) {
        const src = page.locator(`[data-testid="source"][data-url="${u}"]`);
        if ((await src.count()) !== 1 || (await src.getAttribute('data-ok')) !== 'false')
          wrong.push(`${u} not shown unreachable`);
      }
      if (expect.event) {
        const texts = await page.getByTestId('event').allInnerTexts();
        if (!texts.some((t) => expect.event!.test(t))) wrong.push(`no event ${expect.event}`);
      }
      return wrong;
    };
    let last: string[] = [];
    await until(
      async () => {
        last = await matches();
        return last.length === 0;
      },
      'the dashboard page to show what is expected',
      { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 250, detail: () => last.join('; ') },
    );
    // every peer row is visible, and the table fits its panel (nothing cut off on the right)
    for (const p of expect.peers) assert.ok(await rowOf(page, p.name).isVisible(), `${p.name} visible`);
    const card = page.locator('#peers-card');
    const scroll = await card.evaluate((el) => {
      const e = el as unknown as { clientWidth: number; scrollWidth: number };
      return { client: e.clientWidth, scroll: e.scrollWidth };
    });
    const cardBox = await card.boundingBox();
    const tableBox = await page.locator('#peers').boundingBox();
    assert.ok(cardBox && tableBox, 'the peer table is shown');
    assert.ok(
      scroll.scroll <= scroll.client && tableBox.x + tableBox.width <= cardBox.x + cardBox.width,
      `the peer table fits its panel: ${JSON.stringify({ scroll, cardBox, tableBox })}`,
    );
    if (o.more) await o.more(page);
    const rows: Record<string, string> = {};
    for (const p of expect.peers) rows[p.name] = (await rowOf(page, p.name).innerText()).replace(/\s+/g, ' ');
    const shot = join(
      tmpdir(),
      `grapevine-dashboard-${o.name ?? 'page'}-${new Date().toISOString().replace(/[:.]/g, '-')}.png`,
    );
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
    return { screenshot: shot, rows };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

export interface DashboardProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  /** What it printed so far. */
  output(): string;
  /** SIGINT, then its exit code. */
  stop(): Promise<number | null>;
}

/** `grapevine dashboard --peer <url>... ...more` as a child process; resolves with its page's URL. */
export async function startDashboardProcess(
  urls: readonly string[],
  more: readonly string[] = [],
  timeoutMs = 60_000,
): Promise<DashboardProcess> {
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'grapevine.js'), 'dashboard', ...urls.flatMap((u) => ['--peer', u]), ...more],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRAPEVINE_FROM_SOURCE: '1' } },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let url: string | undefined;
  try {
    await until(
      () => {
        if (proc.exitCode !== null) throw new Error(`grapevine dashboard exited (${proc.exitCode}):\n${out}`);
        url = /dashboard: (http:\/\/\S+\/)/.exec(out)?.[1];
        return url !== undefined;
      },
      'grapevine dashboard to print its URL',
      { timeoutMs, intervalMs: 50, detail: () => out },
    );
  } catch (e) {
    proc.kill('SIGKILL');
    await exited;
    throw e;
  }
  return {
    url: url!,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      return exited;
    },
  };
}
