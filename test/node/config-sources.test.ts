/**
 * Where values come from and how they are read: CORE_* environment overrides (viper's naming and
 * precedence), case-insensitive keys, lists, the 0-means-default rule, Go durations, booleans,
 * relative paths, FABRIC_CFG_PATH, and the module views built from a PeerConfig.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  commConfigOf,
  deliverConfigOf,
  electionConfigOf,
  envName,
  gossipNodeConfigOf,
  FABRIC_CONFIG_DIR,
  loadPeerConfig,
  stateConfigOf,
} from '../../src/node/config/index.js';
import { errorOf, load, loadWith, tempDir } from './config-helpers.js';

describe('environment overrides', () => {
  it('names variables as viper does: CORE_ + upper case, dots as underscores', () => {
    assert.equal(envName('peer.gossip.useLeaderElection'), 'CORE_PEER_GOSSIP_USELEADERELECTION');
    assert.equal(
      envName('peer.gossip.election.leaderAliveThreshold'),
      'CORE_PEER_GOSSIP_ELECTION_LEADERALIVETHRESHOLD',
    );
  });

  it('switches to leader election from the environment (env beats the file)', () => {
    const tmp = tempDir({
      'core.yaml':
        'peer:\n  address: p0:7051\n  gossip:\n    orgLeader: true\n    useLeaderElection: false\n',
    });
    after(tmp.cleanup);
    const c = load({
      file: tmp.path('core.yaml'),
      env: { CORE_PEER_GOSSIP_USELEADERELECTION: 'true', CORE_PEER_GOSSIP_ORGLEADER: 'false' },
    });
    assert.equal(c.peer.gossip.useLeaderElection, true);
    assert.equal(c.peer.gossip.orgLeader, false);
    assert.equal(electionConfigOf(c).useLeaderElection, true);
  });

  it('overrides beat the environment; an empty variable is unset; lower-case variable names are not read', () => {
    const c = loadWith(
      { 'peer.gossip.pullInterval': '7s' },
      {
        CORE_PEER_GOSSIP_PULLINTERVAL: '9s',
        CORE_PEER_GOSSIP_DIALTIMEOUT: '',
        core_peer_gossip_conntimeout: '9s',
      },
    );
    assert.equal(c.peer.gossip.pullIntervalMs, 7000);
    assert.equal(c.peer.gossip.dialTimeoutMs, 3000);
    assert.equal(c.peer.gossip.connTimeoutMs, 2000);
  });

  it('reads lists from space-separated strings (env and file) and YAML lists', () => {
    const c = loadWith(
      {},
      {
        CORE_PEER_GOSSIP_BOOTSTRAP: ' peer1.org1:7051   peer2.org1:8051 ',
        CORE_PEER_TLS_CLIENTROOTCAS_FILES: '/a/ca.pem /b/ca.pem',
      },
    );
    assert.deepEqual(c.peer.gossip.bootstrap, ['peer1.org1:7051', 'peer2.org1:8051']);
    assert.deepEqual(c.peer.tls.clientRootCAs.files, ['/a/ca.pem', '/b/ca.pem']);
    const tmp = tempDir({
      'core.yaml': 'peer:\n  address: p0:7051\n  gossip:\n    bootstrap:\n      - a:1\n      - b:2\n',
    });
    after(tmp.cleanup);
    assert.deepEqual(load({ file: tmp.path('core.yaml') }).peer.gossip.bootstrap, ['a:1', 'b:2']);
  });

  it('matches YAML keys case-insensitively', () => {
    const tmp = tempDir({
      'core.yaml':
        'PEER:\n  Address: p0:7051\n  GOSSIP:\n    UseLeaderElection: yes\n    OrgLeader: off\n    PullInterval: 1500ms\n',
    });
    after(tmp.cleanup);
    const c = load({ file: tmp.path('core.yaml') });
    assert.equal(c.peer.gossip.useLeaderElection, true);
    assert.equal(c.peer.gossip.orgLeader, false);
    assert.equal(c.peer.gossip.pullIntervalMs, 1500);
  });

  it('reads booleans and numbers from environment text', () => {
    const c = loadWith(
      {},
      {
        CORE_PEER_TLS_ENABLED: 'f',
        CORE_PEER_GOSSIP_STATE_ENABLED: 'TRUE',
        CORE_PEER_GOSSIP_PROPAGATEPEERNUM: '0x10',
        CORE_PEER_GOSSIP_PULLPEERNUM: '5',
      },
    );
    assert.equal(c.peer.tls.enabled, false);
    assert.equal(c.peer.gossip.state.enabled, true);
    assert.equal(c.peer.gossip.propagatePeerNum, 16);
    assert.equal(c.peer.gossip.pullPeerNum, 5);
  });

  it('warns about unknown keys under the subtrees Grapevine reads, in the file and the environment', () => {
    const tmp = tempDir({
      'core.yaml':
        'peer:\n  address: p0:7051\n  gossip:\n    pullIntervall: 4s\n  BCCSP:\n    Default: SW\nchaincode:\n  mode: net\n',
    });
    after(tmp.cleanup);
    const c = load({
      file: tmp.path('core.yaml'),
      env: { CORE_PEER_GOSSIP_USELEADERELECTON: 'true', CORE_LEDGER_STATE_STATEDATABASE: 'goleveldb' },
    });
    assert.equal(c.warnings.length, 2, c.warnings.join('\n'));
    assert.match(c.warnings[0], /peer\.gossip\.pullintervall: unknown key, ignored \(in .*core\.yaml\)/);
    assert.match(c.warnings[1], /environment variable CORE_PEER_GOSSIP_USELEADERELECTON/);
  });

  it("without a file or FABRIC_CFG_PATH, looks for core.yaml as Fabric's peer does: working folder, then /etc/hyperledger/fabric", () => {
    const here = tempDir({ 'core.yaml': 'peer:\n  address: p0:7051\n  id: from-working-folder\n' });
    const etc = tempDir({ 'core.yaml': 'peer:\n  address: p0:7051\n  id: from-etc\n' });
    const empty = tempDir();
    after(here.cleanup);
    after(etc.cleanup);
    after(empty.cleanup);
    assert.equal(FABRIC_CONFIG_DIR, '/etc/hyperledger/fabric');
    const fromCwd = loadPeerConfig({ env: {}, searchDirs: [here.dir, etc.dir] });
    assert.equal(fromCwd.peer.id, 'from-working-folder');
    assert.equal(fromCwd.configFile, here.path('core.yaml'));
    assert.equal(loadPeerConfig({ env: {}, searchDirs: [empty.dir, etc.dir] }).peer.id, 'from-etc');
    const none = loadPeerConfig({
      env: {},
      searchDirs: [empty.dir],
      overrides: { 'peer.address': 'p0:7051' },
    });
    assert.equal(none.configFile, undefined);
    // FABRIC_CFG_PATH wins over the search
    const cfg = loadPeerConfig({ env: { FABRIC_CFG_PATH: etc.dir }, searchDirs: [here.dir] });
    assert.equal(cfg.peer.id, 'from-etc');
  });

  it('takes the file from FABRIC_CFG_PATH when none is given, and FABRIC_LOGGING_SPEC as the log spec', () => {
    const tmp = tempDir({ 'core.yaml': 'peer:\n  address: p0:7051\n  id: from-cfg-path\n' });
    after(tmp.cleanup);
    const c = loadPeerConfig({
      env: { FABRIC_CFG_PATH: tmp.dir, FABRIC_LOGGING_SPEC: 'warn:gossip.election=debug' },
    });
    assert.equal(c.peer.id, 'from-cfg-path');
    assert.equal(c.configFile, tmp.path('core.yaml'));
    assert.equal(c.grapevine.logSpec, 'warn:gossip.election=debug');
    assert.equal(
      loadWith({ 'grapevine.logSpec': 'debug' }, { FABRIC_LOGGING_SPEC: 'warn' }).grapevine.logSpec,
      'debug',
    );
  });
});

describe('0 means the code default (GetIntOrDefault / GetDurationOrDefault keys)', () => {
  it('replaces 0 by the default for gossip, election, deliveryclient and keepalive keys', () => {
    const c = loadWith(
      {
        'peer.gossip.pullInterval': 0,
        'peer.gossip.sendBuffSize': '0',
        'peer.gossip.maxBlockCountToStore': 0,
        'peer.gossip.aliveTimeInterval': '0s',
        'peer.gossip.election.leaderAliveThreshold': 0,
        'peer.deliveryclient.connTimeout': '0',
        'peer.keepalive.client.interval': 0,
      },
      {},
    );
    const g = c.peer.gossip;
    assert.deepEqual(
      [
        g.pullIntervalMs,
        g.sendBuffSize,
        g.maxBlockCountToStore,
        g.aliveTimeIntervalMs,
        g.aliveExpirationTimeoutMs,
      ],
      [4000, 20, 10, 5000, 25_000],
    );
    assert.equal(g.election.leaderAliveThresholdMs, 10_000);
    assert.equal(c.peer.deliveryclient.connTimeoutMs, 3000);
    assert.equal(c.peer.keepalive.client.intervalMs, 60_000);
  });

  it('keeps 0 where Fabric keeps it', () => {
    const c = loadWith({
      'peer.gossip.pvtData.pushAckTimeout': '0s',
      'peer.gossip.state.maxRetries': 0,
      'peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount': 0,
    });
    assert.equal(c.peer.gossip.pvtData.pushAckTimeoutMs, 0);
    assert.equal(c.peer.gossip.state.maxRetries, 0);
    assert.equal(c.peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount, 0);
  });

  it('refuses 0 where Fabric would use it and break', () => {
    for (const key of [
      'peer.gossip.state.checkInterval',
      'peer.gossip.state.batchSize',
      'peer.maxRecvMsgSize',
    ]) {
      const e = errorOf(() => loadWith({ [key]: 0 }));
      assert.match(e.message, new RegExp(`^${key.replace(/\./g, '\\.')}: 0 is not allowed`), e.message);
    }
  });

  it('a negative btlPullMargin means its default, as Fabric', () => {
    assert.equal(loadWith({ 'peer.gossip.pvtData.btlPullMargin': -3 }).peer.gossip.pvtData.btlPullMargin, 10);
  });
});

describe('durations', () => {
  const cases: [string, number][] = [
    ['4s', 4000],
    ['1500ms', 1500],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['2.5s', 2500],
    ['250us', 1],
    ['1m0.5s', 60_500],
  ];
  for (const [text, ms] of cases) {
    it(`${text} = ${ms} ms`, () => {
      assert.equal(loadWith({ 'peer.gossip.pullInterval': text }).peer.gossip.pullIntervalMs, ms);
      assert.equal(loadWith({}, { CORE_PEER_GOSSIP_PULLINTERVAL: text }).peer.gossip.pullIntervalMs, ms);
    });
  }
});

describe('relative paths', () => {
  const tmp = tempDir({
    'etc/core.yaml': [
      'peer:',
      '  address: p0:7051',
      '  mspConfigPath: msp',
      '  fileSystemPath: ../data',
      '  tls:',
      '    cert: { file: tls/server.crt }',
      '    rootcert: { file: /abs/ca.crt }',
      '    clientRootCAs: { files: [tls/ca.crt, /abs/other.crt] }',
      '  deliveryclient:',
      '    addressOverrides:',
      '      - { from: "orderer:7050", to: "127.0.0.1:7050", caCertsFile: tls/orderer-ca.crt }',
      'grapevine:',
      '  channels: [blocks/mychannel.block]',
      '',
    ].join('\n'),
  });
  after(tmp.cleanup);
  const etc = tmp.path('etc');

  it('resolves relative paths against the core.yaml folder and keeps absolute ones', () => {
    const c = load({ file: join(etc, 'core.yaml') });
    assert.equal(c.configDir, etc);
    assert.equal(c.peer.mspConfigPath, join(etc, 'msp'));
    assert.equal(c.peer.fileSystemPath, tmp.path('data'));
    assert.equal(c.peer.tls.cert.file, join(etc, 'tls/server.crt'));
    assert.equal(c.peer.tls.rootcert.file, '/abs/ca.crt');
    assert.deepEqual(c.peer.tls.clientRootCAs.files, [join(etc, 'tls/ca.crt'), '/abs/other.crt']);
    assert.equal(c.peer.deliveryclient.addressOverrides[0].caCertsFile, join(etc, 'tls/orderer-ca.crt'));
    assert.deepEqual(c.grapevine.channels, [join(etc, 'blocks/mychannel.block')]);
    assert.equal(c.grapevine.ledgerPath, join(tmp.path('data'), 'grapevine', 'ledgers'));
    assert.equal(c.peer.tls.key.file, '', 'unset paths stay empty');
  });

  it('resolves paths from the environment against the core.yaml folder too, and against cwd without a file', () => {
    const c = load({ file: join(etc, 'core.yaml'), env: { CORE_PEER_MSPCONFIGPATH: 'other/msp' } });
    assert.equal(c.peer.mspConfigPath, join(etc, 'other/msp'));
    const d = load({
      overrides: { 'peer.address': 'p0:7051', 'peer.mspConfigPath': 'msp' },
      cwd: '/srv/peer',
    });
    assert.equal(d.peer.mspConfigPath, '/srv/peer/msp');
  });
});

describe('module views', () => {
  const c = load({
    overrides: {
      'peer.address': 'p0.org1:7051',
      'peer.gossip.bootstrap': 'p1.org1:7051',
      'peer.gossip.pullInterval': '3s',
      'peer.gossip.sendBuffSize': 200,
      'peer.gossip.state.enabled': true,
      'peer.gossip.orgLeader': true,
    },
  });

  it('hands each module its values', () => {
    assert.equal(commConfigOf(c).sendBuffSize, 200);
    const node = gossipNodeConfigOf(c);
    assert.equal(node.discovery.endpoint, 'p0.org1:7051');
    assert.deepEqual(node.discovery.bootstrap, ['p1.org1:7051']);
    assert.equal(node.discovery.pullIntervalMs, 3000);
    assert.equal(node.pull.pullIntervalMs, 3000);
    assert.equal(node.channel.pullIntervalMs, 3000);
    assert.equal(electionConfigOf(c).orgLeader, true);
    assert.equal(stateConfigOf(c).enabled, true);
  });

  it('reads the CA file of an address override, and skips an unreadable one with a warning (as Fabric)', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const tmp = tempDir({
      'core.yaml':
        'peer:\n  address: p0:7051\n  deliveryclient:\n    addressOverrides:\n      - {from: "o1:7050", to: "h1:7050", caCertsFile: ca.pem}\n      - {from: "o2:7050", to: "h2:7050", caCertsFile: missing.pem}\n      - {from: "o3:7050", to: "h3:7050"}\n',
      'ca.pem': pem + pem,
    });
    after(tmp.cleanup);
    const warnings: string[] = [];
    const d = deliverConfigOf(load({ file: tmp.path('core.yaml') }), { warn: (m) => warnings.push(m) });
    assert.deepEqual(
      d.addressOverrides.map((o) => [o.from, o.to, o.caCerts.length]),
      [
        ['o1:7050', 'h1:7050', 2],
        ['o3:7050', 'h3:7050', 0],
      ],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /missing\.pem of o2:7050 -> h2:7050/);
  });
});
