/**
 * The time and randomness seams (ARCHITECTURE.md §1): the protocol core reads time and draws
 * random numbers only through these, so the same code runs on the wall clock with crypto
 * randomness (src/base/real-clock.ts) and on the simulation's virtual clock with a seeded Rng
 * (src/sim). Nothing in src/core may default either one.
 */

/** Injected time: the real clock or the simulation's virtual one. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Nanoseconds since the Unix epoch (PeerTime inc_num, StateInfo seq_num). */
  nowNs(): bigint;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** A promise that resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
  /**
   * Run `fn` once the I/O of the current turn went out (setImmediate), not a timer's 1 ms later.
   * Optional: a clock without it (the simulation's) gives its callers no such turn.
   */
  immediate?(fn: () => void): void;
}

export interface TimerHandle {
  readonly id: number;
}

/** Injected randomness: crypto-seeded in production, seeded in the simulation. */
export interface Rng {
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform 64-bit unsigned integer (nonces). */
  u64(): bigint;
  bytes(n: number): Uint8Array;
  /** k distinct elements chosen uniformly (all when k >= length). */
  sample<T>(items: readonly T[], k: number): T[];
}
