/**
 * Observer mode among Grapevine peer daemons (real gossip sockets, mutual TLS, prepareLayout's
 * core.yaml: dynamic election, block streams on) with the stand-in orderer of daemon-fixtures.
 * Org1's peer with the LOWEST PKI-ID is the observer (grapevine.observer): as a candidate it would
 * win every election and head every stream tree. Another peer holds 20 blocks; the third starts
 * at genesis. Then:
 *   - the observer never leads (sampled all along, its channel's leadership log stays empty) and
 *     its /status says `observer: true`, mode `none`, no stream;
 *   - the elected leader is the lowest PKI-ID among the two others;
 *   - no peer ever takes the observer as stream upstream (sampled all along) and its alive
 *     messages carry no stream marker; the third peer streams from the leader;
 *   - the observer still keeps every block (push, pull and state transfer from the others);
 *   - its /status carries alerts, and once the third peer stops, an `unreachable` alert naming it
 *     (the probe every 200 ms finds its endpoint closed; grapevine.alerts.after 0), counted by
 *     grapevine_alerts{kind="unreachable"};
 *   - org2's anchor peer (peer0.org2 in the genesis block's AnchorPeers) is not running: the
 *     observer probes the channel's anchors too and raises `unreachable` for that endpoint, with
 *     its org and channel, though no member claims it; /status lists the channel's anchors.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { decodeStreamMarker } from '../../src/core/stream/marker.js';
import { loadSigningIdentity } from '../../src/identity/signer.js';
import { peerHome, type PeerSpec } from '../../src/network/layout.js';
import { loadPeerConfig } from '../../src/node/config/index.js';
import { PeerDaemon } from '../../src/node/daemon.js';
import type { PeerStatusDocument } from '../../src/node/status.js';
import { until } from '../helpers/until.js';
import { daemonFixture } from './daemon-fixtures.js';

const AHEAD = 20;

async function getStatus(d: PeerDaemon): Promise<PeerStatusDocument> {
  const r = await fetch(`${d.operationsUrl()}/status`);
  assert.equal(r.status, 200);
  return (await r.json()) as PeerStatusDocument;
}

test(
  'an observer peer keeps blocks but never leads and is never a stream upstream',
  { timeout: 60_000 },
  async (t) => {
    const fx = await daemonFixture('grapevine-observer-daemon-');
    const layout = fx.layout;
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) });
    const peers: PeerDaemon[] = [];
    let sampler: NodeJS.Timeout | undefined;
    try {
      const configOf = (p: PeerSpec, observer = false) =>
        loadPeerConfig({
          file: join(peerHome(layout, p), 'core.yaml'),
          env: {},
          overrides: {
            'operations.listenAddress': '127.0.0.1:0',
            ...(observer
              ? {
                  'grapevine.observer': true,
                  'grapevine.alerts.after': '0s',
                  'grapevine.alerts.probeInterval': '200ms',
                }
              : {}),
          },
        });
      const pkiOf = (p: PeerSpec) =>
        pkiIdKey(
          loadSigningIdentity(configOf(p).peer.mspConfigPath, 'Org1MSP', { now: new Date() }).identity.pkiId,
        );
      const specs = layout.peers
        .filter((p) => p.org === 1)
        .map((p) => ({ p, id: pkiOf(p) }))
        .sort((a, b) => a.id.localeCompare(b.id));
      const [obsSpec, leadSpec, lateSpec] = specs as [
        (typeof specs)[0],
        (typeof specs)[0],
        (typeof specs)[0],
      ];
      await fx.seedLedger(configOf(leadSpec.p).grapevine.ledgerPath, AHEAD);

      const observer = await PeerDaemon.start({ config: configOf(obsSpec.p, true), logger });
      peers.push(observer);
      assert.equal(observer.service.streaming, false, 'an observer runs no block stream');
      const leader = await PeerDaemon.start({ config: configOf(leadSpec.p), logger });
      peers.push(leader);
      const late = await PeerDaemon.start({ config: configOf(lateSpec.p), logger });
      peers.push(late);
      const ch = layout.channel;
      const height = (d: PeerDaemon) => d.service.channel(ch)!.height();

      // all along: the observer never leads, nobody streams from it
      const violations: string[] = [];
      sampler = setInterval(() => {
        if (observer.service.isLeader(ch)) violations.push('the observer leads');
        for (const d of [leader, late]) {
          const up = d.service.channel(ch)?.follower?.upstream;
          if (up && pkiIdKey(up.pkiId) === obsSpec.id)
            violations.push(`${d.config.peer.id} streams from the observer`);
        }
      }, 50);

      await until(
        () =>
          leader.service.isLeader(ch) &&
          [observer, leader, late].every((d) => height(d) === BigInt(AHEAD + 1)),
        'the lowest candidate leads, and every peer (the observer too) holds every block',
        {
          timeoutMs: 40_000,
          intervalMs: 100,
          detail: () =>
            `heights ${peers.map(height).join(', ')}; leaders ${peers.map((d) => d.service.isLeader(ch)).join(', ')}\n${logs.slice(-10).join('')}`,
        },
      );
      await until(
        () => {
          const up = late.service.channel(ch)?.follower?.upstream;
          return up !== undefined && pkiIdKey(up.pkiId) === leadSpec.id;
        },
        'the third peer streams from the leader',
        { timeoutMs: 10_000 },
      );
      // the observer's alive messages carry no stream marker (others see a Fabric-like member)
      const seen = late.service.node.discovery.aliveMembers().find((m) => pkiIdKey(m.pkiId) === obsSpec.id);
      assert.ok(seen, 'the observer is an alive member');
      assert.equal(decodeStreamMarker(seen.metadata), undefined);

      const s = await getStatus(observer);
      assert.equal(s.peer.observer, true);
      const c = s.channels.find((x) => x.name === ch)!;
      assert.equal(c.mode, 'none');
      assert.equal(c.leader, false);
      assert.equal(c.stream, undefined);
      assert.ok(Array.isArray(s.alerts));
      assert.equal((await getStatus(leader)).peer.observer, false);
      // the observer sees the leader's declarations: it lists it as leader
      await until(
        async () =>
          (await getStatus(observer)).members.some(
            (m) => m.pkiId === leadSpec.id && m.channels.some((x) => x.name === ch && x.leader === true),
          ),
        'the observer sees who leads',
        { timeoutMs: 10_000 },
      );

      // the probes (TLS handshakes every 200 ms, an alert at once on failure) reach every peer
      assert.deepEqual(
        (await getStatus(observer)).alerts.filter((x) => x.kind === 'unreachable' && x.pkiId !== undefined),
        [],
      );
      // ... and the channel's anchors: org2's (never started) does not answer
      const anchor2 = `127.0.0.1:${layout.peers.find((p) => p.org === 2 && p.index === 0)!.port}`;
      let anchorDoc: PeerStatusDocument | undefined;
      await until(
        async () => {
          anchorDoc = await getStatus(observer);
          return anchorDoc.alerts.some((a) => a.kind === 'unreachable' && a.endpoint === anchor2);
        },
        "the observer raises unreachable for org2's anchor peer",
        { timeoutMs: 10_000, intervalMs: 200, detail: () => JSON.stringify(anchorDoc?.alerts) },
      );
      const aa = anchorDoc!.alerts.find((a) => a.kind === 'unreachable' && a.endpoint === anchor2)!;
      assert.equal(aa.severity, 'warning');
      assert.equal(aa.org, 'Org2MSP');
      assert.equal(aa.channel, ch);
      assert.equal(aa.pkiId, undefined);
      assert.match(
        aa.message,
        /an anchor peer of Org2MSP in the config of channel .* does not accept connections/,
      );
      assert.deepEqual(
        anchorDoc!.channels
          .find((c) => c.name === ch)!
          .anchors?.map((a) => a.org)
          .sort(),
        ['Org1MSP', 'Org2MSP'],
      );
      t.diagnostic(`anchor alert: ${aa.message}`);
      await late.stop();
      let doc: PeerStatusDocument | undefined;
      await until(
        async () => {
          doc = await getStatus(observer);
          return doc.alerts.some((a) => a.kind === 'unreachable' && a.pkiId === lateSpec.id);
        },
        'the observer raises unreachable for the stopped peer',
        { timeoutMs: 15_000, intervalMs: 200, detail: () => JSON.stringify(doc?.alerts) },
      );
      assert.ok(doc);
      const a = doc.alerts.find((x) => x.kind === 'unreachable' && x.pkiId === lateSpec.id)!;
      assert.equal(a.org, 'Org1MSP');
      assert.equal(a.endpoint, `127.0.0.1:${lateSpec.p.port}`);
      assert.ok(['warning', 'critical'].includes(a.severity));
      assert.ok(!Number.isNaN(Date.parse(a.since)));
      assert.ok(a.message.includes(`127.0.0.1:${lateSpec.p.port}`), a.message);
      const metrics = await (await fetch(`${observer.operationsUrl()}/metrics`)).text();
      assert.match(metrics, /^grapevine_alerts\{kind="unreachable"\} [1-9]/m);
      assert.match(metrics, /^grapevine_alerts\{kind="two-leaders"\} 0$/m);

      clearInterval(sampler);
      assert.deepEqual(violations, []);
      assert.deepEqual(observer.service.channel(ch)!.leadershipLog, [], 'the observer never became leader');
      t.diagnostic(`observer alerts: ${JSON.stringify(doc.alerts.map((x) => x.message))}`);
    } catch (e) {
      t.diagnostic(logs.slice(-20).join(''));
      throw e;
    } finally {
      clearInterval(sampler);
      for (const d of peers.reverse()) await d.stop();
      await fx.close();
    }
  },
);
