/** Reading a command's input file, and one-line error messages (block inspect, block verify). */
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../../base/errors.js';

export const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

export function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new ConfigError('UNREADABLE', `cannot read ${file}: ${oneLine(errorMessage(e))}`);
  }
}
