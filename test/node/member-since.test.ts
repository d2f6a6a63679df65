/**
 * MemberSince (src/node/status.ts): since when each member is alive or dead, from discovery's
 * membership events: a repeated state keeps its time, a change restarts it, a member removed is
 * forgotten, a member asked about before any event counts from then.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberInfo, MembershipEvent } from '../../src/core/discovery/types.js';
import { MemberSince } from '../../src/node/status.js';

const id = (b: number) => new Uint8Array(32).fill(b);
const key = (b: number) => Buffer.from(id(b)).toString('hex');
const member = (b: number) => ({ pkiId: id(b) }) as unknown as MemberInfo;

test('MemberSince: alive since learned or back, dead since declared, forgotten when removed', () => {
  let now = 1000;
  let emit: (e: MembershipEvent) => void = () => undefined;
  let unsubscribed = false;
  const since = new MemberSince(
    (h) => {
      emit = h;
      return () => void (unsubscribed = true);
    },
    () => now,
  );
  emit({ kind: 'alive', member: member(1) });
  now = 2000;
  emit({ kind: 'alive', member: member(1) });
  assert.equal(since.of(key(1), true), 1000, 'a repeated alive keeps its time');
  now = 3000;
  emit({ kind: 'dead', member: member(1) });
  now = 4000;
  assert.equal(since.of(key(1), false), 3000);
  emit({ kind: 'alive', member: member(1) });
  assert.equal(since.of(key(1), true), 4000, 'back from the dead');
  emit({ kind: 'removed', pkiId: id(1), reason: 'expired' });
  now = 5000;
  assert.equal(since.of(key(1), true), 5000, 'removed, then asked about: from now');
  assert.equal(since.of(key(2), false), 5000, 'never seen: from now');
  now = 6000;
  assert.equal(since.of(key(2), false), 5000);
  since.stop();
  assert.ok(unsubscribed);
});
