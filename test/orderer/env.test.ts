/**
 * The orderer reads Fabric's ORDERER_* variables (orderer.yaml keys, upper case, '_' for '.'):
 * they override the file, flags override them; booleans and lists parse as Fabric writes them;
 * a bad boolean names the variable; any other ORDERER_* variable is a warning, not an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/base/errors.js';
import { loadOrdererConfig, ordererEnvName } from '../../src/orderer/config.js';

function yamlFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-orderer-env-'));
  const file = join(dir, 'orderer.yaml');
  writeFileSync(
    file,
    'General:\n  ListenAddress: 127.0.0.1\n  ListenPort: 7050\n  LocalMSPDir: msp\nFileLedger:\n  Location: data\n',
  );
  return { dir, file };
}

test('ORDERER_* variables override orderer.yaml; flags override them; unknown ones are warnings', () => {
  const { dir, file } = yamlFile();
  assert.equal(ordererEnvName('General.TLS.ClientRootCAs'), 'ORDERER_GENERAL_TLS_CLIENTROOTCAS');
  const env = {
    ORDERER_GENERAL_LISTENADDRESS: '0.0.0.0',
    ORDERER_GENERAL_LISTENPORT: '7150',
    ORDERER_GENERAL_LOCALMSPID: 'OrdererOrg',
    ORDERER_GENERAL_TLS_ENABLED: 'true',
    ORDERER_GENERAL_TLS_CERTIFICATE: 'tls/server.crt',
    ORDERER_GENERAL_TLS_PRIVATEKEY: 'tls/server.key',
    ORDERER_GENERAL_TLS_CLIENTROOTCAS: '[tls/a.crt, tls/b.crt]',
    ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED: 'TRUE',
    ORDERER_OPERATIONS_LISTENADDRESS: '127.0.0.1:9443',
    ORDERER_METRICS_PROVIDER: 'disabled',
    ORDERER_FILELEDGER_LOCATION: '/var/ledger',
    ORDERER_GENERAL_CLUSTER_SENDBUFFERSIZE: '10',
    ORDERER_GENRAL_LISTENPORT: '1',
    CORE_PEER_ID: 'not for the orderer',
  };
  const cfg = loadOrdererConfig({ config: file }, env);
  assert.equal(cfg.listen, '0.0.0.0:7150');
  assert.equal(cfg.mspId, 'OrdererOrg');
  assert.equal(cfg.mspDir, join(dir, 'msp'));
  assert.equal(cfg.dataDir, '/var/ledger');
  assert.deepEqual(cfg.tls, {
    certFile: join(dir, 'tls/server.crt'),
    keyFile: join(dir, 'tls/server.key'),
    clientAuthRequired: true,
    clientRootCAFiles: [join(dir, 'tls/a.crt'), join(dir, 'tls/b.crt')],
  });
  assert.deepEqual(cfg.operations, { listenAddress: '127.0.0.1:9443', tls: undefined });
  assert.equal(cfg.metricsProvider, 'disabled');
  assert.equal(cfg.warnings.length, 2);
  assert.match(
    cfg.warnings[0]!,
    /ORDERER_GENERAL_CLUSTER_SENDBUFFERSIZE: not a key Grapevine's orderer reads/,
  );
  assert.match(cfg.warnings[1]!, /ORDERER_GENRAL_LISTENPORT/);

  const flagged = loadOrdererConfig({ config: file, listen: '127.0.0.1:0', operations: '127.0.0.1:1' }, env);
  assert.equal(flagged.listen, '127.0.0.1:0');
  assert.equal(flagged.operations?.listenAddress, '127.0.0.1:1');
  // without a variable the file's values stand; an empty variable counts as unset
  const plain = loadOrdererConfig({ config: file }, { ORDERER_GENERAL_LISTENPORT: '' });
  assert.equal(plain.listen, '127.0.0.1:7050');
  assert.deepEqual(plain.warnings, []);

  assert.throws(
    () => loadOrdererConfig({ config: file }, { ORDERER_GENERAL_TLS_ENABLED: 'yes' }),
    (e: unknown) =>
      e instanceof ConfigError && /ORDERER_GENERAL_TLS_ENABLED: 'yes' is not true or false/.test(e.message),
  );
});

test('Grapevine.ConnLimits: safe defaults, the file and ORDERER_GRAPEVINE_CONNLIMITS_* variables, bad values named', () => {
  const { file } = yamlFile();
  assert.deepEqual(loadOrdererConfig({ config: file }, {}).connLimits, {
    maxConns: 2048,
    maxConnsPerAddress: 64,
    handshakeTimeoutMs: 5000,
    idleTimeoutMs: 10_000,
    maxUnauthenticatedBytes: 1024 * 1024,
    maxUnauthenticatedBytesTotal: 64 * 1024 * 1024,
  });
  writeFileSync(
    file,
    'General:\n  LocalMSPDir: msp\nFileLedger:\n  Location: data\nGrapevine:\n  ConnLimits:\n    MaxConns: 100\n    IdleTimeout: 3s\n    MaxUnauthenticatedBytes: 131072\n    MaxMemory: 2000000000\n',
  );
  const env = {
    ORDERER_GRAPEVINE_CONNLIMITS_MAXCONNSPERADDRESS: '8',
    ORDERER_GRAPEVINE_CONNLIMITS_HANDSHAKETIMEOUT: '1500ms',
  };
  assert.deepEqual(loadOrdererConfig({ config: file }, env).connLimits, {
    maxConns: 100,
    maxConnsPerAddress: 8,
    handshakeTimeoutMs: 1500,
    idleTimeoutMs: 3000,
    maxUnauthenticatedBytes: 131072,
    maxUnauthenticatedBytesTotal: 64 * 1024 * 1024,
  });
  assert.equal(loadOrdererConfig({ config: file }, env).maxMemoryBytes, 2_000_000_000);
  assert.throws(
    () => loadOrdererConfig({ config: file }, { ORDERER_GRAPEVINE_CONNLIMITS_MAXCONNS: 'many' }),
    (e: unknown) =>
      e instanceof ConfigError && /Grapevine\.ConnLimits\.MaxConns: not a whole number/.test(e.message),
  );
  assert.throws(
    () => loadOrdererConfig({ config: file }, { ORDERER_GRAPEVINE_CONNLIMITS_IDLETIMEOUT: '10 seconds' }),
    (e: unknown) => e instanceof ConfigError && /IdleTimeout: not a duration/.test(e.message),
  );
});
