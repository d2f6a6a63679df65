/**
 * PeerConfig defaults: Fabric's code defaults when keys are absent, Fabric's sample core.yaml
 * values from config/core.yaml, both as PROTOCOL.md §11 lists them (cross-checked against the
 * document itself when ../shared is present), the derived defaults, and the profiles.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseGoDuration } from '../../src/channelconfig/duration.js';
import { KEYS } from '../../src/node/config/index.js';
import { tsPath } from '../../src/node/config/keys.js';
import { load, loadWith, REPO_ROOT, SAMPLE_CORE_YAML, valueOf } from './config-helpers.js';

/** PROTOCOL.md §11: key -> [core.yaml value, code default] (ms for durations). */
const SECTION_11: Record<string, [unknown, unknown]> = {
  'peer.gossip.bootstrap': [['127.0.0.1:7051'], []],
  'peer.gossip.useLeaderElection': [false, false],
  'peer.gossip.orgLeader': [true, false],
  'peer.gossip.membershipTrackerInterval': [5000, 5000],
  'peer.gossip.maxBlockCountToStore': [10, 10],
  'peer.gossip.maxPropagationBurstLatency': [10, 10],
  'peer.gossip.maxPropagationBurstSize': [10, 10],
  'peer.gossip.propagateIterations': [1, 1],
  'peer.gossip.propagatePeerNum': [3, 3],
  'peer.gossip.pullInterval': [4000, 4000],
  'peer.gossip.pullPeerNum': [3, 3],
  'peer.gossip.requestStateInfoInterval': [4000, 4000],
  'peer.gossip.publishStateInfoInterval': [4000, 4000],
  'peer.gossip.publishCertPeriod': [10_000, 10_000],
  'peer.gossip.skipBlockVerification': [false, false],
  'peer.gossip.dialTimeout': [3000, 3000],
  'peer.gossip.connTimeout': [2000, 2000],
  'peer.gossip.recvBuffSize': [20, 20],
  'peer.gossip.sendBuffSize': [200, 20],
  'peer.gossip.digestWaitTime': [1000, 1000],
  'peer.gossip.requestWaitTime': [1500, 1500],
  'peer.gossip.responseWaitTime': [2000, 2000],
  'peer.gossip.aliveTimeInterval': [5000, 5000],
  'peer.gossip.aliveExpirationTimeout': [25_000, 25_000],
  'peer.gossip.reconnectInterval': [25_000, 25_000],
  'peer.gossip.maxConnectionAttempts': [120, 120],
  'peer.gossip.msgExpirationFactor': [20, 20],
  'peer.gossip.externalEndpoint': ['', ''],
  'peer.gossip.election.startupGracePeriod': [15_000, 15_000],
  'peer.gossip.election.membershipSampleInterval': [1000, 1000],
  'peer.gossip.election.leaderAliveThreshold': [10_000, 10_000],
  'peer.gossip.election.leaderElectionDuration': [5000, 5000],
  'peer.gossip.pvtData.pullRetryThreshold': [60_000, 0],
  'peer.gossip.pvtData.transientstoreMaxBlockRetention': [1000, 1000],
  'peer.gossip.pvtData.pushAckTimeout': [3000, 0],
  'peer.gossip.pvtData.btlPullMargin': [10, 10],
  'peer.gossip.pvtData.reconcileBatchSize': [10, 10],
  'peer.gossip.pvtData.reconcileSleepInterval': [60_000, 60_000],
  'peer.gossip.pvtData.reconciliationEnabled': [true, false],
  'peer.gossip.pvtData.skipPullingInvalidTransactionsDuringCommit': [false, false],
  'peer.gossip.pvtData.implicitCollectionDisseminationPolicy.requiredPeerCount': [0, 0],
  'peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount': [1, 1],
  'peer.gossip.state.enabled': [false, false],
  'peer.gossip.state.checkInterval': [10_000, 10_000],
  'peer.gossip.state.responseTimeout': [3000, 3000],
  'peer.gossip.state.batchSize': [10, 10],
  'peer.gossip.state.blockBufferSize': [20, 20],
  'peer.gossip.state.maxRetries': [3, 3],
  'peer.gossip.state.channelSize': [100, 100],
  'peer.gossip.nonBlockingCommitMode': [false, false],
  'peer.deliveryclient.blockGossipEnabled': [true, true],
  'peer.deliveryclient.reconnectTotalTimeThreshold': [3_600_000, 3_600_000],
  'peer.deliveryclient.connTimeout': [3000, 3000],
  'peer.deliveryclient.reConnectBackoffThreshold': [3_600_000, 3_600_000],
  'peer.deliveryclient.addressOverrides': [[], []],
  // §1.2
  'peer.keepalive.interval': [7_200_000, 7_200_000],
  'peer.keepalive.timeout': [20_000, 20_000],
  'peer.keepalive.minInterval': [60_000, 60_000],
  'peer.keepalive.client.interval': [60_000, 60_000],
  'peer.keepalive.client.timeout': [20_000, 20_000],
  'peer.keepalive.deliveryClient.interval': [60_000, 60_000],
  'peer.keepalive.deliveryClient.timeout': [20_000, 20_000],
  'peer.maxRecvMsgSize': [104_857_600, 104_857_600],
  'peer.maxSendMsgSize': [104_857_600, 104_857_600],
};

