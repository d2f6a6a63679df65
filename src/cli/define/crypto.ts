/** `grapevine crypto generate` (implementation: ../commands/crypto.ts). */
import type { Command } from 'commander';
import type { CryptoGenerateOptions } from '../commands/crypto.js';
import { commandGroup } from '../common.js';

export function register(program: Command): void {
  commandGroup(program, 'crypto', 'Crypto material tools (cryptogen-compatible)')
    .command('generate')
    .description("Generate keys and certificates in cryptogen's folder layout from a crypto-config.yaml")
    .requiredOption('--config <file>', "crypto-config.yaml (cryptogen's format: OrdererOrgs, PeerOrgs)")
    .option('--output <dir>', 'output folder', 'crypto-config')
    .action(async (opts: CryptoGenerateOptions) => {
      const { runCryptoGenerate } = await import('../commands/crypto.js');
      for (const line of await runCryptoGenerate(opts)) console.log(line);
      console.log(`wrote crypto material to ${opts.output}`);
    });
}
