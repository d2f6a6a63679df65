/** Every subcommand's `register`; one line per command file. */
import type { Command } from 'commander';
import { register as block } from './block.js';
import { register as channel } from './channel.js';
import { register as channelUpdate } from './channel-update.js';
import { register as crypto } from './crypto.js';
import { register as orderer } from './orderer.js';
import { register as peer } from './peer.js';
import { register as network } from './network.js';
import { register as probe } from './probe.js';

type Register = (program: Command) => void;

const registrations: Register[] = [block, channel, channelUpdate, crypto, orderer, probe, peer, network];

export function registerAll(program: Command): void {
  for (const register of registrations) register(program);
}
