/**
 * The dashboard's model (src/watch/model.ts) fed GET /status documents without sockets: members
 * of every org merged from the answering peers, leaders where known, heights and lag, each
 * block's arrival at the answering peers, an unreachable URL shown (as a source and an alert),
 * the event log (died, came back, joined, stalled, moved again, alert raised and cleared), the
 * alerts merged across peers, a member without an external endpoint marked, bounds (events,
 * blocks, one request in flight per URL), and what `network up` merges in over IPC.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerStatusDocument } from '../../src/node/status.js';
import { NetworkWatch } from '../../src/watch/model.js';
import { ALL, LEADER, ORG2, facts, pki, statusDoc, type NetFacts } from './fixtures.js';

const URLS = ['http://127.0.0.1:9000', 'http://127.0.0.1:9001', 'http://127.0.0.1:9002'];
const ANSWERS: Record<string, string> = {
  'http://127.0.0.1:9000/status': 'peer0.org1.example.com',
  'http://127.0.0.1:9001/status': 'peer1.org1.example.com',
};

function setup(f: NetFacts, o: { maxEvents?: number; maxBlocks?: number; extra?: () => string[] } = {}) {
  let now = f.at;
  const fetched: string[] = [];
  const watch = new NetworkWatch({
    urls: URLS,
    intervalMs: 3_600_000, // rounds are driven by poll()
    stallMs: 5000,
    now: () => now,
    ...(o.maxEvents ? { maxEvents: o.maxEvents } : {}),
    ...(o.maxBlocks ? { maxBlocks: o.maxBlocks } : {}),
    fetch: (url) => {
      fetched.push(url.href);
      const self = ANSWERS[url.href];
      if (!self) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9002'));
      const doc = statusDoc(self, { ...f, at: now });
      const extra = o.extra?.() ?? [];
      const members = [
        ...doc.members,
        ...extra.map((n) => ({
          ...doc.members.find((m) => m.mspId === 'Org2MSP')!,
          pkiId: pki(n),
          endpoint: `127.0.0.1:${n.length}`,
          cert: undefined,
        })),
      ];
      return Promise.resolve({ ...doc, members } as PeerStatusDocument);
    },
  });
  return { watch, fetched, tick: (ms: number) => (now += ms) };
}

test('members of every org, leaders where known, lag, block arrivals, an unreachable URL', async () => {
  const f = facts(10);
  f.heights['peer1.org2.example.com'] = 7;
  const { watch } = setup(f);
  await watch.start();
  try {
    const s = watch.snapshot();
    assert.deepEqual(s.members.map((m) => m.name).sort(), [...ALL].sort());
    const by = (n: string) => s.members.find((m) => m.name === n)!;
    assert.equal(by('peer0.org1.example.com').state, 'answering');
    assert.equal(by('peer2.org1.example.com').state, 'alive');
    assert.equal(by('peer0.org2.example.com').state, 'alive');
    assert.equal(by('peer0.org2.example.com').org, 'Org2MSP');
    assert.deepEqual(by('peer1.org2.example.com').heights, { ch: 7 });
    assert.deepEqual(by('peer1.org2.example.com').lag, { ch: 3 });
    assert.deepEqual(by(LEADER).leaderOf, ['ch']);
    assert.deepEqual(s.channels, [{ name: 'ch', maxHeight: 10, minHeight: 7 }]);
    const org1 = s.orgs.find((o) => o.mspId === 'Org1MSP')!;
    const org2 = s.orgs.find((o) => o.mspId === 'Org2MSP')!;
    assert.deepEqual(org1.leaders, { ch: [pki(LEADER)] });
    assert.deepEqual(org2.leaders, {}, 'no answering peer in Org2MSP: its leader is not known');
    // the answering peers' block streams and connections
    assert.deepEqual(by('peer0.org1.example.com').observer?.streams, [
      { channel: 'ch', plan: 'upstream', upstream: LEADER, depth: 1 },
    ]);
    assert.ok(
      s.edges.some(
        (e) => e.kind === 'stream' && e.from === pki('peer0.org1.example.com') && e.to === pki(LEADER),
      ),
    );
    assert.ok(s.edges.some((e) => e.kind === 'gossip'));
    // block 9 arrived at both answering peers: from the orderer at the leader, streamed to the other
    const b = s.blocks[0];
    assert.equal(b.number, 9);
    assert.deepEqual(
      b.arrivals.map((a) => [a.peer, a.source, a.from, a.delayMs]),
      [
        [LEADER, 'orderer', undefined, 0],
        ['peer0.org1.example.com', 'stream', LEADER, 3],
      ],
    );
    // the unreachable URL: a source with its error, an alert, an event; not fatal
    const bad = s.sources.find((x) => x.url === URLS[2])!;
    assert.equal(bad.ok, false);
    assert.match(bad.error ?? '', /ECONNREFUSED/);
    assert.deepEqual(
      s.alerts.map((a) => [a.kind, a.origin, a.endpoint]),
      [['status_unreachable', 'dashboard', URLS[2]]],
    );
    assert.ok(s.events.some((e) => e.kind === 'unreachable' && e.subject === URLS[2]));
    assert.match(s.events[0].message, /first view: 6 members in 2 orgs, through 2 of 3 status URLs/);
  } finally {
    watch.stop();
  }
});

test('the event log: died, came back, joined, stalled, moving again; alerts merged, raised and cleared', async () => {
  const f = facts(10);
  let extra: string[] = [];
  const { watch, tick } = setup(f, { extra: () => extra });
  await watch.start();
  try {
    const kinds = () => watch.snapshot().events.map((e) => `${e.kind} ${e.subject}`);
    f.dead.add('peer2.org2.example.com');
    tick(1000);
    await watch.poll();
    assert.equal(watch.snapshot().members.find((m) => m.name === 'peer2.org2.example.com')!.state, 'dead');
    // a dead member's StateInfo is not listed (Grapevine's /status): its last height is kept
    assert.deepEqual(watch.snapshot().members.find((m) => m.name === 'peer2.org2.example.com')!.lastHeights, {
      ch: 10,
    });
    assert.equal(kinds()[0], 'died peer2.org2.example.com');
    f.dead.delete('peer2.org2.example.com');
    tick(1000);
    await watch.poll();
    assert.equal(kinds()[0], 'back peer2.org2.example.com');
    extra = ['peer3.org2.example.com'];
    tick(1000);
    await watch.poll();
    assert.match(watch.snapshot().events[0].message, /joined/);
    // peer1.org2 stays at 10 while the others move on: stalled after stallMs (5 s), then moving again
    for (const n of ALL) if (n !== 'peer1.org2.example.com') f.heights[n] = 12;
    tick(1000);
    await watch.poll();
    tick(5000);
    await watch.poll();
    assert.equal(kinds()[0], 'stalled peer1.org2.example.com');
    assert.match(watch.snapshot().events[0].message, /stalls on ch at height 10, 2 behind/);
    assert.ok(watch.snapshot().members.find((m) => m.name === 'peer1.org2.example.com')!.stalledSince);
    f.heights['peer1.org2.example.com'] = 12;
    tick(1000);
    await watch.poll();
    assert.equal(kinds()[0], 'moving peer1.org2.example.com');
    // alerts: the same one from both answering peers is one, seen by both; missing fields empty
    f.alerts = [
      {
        kind: 'lag',
        severity: 'critical',
        since: '2026-12-07T10:00:00.000Z',
        message: 'peer1.org2.example.com is 5 blocks behind',
        pkiId: pki('peer1.org2.example.com'),
        channel: 'ch',
        value: 5,
      },
      { kind: 'no_leader', message: 'no leader in Org2MSP', org: 'Org2MSP' },
    ];
    tick(1000);
    await watch.poll();
    const alerts = watch.snapshot().alerts.filter((a) => a.origin === 'peer');
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity, a.reportedBy.length, a.value, a.since]),
      [
        ['lag', 'critical', 2, 5, '2026-12-07T10:00:00.000Z'],
        ['no_leader', 'warning', 2, undefined, ''],
      ],
    );
    assert.ok(kinds().includes('alert lag'));
    assert.deepEqual(watch.snapshot().members.find((m) => m.name === 'peer1.org2.example.com')!.alerts, [
      'lag',
    ]);
    f.alerts = [];
    tick(1000);
    await watch.poll();
    assert.ok(kinds().includes('cleared lag'));
    assert.equal(watch.snapshot().alerts.filter((a) => a.origin === 'peer').length, 0);
  } finally {
    watch.stop();
  }
});

test('bounded: events and blocks kept, one request in flight per URL', async () => {
  const f = facts(10);
  const { watch, tick } = setup(f, { maxEvents: 20, maxBlocks: 5 });
  await watch.start();
  try {
    for (let i = 0; i < 30; i++) {
      if (i % 2 === 0) f.dead.add(ORG2[0]);
      else f.dead.delete(ORG2[0]);
      for (const n of ALL) f.heights[n] = 11 + i;
      tick(1000);
      await watch.poll();
    }
    const s = watch.snapshot();
    assert.equal(s.events.length, 20);
    assert.equal(s.blocks.length, 5);
    assert.deepEqual(
      s.blocks.map((b) => b.number),
      [39, 38, 37, 36, 35],
    );
  } finally {
    watch.stop();
  }
  // a URL that does not answer is not asked again until its request settles
  let release!: () => void;
  let asked = 0;
  const slow = new NetworkWatch({
    urls: ['127.0.0.1:9000'],
    intervalMs: 3_600_000,
    fetch: () => {
      asked++;
      return new Promise<PeerStatusDocument>((_, reject) => (release = () => reject(new Error('timed out'))));
    },
  });
  const first = slow.poll();
  const second = slow.poll();
  assert.equal(asked, 1);
  release();
  await Promise.all([first, second]);
  assert.equal(slow.snapshot().sources[0].ok, false);
  const third = slow.poll();
  assert.equal(asked, 2);
  release();
  await third;
  slow.stop();
});

test("network up's process facts are merged by endpoint; a process not seen yet is listed", async () => {
  const f = facts(10);
  const { watch } = setup(f);
  watch.setLocal(() => ({
    title: 'local network',
    orderer: { name: 'orderer0.example.com', endpoint: '127.0.0.1:7050', status: 'running' },
    txSent: 10,
    txAccepted: 9,
    processes: [
      {
        name: 'peer0.org1.example.com',
        org: 'Org1MSP',
        endpoint: '127.0.0.1:7000',
        status: 'running',
        restarts: 2,
        rssBytes: 1,
      },
      { name: 'peer9.org1.example.com', org: 'Org1MSP', endpoint: '127.0.0.1:7999', status: 'starting' },
    ],
  }));
  await watch.start();
  try {
    const s = watch.snapshot();
    assert.equal(s.title, 'local network');
    assert.deepEqual(s.local, {
      orderer: { name: 'orderer0.example.com', endpoint: '127.0.0.1:7050', status: 'running' },
      txSent: 10,
      txAccepted: 9,
    });
    const p0 = s.members.find((m) => m.name === 'peer0.org1.example.com')!;
    assert.deepEqual(p0.local, { status: 'running', restarts: 2, rssBytes: 1 });
    const p9 = s.members.find((m) => m.name === 'peer9.org1.example.com')!;
    assert.equal(p9.state, 'unknown');
    assert.deepEqual(p9.local, { status: 'starting' });
    assert.ok(s.orgs.find((o) => o.mspId === 'Org1MSP')!.members.includes('127.0.0.1:7999'));
  } finally {
    watch.stop();
  }
});

test('an answer the model cannot read is shown as a failing URL, not a crash', async () => {
  const f = facts(10);
  const good = statusDoc('peer0.org1.example.com', f);
  const watch = new NetworkWatch({
    urls: ['127.0.0.1:9000', '127.0.0.1:9001'],
    intervalMs: 3_600_000,
    fetch: (url) =>
      Promise.resolve(
        url.port === '9000'
          ? good
          : ({ ...good, members: [{ pkiId: 'ab', channels: 7 }] } as unknown as PeerStatusDocument),
      ),
  });
  await watch.start();
  try {
    const s = watch.snapshot();
    assert.deepEqual(
      s.sources.map((x) => [x.url, x.ok]),
      [
        ['127.0.0.1:9000', true],
        ['127.0.0.1:9001', false],
      ],
    );
    assert.match(s.sources[1].error ?? '', /^bad answer: /);
    assert.equal(s.members.length, 6, 'the good answer is used');
  } finally {
    watch.stop();
  }
});

test('a member no view knows an external endpoint for: its internal one, marked internalOnly', async () => {
  const f = facts(10);
  const watch = new NetworkWatch({
    urls: [URLS[0]!],
    intervalMs: 3_600_000,
    now: () => f.at,
    fetch: () => {
      const doc = statusDoc('peer0.org1.example.com', f);
      const members = doc.members.map((m) =>
        m.pkiId === pki('peer2.org1.example.com')
          ? { ...m, endpoint: '', internalEndpoint: '10.0.0.9:7051' }
          : m,
      );
      return Promise.resolve({ ...doc, members } as PeerStatusDocument);
    },
  });
  await watch.start();
  try {
    const s = watch.snapshot();
    const internal = s.members.filter((m) => m.internalOnly);
    assert.deepEqual(
      internal.map((m) => [m.name, m.endpoint]),
      [['peer2.org1.example.com', '10.0.0.9:7051']],
    );
  } finally {
    watch.stop();
  }
});
