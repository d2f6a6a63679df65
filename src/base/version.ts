/** Grapevine's version, from its package.json (read once, at first use). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function grapevineVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return cached;
}
