/**
 * settleWithin(promises, ms): wait for promises, but at most `ms` of real time (the clock of a
 * simulation must not be able to stall a shutdown); the timer is released either way. The real
 * world's LinkWorld.settle. (The Stopper is the link's: src/core/link/stopper.ts.)
 */
export { Stopper } from '../core/link/stopper.js';

/**
 * Wait until every promise in `live` has settled (including ones added while waiting), or
 * `ms` of real time passed; true when everything settled.
 */
export async function settleWithin(live: Set<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      resolve();
    }, ms);
  });
  try {
    while (live.size > 0 && !expired) await Promise.race([Promise.allSettled([...live]), deadline]);
    return live.size === 0;
  } finally {
    clearTimeout(timer);
  }
}
