/** `grapevine block inspect | verify` (implementation: ../commands/block-inspect.ts, ../commands/block.ts). */
import type { Command } from 'commander';
import type { InspectOptions } from '../commands/block-inspect.js';

/**
 * The message types `block inspect --type` takes (configtxlator's names), for the help text; the
 * implementation's MESSAGE_TYPES (src/blockjson) has the same keys (test/cli/lazy.test.ts).
 */
export const INSPECT_TYPES: readonly string[] = [
  'common.Block',
  'common.Envelope',
  'common.Payload',
  'common.ConfigEnvelope',
  'common.Config',
  'common.ConfigGroup',
  'common.ConfigUpdate',
  'common.ConfigUpdateEnvelope',
  'common.Policy',
  'msp.MSPConfig',
  'protos.Transaction',
];

export function register(program: Command): void {
  const block = program.command('block').description('Inspect and verify Fabric blocks');

  block
    .command('inspect')
    .description(
      'Print a block (or another Fabric message) as the JSON configtxlator proto_decode prints (always JSON)',
    )
    .argument('<file>', 'the encoded message, e.g. a block from `peer channel fetch`')
    .option('-o, --output <file>', 'write the JSON to this file instead of stdout')
    .option('-t, --type <message>', `message type: ${INSPECT_TYPES.join(', ')}`, 'common.Block')
    .option(
      '--decode-metadata',
      'also decode metadata SIGNATURES and LAST_CONFIG (configtxlator leaves them base64)',
    )
    .action(async (file: string, opts: InspectOptions) => {
      (await import('../commands/block-inspect.js')).runBlockInspect(file, opts);
    });

  block
    .command('verify')
    .description('Verify blocks against a channel config block; exit 1 with one line per failing block')
    .requiredOption('-c, --config <file>', 'the channel config block the blocks are checked against')
    .argument('<blocks...>', 'block files')
    .option(
      '--json',
      'print one JSON object on stdout: {ok, config, verified, failed, blocks: [{file, ok, reason?}]} (exit 1 still when a block fails)',
    )
    .action(async (files: string[], opts: { config: string; json?: boolean }) => {
      (await import('../commands/block.js')).runBlockVerify(files, opts);
    });
}
