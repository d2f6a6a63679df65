/**
 * `grapevine channel genesis | update | anchor-peers` (implementations: ../commands/channel.ts
 * and ../commands/channel-update.ts).
 */
import type { Command } from 'commander';
import type { GenesisCommandOptions } from '../commands/channel.js';
import type { AnchorPeersOptions, UpdateOptions } from '../commands/channel-update.js';
import { commandGroup } from '../common.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The orderer flags, in Fabric's `peer channel` spellings (and Grapevine's older ones). */
function ordererFlags(cmd: Command): Command {
  return cmd
    .requiredOption('-o, --orderer <host:port>', 'the orderer to submit to')
    .option('--tls', 'use TLS with the orderer (needs --cafile; --cafile alone also turns TLS on)')
    .option('--cafile <pem>', "the orderer's TLS CA certificate (TLS off when neither --tls nor --cafile)")
    .option('--ordererTLSHostnameOverride <name>', 'TLS server name to expect from the orderer')
    .option('--orderer-tls-hostname-override <name>', 'same as --ordererTLSHostnameOverride');
}

export function register(program: Command): void {
  const channel = commandGroup(program, 'channel', 'Channel configuration tools');
  channel
    .command('genesis')
    .description(
      "Write an application channel's genesis block from a configtx.yaml profile (as configtxgen -outputBlock)",
    )
    .requiredOption(
      '--configtx <file>',
      'configtx.yaml (configtxgen format; relative paths are relative to its folder)',
    )
    .requiredOption('--profile <name>', 'profile under Profiles:')
    .requiredOption('--channel <id>', 'channel ID, e.g. mychannel')
    .requiredOption('--output <file>', 'where to write the block (common.Block bytes)')
    .action(async (opts: GenesisCommandOptions) => {
      console.log((await import('../commands/channel.js')).runChannelGenesis(opts));
    });

  ordererFlags(
    channel
      .command('update')
      .description('Submit a CONFIG_UPDATE envelope to the ordering service (as peer channel update)')
      .requiredOption('-f, --file <tx>', 'the CONFIG_UPDATE envelope (common.Envelope bytes)')
      .option('-c, --channelID <id>', "the channel (optional: refused when it is not the envelope's)")
      .option('--channel <id>', 'same as --channelID')
      .option('--msp <dir>', "add this admin MSP folder's signature and submit as it")
      .option('--mspid <id>', 'MSP ID of --msp'),
  ).action(async (o: UpdateOptions) => {
    console.log(await (await import('../commands/channel-update.js')).runChannelUpdate(o));
  });
  ordererFlags(
    channel
      .command('anchor-peers')
      .description("Set an org's anchor peers: fetch the channel config, build, sign and submit the update")
      .option('-c, --channel <id>', 'channel ID (required)')
      .option('--channelID <id>', 'same as --channel')
      .requiredOption('--msp <dir>', 'MSP folder of an admin of the org')
      .requiredOption('--mspid <id>', 'MSP ID of the admin')
      .option('--org <name>', 'Application org group name (default: the MSP ID)')
      .option('--anchor <host:port>', 'an anchor peer (repeat for several)', collect, [])
      .option('--output <file>', 'write the signed update here instead of submitting it'),
  ).action(async (o: AnchorPeersOptions) => {
    console.log(await (await import('../commands/channel-update.js')).runAnchorPeers(o));
  });
}
