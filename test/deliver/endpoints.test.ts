import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionSource, type OrdererOrgEndpoints } from '../../src/core/deliver/endpoints.js';
import { SeededRng } from '../../src/sim/rng.js';

const pem = (s: string) => new TextEncoder().encode(s);
const orgs = (o: Record<string, OrdererOrgEndpoints>) => new Map(Object.entries(o));
const ca1 = pem('CA1');
const ca2 = pem('CA2');

test('org endpoints win over global addresses, each with its own org CAs', () => {
  const s = new ConnectionSource();
  assert.equal(
    s.update(
      ['g:1'],
      orgs({
        A: { addresses: ['a:1', 'a:2'], rootCerts: [ca1] },
        B: { addresses: ['b:1'], rootCerts: [ca2] },
      }),
    ),
    true,
  );
  const got = s.endpoints().map((e) => [e.address, e.rootCerts.map((c) => Buffer.from(c).toString())]);
  assert.deepEqual(got, [
    ['a:1', ['CA1']],
    ['a:2', ['CA1']],
    ['b:1', ['CA2']],
  ]);
});

test('without org endpoints the global addresses are used with every orderer org CA', () => {
  const s = new ConnectionSource();
  s.update(
    ['g:1', 'g:2'],
    orgs({ A: { addresses: [], rootCerts: [ca1] }, B: { addresses: [], rootCerts: [ca2] } }),
  );
  assert.deepEqual(
    s.endpoints().map((e) => [e.address, e.rootCerts.map((c) => Buffer.from(c).toString())]),
    [
      ['g:1', ['CA1', 'CA2']],
      ['g:2', ['CA1', 'CA2']],
    ],
  );
});

test('refresh: unchanged config keeps endpoints; a change marks every old endpoint refreshed', () => {
  const s = new ConnectionSource();
  const cfg = orgs({ A: { addresses: ['a:1'], rootCerts: [ca1] } });
  s.update([], cfg);
  const [old] = s.endpoints();
  let fired = 0;
  old.onRefresh(() => fired++);
  assert.equal(s.update([], orgs({ A: { addresses: ['a:1'], rootCerts: [ca1] } })), false);
  assert.equal(old.isRefreshed, false);
  // a CA change alone is a change
  assert.equal(s.update([], orgs({ A: { addresses: ['a:1'], rootCerts: [ca2] } })), true);
  assert.equal(old.isRefreshed, true);
  assert.equal(fired, 1);
  assert.notEqual(s.endpoints()[0], old);
  // a removed org is a change
  const cur = s.endpoints()[0];
  assert.equal(s.update(['g:1'], orgs({})), true);
  assert.equal(cur.isRefreshed, true);
  assert.deepEqual(
    s.endpoints().map((e) => e.address),
    ['g:1'],
  );
  // global addresses: same set in another order is no change; a different one is
  assert.equal(s.update(['g:1'], orgs({})), false);
  assert.equal(s.update(['g:2'], orgs({})), true);
  assert.equal(s.update(['g:2', 'g:3'], orgs({})), true);
  // onRefresh on a stale endpoint fires at once
  let late = 0;
  cur.onRefresh(() => late++);
  assert.equal(late, 1);
});

test('address overrides replace address and CAs', () => {
  const s = new ConnectionSource([{ from: 'a:1', to: 'x:9', caCerts: [ca2] }]);
  s.update([], orgs({ A: { addresses: ['a:1', 'a:2'], rootCerts: [ca1] } }));
  assert.deepEqual(
    s.endpoints().map((e) => [e.address, Buffer.from(e.rootCerts[0]).toString()]),
    [
      ['x:9', 'CA2'],
      ['a:2', 'CA1'],
    ],
  );
});

test('selection is uniform over the endpoints; none -> NO_ENDPOINTS', () => {
  const s = new ConnectionSource();
  assert.throws(() => s.randomEndpoint(new SeededRng(1)), { code: 'NO_ENDPOINTS' });
  s.update([], orgs({ A: { addresses: ['a:1', 'a:2', 'a:3'], rootCerts: [] } }));
  const rng = new SeededRng(42);
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const a = s.randomEndpoint(rng).address;
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  assert.equal(counts.size, 3);
  for (const c of counts.values()) assert.ok(c > 900 && c < 1100, `count ${c}`);
});
