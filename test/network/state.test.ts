/**
 * NetworkState (the dashboard's bookkeeping) on a manual clock: peer reports become peers with
 * heights, leaders and named connections; commits become block paths with delays per network
 * and per org; milestones (all ready, first block everywhere); and the working folder layout:
 * reused on a second prepare, refused for a foreign folder, renewed by reset.
 */
import { restartDelayMs } from '../../src/network/network.js';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CommitRecord, PeerStateSnapshot } from '../../src/node/peerstate.js';
import { prepareLayout } from '../../src/network/layout.js';
import { NetworkState } from '../../src/network/state.js';
import { GrapevineError } from '../../src/base/errors.js';

const PEERS = [
  { name: 'p0.o1', mspId: 'Org1MSP', endpoint: '127.0.0.1:1' },
  { name: 'p1.o1', mspId: 'Org1MSP', endpoint: '127.0.0.1:2' },
  { name: 'p0.o2', mspId: 'Org2MSP', endpoint: '127.0.0.1:3' },
];
const pki = (name: string) => Buffer.from(name).toString('hex').padEnd(64, '0');

function rep(
  name: string,
  height: number,
  leader: boolean,
  commits: CommitRecord[],
  connections: string[] = [],
): PeerStateSnapshot {
  return {
    id: name,
    mspId: PEERS.find((p) => p.name === name)!.mspId,
    endpoint: '',
    pkiId: pki(name),
    pid: 1,
    rssBytes: 50e6,
    startedAt: 0,
    channels: [{ name: 'ch', height, leader, mode: 'dynamic', members: [] }],
    connections: connections.map(pki),
    commits,
  };
}

test('reports become peers, block paths and milestones', () => {
  let now = 1000;
  const s = new NetworkState('ch', PEERS, { name: 'orderer0', endpoint: '127.0.0.1:9' }, 0, () => now);
  assert.deepEqual(
    s.snapshot().peers.map((p) => p.status),
    ['starting', 'starting', 'starting'],
  );
  s.report('p0.o1', rep('p0.o1', 1, true, []));
  s.report('p1.o1', rep('p1.o1', 1, false, []));
  now = 1500;
  s.report('p0.o2', rep('p0.o2', 1, true, []));
  assert.equal(s.snapshot().milestones.allReadyAt, 1500);
  assert.equal(s.snapshot().milestones.firstBlockEverywhereAt, undefined);
  now = 2000;
  s.report(
    'p0.o1',
    rep('p0.o1', 2, true, [{ channel: 'ch', block: 1, at: 100, source: 'orderer' }], ['p1.o1', 'p0.o2']),
  );
  s.report('p0.o2', rep('p0.o2', 2, true, [{ channel: 'ch', block: 1, at: 104, source: 'orderer' }]));
  assert.equal(s.snapshot().blocks[0]!.complete, false);
  s.report(
    'p1.o1',
    rep('p1.o1', 2, false, [
      { channel: 'ch', block: 1, at: 103.5, source: 'push', from: pki('p0.o1') },
      { channel: 'other', block: 7, at: 1, source: 'push' },
    ]),
  );
  const snap = s.snapshot();
  assert.equal(snap.milestones.firstBlockEverywhereAt, 2000);
  assert.deepEqual(snap.peers.find((p) => p.name === 'p0.o1')!.connections, ['p1.o1', 'p0.o2']);
  assert.deepEqual(
    snap.orgs.map((o) => [o.mspId, o.leader]),
    [
      ['Org1MSP', 'p0.o1'],
      ['Org2MSP', 'p0.o2'],
    ],
  );
  assert.equal(snap.blocks.length, 1, 'other channels are ignored');
  const b = snap.blocks[0]!;
  assert.equal(b.number, 1);
  assert.equal(b.complete, true);
  assert.equal(b.latencyMs, 4);
  assert.deepEqual(
    b.hops.map((h) => [h.peer, h.source, h.from, h.delayMs, h.orgDelayMs]),
    [
      ['p0.o1', 'orderer', undefined, 0, 0],
      ['p1.o1', 'push', 'p0.o1', 3.5, 3.5],
      ['p0.o2', 'orderer', undefined, 4, 0],
    ],
  );
  assert.equal(snap.stats.medianLatencyMs, 4);
  assert.deepEqual([snap.stats.minHeight, snap.stats.maxHeight], [2, 2]);
  s.setStatus('p0.o2', 'failed', 'exited (1)');
  const after = s.snapshot();
  assert.equal(after.peers.find((p) => p.name === 'p0.o2')!.leader, false);
  assert.equal(after.orgs.find((o) => o.mspId === 'Org2MSP')!.leader, undefined);
});

test('the working folder: reused, refused when foreign, renewed by reset', { timeout: 60_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'grapevine-layout-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'net');
  const first = await prepareLayout(dir);
  assert.equal(first.created, true);
  assert.equal(first.layout.peers.length, 6);
  const core = readFileSync(join(dir, 'peers', 'peer1.org2.example.com', 'core.yaml'), 'utf8');
  assert.match(core, /localMspId: Org2MSP/);
  assert.match(core, new RegExp(`bootstrap: \\[127\\.0\\.0\\.1:${first.layout.peers[3]!.port}\\]`));
  const again = await prepareLayout(dir);
  assert.equal(again.created, false);
  assert.deepEqual(again.layout, first.layout);
  const foreign = join(root, 'mine');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'keep me');
  await assert.rejects(
    prepareLayout(foreign, { reset: true }),
    (e: unknown) =>
      e instanceof GrapevineError && e.code === 'BAD_NETWORK_DIR' && e.message.includes(foreign),
  );
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'keep me');
  const renewed = await prepareLayout(dir, { reset: true });
  assert.equal(renewed.created, true);
  assert.notEqual(readFileSync(join(dir, 'genesis.block')).length, 0);
});

test('restartDelayMs: 1 s, doubling to 30 s while a child keeps dying soon; 1 s again after a minute up', () => {
  const waits: number[] = [];
  let w: number | undefined;
  for (let i = 0; i < 7; i++) waits.push((w = restartDelayMs(w, 5_000)));
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(restartDelayMs(30_000, 60_000), 1000);
});
