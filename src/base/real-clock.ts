/** The real Clock and Rng (the simulation's live in src/sim). */
import { randomBytes, randomInt } from 'node:crypto';
import type { Clock, Rng, TimerHandle } from './time.js';

interface RealHandle extends TimerHandle {
  readonly timer: NodeJS.Timeout;
  readonly interval: boolean;
}

let nextId = 1;
let lastNs = 0n;

/** Wall-clock nanoseconds, strictly increasing within this process (PeerTime needs that). */
function wallNs(): bigint {
  const ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNs = ns > lastNs ? ns : lastNs + 1n;
  return lastNs;
}

export const realClock: Clock = {
  now: () => Date.now(),
  nowNs: wallNs,
  setTimeout(fn, ms) {
    return { id: nextId++, timer: setTimeout(fn, ms), interval: false } as RealHandle;
  },
  setInterval(fn, ms) {
    return { id: nextId++, timer: setInterval(fn, ms), interval: true } as RealHandle;
  },
  clearTimer(handle) {
    const h = handle as RealHandle;
    if (h.interval) clearInterval(h.timer);
    else clearTimeout(h.timer);
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  immediate: (fn) => void setImmediate(fn),
};

export const cryptoRng: Rng = {
  int: (n) => (n <= 1 ? 0 : randomInt(n)),
  float: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  u64: () => randomBytes(8).readBigUInt64BE(0),
  bytes: (n) => new Uint8Array(randomBytes(n)),
  sample(items, k) {
    const copy = items.slice();
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + randomInt(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, n);
  },
};
