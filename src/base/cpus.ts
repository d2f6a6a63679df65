/** CPU-derived defaults (read once per call; no I/O). */
import { availableParallelism } from 'node:os';

/** Catch-up verifier workers by default: the cores left after the main thread, at least 1, at most 4. */
export function defaultVerifyWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
