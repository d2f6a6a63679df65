/**
 * Every subcommand's definition (name, arguments, options, help), one line per file. These
 * modules are light (commander only): each action imports its implementation from
 * src/cli/commands/ when it runs, so `grapevine --help` or `grapevine block verify` loads
 * neither gRPC, the ledger nor the logger.
 */
import type { Command } from 'commander';
import { register as block } from './block.js';
import { register as channel } from './channel.js';
import { register as crypto } from './crypto.js';
import { register as dashboard } from './dashboard.js';
import { register as orderer } from './orderer.js';
import { register as peer } from './peer.js';
import { register as network } from './network.js';
import { register as probe } from './probe.js';
import { register as status } from './status.js';

type Register = (program: Command) => void;

const registrations: Register[] = [block, channel, crypto, orderer, probe, status, dashboard, peer, network];

export function registerAll(program: Command): void {
  for (const register of registrations) register(program);
}
