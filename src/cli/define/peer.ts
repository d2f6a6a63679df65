/** `grapevine peer start` and Fabric's `peer node start` (implementation: ../commands/peer.ts). */
import type { Command } from 'commander';
import type { PeerStartFlags } from '../commands/peer.js';
import { commandGroup } from '../common.js';

export function register(program: Command): void {
  const peer = commandGroup(program, 'peer', 'The Grapevine peer');
  startCommand(peer.command('start'));
  // Fabric's spelling, so scripts and unit files written for `peer node start` work unchanged
  startCommand(peer.command('node').description("Fabric's `peer node` commands").command('start'));
}

function startCommand(cmd: Command): void {
  cmd
    .description(
      'Run a peer: gossip (gRPC + TLS), deliver client, ledger per channel, operations server, until SIGINT/SIGTERM',
    )
    .option(
      '--config <file>',
      "core.yaml (Fabric's keys; default $FABRIC_CFG_PATH/core.yaml, else ./core.yaml, else /etc/hyperledger/fabric/core.yaml; CORE_* variables override it)",
    )
    .option(
      '--join <block...>',
      'channel config (genesis) block(s) to join at start, besides grapevine.channels',
    )
    .option(
      '--orderer-wait <ms>',
      'ignored (kept for old scripts): the peer starts without an orderer, as Fabric',
    )
    .option('--report-ms <ms>', 'interval of state reports to a parent process (network up)', '250')
    .action(async (flags: PeerStartFlags) => {
      await (await import('../commands/peer.js')).runPeerStart(flags);
    });
}
