/**
 * `grapevine orderer start [--config <orderer.yaml>] [--genesis <block>] [--msp <dir>] [--mspid <id>]
 * [--tls <dir>] [--client-auth] [--listen <host:port>] [--data <dir>] [--operations <host:port>]`:
 * run the embedded
 * single-node ordering service until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { loadOrdererConfig, type OrdererFlags } from '../../orderer/config.js';
import { launchOrderer } from '../../orderer/launch.js';
import type { Orderer } from '../../orderer/server.js';
import { componentLogger } from '../../base/log.js';
import { commandGroup, untilStopSignal } from '../common.js';

/** Start the orderer from flags; the caller stops it. */
export async function runOrdererStart(flags: OrdererFlags): Promise<Orderer> {
  const cfg = loadOrdererConfig(flags);
  return launchOrderer(cfg, { logger: componentLogger('orderer') });
}

export function register(program: Command): void {
  commandGroup(program, 'orderer', 'The embedded ordering service')
    .command('start')
    .description(
      'Run a single-node ordering service (orderer.AtomicBroadcast Broadcast/Deliver) for the channel of a genesis block',
    )
    .option(
      '--config <file>',
      'orderer.yaml-style config (General.*, FileLedger.Location); flags override it',
    )
    .option('--genesis <file>', 'genesis block made by `grapevine channel genesis` (needed on first start)')
    .option('--msp <dir>', 'the orderer MSP folder (signcerts, keystore, ...)')
    .option('--mspid <id>', 'MSP ID of the orderer (default OrdererMSP)')
    .option(
      '--tls <dir>',
      'TLS folder with server.crt and server.key (TLS off when absent and not in --config)',
    )
    .option('--client-auth', 'require and verify TLS client certificates (mutual TLS)')
    .option('--listen <host:port>', 'listen address (default 127.0.0.1:7050)')
    .option('--data <dir>', 'ledger folder (one sub-folder per channel)')
    .option(
      '--operations <host:port>',
      'operations server (/healthz, /metrics, /version) listen address (Operations.ListenAddress)',
    )
    .action(async (flags: OrdererFlags) => {
      // listen for the stop signals first: a SIGTERM while the orderer starts also stops it cleanly
      const stopped = untilStopSignal();
      const o = await runOrdererStart(flags);
      console.log(`orderer listening on ${o.address} for channel(s) ${o.channelIds().join(', ')}`);
      if (o.operationsUrl) console.log(`operations server on ${o.operationsUrl} (/healthz, /metrics)`);
      await stopped;
      await o.stop();
    });
}
