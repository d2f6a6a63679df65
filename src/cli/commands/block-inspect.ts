/**
 * `grapevine block inspect <file>`: a block (or another Fabric message) as the JSON that
 * `configtxlator proto_decode` prints.
 */
import { writeFileSync } from 'node:fs';
import { bytesToTree, formatJson } from '../../blockjson/index.js';
import { ConfigError, errorMessage, GrapevineError } from '../../base/errors.js';
import { oneLine, readInput } from './input.js';

export interface InspectOptions {
  readonly output?: string;
  readonly type: string;
  readonly decodeMetadata?: boolean;
}

/** The inspect command's work, without commander: returns the JSON text, throws ConfigError naming the file. */
export function inspectFile(file: string, opts: InspectOptions): string {
  const bytes = readInput(file);
  try {
    return formatJson(bytesToTree(bytes, opts.type, { decodeMetadata: opts.decodeMetadata === true }));
  } catch (e) {
    if (e instanceof GrapevineError)
      throw new ConfigError(e.code, `${file}: ${oneLine(e.message)}`, { cause: e });
    // Not ours: still one line for the user, never a stack trace.
    throw new ConfigError('INTERNAL', `${file}: cannot decode: ${oneLine(errorMessage(e))}`, { cause: e });
  }
}

export function runBlockInspect(file: string, opts: InspectOptions): void {
  const text = inspectFile(file, opts);
  if (opts.output) {
    try {
      writeFileSync(opts.output, text);
    } catch (e) {
      throw new ConfigError('UNWRITABLE', `cannot write ${opts.output}: ${oneLine(errorMessage(e))}`);
    }
  } else {
    process.stdout.write(text);
  }
}
