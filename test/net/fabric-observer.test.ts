/**
 * Real Fabric v2.4.9 peers seen through ONE Grapevine observer peer daemon (its own process;
 * test/helpers/fabric-observer.ts; skipped with a message where ../shared/fabric is absent):
 *   - the observer's /status lists every Fabric peer with its org, its height on the channel and
 *     since when it is alive, and which org1 peer leads (from its LeadershipMessages);
 *   - blocks cut: org1's Fabric peers (and the observer) take them; peer0.org2 has no leader in
 *     its org (neither election nor orgLeader), so it never receives one (blocks do not cross
 *     orgs) and is left behind at genesis: the `lag` alert names it, with how far behind;
 *   - SIGKILL of org1's non-leading Fabric peer: `unreachable` within the alive expiration
 *     (5 s here: the probe finds its endpoint closed), then `critical` once discovery declares
 *     it dead (and /status says since when);
 *   - another identity (peer1.org2's) started at the dead peer's endpoint: `identity-changed`;
 *   - with grapevine.alerts.certExpiryDays 3660, every certificate (valid ten years) is
 *     `cert-expiring`, with the days left;
 *   - the org1 leader killed too: `no-leader` (critical) for org1, the observer never standing;
 *   - the observer never leads (every /status read says so) and keeps every block;
 *   - its endpoint probes (TLS handshakes) reach every live Fabric peer, which logs no failed
 *     handshake for them;
 *   - `grapevine status <observer>` (the command, a child process) prints every Fabric peer and,
 *     after the table, the lag alert; `--json` carries the alerts in the observer's document;
 *   - `grapevine dashboard --peer <observer>` (the command, a child process) in Chromium shows
 *     every Fabric peer with its height, the observer answering, the org1 leader and the lag
 *     alert; then the killed peer dead with its dead-peer (`unreachable`) alert and its death in
 *     the event log; then org1 without a leader and the `no-leader` alert. Screenshots' paths are
 *     printed; these steps skip with a message without chromium.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { genesisFile, peerCryptoDir } from '../../src/network/layout.js';
import { dialTls } from '../../src/node/probe.js';
import type { PeerStatusDocument } from '../../src/node/status.js';
import type { StatusAnswer } from '../../src/watch/client.js';
import {
  CHROMIUM_SKIP,
  checkDashboardPage,
  startDashboardProcess,
  type DashboardExpectations,
  type DashboardProcess,
} from '../helpers/dashboard-page.js';
import { FabricPeer, fabricOrSkip } from '../helpers/fabric.js';
import {
  ALIVE_EXPIRATION_MS,
  startFabricObserverNetwork,
  TIMERS,
  type FabricObserverNetwork,
} from '../helpers/fabric-observer.js';
import { until } from '../helpers/until.js';

const BLOCKS = 4;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** `grapevine status ...args` as a person runs it: its exit code and output. */
function grapevineStatus(args: readonly string[]): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'grapevine.js'), 'status', ...args],
      { env: { ...process.env, GRAPEVINE_FROM_SOURCE: '1' }, timeout: 30_000 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, out: `${stdout}${stderr}` }),
    );
  });
}

