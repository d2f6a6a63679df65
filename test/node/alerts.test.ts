/**
 * The alert logic (src/node/alerts.ts) on a hand-made clock: each kind raised exactly when its
 * rule says (thresholds, "for longer than T", severities, since), cleared when the condition
 * ends, state bounded; and the observer's config rules (grapevine.observer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALERT_KINDS,
  AlertEvaluator,
  IDENTITY_CHANGE_HOLD_MS,
  MAX_ALERTS,
  type Alert,
  type AlertInput,
  type AlertMember,
} from '../../src/node/alerts.js';
import { dialTcp, EndpointProbe, PROBES_PER_ROUND } from '../../src/node/probe.js';
import { electionConfigOf, streamConfigOf } from '../../src/node/config/index.js';
import { ConfigError } from '../../src/base/errors.js';
import { errorOf, loadWith } from './config-helpers.js';

const T = 30_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const SELF = 'aa'.repeat(32);
const pki = (c: string) => c.repeat(64);

function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function member(c: string, o: Partial<AlertMember> = {}): AlertMember {
  return {
    pkiId: pki(c),
    mspId: 'Org1MSP',
    endpoint: `p${c}:7051`,
    internalEndpoint: '',
    alive: true,
    lastSeenMs: T0,
    heights: [],
    ...o,
  };
}

function input(o: Partial<AlertInput> = {}): AlertInput {
  return {
    self: { pkiId: SELF, mspId: 'Org1MSP' },
    channels: [{ name: 'ch', height: 20, elected: false, leaders: [] }],
    members: [],
    unreachable: [],
    ...o,
  };
}

const kinds = (as: readonly Alert[]) => as.map((a) => a.kind);

describe('alerts', () => {
  it('lag: more than lagBlocks behind the highest height for at least T', () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: 30 * DAY }, c);
    const members = [
      member('b', { heights: [{ name: 'ch', height: 10 }] }), // 10 behind: not more than N
      member('c', { heights: [{ name: 'ch', height: 9 }] }), // 11 behind
      member('d', { alive: false, lastSeenMs: T0 - 1, heights: [{ name: 'ch', height: 1 }] }),
    ];
    assert.deepEqual(
      kinds(ev.evaluate(input({ members }))).filter((k) => k === 'lag'),
      [],
    );
    c.advance(T - 1);
    assert.equal(ev.evaluate(input({ members })).filter((a) => a.kind === 'lag').length, 0);
    c.advance(1);
    const lag = ev.evaluate(input({ members })).filter((a) => a.kind === 'lag');
    assert.equal(lag.length, 1, 'only c; a dead member is unreachable, not lagging');
    assert.deepEqual(lag[0], {
      kind: 'lag',
      severity: 'warning',
      since: new Date(T0).toISOString(),
      message: 'pc:7051 (Org1MSP) is 11 blocks behind on channel ch (height 9, highest known 20)',
      pkiId: pki('c'),
      endpoint: 'pc:7051',
      org: 'Org1MSP',
      channel: 'ch',
      value: 11,
    });
    // a member ahead of us makes us the laggard (we are judged too: the daemon adds itself)
    const ahead = [
      member('e', { heights: [{ name: 'ch', height: 40 }] }),
      member('a', { pkiId: SELF, heights: [{ name: 'ch', height: 20 }] }),
    ];
    ev.evaluate(input({ members: ahead }));
    c.advance(T);
    const us = ev.evaluate(input({ members: ahead })).filter((a) => a.kind === 'lag');
    assert.deepEqual(
      us.map((a) => [a.pkiId, a.value]),
      [[SELF, 20]],
    );
    // caught up: cleared, and the clock starts again
    ev.evaluate(input({ members: [member('e', { heights: [{ name: 'ch', height: 20 }] })] }));
    const again = ev.evaluate(input({ members: ahead }));
    assert.equal(again.filter((a) => a.kind === 'lag').length, 0);
    assert.equal(ev.counts().get('lag'), 0);
  });

  it('no-leader and two-leaders: only where our org elects, after T', () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: DAY }, c);
    const static_ = input({ channels: [{ name: 'ch', height: 1, elected: false, leaders: [] }] });
    ev.evaluate(static_);
    c.advance(T);
    assert.deepEqual(kinds(ev.evaluate(static_)), [], 'an org of static leaders is not judged');
    const none = input({ channels: [{ name: 'ch', height: 1, elected: true, leaders: [] }] });
    assert.deepEqual(kinds(ev.evaluate(none)), []);
    c.advance(T);
    const [a] = ev.evaluate(none);
    assert.equal(a!.kind, 'no-leader');
    assert.equal(a!.severity, 'critical');
    assert.equal(a!.org, 'Org1MSP');
    assert.equal(a!.channel, 'ch');
    assert.equal(a!.since, new Date(T0 + T).toISOString());
    const two = input({
      channels: [{ name: 'ch', height: 1, elected: true, leaders: [pki('b'), pki('c'), pki('b')] }],
    });
    assert.deepEqual(kinds(ev.evaluate(two)), [], 'a new condition starts its own clock');
    c.advance(T);
    const [b] = ev.evaluate(two);
    assert.equal(b!.kind, 'two-leaders');
    assert.equal(b!.severity, 'warning');
    assert.equal(b!.value, 2);
    const one = input({ channels: [{ name: 'ch', height: 1, elected: true, leaders: [pki('b')] }] });
    assert.deepEqual(kinds(ev.evaluate(one)), []);
    assert.equal(ev.counts().get('two-leaders'), 0);
  });

  it('cert-expiring within D (warning, days left), cert-expired (critical)', () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: 30 * DAY }, c);
    const members = [
      member('b', { notAfterMs: T0 + 31 * DAY }),
      member('c', { notAfterMs: T0 + 2.5 * DAY, subject: 'CN=peer0' }),
      member('d', { notAfterMs: T0 - DAY, alive: false, lastSeenMs: T0 - 2 * DAY }),
    ];
    const out = ev.evaluate(input({ members }));
    const expiring = out.find((a) => a.kind === 'cert-expiring')!;
    assert.equal(expiring.pkiId, pki('c'));
    assert.equal(expiring.value, 2.5);
    assert.equal(expiring.since, new Date(T0 + 2.5 * DAY - 30 * DAY).toISOString());
    assert.match(expiring.message, /pc:7051 \(Org1MSP\) CN=peer0 expires .* in 2\.5 days/);
    const expired = out.find((a) => a.kind === 'cert-expired')!;
    assert.equal(expired.severity, 'critical');
    assert.equal(expired.since, new Date(T0 - DAY).toISOString());
    assert.equal(out.filter((a) => a.kind.startsWith('cert')).length, 2, 'b expires in 31 days: fine');
    assert.equal(out[0]!.severity, 'critical', 'critical first');
  });

  it('unreachable: dead in discovery (critical, at once), refused probe for T (warning)', () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: DAY }, c);
    const members = [member('b', { alive: false, lastSeenMs: T0 - 5000 }), member('c')];
    const probe = [
      { endpoint: 'pc:7051', pkiId: pki('c'), sinceMs: T0, error: 'connect ECONNREFUSED' },
      { endpoint: 'pb:7051', pkiId: pki('b'), sinceMs: T0 - T, error: 'connect ECONNREFUSED' },
    ];
    const first = ev.evaluate(input({ members, unreachable: probe })).filter((a) => a.kind === 'unreachable');
    assert.deepEqual(
      first.map((a) => [a.pkiId, a.severity, a.since]),
      [[pki('b'), 'critical', new Date(T0 - 5000).toISOString()]],
      'a dead member is reported once; a fresh probe failure waits for T',
    );
    c.advance(T);
    const later = ev.evaluate(input({ members, unreachable: probe })).filter((a) => a.kind === 'unreachable');
    assert.equal(later.length, 2);
    assert.equal(later[1]!.severity, 'warning');
    assert.match(
      later[1]!.message,
      /pc:7051 \(Org1MSP\) is alive in gossip but its external endpoint does not accept connections: connect ECONNREFUSED/,
    );
    assert.equal(ev.counts().get('unreachable'), 2);
  });

  it("unreachable: a channel's anchor peer that no member answers for, refusing the probe for T (warning)", () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: DAY }, c);
    const anchors = [
      { org: 'Org2MSP', endpoint: 'anchor.org2:9051' },
      { org: 'Org1MSP', endpoint: 'pb:7051' },
    ];
    const channels = [
      { name: 'ch', height: 20, elected: false, leaders: [], anchors },
      { name: 'ch2', height: 3, elected: false, leaders: [], anchors: anchors.slice(0, 1) },
    ];
    const probe = [
      { endpoint: 'anchor.org2:9051', pkiId: '', sinceMs: T0, error: 'getaddrinfo ENOTFOUND anchor.org2' },
      // a failure nobody claims that is no anchor (an anchor removed by a config update): nothing
      { endpoint: 'gone:7051', pkiId: '', sinceMs: T0, error: 'connect ECONNREFUSED' },
    ];
    const members = [member('b')];
    assert.deepEqual(
      ev.evaluate(input({ channels, members, unreachable: probe })).filter((a) => a.kind === 'unreachable'),
      [],
      'not before T',
    );
    c.advance(T);
    const out = ev
      .evaluate(input({ channels, members, unreachable: probe }))
      .filter((a) => a.kind === 'unreachable');
    assert.equal(out.length, 1);
    const a = out[0]!;
    assert.equal(a.severity, 'warning');
    assert.equal(a.endpoint, 'anchor.org2:9051');
    assert.equal(a.org, 'Org2MSP');
    assert.equal(a.channel, 'ch');
    assert.equal(a.pkiId, undefined);
    assert.equal(a.since, new Date(T0).toISOString());
    assert.equal(
      a.message,
      "anchor.org2:9051, an anchor peer of Org2MSP in the config of channel ch, ch2, does not accept connections and no member answers for it (check the channel's AnchorPeers and that peer's external endpoint): getaddrinfo ENOTFOUND anchor.org2",
    );
  });

  it('identity-changed: an endpoint claimed by another PKI-ID, held for a while, bounded', () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: DAY }, c);
    const old = member('b', { endpoint: 'p0:7051' });
    assert.deepEqual(kinds(ev.evaluate(input({ members: [old] }))), []);
    c.advance(1000);
    // restarted with a renewed certificate: the old PKI-ID dead, a new one alive at its endpoint
    const renewed = [{ ...old, alive: false }, member('c', { endpoint: 'p0:7051', lastSeenMs: T0 + 1000 })];
    const out = ev.evaluate(input({ members: renewed })).filter((a) => a.kind === 'identity-changed');
    assert.equal(out.length, 1);
    assert.equal(out[0]!.endpoint, 'p0:7051');
    assert.equal(out[0]!.pkiId, pki('c'));
    assert.match(
      out[0]!.message,
      /p0:7051 now claims PKI-ID cccccccccccccccc \(Org1MSP\) instead of bbbbbbbbbbbbbbbb/,
    );
    assert.equal(out[0]!.since, new Date(T0 + 1000).toISOString());
    c.advance(IDENTITY_CHANGE_HOLD_MS - 1);
    assert.equal(
      ev.evaluate(input({ members: renewed })).filter((a) => a.kind === 'identity-changed').length,
      1,
    );
    c.advance(1);
    assert.equal(
      ev.evaluate(input({ members: renewed })).filter((a) => a.kind === 'identity-changed').length,
      0,
    );
    // a dead and an alive member at one endpoint seen together for the first time: a change
    const fresh = new AlertEvaluator({ lagBlocks: 10, afterMs: T, certExpiryMs: DAY }, c);
    assert.equal(
      fresh.evaluate(input({ members: renewed })).filter((a) => a.kind === 'identity-changed').length,
      1,
    );
    // two alive members configured with one endpoint: one change, its since kept
    const twins = [
      member('d', { endpoint: 'p9:7051' }),
      member('e', { endpoint: 'p9:7051', lastSeenMs: T0 + 1 }),
    ];
    const t1 = fresh.evaluate(input({ members: twins })).find((a) => a.endpoint === 'p9:7051')!;
    c.advance(5000);
    const t2 = fresh.evaluate(input({ members: twins })).find((a) => a.endpoint === 'p9:7051')!;
    assert.equal(t2.since, t1.since);
  });

  it('counts every kind, cuts the list at MAX_ALERTS, keeps no state for members gone', () => {
    const c = clock();
    const ev = new AlertEvaluator({ lagBlocks: 1, afterMs: 0, certExpiryMs: DAY }, c);
    const many = Array.from({ length: MAX_ALERTS + 5 }, (_, i) =>
      member('f', { pkiId: i.toString(16).padStart(64, '0'), endpoint: `h${i}:1`, alive: false }),
    );
    const out = ev.evaluate(input({ members: many }));
    assert.equal(out.length, MAX_ALERTS);
    assert.equal(ev.counts().get('unreachable'), MAX_ALERTS + 5);
    assert.deepEqual([...ev.counts().keys()], [...ALERT_KINDS]);
    const lagging = [member('g', { heights: [{ name: 'ch', height: 1 }] })];
    ev.evaluate(input({ members: lagging }));
    ev.evaluate(input({ members: [] }));
    assert.equal((ev as unknown as { lagSince: Map<string, number> }).lagSince.size, 0);
  });
});

describe('observer config', () => {
  it('never leads, runs no stream; orgLeader true is refused with what to fix', () => {
    const cfg = loadWith({ 'grapevine.observer': true, 'peer.gossip.useLeaderElection': true });
    assert.equal(cfg.grapevine.observer, true);
    const e = electionConfigOf(cfg);
    assert.equal(e.useLeaderElection, false);
    assert.equal(e.orgLeader, false);
    assert.equal(streamConfigOf(cfg).enabled, false);
    const plain = loadWith({ 'peer.gossip.useLeaderElection': true });
    assert.equal(electionConfigOf(plain).useLeaderElection, true);
    assert.equal(streamConfigOf(plain).enabled, true);
    const err = errorOf(() =>
      loadWith({}, { CORE_GRAPEVINE_OBSERVER: 'true', CORE_PEER_GOSSIP_ORGLEADER: 'true' }),
    );
    assert.ok(err instanceof ConfigError);
    assert.match(
      err.message,
      /grapevine\.observer is true \(from environment variable CORE_GRAPEVINE_OBSERVER\) but peer\.gossip\.orgLeader is true \(from environment variable CORE_PEER_GOSSIP_ORGLEADER\): an observer never leads its org; set peer\.gossip\.orgLeader to false/,
    );
  });

  it('grapevine.alerts.* defaults: 10 blocks, 30 s, 30 days, probes every 10 s', () => {
    const a = loadWith({}).grapevine.alerts;
    assert.deepEqual(
      { ...a },
      { lagBlocks: 10, afterMs: 30_000, certExpiryDays: 30, probeIntervalMs: 10_000 },
    );
    assert.equal(loadWith({}, { CORE_GRAPEVINE_ALERTS_AFTER: '2s' }).grapevine.alerts.afterMs, 2000);
  });
});

describe('EndpointProbe', () => {
  it('dials in turn, remembers a failure from its first occurrence, forgets answers and members gone', async () => {
    let now = 1000;
    const refused = new Set(['b:1']);
    const dialled: string[] = [];
    let targets = Array.from({ length: PROBES_PER_ROUND + 6 }, (_, i) => ({
      endpoint: i === 0 ? 'b:1' : `h${i}:1`,
      pkiId: pki(i === 0 ? 'b' : 'c'),
    }));
    const probe = new EndpointProbe({
      targets: () => targets,
      everyMs: 0,
      timeoutMs: 100,
      now: () => now,
      dial: async (a) => {
        dialled.push(a);
        return refused.has(a) ? 'connect ECONNREFUSED' : undefined;
      },
    });
    await probe.round();
    assert.equal(dialled.length, PROBES_PER_ROUND);
    assert.deepEqual(probe.failures(), [
      { endpoint: 'b:1', pkiId: pki('b'), sinceMs: 1000, error: 'connect ECONNREFUSED' },
    ]);
    now = 2000;
    await probe.round();
    assert.equal(dialled.length, 2 * PROBES_PER_ROUND);
    assert.ok(
      dialled.slice(PROBES_PER_ROUND).includes('h64:1'),
      'the next round starts where the last stopped',
    );
    assert.equal(probe.failures()[0]!.sinceMs, 1000, 'still failing since the first failure');
    refused.clear();
    await probe.round();
    await probe.round();
    assert.deepEqual(probe.failures(), []);
    refused.add('b:1');
    await probe.round();
    targets = targets.slice(1);
    await probe.round();
    assert.deepEqual(probe.failures(), [], 'a member gone is forgotten');
    assert.equal(await dialTcp('nonsense', 10), 'not host:port: nonsense');
  });
});
