/** `grapevine orderer start` (implementation: ../commands/orderer.ts). */
import type { Command } from 'commander';
import type { OrdererFlags } from '../../orderer/config.js';
import { commandGroup } from '../common.js';

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
      await (await import('../commands/orderer.js')).ordererStartCommand(flags);
    });
}
