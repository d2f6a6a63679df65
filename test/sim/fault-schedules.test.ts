/**
 * Seeded fault schedules in every dissemination mode (issue 15; test/sim/fault-schedule.ts):
 * crash, restart, partition and heal, delay, loss, leader kill and orderer fail-over, each at
 * least once per seed, in Fabric mode (streams off), streams mode and mixed orgs. Invariants: no
 * block lost, committed twice or out of order, every live peer converges on the orderer's chain
 * byte for byte. A fixed sample per mode in `npm test`, 1,000 seeds per mode under
 * `npm run test:full` (GRAPEVINE_TEST_FULL=1). A seed that failed once is a regression test below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seeds } from './helpers.js';
import { faultSchedule, violations, MODES, type Mode } from './fault-schedule.js';

async function check(mode: Mode, seed: number): Promise<void> {
  const o = await faultSchedule(mode, seed);
  const v = violations(o);
  assert.deepEqual(
    v,
    [],
    `${mode} seed ${seed}:\n  ${v.join('\n  ')}\nschedule:\n  ${o.events.join('\n  ')}`,
  );
}

for (const mode of MODES) {
  const runs = seeds(10, 1000, 1);
  test(`fault schedules, ${mode} mode, ${runs.length} seeds: crash, restart, partition+heal, delay, loss, leader kill, orderer fail-over; nothing lost, duplicated or reordered, every live peer converges`, async () => {
    for (const seed of runs) await check(mode, seed);
  });
}
