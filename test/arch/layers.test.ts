/**
 * The layering of src/ (docs/architecture.md), checked from the code's own imports:
 *   - every folder of src/ (and every folder of src/core) has a layer in LAYERS;
 *   - an import goes to the same folder or to a folder of a LOWER layer (never up, never sideways
 *     between two folders of one layer), so no folder cycle can exist;
 *   - a cycle check over the folder graph names the folders if one ever appears.
 * Imports are read with TypeScript's own pre-processor (import, export-from, import()).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src');

/** Bottom (0) to top. Folders on one line are one layer: they may not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ['base'],
  ['config'],
  ['wire'],
  ['identity'],
  ['channelconfig', 'ledger'],
  ['configtx', 'cryptogen', 'blockjson'],
  ['core/link', 'core/store'],
  ['core/discovery'],
  ['core/channel'],
  ['core/pull', 'core/election', 'core/state', 'core/deliver'],
  ['core/stream'],
  ['core/gossip'],
  ['comm', 'sim', 'ops'],
  ['service'],
  ['orderer'],
  ['node', 'dashboard'],
  ['watch'],
  ['network'],
  ['cli', 'index'],
];

const rank = new Map<string, number>();
LAYERS.forEach((names, i) => names.forEach((n) => rank.set(n, i)));

/** The folder a source file belongs to: src/<folder> or src/core/<folder>. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  if (parts[0] === 'core') return `core/${parts[1]}`;
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p !== join(SRC, 'wire', 'gen')) out.push(...sourceFiles(p));
    } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly spec: string;
}

function folderEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), ref.fileName);
      if (!target.startsWith(SRC + sep)) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.push({ from, to, file: relative(ROOT, file), spec: ref.fileName });
    }
  }
  return edges;
}

/** Strongly connected components of more than one folder (Tarjan). */
function folderCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)!.add(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const visit = (v: string): void => {
    index.set(v, i);
    low.set(v, i++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

const edges = folderEdges();

test('layers: every folder of src/ has a layer', () => {
  const folders = new Set(sourceFiles(SRC).map(folderOf));
  const unplaced = [...folders].filter((f) => !rank.has(f)).sort();
  assert.deepEqual(
    unplaced,
    [],
    `add these folders to LAYERS in ${relative(ROOT, fileURLToPath(import.meta.url))}`,
  );
});

test('layers: no import runs up or sideways', () => {
  const bad = edges
    .filter((e) => rank.has(e.from) && rank.has(e.to) && rank.get(e.to)! >= rank.get(e.from)!)
    .map((e) => `${e.file} imports ${e.spec} (${e.from} -> ${e.to})`);
  assert.deepEqual(bad, []);
});

test('layers: no folder cycle', () => {
  assert.deepEqual(folderCycles(edges), []);
});

test('layers: the checker sees a planted upward import and a planted cycle', () => {
  const planted: Edge[] = [
    ...edges,
    { from: 'core/link', to: 'core/gossip', file: 'x', spec: 'x' },
    { from: 'core/gossip', to: 'core/link', file: 'y', spec: 'y' },
  ];
  assert.ok(planted.some((e) => rank.get(e.to)! >= rank.get(e.from)!));
  const cycles = folderCycles(planted);
  assert.equal(cycles.length, 1);
  assert.ok(cycles[0].includes('core/gossip') && cycles[0].includes('core/link'), String(cycles[0]));
});
