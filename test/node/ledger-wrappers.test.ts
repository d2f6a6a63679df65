/**
 * The two ledger wrappers a peer's commit loop appends through (node/peerstate.ts's
 * CommitTracker.wrap, service/configwatch.ts's watchConfigBlocks) with several appends in flight,
 * as the commit loop keeps them: each commit is reported with its own block number, and the
 * append options (dataHashChecked) reach the store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchConfigBlocks } from '../../src/service/configwatch.js';
import { CommitTracker } from '../../src/node/peerstate.js';
import type { AppendOptions } from '../../src/ledger/store.js';
import type { StateLedger } from '../../src/core/state/types.js';
import type { BlockFacts } from '../../src/ledger/inspect.js';
import { FakeTransport } from '../helpers/fake-transport.js';

/** A ledger whose appends resolve only when released, in order, each with its block's height. */
function heldLedger(): { ledger: StateLedger; opts: (AppendOptions | undefined)[]; release(): void } {
  let height = 1n;
  let next = 1n;
  const waiting: (() => void)[] = [];
  const opts: (AppendOptions | undefined)[] = [];
  const ledger: StateLedger = {
    height: () => height,
    getBlockBytes: () => Promise.resolve(undefined),
    append: (_bytes, _decoded, o) => {
      opts.push(o);
      const n = next++;
      return new Promise<bigint>((resolve) =>
        waiting.push(() => {
          height = n + 1n;
          resolve(height);
        }),
      );
    },
  };
  return { ledger, opts, release: () => waiting.splice(0).forEach((f) => f()) };
}

const block = new Uint8Array([1, 2, 3]); // not a config block: watchConfigBlocks only passes it on

test('commits in flight are reported with their own block numbers, and append options reach the store', async () => {
  const held = heldLedger();
  const tracker = new CommitTracker(
    new FakeTransport(),
    () => false,
    () => 0,
  );
  const ledger = watchConfigBlocks(tracker.wrap('ch', held.ledger), () => undefined);
  const appends = [1, 2, 3].map(() => ledger.append(block, undefined, { dataHashChecked: true }));
  held.release();
  assert.deepEqual(await Promise.all(appends), [2n, 3n, 4n]);
  assert.deepEqual(
    tracker.drain().map((r) => r.block),
    [1, 2, 3],
  );
  assert.deepEqual(held.opts, [
    { dataHashChecked: true },
    { dataHashChecked: true },
    { dataHashChecked: true },
  ]);
  tracker.stop();
});

test("commits are reported with the number in the appended block's header, whatever height the append resolves with", async () => {
  // a group commit made durable at once: every append of the group resolves with the ledger's
  // height after the last one (as a ledger that answers height() when the write settles)
  let height = 1n;
  const waiting: (() => void)[] = [];
  const ledger: StateLedger = {
    height: () => height,
    getBlockBytes: () => Promise.resolve(undefined),
    append: () => {
      height++;
      return new Promise<bigint>((resolve) => waiting.push(() => resolve(height)));
    },
  };
  const tracker = new CommitTracker(
    new FakeTransport(),
    () => false,
    () => 0,
  );
  const wrapped = tracker.wrap('ch', ledger);
  const facts = (n: bigint): BlockFacts => ({
    kind: 'facts',
    number: n,
    previousHash: new Uint8Array(32),
    headerHash: new Uint8Array(32),
    txIds: [],
    dataHashChecked: true,
  });
  const appends = [1n, 2n, 3n].map((n) =>
    wrapped.append(block, facts(n), { dataHashChecked: true, source: 'gossip' }),
  );
  waiting.splice(0).forEach((f) => f());
  assert.deepEqual(await Promise.all(appends), [4n, 4n, 4n]);
  assert.deepEqual(
    tracker.drain().map((r) => r.block),
    [1, 2, 3],
  );
  tracker.stop();
});
