/**
 * LedgerDeliverSource (service/deliversource.ts): blocks are served once staged (next in order,
 * verified, append issued), not only once durable; staged blocks go when committed or rewound.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LedgerDeliverSource } from '../../src/service/deliversource.js';

function ledger() {
  const blocks: Uint8Array[] = [Uint8Array.of(0)];
  return {
    blocks,
    height: () => BigInt(blocks.length),
    getBlockBytes: async (n: bigint) => blocks[Number(n)],
  };
}

test('a staged block is served before its append is durable, and waiters wake for it', async () => {
  const l = ledger();
  const src = new LedgerDeliverSource('ch', l);
  assert.equal(src.height(), 1n);
  const ac = new AbortController();
  let woke = false;
  const waiting = src.waitForHeight(2n, ac.signal).then(() => (woke = true));
  src.ordered(1n, Uint8Array.of(1));
  await waiting;
  assert.ok(woke);
  assert.equal(src.height(), 2n);
  assert.deepEqual(await src.getBlockBytes(1n), Uint8Array.of(1));
  // out of order: block 3 without 2 is kept but not served as height
  src.ordered(3n, Uint8Array.of(3));
  assert.equal(src.height(), 2n);
  src.ordered(2n, Uint8Array.of(2));
  assert.equal(src.height(), 4n);
  // durable: the ledger serves them from now on
  l.blocks.push(Uint8Array.of(1), Uint8Array.of(2));
  src.committed(3n);
  assert.equal(src.height(), 4n, 'block 3 is still staged');
  assert.deepEqual(await src.getBlockBytes(3n), Uint8Array.of(3));
  // the ledger refused block 3: it is void
  src.rewound(3n);
  assert.equal(src.height(), 3n);
  assert.equal(await src.getBlockBytes(3n), undefined);
  // a block below the ledger height is not staged
  src.ordered(0n, Uint8Array.of(9));
  assert.deepEqual(await src.getBlockBytes(0n), Uint8Array.of(0));
});
