/**
 * Locates ../shared/fabric-vectors (real Fabric v2.4.9 data). Tests that need it call
 * `vectorsOrSkip(t)`, which skips with a clear message in a clone that has no ../shared.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { decodeBlock } from '../../src/wire/block.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared/fabric-vectors beside the clone, else beside the main checkout of a git worktree. */
function locate(): string {
  const here = resolve(repoRoot, '..', 'shared', 'fabric-vectors');
  if (existsSync(here)) return here;
  try {
    // a worktree's .git is a file naming <main>/.git/worktrees/<name>
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(join(repoRoot, '.git'), 'utf8'));
    const there = m && resolve(m[1]!.trim(), '..', '..', '..', '..', 'shared', 'fabric-vectors');
    if (there && existsSync(there)) return there;
  } catch {
    // no .git file: not a worktree
  }
  return here;
}

export const VECTORS_DIR = process.env.GRAPEVINE_VECTORS ?? locate();
export const HAVE_VECTORS = existsSync(join(VECTORS_DIR, 'index.json'));
export const SKIP_VECTORS = HAVE_VECTORS
  ? false
  : `fabric vectors not found at ${VECTORS_DIR} (set GRAPEVINE_VECTORS or put ../shared beside the clone)`;

export function vectorPath(...parts: string[]): string {
  return join(VECTORS_DIR, ...parts);
}

export function readVector(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(...parts)));
}

export function vectorsOrSkip(t: TestContext): boolean {
  if (!HAVE_VECTORS) {
    t.skip(SKIP_VECTORS as string);
    return false;
  }
  return true;
}

/** block_0.pb .. block_N.pb in number order. */
export function vectorBlocks(): { n: number; bytes: Uint8Array }[] {
  return readdirSync(vectorPath('blocks'))
    .map((f) => /^block_(\d+)\.pb$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ n: Number(m[1]), bytes: readVector('blocks', m[0]) }))
    .sort((a, b) => a.n - b.n);
}

/** Every transaction envelope of the vector blocks, in block order. */
export function vectorTransactions(): Uint8Array[] {
  return vectorBlocks().flatMap(({ bytes }) => decodeBlock(bytes).data?.data ?? []);
}

export interface GossipIndexEntry {
  seq: number;
  /** Capture time, epoch seconds. */
  time: number;
  file: string | null;
  type: string;
  tag: string;
  channel: string;
  nonce: string;
  signed: boolean;
  from: string;
  to: string;
  from_cert: string;
  signer?: string;
  signer_cert?: string;
  signature_valid?: boolean;
  /** Alive messages with a SecretEnvelope: the internal endpoint it carries. */
  secret_envelope?: { internal_endpoint: string; signed: boolean; signature_valid: boolean };
  details: Record<string, unknown>;
}

/** A peer of the captured network, by name. */
export interface VectorPeer {
  mspid: string;
  endpoint: string;
  pki_id: string;
  /** Signing certificate, relative to the vectors folder. */
  cert: string;
}

export function vectorIndex(): {
  gossip: GossipIndexEntry[];
  peers: Record<string, VectorPeer>;
  orderer: unknown[];
} {
  return JSON.parse(readFileSync(vectorPath('index.json'), 'utf8'));
}

/** Crypto material folder of a node, e.g. peer('org1', 'peer0'). */
export function peerDir(org: string, peer: string): string {
  return vectorPath(
    'crypto-config',
    'peerOrganizations',
    `${org}.example.com`,
    'peers',
    `${peer}.${org}.example.com`,
  );
}

export function ordererDir(): string {
  return vectorPath(
    'crypto-config',
    'ordererOrganizations',
    'example.com',
    'orderers',
    'orderer0.example.com',
  );
}
