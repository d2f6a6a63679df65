/**
 * `grapevine channel genesis --configtx <configtx.yaml> --profile <name> --channel <id>
 * --output <file>`: write an application channel's genesis block, as
 * `configtxgen -profile <name> -channelID <id> -outputBlock <file>` does.
 */
import { writeFileSync } from 'node:fs';
import { buildGenesisBlock, loadConfigtx } from '../../configtx/index.js';
import { ConfigError, errorMessage } from '../../base/errors.js';
import { decodeTx, encodeBlock } from '../../wire/block.js';

export interface GenesisCommandOptions {
  configtx: string;
  profile: string;
  channel: string;
  output: string;
}

/** Build and write the block; returns the line to print. */
export function runChannelGenesis(opts: GenesisCommandOptions): string {
  const configtx = loadConfigtx(opts.configtx);
  const block = buildGenesisBlock(configtx, opts.profile, opts.channel);
  const bytes = encodeBlock(block);
  try {
    writeFileSync(opts.output, bytes, { mode: 0o640 });
  } catch (e) {
    throw new ConfigError('OUTPUT', `cannot write genesis block to ${opts.output}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const txId = decodeTx(block.data!.data[0]).channelHeader.txId;
  return `wrote genesis block of channel ${opts.channel} (profile ${opts.profile}, ${bytes.length} bytes, tx_id ${txId}) to ${opts.output}`;
}
