/** Shared helpers for the node config tests: temp core.yaml files and key lookups. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KEYS,
  loadPeerConfig,
  type LoadPeerConfigOptions,
  type PeerConfig,
} from '../../src/node/config/index.js';
import { tsPath } from '../../src/node/config/keys.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SAMPLE_CORE_YAML = join(REPO_ROOT, 'config', 'core.yaml');
export const ADDR = { 'peer.address': '127.0.0.1:7051' };

/** A temp folder with files written into it; `cleanup()` removes it. */
export function tempDir(files: Record<string, string> = {}): {
  dir: string;
  path: (p: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return { dir, path: (p) => join(dir, p), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Load with no ambient environment and a fixed detected address. */
export function load(opts: LoadPeerConfigOptions = {}): PeerConfig {
  return loadPeerConfig({ env: {}, detectAddress: () => '10.9.8.7', ...opts });
}

/** Load with only overrides (plus peer.address). */
export function loadWith(overrides: Record<string, unknown>, env: Record<string, string> = {}): PeerConfig {
  return load({ overrides: { ...ADDR, ...overrides }, env });
}

/** The resolved value of a core.yaml key. */
export function valueOf(cfg: PeerConfig, key: string): unknown {
  const def = KEYS.find((d) => d.key === key);
  if (!def) throw new Error(`no such key ${key}`);
  let node: unknown = cfg;
  for (const part of tsPath(def)) node = (node as Record<string, unknown>)[part];
  return node;
}

/** The message of the ConfigError thrown by `fn` (fails the test if none). */
export function errorOf(fn: () => unknown): Error & { code?: string; issues?: readonly string[] } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}
