/**
 * The orderer's operations server: Operations.* and Metrics.Provider keys (errors name the file
 * and key), `--operations` wins over the file, /metrics and /healthz served by an orderer started
 * like `grapevine orderer start`, /metrics off with Metrics.Provider disabled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOrdererStart } from '../../src/cli/commands/orderer.js';
import { ConfigError } from '../../src/base/errors.js';
import { loadOrdererConfig } from '../../src/orderer/config.js';
import { ORDERER_MSP, ORDERER_TLS, fixture } from './fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'grapevine-orderer-ops-'));

function yamlFile(dir: string, text: string): string {
  const file = join(dir, 'orderer.yaml');
  writeFileSync(file, `General:\n  LocalMSPDir: msp\nFileLedger:\n  Location: data\n${text}`);
  return file;
}

test('Operations and Metrics keys; --operations wins; errors name the file and key', () => {
  const dir = tmp();
  const file = yamlFile(
    dir,
    `Operations:
  ListenAddress: 127.0.0.1:9443
  TLS:
    Enabled: true
    Certificate: ops/server.crt
    PrivateKey: ops/server.key
    ClientAuthRequired: true
    ClientRootCAs: [ops/ca.crt]
Metrics:
  Provider: disabled
`,
  );
  const cfg = loadOrdererConfig({ config: file });
  assert.deepEqual(cfg.operations, {
    listenAddress: '127.0.0.1:9443',
    tls: {
      certFile: join(dir, 'ops/server.crt'),
      keyFile: join(dir, 'ops/server.key'),
      clientAuthRequired: true,
      clientRootCAFiles: [join(dir, 'ops/ca.crt')],
    },
  });
  assert.equal(cfg.metricsProvider, 'disabled');
  assert.equal(
    loadOrdererConfig({ config: file, operations: '127.0.0.1:0' }).operations?.listenAddress,
    '127.0.0.1:0',
  );

  const none = loadOrdererConfig({ config: yamlFile(tmp(), '') });
  assert.equal(none.operations, undefined, 'no operations server unless configured');
  assert.equal(none.metricsProvider, 'prometheus');

  const bad = (text: string, re: RegExp) =>
    assert.throws(
      () => loadOrdererConfig({ config: yamlFile(tmp(), text) }),
      (e: unknown) => e instanceof ConfigError && re.test(e.message) && e.message.includes('orderer.yaml'),
    );
  bad(
    'Operations:\n  ListenAddress: nonsense\n',
    /Operations\.ListenAddress: listen address must be host:port/,
  );
  bad(
    'Operations:\n  ListenAddress: 127.0.0.1:1\n  TLS:\n    Enabled: true\n',
    /Operations\.TLS: Enabled needs Certificate and PrivateKey/,
  );
  bad('Metrics:\n  Provider: statsd\n', /Metrics\.Provider: 'statsd' is not supported/);
  assert.throws(
    () => loadOrdererConfig({ config: yamlFile(tmp(), ''), operations: 'x' }),
    (e: unknown) => e instanceof ConfigError && /--operations/.test(e.message),
  );
});

test('orderer start --operations serves /metrics and /healthz; Metrics.Provider disabled turns /metrics off', async () => {
  const f = await fixture();
  const dir = tmp();
  const genesis = join(dir, 'genesis.block');
  writeFileSync(genesis, f.genesis);
  const flags = {
    genesis,
    msp: join(f.root, ORDERER_MSP),
    tls: join(f.root, ORDERER_TLS),
    data: join(dir, 'data'),
    listen: '127.0.0.1:0',
    operations: '127.0.0.1:0',
  };
  let o = await runOrdererStart(flags);
  try {
    const url = o.operationsUrl!;
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, new RegExp(`ledger_blockchain_height\\{channel="${f.channel}"\\} 1`));
    assert.match(text, new RegExp(`consensus_etcdraft_is_leader\\{channel="${f.channel}"\\} 1`));
    const h = await fetch(`${url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'OK');
  } finally {
    await o.stop();
  }
  const file = join(dir, 'orderer.yaml');
  writeFileSync(file, 'Metrics:\n  Provider: disabled\n');
  o = await runOrdererStart({ ...flags, genesis: undefined, config: file });
  try {
    assert.equal((await fetch(`${o.operationsUrl!}/metrics`)).status, 404);
    assert.equal((await fetch(`${o.operationsUrl!}/healthz`)).status, 200);
  } finally {
    await o.stop();
  }
});
