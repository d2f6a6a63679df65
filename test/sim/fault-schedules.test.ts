/**
 * Seeded fault schedules in every dissemination mode (issue 15; test/sim/fault-schedule.ts):
 * crash, restart, partition and heal, delay, loss, leader kill and orderer fail-over, each at
 * least once per seed, in Fabric mode (streams off), streams mode and mixed orgs, as short blips
 * and as outages that outlast connection break detection and Fabric's leader alive threshold.
 * Invariants: no block lost, committed twice or out of order, every live peer converges on the
 * orderer's chain byte for byte. A fixed sample per mode in `npm test` (about 10 s), 1,000 seeds
 * per mode and scale under `npm run test:full` (GRAPEVINE_TEST_FULL=1; about an hour). A seed
 * that fails becomes a regression test here, named by mode, scale and seed (none so far: 200
 * seeds per mode and scale passed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seeds } from './helpers.js';
import { faultSchedule, violations, MODES, type Mode, type ScaleName } from './fault-schedule.js';

async function check(mode: Mode, seed: number, scale: ScaleName): Promise<void> {
  const o = await faultSchedule(mode, seed, scale);
  const v = violations(o);
  assert.deepEqual(
    v,
    [],
    `${scale} ${mode} seed ${seed}:\n  ${v.join('\n  ')}\nschedule:\n  ${o.events.join('\n  ')}`,
  );
}

const SAMPLE: Record<ScaleName, number> = { blips: 3, outages: 1 };

for (const scale of ['blips', 'outages'] as const)
  for (const mode of MODES) {
    const runs = seeds(SAMPLE[scale], 1000, 1);
    test(`fault schedules (${scale}), ${mode} mode, ${runs.length} seeds: crash, restart, partition+heal, delay, loss, leader kill, orderer fail-over; nothing lost, duplicated or reordered, every live peer converges`, async () => {
      for (const seed of runs) await check(mode, seed, scale);
    });
  }
