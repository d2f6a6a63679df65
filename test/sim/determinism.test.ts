/** A run is fully determined by its seed: same seed => same trace; different seed => different trace. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultSchedule } from '../../src/sim/index.js';
import { cluster, msg, peerOf, seeds } from './helpers.js';

/** 8 nodes chatting at random (each node's own Rng) through loss, jitter, a partition, a crash and a restart. */
async function scenario(
  seed: number,
): Promise<{ hash: string; events: number; delivered: number; inboxes: string }> {
  const c = await cluster(seed, 8, {
    link: { latencyMs: 3, jitterMs: 4, loss: 0.02, bandwidth: 1_000_000 },
    breakDetectMs: 8000,
  });
  const eps = c.nodes.map((n) => n.endpoint);
  for (const node of c.nodes) {
    node.onBoot((n) => {
      let i = 0;
      n.clock.setInterval(
        () => {
          const targets = n.rng.sample(
            c.nodes.filter((x) => x !== node),
            2,
          );
          n.transport.send(msg(`${n.endpoint}#${n.incarnation}#${i++}`), ...targets.map(peerOf));
        },
        200 + n.rng.int(300),
      );
    });
  }
  new FaultSchedule(c.net)
    .partition(5_000, eps.slice(0, 3), eps.slice(3))
    .heal(15_000)
    .crash(18_000, eps[5])
    .restart(24_000, eps[5])
    .link(26_000, eps[0], eps[1], { loss: 0.5 })
    .start();
  await c.net.clock.runFor(30_000);
  const inboxes = [...c.inbox.entries()].map(([k, v]) => `${k}=${v.length}`).join(',');
  return { hash: c.net.traceHash(), events: c.net.traceCount, delivered: c.net.stats.delivered, inboxes };
}

test('same seed, same trace; different seeds, different traces', async () => {
  const hashes = new Set<string>();
  for (const seed of seeds(20, 200, 1000)) {
    const first = await scenario(seed);
    const second = await scenario(seed);
    assert.equal(second.hash, first.hash, `seed ${seed} did not replay`);
    assert.equal(second.inboxes, first.inboxes);
    assert.ok(first.delivered > 500, `seed ${seed}: only ${first.delivered} deliveries`);
    hashes.add(first.hash);
  }
  assert.equal(hashes.size, seeds(20, 200, 1000).length, 'two seeds produced the same trace');
});
