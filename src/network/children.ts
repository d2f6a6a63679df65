/**
 * Child processes of the local network (the orderer and the peers): each a Node process running
 * an entry of this same build, with stdout/stderr appended to its log file and an IPC channel
 * (a child stops when the channel closes, so none outlives a killed parent). Running compiled
 * (dist/, .js) a child is plain `node <flags> <entry>.js`; running from the TypeScript sources (.ts) it is
 * `node <flags> --import tsx <entry>.ts`, the flags being the `grapevine` command's own (base/node-flags.ts). spawnCommand() runs another program instead, e.g. GRAPEVINE_BIN, the
 * `grapevine` command itself as an operator runs it (by its `#!` line). stopAll() sends SIGTERM, waits for every exit, and SIGKILLs what
 * is still running after the grace period; at process exit anything left is SIGKILLed synchronously.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LEAN_NODE_FLAGS } from '../base/node-flags.js';
import { closeSync, openSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
/** '.ts' from the sources (under tsx), '.js' compiled. */
const EXT = extname(HERE) || '.js';
export const CLI_MAIN = join(dirname(HERE), '..', 'cli', `main${EXT}`);
export const ORDERER_CHILD = join(dirname(HERE), `orderer-child${EXT}`);
/** The package's `grapevine` command (bin/grapevine.js, beside src/ and dist/), an executable file. */
export const GRAPEVINE_BIN = join(dirname(HERE), '..', '..', 'bin', 'grapevine.js');

/** Node options a child needs to run an entry of this build: tsx's loader for the sources (resolved from this file, so the children work from any working folder). */
function loaderArgs(): string[] {
  return EXT === '.ts' ? ['--import', import.meta.resolve('tsx')] : [];
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process has exited. */
  readonly exited: Promise<number | string>;
  exitInfo?: number | string;
}

export class Children {
  private readonly all = new Map<string, Child>();
  private readonly onExitSync = () => {
    for (const c of this.all.values()) if (c.exitInfo === undefined) c.proc.kill('SIGKILL');
  };

  constructor() {
    process.on('exit', this.onExitSync);
  }

  /** Start `node [--import tsx] <entry> ...args` with an IPC channel. */
  spawn(
    name: string,
    entry: string,
    args: readonly string[],
    logFile: string,
    onMessage?: (m: unknown) => void,
  ): Child {
    return this.spawnCommand(
      name,
      process.execPath,
      [...LEAN_NODE_FLAGS, ...loaderArgs(), entry, ...args],
      logFile,
      onMessage,
    );
  }

  /**
   * Start `command ...args` with an IPC channel (a Node program behind a `#!` line still gets it:
   * the channel is passed on in the environment); `env` is added to this process's environment.
   */
  spawnCommand(
    name: string,
    command: string,
    args: readonly string[],
    logFile: string,
    onMessage?: (m: unknown) => void,
    env: Readonly<Record<string, string>> = {},
  ): Child {
    const fd = openSync(logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(command, [...args], {
        stdio: ['ignore', fd, fd, 'ipc'],
        env: { ...process.env, ...env, GRAPEVINE_CHILD: name },
      });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<number | string>((resolve) => {
      proc.once('exit', (code, signal) => {
        child.exitInfo = code ?? signal ?? 'unknown';
        resolve(child.exitInfo);
      });
      proc.once('error', (e) => {
        child.exitInfo = e.message;
        resolve(e.message);
      });
    });
    const child: Child = { name, proc, logFile, exited };
    if (onMessage) proc.on('message', onMessage);
    this.all.set(name, child);
    return child;
  }

  list(): Child[] {
    return [...this.all.values()];
  }

  pids(): number[] {
    return this.list()
      .map((c) => c.proc.pid)
      .filter((p): p is number => p !== undefined);
  }

  /** SIGTERM everything (in reverse start order), wait, SIGKILL after `graceMs`. */
  async stopAll(graceMs = 8000): Promise<void> {
    const running = this.list()
      .reverse()
      .filter((c) => c.exitInfo === undefined);
    for (const c of running) c.proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const c of running) if (c.exitInfo === undefined) c.proc.kill('SIGKILL');
    }, graceMs);
    await Promise.all(running.map((c) => c.exited));
    clearTimeout(timer);
    process.off('exit', this.onExitSync);
  }
}