describe('defaults (PROTOCOL.md §11)', () => {
  const codeDefaults = loadWith({});
  const sample = load({ file: SAMPLE_CORE_YAML });

  for (const [key, [yamlValue, codeDefault]] of Object.entries(SECTION_11)) {
    it(`${key}: code default ${JSON.stringify(codeDefault)}, core.yaml ${JSON.stringify(yamlValue)}`, () => {
      assert.deepEqual(valueOf(codeDefaults, key), codeDefault, 'absent key');
      assert.deepEqual(valueOf(sample, key), yamlValue, 'config/core.yaml');
    });
  }

  it('the table above agrees with PROTOCOL.md §11 itself', (t) => {
    const doc = join(REPO_ROOT, '..', 'shared', 'PROTOCOL.md');
    if (!existsSync(doc)) return t.skip(`${doc} not found`);
    const text = readFileSync(doc, 'utf8');
    const section = text.slice(text.indexOf('## 11. Configuration keys'), text.indexOf('## 12.'));
    const literal = (cell: string, like: unknown): unknown => {
      const s = cell.trim();
      if (s === '(empty)' || s === 'empty') return Array.isArray(like) ? [] : '';
      if (s === 'none') return [];
      if (s === 'true' || s === 'false') return s === 'true';
      if (/^\d+$/.test(s)) return Number(s);
      const ns = parseGoDuration(s);
      if (ns !== undefined) return Number(ns / 1_000_000n);
      if (/^[\w.-]+:\d+$/.test(s)) return [s];
      return undefined; // derived or prose: checked elsewhere
    };
    let compared = 0;
    for (const line of section.split('\n')) {
      const cells = line.split('|').slice(1, -1);
      if (cells.length !== 4) continue;
      const key = cells[0].trim().replace(/\s*\(not in yaml\)$/, '');
      const expected = SECTION_11[key];
      if (!expected) continue;
      const y = literal(cells[1], expected[0]);
      const c = literal(cells[2], expected[1]);
      if (y !== undefined) assert.deepEqual(expected[0], y, `${key} core.yaml column`);
      if (c !== undefined) assert.deepEqual(expected[1], c, `${key} code default column`);
      compared++;
    }
    assert.ok(compared >= 50, `only ${compared} rows of §11 compared`);
  });

  it('every key of the table has a resolved value in PeerConfig', () => {
    for (const def of KEYS) {
      let node: unknown = codeDefaults;
      for (const part of tsPath(def)) node = (node as Record<string, unknown>)[part];
      assert.notEqual(node, undefined, def.key);
    }
  });

  it('derived defaults: endpoint and listenAddress from peer.address, client TLS pair from the server pair', () => {
    assert.equal(codeDefaults.peer.gossip.endpoint, '127.0.0.1:7051');
    assert.equal(codeDefaults.peer.listenAddress, '127.0.0.1:7051');
    const c = loadWith({ 'peer.gossip.endpoint': 'p0.org1:7051', 'peer.listenAddress': '0.0.0.0:9051' });
    assert.equal(c.peer.gossip.endpoint, 'p0.org1:7051');
    assert.equal(c.peer.listenAddress, '0.0.0.0:9051');
    assert.equal(sample.peer.tls.clientCert.file, join(REPO_ROOT, 'config', 'tls', 'server.crt'));
    assert.equal(sample.peer.tls.clientKey.file, join(REPO_ROOT, 'config', 'tls', 'server.key'));
  });

  it('alive expiration = 5 x aliveTimeInterval and reconnect = expiration unless set', () => {
    let c = loadWith({ 'peer.gossip.aliveTimeInterval': '2s' });
    assert.equal(c.peer.gossip.aliveExpirationTimeoutMs, 10_000);
    assert.equal(c.peer.gossip.reconnectIntervalMs, 10_000);
    c = loadWith({ 'peer.gossip.aliveTimeInterval': '2s', 'peer.gossip.aliveExpirationTimeout': '30s' });
    assert.equal(c.peer.gossip.reconnectIntervalMs, 30_000);
    c = loadWith({ 'peer.gossip.reconnectInterval': '7s' });
    assert.deepEqual(
      [c.peer.gossip.aliveExpirationTimeoutMs, c.peer.gossip.reconnectIntervalMs],
      [25_000, 7000],
    );
  });

  it('peer.address with an unspecified host advertises the detected address; autodetect replaces any host', () => {
    const c = load({ file: SAMPLE_CORE_YAML, detectAddress: () => '192.0.2.10' });
    assert.equal(c.peer.address, '192.0.2.10:7051');
    assert.equal(c.peer.addressConfigured, '0.0.0.0:7051');
    assert.equal(c.peer.gossip.endpoint, '192.0.2.10:7051');
    assert.equal(c.peer.listenAddress, '0.0.0.0:7051');
    const d = load({
      overrides: { 'peer.address': 'peer0:7051', 'peer.addressAutoDetect': true },
      detectAddress: () => '192.0.2.11',
    });
    assert.equal(d.peer.address, '192.0.2.11:7051');
    const e = load({ overrides: { 'peer.address': 'peer0:7051' }, detectAddress: () => '192.0.2.11' });
    assert.equal(e.peer.address, 'peer0:7051');
  });

  it('the sample core.yaml loads without warnings, with Fabric profile and ledger under fileSystemPath', () => {
    assert.deepEqual(sample.warnings, []);
    assert.equal(sample.grapevine.profile, 'fabric');
    assert.equal(sample.grapevine.ledgerPath, '/var/hyperledger/production/grapevine/ledgers');
    assert.equal(sample.grapevine.logSpec, 'info');
    assert.equal(sample.operations.listenAddress, '127.0.0.1:9443');
    assert.equal(sample.metrics.provider, 'disabled');
    assert.equal(sample.peer.localMspId, 'SampleOrg');
    assert.equal(sample.configFile, SAMPLE_CORE_YAML);
    assert.ok(Object.isFrozen(sample.peer.gossip.election));
  });
});

