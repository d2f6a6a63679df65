/**
 * The `grapevine` command. Each subcommand's definition (src/cli/define/) registers itself on the
 * program here; its action loads the implementation (src/cli/commands/) only when it runs.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { GrapevineError } from '../base/errors.js';
import { grapevineVersion } from '../base/version.js';
import { registerAll } from './define/index.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('grapevine')
    .description(
      'Gossip and block dissemination for Hyperledger Fabric peers (wire-compatible with Fabric v2.x)',
    )
    .version(grapevineVersion())
    .showHelpAfterError();
  registerAll(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof GrapevineError) {
      console.error(`grapevine: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