test(
  'a Grapevine observer shows a Fabric network, its lag and its dead peers',
  { timeout: 180_000 },
  async (t) => {
    const fabric = fabricOrSkip(t);
    if (!fabric) return;
    const t0 = Date.now();
    // every certificate of the layout is valid ten years: with 3660 days, every one is "expiring"
    const net: FabricObserverNetwork = await startFabricObserverNetwork({
      fabric,
      observerEnv: { CORE_GRAPEVINE_ALERTS_CERTEXPIRYDAYS: '3660' },
    });
    const ch = net.channel;
    // the dashboard as a person runs it, attached to the observer only
    let dash: DashboardProcess | undefined;
    /** A step in Chromium (a subtest, skipped with a message without chromium). */
    const onPage = (what: string, name: string, expect: DashboardExpectations, timeoutMs = 30_000) =>
      t.test(`the dashboard in Chromium shows ${what}`, { skip: CHROMIUM_SKIP }, async (st: TestContext) => {
        const r = await checkDashboardPage(dash!.url, expect, { name: `fabric-observer-${name}`, timeoutMs });
        st.diagnostic(`screenshot: ${r.screenshot}`);
        for (const [peer, row] of Object.entries(r.rows)) st.diagnostic(`row ${peer}: ${row}`);
      });
    const reads: PeerStatusDocument[] = [];
    const status = async () => {
      const d = await net.status();
      reads.push(d);
      if (reads.length > 200) reads.shift();
      // the observer never leads, whatever happens
      assert.equal(d.peer.observer, true);
      const c = d.channels.find((x) => x.name === ch)!;
      assert.equal(c.leader, false, 'the observer leads');
      assert.equal(c.mode, 'none');
      return d;
    };
    let last: PeerStatusDocument | undefined;
    const detail = () =>
      `alerts: ${JSON.stringify(last?.alerts)}\nmembers: ${JSON.stringify(last?.members.map((m) => [m.endpoint || m.internalEndpoint, m.mspId, m.alive, m.channels]))}\n${net.observerLog(20)}`;
    try {
      t.diagnostic(`network up in ${Date.now() - t0} ms`);
      if (CHROMIUM_SKIP) t.diagnostic(`the dashboard steps skip: ${CHROMIUM_SKIP}`);
      else dash = await startDashboardProcess([net.observerUrl], ['--interval', '500']);
      /** The member at `address` (the alive one first: a dead one may share its endpoint). */
      const memberOf = (d: PeerStatusDocument, address: string, alive = false) =>
        d.members.find(
          (m) => (m.endpoint === address || m.internalEndpoint === address) && (!alive || m.alive),
        );

      // every Fabric peer, with its org and its height
      last = await status();
      for (const f of net.fabricPeers) {
        const m = memberOf(last, f.address);
        assert.ok(m, `${f.name} listed`);
        assert.equal(m.mspId, f.mspId);
        assert.equal(m.alive, true);
        assert.ok(m.cert && m.cert.subject.includes(`CN=${f.name}`), m.cert?.subject);
        assert.ok((m.channels.find((c) => c.name === ch)?.height ?? 0) >= 1);
        assert.ok(
          m.since && Date.parse(m.since) >= t0 && Date.parse(m.since) <= Date.now(),
          `alive since ${m.since}`,
        );
      }

      // certificates: every Fabric peer's, and the observer's own, expire within 3660 days
      await until(
        async () => {
          last = await status();
          const d = last;
          return [...net.fabricPeers.map((f) => memberOf(d, f.address)!.pkiId), d.peer.pkiId].every((id) =>
            d.alerts.some((a) => a.kind === 'cert-expiring' && a.pkiId === id),
          );
        },
        'a cert-expiring alert for every peer',
        { timeoutMs: 10_000, intervalMs: 250, detail },
      );
      for (const a of last.alerts.filter((x) => x.kind === 'cert-expiring')) {
        assert.equal(a.severity, 'warning');
        assert.ok(a.value! > 3000 && a.value! <= 3660, `days left: ${a.value}`);
      }

      await net.cutBlocks(BLOCKS);
      const top = BLOCKS + 1;
      const [p0, p1, late] = net.fabricPeers as [
        (typeof net.fabricPeers)[0],
        (typeof net.fabricPeers)[0],
        (typeof net.fabricPeers)[0],
      ];
      await until(
        async () => {
          last = await status();
          const d = last;
          const h = (a: string) => memberOf(d, a)?.channels.find((c) => c.name === ch)?.height;
          return (
            h(p0.address) === top &&
            h(p1.address) === top &&
            h(late.address) === 1 &&
            d.channels.find((c) => c.name === ch)!.height === top &&
            d.alerts.some((a) => a.kind === 'lag' && a.endpoint === late.address)
          );
        },
        'org1 at the top height (the observer too), peer0.org2 at genesis with a lag alert',
        { timeoutMs: 30_000, intervalMs: 250, detail },
      );
      const lag = last!.alerts.find((a) => a.kind === 'lag' && a.endpoint === late.address)!;
      assert.equal(lag.org, 'Org2MSP');
      assert.equal(lag.channel, ch);
      assert.equal(lag.value, BLOCKS);
      assert.equal(lag.severity, 'warning');
      t.diagnostic(`lag alert: ${lag.message}`);
      assert.equal((await net.orderer.orderer.chain(ch)!.height()) >= BigInt(top), true);

      // one org1 Fabric peer leads (its declarations reach the observer); kill the other one
      await until(
        async () => {
          last = await status();
          const d = last;
          return [p0, p1].some((f) =>
            memberOf(d, f.address)?.channels.some((c) => c.name === ch && c.leader === true),
          );
        },
        'the observer sees which org1 peer leads',
        { timeoutMs: 20_000, intervalMs: 250, detail },
      );
      const leads = (f: typeof p0) =>
        memberOf(last!, f.address)!.channels.some((c) => c.name === ch && c.leader === true);
      const victim = leads(p0) ? p1 : p0;
      const leader = victim === p0 ? p1 : p0;
      assert.ok(!last!.alerts.some((a) => a.kind === 'no-leader'), 'a leader is known');

      // `grapevine status`: every Fabric peer in the table, the lag alert after it
      const cli = await grapevineStatus([net.observerUrl]);
      assert.equal(cli.code, 0, cli.out);
      const cliLines = cli.out.split('\n');
      for (const f of net.fabricPeers)
        assert.ok(
          cliLines.some((l) => l.startsWith(`${f.name} `) && l.includes(f.address) && l.includes(f.mspId)),
          `${f.name} in the table:\n${cli.out}`,
        );
      assert.ok(
        cliLines.some(
          (l) => l.startsWith(`${net.observerName} `) && /yes \(answered\).*\d{4}-\d\d-\d\d$/.test(l),
        ),
        `the observer answering, with its certificate's expiry:\n${cli.out}`,
      );
      const alertsAt = cliLines.findIndex((l) => /^ALERTS \(\d+\)$/.test(l));
      assert.ok(alertsAt > 0, `an ALERTS section:\n${cli.out}`);
      assert.ok(
        cliLines
          .slice(alertsAt)
          .some((l) =>
            new RegExp(
              `^WARNING\\s+lag\\s+${re(late.address)} \\(Org2MSP\\) is ${BLOCKS} blocks behind on channel ${ch} .*seen by ${re(net.observerName)}\\)$`,
            ).test(l),
          ),
        `the lag alert in grapevine status:\n${cli.out}`,
      );
      t.diagnostic(`grapevine status:\n${cli.out}`);
      const json = await grapevineStatus([net.observerUrl, '--json']);
      assert.equal(json.code, 0, json.out);
      const answers = (JSON.parse(json.stdout) as { peers: StatusAnswer[] }).peers;
      assert.equal(answers.length, 1);
      assert.ok(answers[0]!.ok);
      assert.ok(
        answers[0]!.status.alerts.some(
          (a) => a.kind === 'lag' && a.endpoint === late.address && a.value === BLOCKS,
        ),
        'the lag alert in --json',
      );

      // the dashboard: every peer with its height, the observer answering, the leader, the lag
      await onPage('every Fabric peer, its height, the leader and the lag alert', 'lag', {
        peers: [
          { name: net.observerName, height: top, state: 'answering' },
          { name: p0.name, height: top, state: 'alive' },
          { name: p1.name, height: top, state: 'alive' },
          { name: late.name, height: 1, state: 'alive' },
        ],
        leaders: { Org1MSP: leader.name },
        alerts: [
          new RegExp(
            `^warning\\s*lag ${re(late.address)} \\(Org2MSP\\) is ${BLOCKS} blocks behind on channel ${ch}`,
            'i',
          ),
          /^warning\s*cert-expiring /i,
        ],
      });
      // every alive peer's endpoint answers the observer's probes (a TLS handshake every 500 ms:
      // a refused one would be an alert after 1 s), and they log no failed handshake for them
      assert.deepEqual(
        last!.alerts.filter((a) => a.kind === 'unreachable'),
        [],
      );
      // the probe as the observer makes it (dialTls with its TLS pair) leaves no error in Fabric's
      // log, where a bare TCP connection closed before TLS does ("Server TLS handshake failed ...
      // EOF"): three probes, then one bare connection as a marker; once the marker's line is in
      // the log, no other EOF failure may have appeared since the probes began
      const obsSpec = net.layout.peers.find((p) => p.org === 1 && p.index === 2)!;
      const obsTls = join(peerCryptoDir(net.layout, obsSpec), 'tls');
      const tls = {
        certPem: readFileSync(join(obsTls, 'server.crt')),
        keyPem: readFileSync(join(obsTls, 'server.key')),
        rootCAs: [readFileSync(join(obsTls, 'ca.crt'))],
      };
      const eofLines = () =>
        p0.peer
          .tail(100_000)
          .split('\n')
          .filter((l) => /TLS handshake failed .* error EOF/.test(l));
      const before = eofLines().length;
      for (let i = 0; i < 3; i++)
        assert.equal(await dialTls(p0.address, 5000, tls), undefined, 'the TLS probe succeeds');
      const marker = await new Promise<number>((resolve, reject) => {
        const sock = connect({ host: '127.0.0.1', port: Number(p0.address.split(':')[1]) }, () => {
          const port = sock.localPort!;
          sock.destroy();
          resolve(port);
        });
        sock.once('error', reject);
      });
      await until(
        () => eofLines().some((l) => l.includes(`remoteaddress=127.0.0.1:${marker}`)),
        'the marker in the log',
        { timeoutMs: 10_000 },
      );
      assert.deepEqual(
        eofLines()
          .slice(before)
          .filter((l) => !l.includes(`remoteaddress=127.0.0.1:${marker}`)),
        [],
        'no failed handshake from the probes',
      );
      const killedAt = Date.now();
      await victim.peer.kill();
      let first: number | undefined;
      await until(
        async () => {
          last = await status();
          const a = last.alerts.find((x) => x.kind === 'unreachable' && x.endpoint === victim.address);
          if (a && first === undefined) first = Date.now() - killedAt;
          return a?.severity === 'critical';
        },
        `the observer declares ${victim.name} unreachable, then dead`,
        { timeoutMs: 4 * ALIVE_EXPIRATION_MS, intervalMs: 200, detail },
      );
      const dead = Date.now() - killedAt;
      t.diagnostic(
        `unreachable after ${first} ms, dead (critical) after ${dead} ms; alive expiration ${ALIVE_EXPIRATION_MS} ms`,
      );
      assert.ok(
        first !== undefined && first <= ALIVE_EXPIRATION_MS,
        `unreachable within the alive expiration (${first} ms)`,
      );
      const a = last!.alerts.find((x) => x.kind === 'unreachable' && x.endpoint === victim.address)!;
      // /status says since when it is dead: after the kill, by the time it was seen so
      const gone = last!.members.find((m) => m.endpoint === victim.address && !m.alive)!;
      assert.ok(gone.since, 'members[].since');
      const deadSince = Date.parse(gone.since);
      assert.ok(deadSince >= killedAt - 1000 && deadSince <= Date.now(), `dead since ${gone.since}`);
      assert.equal(a.org, 'Org1MSP');
      assert.match(a.message, /is dead: no alive message since/);
      await onPage('the killed peer dead, its dead-peer alert and its death', 'dead', {
        peers: [
          { name: victim.name, state: 'dead' },
          { name: leader.name, height: top, state: 'alive' },
          { name: late.name, height: 1, state: 'alive' },
        ],
        leaders: { Org1MSP: leader.name },
        alerts: [
          new RegExp(
            `^critical\\s*unreachable ${re(victim.address)} \\(Org1MSP\\) is dead: no alive message since`,
            'i',
          ),
        ],
        event: new RegExp(`${re(victim.name)} is dead`),
      });
      // another identity (peer1.org2's, another org) now answers at the dead peer's endpoint
      const spec21 = net.layout.peers.find((p) => p.org === 2 && p.index === 1)!;
      const c21 = peerCryptoDir(net.layout, spec21);
      const impostor = await FabricPeer.start({
        fabric,
        dir: join(net.root, 'fabric-impostor'),
        name: spec21.name,
        mspId: spec21.mspId,
        mspDir: join(c21, 'msp'),
        tlsDir: join(c21, 'tls'),
        port: Number(victim.address.split(':')[1]),
        bootstrap: late.address,
        env: { ...TIMERS, CORE_PEER_GOSSIP_USELEADERELECTION: 'false', CORE_PEER_GOSSIP_ORGLEADER: 'false' },
      });
      try {
        await impostor.joinChannel(genesisFile(net.layout), late.adminMsp);
        await until(
          async () => {
            last = await status();
            return last.alerts.some((x) => x.kind === 'identity-changed' && x.endpoint === victim.address);
          },
          `identity-changed at ${victim.address}`,
          { timeoutMs: 30_000, intervalMs: 250, detail },
        );
        const ic = last!.alerts.find((x) => x.kind === 'identity-changed' && x.endpoint === victim.address)!;
        assert.equal(ic.org, 'Org2MSP');
        assert.equal(ic.severity, 'warning');
        assert.equal(ic.pkiId, memberOf(last!, victim.address, true)!.pkiId);
        t.diagnostic(`identity-changed alert: ${ic.message}`);
      } finally {
        await impostor.stop();
      }
      // the leader goes too: nobody in org1 declares any more (the observer never stands):
      // no-leader once the last declaration is leaderAliveThreshold old, plus alerts.after
      await leader.peer.kill();
      await until(
        async () => {
          last = await status();
          return last.alerts.some((x) => x.kind === 'no-leader' && x.channel === ch);
        },
        'no-leader for org1',
        { timeoutMs: 20_000, intervalMs: 250, detail },
      );
      const nl = last!.alerts.find((x) => x.kind === 'no-leader')!;
      assert.equal(nl.severity, 'critical');
      assert.equal(nl.org, 'Org1MSP');
      t.diagnostic(`no-leader alert: ${nl.message}`);
      await onPage('org1 without a leader and the no-leader alert', 'no-leader', {
        peers: [{ name: net.observerName, height: top, state: 'answering' }],
        leaders: { Org1MSP: 'none' },
        alerts: [new RegExp(`^critical\\s*no-leader no member of Org1MSP leads channel ${ch}`, 'i')],
      });
      const metrics = await (await fetch(`${net.observerUrl}/metrics`)).text();
      assert.match(metrics, /^grapevine_alerts\{kind="no-leader"\} 1$/m);
      assert.match(metrics, /^grapevine_alerts\{kind="unreachable"\} [1-9]/m);
      assert.match(metrics, /^grapevine_alerts\{kind="lag"\} [1-9]/m);
      assert.match(metrics, /^gossip_leader_election_leader\{channel="grapevine"\} 0$/m);
      t.diagnostic(
        `observer alerts: ${JSON.stringify(last!.alerts.map((x) => `${x.severity} ${x.kind}: ${x.message}`))}`,
      );
      t.diagnostic(
        `${reads.length} /status reads, none with the observer leading; total ${Date.now() - t0} ms`,
      );
    } catch (e) {
      t.diagnostic(detail());
      if (dash) t.diagnostic(`dashboard output:\n${dash.output()}`);
      throw e;
    } finally {
      await dash?.stop();
      await net.stop();
    }
  },
);
