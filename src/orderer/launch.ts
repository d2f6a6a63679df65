/** Start the embedded orderer from a loaded OrdererFileConfig (files read and checked here). */
import { processResources } from '../base/resources.js';
import { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';
import { grapevineVersion } from '../base/version.js';
import type { Logger } from 'pino';
import { ConfigError, GrapevineError, errorMessage } from '../base/errors.js';
import { loadSigningIdentity } from '../identity/index.js';
import { decodeBlock, isConfigBlock } from '../wire/block.js';
import { readConfigFile, type OrdererFileConfig } from './config.js';
import { Orderer } from './server.js';

export async function launchOrderer(
  cfg: OrdererFileConfig,
  opts: { logger?: Logger } = {},
): Promise<Orderer> {
  const id = loadSigningIdentity(cfg.mspDir, cfg.mspId, { now: new Date() });
  let genesis: Uint8Array | undefined;
  if (cfg.genesisFile) {
    genesis = readConfigFile(cfg.genesisFile, 'genesis block');
    let ok: boolean;
    try {
      const b = decodeBlock(genesis);
      ok = b.header?.number === 0n && isConfigBlock(b);
    } catch (e) {
      throw new ConfigError('BAD_GENESIS', `${cfg.genesisFile}: not a block: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    if (!ok)
      throw new ConfigError(
        'BAD_GENESIS',
        `${cfg.genesisFile}: not a genesis block (a config block number 0)`,
      );
  }
  const tls = cfg.tls && {
    certPem: readConfigFile(cfg.tls.certFile, 'TLS certificate'),
    keyPem: readConfigFile(cfg.tls.keyFile, 'TLS private key'),
    clientAuthRequired: cfg.tls.clientAuthRequired,
    clientRootCAs: cfg.tls.clientRootCAFiles.map((f) => readConfigFile(f, 'TLS client root CA')),
  };
  const ot = cfg.operations?.tls;
  const operations = cfg.operations && {
    listenAddress: cfg.operations.listenAddress,
    ...(ot
      ? {
          tls: {
            cert: readConfigFile(ot.certFile, 'operations TLS certificate'),
            key: readConfigFile(ot.keyFile, 'operations TLS private key'),
            clientRootCAs: ot.clientRootCAFiles.map((f) =>
              readConfigFile(f, 'operations TLS client root CA'),
            ),
            clientAuthRequired: ot.clientAuthRequired,
          },
        }
      : {}),
  };
  // a process of its own: process metrics and fabric_version, as Fabric's orderer
  const metrics = new Metrics();
  metrics.collectProcessMetrics();
  metrics.gauge(METRICS.fabricVersion).set({ version: grapevineVersion() }, 1);
  processResources().maxMemoryBytes = cfg.maxMemoryBytes;
  try {
    return await Orderer.start({
      metrics,
      operations,
      serveMetrics: cfg.metricsProvider === 'prometheus',
      signer: id.signer,
      listen: cfg.listen,
      dataDir: cfg.dataDir,
      genesis,
      tls,
      timeWindowMs: cfg.timeWindowMs,
      noExpirationChecks: cfg.noExpirationChecks,
      connLimits: cfg.connLimits,
      logger: opts.logger,
    });
  } catch (e) {
    if (e instanceof GrapevineError && cfg.genesisFile && /genesis/i.test(e.message)) {
      throw new ConfigError(e.code, `${cfg.genesisFile}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}