describe('profiles', () => {
  it('fast shortens the unset gossip and election timers and warns', () => {
    const c = load({ file: SAMPLE_CORE_YAML, overrides: { 'grapevine.profile': 'fast' } });
    const g = c.peer.gossip;
    assert.deepEqual(
      [
        g.aliveTimeIntervalMs,
        g.aliveExpirationTimeoutMs,
        g.reconnectIntervalMs,
        g.pullIntervalMs,
        g.publishCertPeriodMs,
      ],
      [250, 1500, 500, 200, 2000],
    );
    assert.deepEqual([g.digestWaitTimeMs, g.requestWaitTimeMs, g.responseWaitTimeMs], [50, 75, 100]);
    assert.deepEqual(g.election, {
      startupGracePeriodMs: 1500,
      membershipSampleIntervalMs: 100,
      leaderAliveThresholdMs: 1000,
      leaderElectionDurationMs: 500,
    });
    assert.equal(g.dialTimeoutMs, 3000, "keys without a fast value keep Fabric's");
    assert.match(c.warnings.join('\n'), /profile is fast/);
  });

  it('fast never overrides a value that is set; a set aliveTimeInterval derives expiration as Fabric', () => {
    const c = loadWith({
      'grapevine.profile': 'fast',
      'peer.gossip.pullInterval': '3s',
      'peer.gossip.aliveTimeInterval': '400ms',
    });
    assert.equal(c.peer.gossip.pullIntervalMs, 3000);
    assert.equal(c.peer.gossip.aliveExpirationTimeoutMs, 2000);
    assert.equal(c.peer.gossip.reconnectIntervalMs, 2000);
  });

  it('a 0 under fast means the fast default', () => {
    const c = loadWith({ 'grapevine.profile': 'fast', 'peer.gossip.pullInterval': 0 });
    assert.equal(c.peer.gossip.pullIntervalMs, 200);
  });
});

describe('documentation', () => {
  it('docs/configuration.md lists every key', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| `([^`]+)` +\|/gm)].map((m) => m[1]));
    const missing = KEYS.filter((d) => !rows.has(d.key)).map((d) => d.key);
    assert.deepEqual(missing, []);
  });

  it("config/core.yaml carries every key of Fabric's sample that Grapevine reads (set or commented out)", () => {
    const text = readFileSync(SAMPLE_CORE_YAML, 'utf8');
    const missing = KEYS.filter((d) => d.yaml !== undefined && d.key !== 'peer.tls.clientRootCAs.files')
      .map((d) => d.key.split('.').pop() as string)
      .filter((leaf) => !new RegExp(`^\\s*#?\\s*${leaf}:`, 'm').test(text));
    assert.deepEqual(missing, []);
  });
});
