/**
 * `grapevine orderer start [--config <orderer.yaml>] [--genesis <block>] [--msp <dir>] [--mspid <id>]
 * [--tls <dir>] [--client-auth] [--listen <host:port>] [--data <dir>] [--operations <host:port>]`:
 * run the embedded
 * single-node ordering service until SIGINT/SIGTERM.
 */
import { loadOrdererConfig, type OrdererFlags } from '../../orderer/config.js';
import { guardResourceErrors } from '../../base/resources.js';
import { launchOrderer } from '../../orderer/launch.js';
import type { Orderer } from '../../orderer/server.js';
import { componentLogger, type Logger } from '../../base/log.js';
import { LogLevels } from '../../node/logspec.js';
import { untilStopSignal } from '../common.js';

/** Start the orderer from flags; the caller stops it. */
export async function runOrdererStart(
  flags: OrdererFlags,
  logger: Logger = componentLogger('orderer'),
): Promise<Orderer> {
  const cfg = loadOrdererConfig(flags);
  for (const w of cfg.warnings) logger.warn(w);
  return launchOrderer(cfg, { logger });
}

/** `grapevine orderer start`: serve until SIGINT/SIGTERM, then stop. */
export async function ordererStartCommand(flags: OrdererFlags): Promise<void> {
  // listen for the stop signals first: a SIGTERM while the orderer starts also stops it cleanly
  const stopped = untilStopSignal();
  // levels from FABRIC_LOGGING_SPEC (default info), as Fabric's orderer; log lines (stderr) rather
  // than plain stdout lines: one format, text or JSON (FABRIC_LOGGING_FORMAT)
  const levels = new LogLevels({ spec: process.env.FABRIC_LOGGING_SPEC || 'info' });
  const log = levels.root.child({ component: 'orderer' });
  guardResourceErrors((m) => log.warn(m));
  const o = await runOrdererStart(flags, log);
  log.info(`orderer listening on ${o.address} for channel(s) ${o.channelIds().join(', ')}`);
  if (o.operationsUrl) log.info(`operations server on ${o.operationsUrl} (/healthz, /metrics)`);
  await stopped;
  await o.stop();
}
