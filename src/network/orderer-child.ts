/**
 * Entry of the orderer child process of `grapevine network up`: argv[2] is the JSON of the
 * OrdererFlags (as `grapevine orderer start` takes them). Reports {type:'ready', address} or
 * {type:'error', message} over IPC; stops on SIGINT/SIGTERM or when the parent goes away.
 */
import { errorMessage } from '../base/errors.js';
import { guardResourceErrors } from '../base/resources.js';
import { launchOrderer, loadOrdererConfig, type OrdererFlags } from '../orderer/index.js';
import { LogLevels } from '../node/logspec.js';

async function main(): Promise<void> {
  const flags = JSON.parse(process.argv[2] ?? '{}') as OrdererFlags;
  const levels = new LogLevels({ spec: process.env.GRAPEVINE_ORDERER_LOGSPEC ?? 'info' });
  let orderer;
  const logger = levels.root.child({ component: 'orderer' });
  guardResourceErrors((m) => logger.warn(m));
  try {
    const cfg = loadOrdererConfig(flags);
    for (const w of cfg.warnings) logger.warn(w);
    orderer = await launchOrderer(cfg, { logger });
  } catch (e) {
    logger.error(`orderer: ${errorMessage(e)}`);
    process.send?.({ type: 'error', message: errorMessage(e) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  logger.info(`orderer listening on ${orderer.address} for channel(s) ${orderer.channelIds().join(', ')}`);
  if (orderer.operationsUrl)
    logger.info(`operations server on ${orderer.operationsUrl} (/healthz, /metrics)`);
  process.send?.({ type: 'ready', address: orderer.address, operations: orderer.operationsUrl });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.once('disconnect', resolve);
  });
  await orderer.stop();
  if (process.connected) process.disconnect();
}

void main();
