/**
 * The `grapevine` command. Each subcommand's definition (src/cli/define/) registers itself on the
 * program here; its action loads the implementation (src/cli/commands/) only when it runs.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { GrapevineError } from '../base/errors.js';
import { grapevineVersion } from '../base/version.js';
import { registerAll } from './define/index.js';
import { commanderOutput, printDirectly } from './output.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('grapevine')
    .description(
      'Gossip and block dissemination for Hyperledger Fabric peers (wire-compatible with Fabric v2.x)',
    )
    .version(grapevineVersion())
    .showHelpAfterError()
    // before the subcommands are added: they copy it
    .configureOutput(commanderOutput(program.configureOutput()));
  registerAll(program);
  return program;
}

export interface MainOptions {
  /**
   * Write output to files and pipes with fs.writeSync instead of process.stdout/stderr (the
   * `grapevine` binary: saves loading Node's streams; see output.ts). Default false.
   */
  readonly printDirectly?: boolean;
}

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  if (options.printDirectly) printDirectly();
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
