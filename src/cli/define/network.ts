/** `grapevine network up` (implementation: ../commands/network.ts). */
import type { Command } from 'commander';
import type { NetworkUpFlags } from '../commands/network.js';
import { commandGroup } from '../common.js';

export function register(program: Command): void {
  commandGroup(program, 'network', 'A local Grapevine network')
    .command('up')
    .description(
      'Run a local network on 127.0.0.1: orderer + 2 orgs x 3 peers as child processes, a stream of transactions, a live view and a dashboard',
    )
    .option(
      '--dir <dir>',
      'working folder (crypto material, genesis block, ledgers, logs); reused on the next run',
      '.grapevine/network',
    )
    .option('--reset', 'delete the working folder first and make a new network')
    .option('--no-view', 'no live terminal view (progress lines only)')
    .option('--rate <tx/s>', 'transactions submitted per second', '20')
    .option('--port <port>', 'dashboard port on 127.0.0.1 (default: any free port)')
    .option('--duration <s>', 'stop by itself after this many seconds (or a Go duration: 90s, 5m)')
    .action(async (flags: NetworkUpFlags) => {
      await (await import('../commands/network.js')).runNetworkUp(flags);
    });
}
