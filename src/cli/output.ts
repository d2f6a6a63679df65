/**
 * What the CLI prints. `process.stdout` and `process.stderr` are streams: the first use of either
 * loads Node's stream stack (net, tty and the stream modules, ~10 ms), a large part of a short
 * command's run (`grapevine --help`, `block verify`). The `grapevine` binary therefore has output
 * to a file or a pipe written with fs.writeSync (printDirectly()), which is what those streams do
 * on Linux anyway (files and pipes are written synchronously there, so the order of lines is the
 * same either way). A terminal keeps its stream (colours, width), and so does a program that runs
 * main() itself (it may have replaced process.stdout.write).
 */
import { fstatSync, writeSync } from 'node:fs';
import type { OutputConfiguration } from 'commander';

type Fd = 1 | 2;

let direct = false;
const terminal = new Map<Fd, boolean>();
/** One slot to sleep on while a non-blocking pipe is full. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Whether `fd` may be a terminal (a character device: also /dev/null, which is then written as a stream). */
function maybeTerminal(fd: Fd): boolean {
  let t = terminal.get(fd);
  if (t === undefined) {
    try {
      t = fstatSync(fd).isCharacterDevice();
    } catch {
      t = true; // closed or odd: leave it to Node's stream
    }
    terminal.set(fd, t);
  }
  return t;
}

/** Write files and pipes with fs.writeSync from now on (the `grapevine` binary's own process). */
export function printDirectly(): void {
  direct = true;
}

/** Whether `fd` is written through Node's stream. */
function streamed(fd: Fd): boolean {
  return !direct || maybeTerminal(fd);
}

function write(fd: Fd, text: string): void {
  if (streamed(fd)) {
    (fd === 1 ? process.stdout : process.stderr).write(text);
    return;
  }
  let bytes = Buffer.from(text);
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN')
        Atomics.wait(pause, 0, 0, 1); // a pipe another process made non-blocking
      else if (code === 'EPIPE')
        return; // the reader is gone (`| head`): nothing more to say
      else throw e;
    }
  }
}

/** Print on standard output. */
export function printOut(text: string): void {
  write(1, text);
}

/** Print on standard error. */
export function printErr(text: string): void {
  write(2, text);
}

type CommanderOutput = Required<
  Pick<
    OutputConfiguration,
    'writeOut' | 'writeErr' | 'getOutHelpWidth' | 'getErrHelpWidth' | 'getOutHasColors' | 'getErrHasColors'
  >
>;

/** commander's help width where none is known (what it uses off a terminal). */
const PLAIN_WIDTH = 80;

/**
 * commander's output settings over its `defaults`: the writes above; off a terminal, help of the
 * default width without colours (asking the defaults would touch the streams), on one the defaults.
 */
export function commanderOutput(defaults: OutputConfiguration): CommanderOutput {
  const ask =
    <T>(fd: Fd, get: (() => T) | undefined, off: T) =>
    (): T =>
      streamed(fd) && get ? get() : off;
  return {
    writeOut: printOut,
    writeErr: printErr,
    getOutHelpWidth: ask(1, defaults.getOutHelpWidth, PLAIN_WIDTH),
    getErrHelpWidth: ask(2, defaults.getErrHelpWidth, PLAIN_WIDTH),
    getOutHasColors: ask(1, defaults.getOutHasColors, false),
    getErrHasColors: ask(2, defaults.getErrHasColors, false),
  };
}
