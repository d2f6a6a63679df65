/**
 * Bad configuration: every kind of bad value, bad file and bad combination gives a ConfigError
 * whose message names the key, what is wrong and where the value came from; all problems are
 * reported at once; arbitrary values never produce anything but a ConfigError.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/base/errors.js';
import { KEYS, loadPeerConfig, PeerConfigError } from '../../src/node/config/index.js';
import { envName } from '../../src/node/config/keys.js';
import { ADDR, errorOf, load, loadWith, tempDir } from './config-helpers.js';

/** [key, bad value, expected reason] */
const BAD_VALUES: [string, unknown, RegExp][] = [
  ['peer.gossip.pullInterval', '4x', /"4x" is not a duration \(use e\.g\. 4s\)/],
  ['peer.gossip.pullInterval', '4', /"4" has no unit: Fabric would read it as 4 nanoseconds/],
  ['peer.gossip.aliveTimeInterval', '-1s', /"-1s" is negative/],
  ['peer.deliveryclient.connTimeout', '1000h', /longer than 596h/],
  ['peer.gossip.useLeaderElection', 'maybe', /"maybe" is not true or false/],
  ['peer.gossip.sendBuffSize', 'ten', /"ten" is not a whole number/],
  ['peer.gossip.sendBuffSize', '1.5', /"1\.5" is not a whole number/],
  ['peer.gossip.propagatePeerNum', '-2', /-2 is negative/],
  ['peer.maxRecvMsgSize', '4294967296', /above the maximum 2147483647/],
  ['peer.gossip.externalEndpoint', 'peer0.org1', /"peer0\.org1" is not host:port/],
  ['peer.gossip.endpoint', 'peer0:70510', /"peer0:70510" is not host:port/],
  [
    'peer.gossip.bootstrap',
    'a:1,b:2',
    /entry "a:1,b:2" is not host:port \(separate several endpoints with spaces\)/,
  ],
  ['metrics.provider', 'promethus', /"promethus" is not one of prometheus, disabled, statsd/],
  ['grapevine.profile', 'slow', /"slow" is not one of fabric, fast/],
  [
    'grapevine.logSpec',
    'info:gossip=loud',
    /invalid logging specification 'info:gossip=loud': bad segment 'gossip=loud'/,
  ],
];

describe('bad values name the key, the problem and the source', () => {
  for (const [key, value, reason] of BAD_VALUES) {
    it(`${key}: ${JSON.stringify(value)}`, () => {
      const fromOverride = errorOf(() => loadWith({ [key]: value }));
      assert.ok(fromOverride instanceof ConfigError);
      assert.ok(fromOverride.message.startsWith(`${key}: `), fromOverride.message);
      assert.match(fromOverride.message, reason);
      assert.match(fromOverride.message, /\(from overrides\)$/);
      const fromEnv = errorOf(() => loadWith({}, { [envName(key)]: String(value) }));
      assert.match(fromEnv.message, reason);
      assert.ok(fromEnv.message.endsWith(`(from environment variable ${envName(key)})`), fromEnv.message);
    });
  }

  it('names the file a bad value came from', () => {
    const tmp = tempDir({ 'core.yaml': 'peer:\n  address: p0:7051\n  gossip:\n    pullInterval: 4x\n' });
    after(tmp.cleanup);
    const e = errorOf(() => load({ file: tmp.path('core.yaml') }));
    assert.equal(
      e.message,
      `peer.gossip.pullInterval: "4x" is not a duration (use e.g. 4s) (from ${tmp.path('core.yaml')})`,
    );
  });

  it('refuses bad structure: a map where a duration goes, a bad override entry, overrides from the environment', () => {
    assert.match(
      errorOf(() => loadWith({ 'peer.gossip.pullInterval': { s: 4 } })).message,
      /^peer\.gossip\.pullInterval: \{"s":4\} is not a duration/,
    );
    assert.match(
      errorOf(() =>
        loadWith({
          'peer.deliveryclient.addressOverrides': [{ from: 'o:7050', to: 'h:7050', caCertFile: 'x' }],
        }),
      ).message,
      /^peer\.deliveryclient\.addressOverrides: entry 1: unknown field "caCertFile"/,
    );
    assert.match(
      errorOf(() => loadWith({ 'peer.deliveryclient.addressOverrides': [{ from: 'o:7050' }] })).message,
      /entry 1: to "" is not host:port/,
    );
    assert.match(
      errorOf(() => loadWith({}, { CORE_PEER_DELIVERYCLIENT_ADDRESSOVERRIDES: 'o:7050 h:7050' })).message,
      /^peer\.deliveryclient\.addressOverrides: cannot be set from an environment variable/,
    );
    assert.match(
      errorOf(() => loadWith({ 'peer.gossip.nope': 1 })).message,
      /^peer\.gossip\.nope: unknown configuration key \(from overrides\)/,
    );
  });

  it('requires peer.address; says so when no address can be detected for 0.0.0.0', () => {
    assert.match(errorOf(() => load({})).message, /^peer\.address: not set/);
    const e = errorOf(() =>
      load({ overrides: { 'peer.address': '0.0.0.0:7051' }, detectAddress: () => undefined }),
    );
    assert.match(
      e.message,
      /^peer\.address: "0\.0\.0\.0:7051" needs this host's address, but no non-loopback IPv4 interface was found/,
    );
  });
});

