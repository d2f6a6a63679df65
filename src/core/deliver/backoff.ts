/**
 * Reconnect backoff of the deliver client (Fabric blocksprovider.go @v2.4.9, PROTOCOL.md §8.5).
 *
 * failureCounter counts consecutive failures (a processed message resets it); totalMs sums every
 * sleep since the deliverer started and is never reset. Before a reconnect with failureCounter > 0:
 *   sleep = floor(100 ms x 1.2^(failureCounter-1)) (Go truncates the float to an integer duration),
 *           or maxRetryDelay once failureCounter-1 > floor(ln(maxRetryDelay/100 ms) / ln 1.2);
 *   totalMs += sleep; exceeded = totalMs > maxRetryDuration. An elected leader then gives up and
 *   yields leadership (without sleeping); a static leader warns and sleeps anyway.
 */
export const INITIAL_RETRY_DELAY_MS = 100;
export const BACKOFF_BASE = 1.2;

/** floor(ln(maxRetryDelay / initial) / ln 1.2): 57 with Fabric's 3600 s. */
export function maxFailures(maxRetryDelayMs: number): number {
  return Math.trunc(Math.log(maxRetryDelayMs / INITIAL_RETRY_DELAY_MS) / Math.log(BACKOFF_BASE));
}

/** The sleep before the reconnect that follows `failureCounter` (>= 1) consecutive failures. */
export function backoffDelayMs(failureCounter: number, maxRetryDelayMs: number): number {
  if (failureCounter - 1 > maxFailures(maxRetryDelayMs)) return maxRetryDelayMs;
  return Math.trunc(Math.pow(BACKOFF_BASE, failureCounter - 1) * 100);
}

export interface BackoffStep {
  readonly sleepMs: number;
  /** totalMs now exceeds reconnectTotalTimeThreshold. */
  readonly exceeded: boolean;
}

export class ReconnectBackoff {
  failureCounter = 0;
  totalMs = 0;

  constructor(
    private readonly maxRetryDelayMs: number,
    private readonly maxRetryDurationMs: number,
  ) {}

  failure(): void {
    this.failureCounter++;
  }

  success(): void {
    this.failureCounter = 0;
  }

  /** undefined when no failure is pending (connect at once); else the sleep, already added to totalMs. */
  next(): BackoffStep | undefined {
    if (this.failureCounter === 0) return undefined;
    const sleepMs = backoffDelayMs(this.failureCounter, this.maxRetryDelayMs);
    this.totalMs += sleepMs;
    return { sleepMs, exceeded: this.totalMs > this.maxRetryDurationMs };
  }
}
