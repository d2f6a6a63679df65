/** The identity store (§2.5) on a manual clock with a scripted validator. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ManualClock } from './fixtures.js';
import { IdentityStore, type IdentityValidator } from '../../src/identity/store.js';
import { GrapevineError } from '../../src/base/errors.js';
import { Metrics } from '../../src/base/metrics.js';
import { pkiIdKey } from '../../src/base/pkiid.js';

const HOUR = 3_600_000;
const hash = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const ident = (s: string) => new Uint8Array(Buffer.from(s));

/** Identities are strings "<name>|<notAfter ms>"; names starting with "bad" fail validation, "alien" is UNKNOWN_MSP. */
function validator(revoked: Set<string> = new Set()): IdentityValidator {
  return {
    pkiIdOf: hash,
    expiration(identity) {
      const [, t] = Buffer.from(identity).toString().split('|');
      if (!t) throw new Error('unclassifiable');
      return new Date(Number(t));
    },
    validateIdentity(identity) {
      const name = Buffer.from(identity).toString().split('|')[0];
      if (name.startsWith('alien')) throw new GrapevineError('UNKNOWN_MSP', 'no such MSP');
      if (name.startsWith('bad') || revoked.has(name)) throw new GrapevineError('CHAIN', 'invalid');
    },
  };
}

function setup(opts: { max?: number; revoked?: Set<string>; usageMs?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const self = ident(`self|${clock.now() + 1000 * HOUR}`);
  const metrics = new Metrics();
  const store = new IdentityStore({
    self: { pkiId: hash(self), identity: self },
    validator: validator(opts.revoked),
    clock,
    metrics,
    maxIdentities: opts.max,
    usageThresholdMs: opts.usageMs,
  });
  const purged: string[] = [];
  store.onPurge((id, why) => purged.push(`${pkiIdKey(id).slice(0, 6)}:${why}`));
  const add = (name: string, lifeMs = 10 * HOUR) => {
    const id = ident(`${name}|${clock.now() + lifeMs}`);
    store.put(hash(id), id);
    return id;
  };
  return { clock, store, metrics, purged, add, self };
}

const code = (f: () => void) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as GrapevineError).code;
  }
};

describe('identity store', () => {
  test('put checks emptiness, classification, validity, PKI-ID and expiry', async () => {
    const { store, clock, metrics } = setup();
    const good = ident(`p1|${clock.now() + HOUR}`);
    assert.equal(
      code(() => store.put(new Uint8Array(0), good)),
      'EMPTY',
    );
    assert.equal(
      code(() => store.put(hash(good), new Uint8Array(0))),
      'EMPTY',
    );
    assert.equal(
      code(() => store.put(hash(ident('x')), ident('x'))),
      'INVALID',
    );
    const bad = ident(`bad|${clock.now() + HOUR}`);
    assert.equal(
      code(() => store.put(hash(bad), bad)),
      'INVALID',
    );
    const alien = ident(`alien|${clock.now() + HOUR}`);
    assert.equal(
      code(() => store.put(hash(alien), alien)),
      'UNKNOWN_MSP',
    );
    assert.equal(
      code(() => store.put(hash(bad), good)),
      'PKI_ID_MISMATCH',
    );
    const old = ident(`old|${clock.now() - 1}`);
    assert.equal(
      code(() => store.put(hash(old), old)),
      'EXPIRED',
    );
    assert.equal(
      code(() => store.put(hash(good), good)),
      'ok',
    );
    assert.equal(
      code(() => store.put(hash(good), good)),
      'ok',
      'a second put is a success without change',
    );
    assert.deepEqual(store.get(hash(good)), good);
    assert.equal(await metrics.value('grapevine_gossip_identity_store_rejected_total'), 7);
    assert.equal(await metrics.value('grapevine_gossip_identity_store_size'), 2);
    store.stop();
  });

  test('an identity is removed at NotAfter + 1 ms, even years ahead (timers re-arm past 2^31 ms)', () => {
    const { store, clock, add, purged } = setup({ usageMs: 100 * 24 * HOUR });
    const soon = add('soon', 1000);
    const far = add('far', 40 * 24 * HOUR);
    clock.advance(1000);
    assert.ok(store.has(hash(soon)));
    clock.advance(1);
    assert.ok(!store.has(hash(soon)));
    assert.ok(store.has(hash(far)));
    clock.advance(40 * 24 * HOUR - 1002);
    assert.ok(store.has(hash(far)));
    clock.advance(2);
    assert.ok(!store.has(hash(far)));
    assert.deepEqual(
      purged.map((p) => p.split(':')[1]),
      ['expired', 'expired'],
    );
    store.stop();
  });

  test('identities unused for an hour are purged every 6 minutes; ours never', () => {
    const { store, clock, add, self } = setup();
    const used = add('used');
    const idle = add('idle');
    for (let i = 0; i < 11; i++) {
      clock.advance(6 * 60_000);
      store.get(hash(used));
    }
    assert.ok(store.has(hash(used)));
    assert.ok(!store.has(hash(idle)));
    assert.ok(store.has(hash(self)));
    store.stop();
  });

  test('suspectPeers re-validates the selected identities and purges the invalid ones', () => {
    const revoked = new Set<string>();
    const { store, add, purged } = setup({ revoked });
    const a = add('a');
    const b = add('b');
    revoked.add('a').add('b').add('self');
    store.suspectPeers((identity) => Buffer.from(identity).toString().startsWith('a'));
    assert.ok(!store.has(hash(a)));
    assert.ok(store.has(hash(b)), 'not selected');
    store.suspectPeers(() => true);
    assert.ok(!store.has(hash(b)));
    assert.equal(store.size, 1, 'our own identity stays');
    assert.deepEqual(
      purged.map((p) => p.split(':')[1]),
      ['suspect', 'suspect'],
    );
    store.stop();
  });

  test('bounded: when full the least recently used identity is evicted', () => {
    const { store, clock, add } = setup({ max: 2 });
    const a = add('a');
    clock.advance(1);
    const b = add('b');
    clock.advance(1);
    store.get(hash(a));
    const c = add('c');
    assert.ok(store.has(hash(a)) && store.has(hash(c)));
    assert.ok(!store.has(hash(b)));
    assert.equal(store.size, 3);
    store.stop();
  });

  test('stop releases every timer', () => {
    const { store, clock, add } = setup();
    add('a');
    add('b');
    assert.ok(clock.pending >= 3);
    store.stop();
    store.stop();
    assert.equal(clock.pending, 0);
  });
});