describe('rules across keys', () => {
  it('both leader options: a clear error naming both keys and their sources', () => {
    const tmp = tempDir({ 'core.yaml': 'peer:\n  address: p0:7051\n  gossip:\n    orgLeader: true\n' });
    after(tmp.cleanup);
    const e = errorOf(() =>
      load({ file: tmp.path('core.yaml'), env: { CORE_PEER_GOSSIP_USELEADERELECTION: 'true' } }),
    );
    assert.ok(e instanceof PeerConfigError && e instanceof ConfigError);
    assert.equal(e.code, 'LEADER_MODE_CONFLICT');
    assert.ok(
      e.message.startsWith(
        'peer.gossip.useLeaderElection and peer.gossip.orgLeader are both true: choose one',
      ),
      e.message,
    );
    assert.match(
      e.message,
      /useLeaderElection \(from environment variable CORE_PEER_GOSSIP_USELEADERELECTION\)/,
    );
    assert.match(
      e.message,
      new RegExp(`orgLeader \\(from ${tmp.path('core.yaml').replace(/[.]/g, '\\.')}\\)`),
    );
  });

  const RULES: [Record<string, unknown>, RegExp][] = [
    [{ 'peer.tls.enabled': true }, /- peer\.tls\.cert\.file: not set, but peer\.tls\.enabled is true/],
    [
      { 'peer.tls.clientCert.file': 'c.pem' },
      /^peer\.tls\.clientKey\.file: not set, but peer\.tls\.clientCert\.file is \(from overrides\); set both or neither/,
    ],
    [
      { 'operations.tls.enabled': true, 'operations.tls.cert.file': 'c.pem' },
      /^operations\.tls\.key\.file: not set, but operations\.tls\.enabled is true/,
    ],
    [
      { 'peer.gossip.pvtData.implicitCollectionDisseminationPolicy.requiredPeerCount': 2 },
      /maxPeerCount \(1\) is below requiredPeerCount \(2\)/,
    ],
    [{ 'peer.keepalive.client.interval': '10s' }, /^peer\.keepalive\.client\.interval: 10000ms is below 60s/],
  ];
  for (const [overrides, message] of RULES) {
    it(`refuses ${JSON.stringify(overrides)}`, () => {
      const e = errorOf(() => loadWith(overrides));
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, message);
    });
  }

  it('reports every problem at once', () => {
    const e = errorOf(() =>
      loadWith({
        'peer.gossip.pullInterval': '4x',
        'peer.gossip.sendBuffSize': -1,
        'grapevine.profile': 'slow',
      }),
    );
    assert.equal(e.code, 'BAD_CONFIG');
    assert.equal(e.issues?.length, 3);
    assert.match(e.message, /^3 configuration problems:\n {2}- peer\.gossip\.pullInterval/);
  });
});

describe('bad files', () => {
  const tmp = tempDir({
    'syntax.yaml': 'peer:\n  gossip: [unclosed\n',
    'list.yaml': '- peer\n- gossip\n',
    'case.yaml': 'peer:\n  address: p0:7051\n  gossip:\n    orgLeader: true\n    OrgLeader: false\n',
    'grapevine.yaml': 'peer:\n  address: p0:7051\ngrapevine:\n  profil: fast\n',
    'empty.yaml': '',
  });
  after(tmp.cleanup);

  it('names the file: missing, a folder, bad YAML, not a map, keys differing in case', () => {
    assert.match(
      errorOf(() => load({ file: tmp.path('nope.yaml') })).message,
      new RegExp(`^${tmp.path('nope.yaml')}: cannot read the configuration: no such file`),
    );
    assert.match(errorOf(() => load({ file: tmp.dir })).message, /is a folder, not a file/);
    assert.match(
      errorOf(() => load({ file: tmp.path('syntax.yaml') })).message,
      /syntax\.yaml: not valid YAML: /,
    );
    assert.match(
      errorOf(() => load({ file: tmp.path('list.yaml') })).message,
      /list\.yaml: the top level must be a map/,
    );
    assert.match(
      errorOf(() => load({ file: tmp.path('case.yaml') })).message,
      /case\.yaml: keys peer\.gossip\.orgLeader and peer\.gossip\.OrgLeader differ only in case/,
    );
  });

  it('refuses unknown keys in the grapevine section; an empty file is all defaults', () => {
    assert.match(
      errorOf(() => load({ file: tmp.path('grapevine.yaml') })).message,
      /^grapevine\.profil: unknown key in the grapevine section/,
    );
    assert.match(errorOf(() => load({ file: tmp.path('empty.yaml') })).message, /^peer\.address: not set/);
    assert.equal(load({ file: tmp.path('empty.yaml'), overrides: ADDR }).peer.gossip.pullIntervalMs, 4000);
  });
});

describe('arbitrary input', () => {
  it('never throws anything but a ConfigError, whatever values the keys get', () => {
    const keys = KEYS.map((d) => d.key);
    const value = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer({ min: -1e12, max: 1e12 }),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.integer(),
          fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })),
        ),
        { maxLength: 3 },
      ),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }),
        fc.dictionary(fc.constantFrom(...keys).map(envName), fc.string({ maxLength: 12 }), { maxKeys: 4 }),
        (overrides, env) => {
          try {
            loadPeerConfig({ overrides: { ...ADDR, ...overrides }, env, detectAddress: () => '10.0.0.1' });
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            assert.ok(e.message.length > 0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
