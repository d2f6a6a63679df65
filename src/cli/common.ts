/**
 * Plumbing shared by the `grapevine` subcommands: the parent command of a group (`peer`,
 * `orderer`, `network`, ...) found or created, so several files can add subcommands to it; and
 * waiting for Ctrl-C / SIGTERM (or a time limit) before a long-running command stops.
 */
import type { Command } from 'commander';

/** The command `name` of `program`, created with `description` when it does not exist yet. */
export function commandGroup(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/** Resolve at the first SIGINT or SIGTERM, or after `limitMs` when given; the listeners are then removed. */
export function untilStopSignal(limitMs?: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (limitMs) setTimeout(done, limitMs).unref();
  });
}
