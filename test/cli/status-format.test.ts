/**
 * `grapevine status`'s table from hand-made /status answers: one row per PKI-ID seen by any
 * peer (answering peers included), liveness views merged (disputed when they differ), the
 * highest height seen per channel, leaders, certificate expiry (EXPIRED), failed URLs on their
 * own line; the alerts of every answer after the table, merged (one per kind and subject, most
 * severe first, with the peers that raise it), 'ALERTS: none' when there are none; and
 * statusUrl's forms.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus } from '../../src/cli/commands/status.js';
import { statusUrl, type StatusAnswer } from '../../src/watch/client.js';
import type { Alert } from '../../src/node/alerts.js';
import type { MemberStatus, PeerStatusDocument } from '../../src/node/status.js';

const pki = (c: string) => c.repeat(64);

function doc(
  id: string,
  pkiId: string,
  members: MemberStatus[],
  leader = false,
  alerts: Alert[] = [],
): PeerStatusDocument {
  return {
    time: '2026-01-01T00:00:00.000Z',
    peer: {
      id,
      mspId: 'Org1MSP',
      endpoint: `${id}:7051`,
      pkiId,
      version: '0.1.0',
      startedAt: '2026-01-01T00:00:00.000Z',
      observer: false,
    },
    channels: [{ name: 'ch', height: 10, leader, mode: 'dynamic' }],
    members,
    connections: [],
    commits: [{ channel: 'ch', block: 9, at: '2026-01-01T00:00:00.000Z', source: 'push', from: pki('c') }],
    refused: [{ metric: 'grapevine_gossip_dropped_total', labels: { reason: 'stale' }, value: 3 }],
    alerts,
  };
}

function member(
  pkiId: string,
  endpoint: string,
  alive: boolean,
  height: number,
  mspId = 'Org2MSP',
): MemberStatus {
  return {
    pkiId,
    mspId,
    endpoint,
    internalEndpoint: '',
    alive,
    lastSeen: '2026-01-01T00:00:00.000Z',
    cert: {
      subject: `C=US, O=x, CN=${endpoint.split(':')[0]}`,
      notAfter: alive ? '2030-05-06T00:00:00.000Z' : '2020-01-01T00:00:00.000Z',
      expired: !alive,
    },
    channels: [{ name: 'ch', height }],
  };
}

test('one row per member seen by any peer, views merged', () => {
  const answers: StatusAnswer[] = [
    {
      url: 'http://a:1',
      ok: true,
      status: doc(
        'peer0',
        pki('a'),
        [member(pki('c'), 'fab0:7051', true, 8), member(pki('d'), 'fab1:7051', false, 3)],
        true,
      ),
    },
    {
      url: 'http://b:1',
      ok: true,
      status: doc('peer1', pki('b'), [
        member(pki('c'), 'fab0:7051', false, 9),
        member(pki('d'), 'fab1:7051', false, 4),
      ]),
    },
    { url: 'http://c:1', ok: false, error: 'connect ECONNREFUSED' },
  ];
  const lines = formatStatus(answers).split('\n');
  assert.match(lines[0], /^NAME\s+ENDPOINT\s+ORG\s+ALIVE\s+HEIGHT ch\s+LEADER\s+CERT EXPIRES$/);
  const row = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? assert.fail(`no row ${name}`);
  assert.match(row('peer0'), /Org1MSP\s+yes \(answered\)\s+10\s+ch\s+\?$/);
  assert.match(row('peer1'), /yes \(answered\)\s+10\s+-/);
  assert.match(row('fab0'), /Org2MSP\s+disputed \(1 yes, 1 no\)\s+9\s+-\s+2030-05-06$/);
  assert.match(row('fab1'), /\sno\s+4\s+-\s+2020-01-01 EXPIRED$/);
  assert.equal(lines.filter((l) => /^(peer|fab)\d/.test(l)).length, 4);
  assert.ok(lines.includes('http://c:1: error: connect ECONNREFUSED'));
  const a = lines.find((l) => l.startsWith('http://a:1: ')) ?? '';
  assert.match(a, /ch@10 \(leader, dynamic\)/);
  assert.match(a, /last block ch#9 by push from fab0:7051/);
  assert.match(a, /gossip_dropped\{stale\} 3/);
  // no alert anywhere: said so, between the table and the peers' lines
  const none = lines.indexOf('ALERTS: none');
  assert.ok(none > lines.findIndex((l) => l.startsWith('fab1 ')) && none < lines.indexOf(a), 'ALERTS: none');
});

test("an answering peer's own certificate expiry (peer.cert)", () => {
  const d = doc('peer0', pki('a'), []);
  const status = {
    ...d,
    peer: { ...d.peer, cert: { subject: 'CN=peer0', notAfter: '2031-02-03T00:00:00.000Z', expired: false } },
  };
  const row = formatStatus([{ url: 'http://a:1', ok: true, status }])
    .split('\n')
    .find((l) => l.startsWith('peer0 '));
  assert.match(row ?? '', /yes \(answered\)\s+10\s+-\s+2031-02-03$/);
});

test('a member no view knows an external endpoint for: its internal one, marked', () => {
  const own = {
    ...member(pki('e'), 'x:1', true, 10, 'Org1MSP'),
    endpoint: '',
    internalEndpoint: 'peer9.org1:7051',
  };
  const other = member(pki('f'), 'peer8.org1:7051', true, 10, 'Org1MSP');
  const lines = formatStatus([
    // a view that knows peer8's internal endpoint only, then one that knows its external one
    {
      url: 'http://b:1',
      ok: true,
      status: doc('peer1', pki('b'), [{ ...other, endpoint: '', internalEndpoint: 'p8:7051' }]),
    },
    { url: 'http://a:1', ok: true, status: doc('peer0', pki('a'), [own, other]) },
  ]).split('\n');
  assert.ok(
    lines.some((l) => /^x\s+peer9\.org1:7051 \(internal only\)\s+Org1MSP\s/.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /^peer8\.org1\s+peer8\.org1:7051\s+Org1MSP\s/.test(l)),
    lines.join('\n'),
  );
});

test('the alerts after the table: merged over the peers, most severe first, with who sees them', () => {
  const lag: Alert = {
    kind: 'lag',
    severity: 'warning',
    since: '2026-01-01T00:00:05.000Z',
    message: 'fab1:7051 (Org2MSP) is 6 blocks behind on channel ch (height 4, highest known 10)',
    pkiId: pki('d'),
    endpoint: 'fab1:7051',
    org: 'Org2MSP',
    channel: 'ch',
    value: 6,
  };
  const dead: Alert = {
    kind: 'unreachable',
    severity: 'critical',
    since: '2026-01-01T00:00:09.000Z',
    message: 'fab0:7051 (Org2MSP) is dead: no alive message since 2026-01-01T00:00:09.000Z',
    pkiId: pki('c'),
    endpoint: 'fab0:7051',
    org: 'Org2MSP',
  };
  const answers: StatusAnswer[] = [
    {
      url: 'http://a:1',
      ok: true,
      status: doc('peer0', pki('a'), [member(pki('c'), 'fab0:7051', false, 8)], true, [lag]),
    },
    {
      url: 'http://b:1',
      ok: true,
      // the same lag seen earlier by peer1, and a death only peer1 sees
      status: doc('peer1', pki('b'), [member(pki('c'), 'fab0:7051', false, 9)], false, [
        dead,
        { ...lag, since: '2026-01-01T00:00:02.000Z' },
      ]),
    },
  ];
  const lines = formatStatus(answers).split('\n');
  const head = lines.indexOf('ALERTS (2)');
  assert.ok(head > 0, lines.join('\n'));
  assert.match(lines[head + 1], /^SEVERITY\s+KIND\s+MESSAGE$/);
  assert.match(
    lines[head + 2],
    /^CRITICAL\s+unreachable\s+fab0:7051 \(Org2MSP\) is dead: no alive message since \S+ \(since 2026-01-01 00:00:09 UTC, seen by peer1\)$/,
  );
  assert.match(
    lines[head + 3],
    /^WARNING\s+lag\s+fab1:7051 \(Org2MSP\) is 6 blocks behind .* \(since 2026-01-01 00:00:02 UTC, seen by peer0, peer1\)$/,
  );
  assert.equal(lines[head + 4], '');
  assert.ok(lines[head + 5]?.startsWith('http://a:1: '));
});

test('no peer answered: no alerts section', () => {
  const out = formatStatus([{ url: 'http://c:1', ok: false, error: 'connect ECONNREFUSED' }]);
  assert.doesNotMatch(out, /ALERTS/);
});

test('statusUrl: host:port, a base URL, a full URL', () => {
  assert.equal(statusUrl('127.0.0.1:9443').href, 'http://127.0.0.1:9443/status');
  assert.equal(statusUrl('https://peer:9443').href, 'https://peer:9443/status');
  assert.equal(statusUrl('http://peer:9443/x/status').href, 'http://peer:9443/x/status');
  assert.throws(() => statusUrl('ftp://peer:1'), /http/);
});
