/**
 * Is this process short of file descriptors or memory? Asked by the connection gates
 * (conn-gate.ts) at every accept, so a flood of connections is shed before the process can no
 * longer open its ledger files, dial its peers or answer /healthz.
 *
 *   fds:    open descriptors (entries of /proc/self/fd) >= the soft RLIMIT_NOFILE minus a reserve
 *           (a tenth of it, at least 64) kept for everything that is not an accepted connection;
 *   memory: resident set >= the limit (grapevine.connLimits.maxMemory; default 90 % of the
 *           cgroup's memory limit, or of the machine's memory without one).
 * Readings are taken every SAMPLE_MS (a directory listing and a read of /proc/self/limits); in
 * between, the gates' own opens and closes keep the descriptor count current. Every reading is guarded: where /proc is missing (not Linux) the fd
 * check is off; a reading that fails for want of a descriptor (EMFILE) counts as short.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

export type ResourceShortage = 'fds' | 'memory';

const SAMPLE_MS = 1000;

export interface ResourceReadings {
  /** Open descriptors, undefined where unknown; throws when no descriptor is left to look. */
  fdsInUse(): number | undefined;
  /** The soft descriptor limit, undefined where unknown. */
  fdLimit(): number | undefined;
  rss(): number;
  /** The memory the process may use (cgroup limit or the machine's). */
  memoryLimit(): number;
  now(): number;
}

export const procReadings: ResourceReadings = {
  fdsInUse: () => {
    try {
      return readdirSync('/proc/self/fd').length;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  },
  fdLimit: () => {
    try {
      const line = readFileSync('/proc/self/limits', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Max open files'));
      const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
      return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
    } catch {
      return undefined;
    }
  },
  rss: () => process.memoryUsage.rss(),
  memoryLimit: () => {
    const c = process.constrainedMemory?.() ?? 0;
    return c > 0 && c < Number.MAX_SAFE_INTEGER ? Math.min(c, totalmem()) : totalmem();
  },
  now: () => performance.now(),
};

export class ProcessResources {
  private sampledAt = -Infinity;
  /** At the last sample: the soft limit, descriptors in use (undefined: unknown), memory short. */
  private fdLimit: number | undefined;
  private fdsAtSample: number | undefined;
  private fdsUnreadable = false;
  private memShort = false;
  /** Connections the gates opened minus those they closed since the last sample. */
  private delta = 0;
  /** Bytes of resident memory that count as short; 0 = 90 % of the memory limit. */
  maxMemoryBytes = 0;

  constructor(private readonly r: ResourceReadings = procReadings) {}

  /**
   * What the process is short of now, or undefined. Readings are taken every SAMPLE_MS; in
   * between, the descriptors in use are the last reading plus the connections the gates opened
   * minus those they closed since (opened()/closed()), so a flood that arrives within one sample
   * is stopped at the reserve, not at the hard limit.
   */
  shortage(): ResourceShortage | undefined {
    this.refresh();
    if (this.fdsShort()) return 'fds';
    return this.memShort ? 'memory' : undefined;
  }

  /**
   * Descriptors to release before one more is opened without entering the reserve (0: none).
   * More than one when the use is already past the reserve: a limit lowered under a running
   * process (prlimit) or descriptors opened elsewhere since the last reading. A gate that closed
   * only one for one then would keep the process at its limit, where every accept can fail
   * (EMFILE), and libuv answers that by accepting and closing every pending connection, a legit
   * client's among them.
   */
  fdsOver(): number {
    this.refresh();
    return this.fdsExcess();
  }

  /** A gate admitted a connection (a descriptor more). */
  opened(): void {
    this.delta++;
  }

  /** A gate's connection closed. */
  closed(): void {
    this.delta--;
  }

  private refresh(): void {
    const now = this.r.now();
    if (now - this.sampledAt >= SAMPLE_MS) this.sample(now);
  }

  /** Descriptors in use from which the process is short: the limit minus the reserve. */
  private fdThreshold(limit: number): number {
    return limit - Math.max(64, Math.floor(limit / 10));
  }

  private sample(now: number): void {
    this.sampledAt = now;
    this.delta = 0;
    // read at every sample: the limit can change under a running process (prlimit, a supervisor)
    this.fdLimit = this.r.fdLimit();
    this.fdsUnreadable = false;
    try {
      this.fdsAtSample = this.r.fdsInUse();
    } catch {
      this.fdsUnreadable = true; // not even one descriptor to list them with
    }
    this.memShort = this.memoryShort();
  }

  private fdsShort(): boolean {
    return this.fdsExcess() > 0;
  }

  /** fdsOver at the last reading: 0 with the limit or the use unknown, 1 when unreadable (EMFILE). */
  private fdsExcess(): number {
    const limit = this.fdLimit;
    if (limit === undefined) return 0;
    if (this.fdsUnreadable) return 1;
    if (this.fdsAtSample === undefined) return 0;
    return Math.max(0, this.fdsAtSample + this.delta - this.fdThreshold(limit) + 1);
  }

  private memoryShort(): boolean {
    let rss: number;
    try {
      rss = this.r.rss();
    } catch {
      return true;
    }
    const max = this.maxMemoryBytes > 0 ? this.maxMemoryBytes : 0.9 * this.r.memoryLimit();
    return rss >= max;
  }
}

/** The resident set in bytes, or undefined when it cannot be read (no descriptor left: EMFILE). */
export function residentBytes(): number | undefined {
  try {
    return process.memoryUsage.rss();
  } catch {
    return undefined;
  }
}

let shared: ProcessResources | undefined;

/** The process's one ProcessResources (every gate asks the same). */
export function processResources(): ProcessResources {
  return (shared ??= new ProcessResources());
}

/** Errors that say the process ran out of a resource, not that its code is wrong. */
const RESOURCE_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/**
 * A daemon process's last line of defence (peer and orderer commands): an exception nobody caught
 * that is a resource error (no file descriptor, no buffer) is logged, at most every 10 s with how
 * many came meanwhile, and the process goes on: the connection gates shed new connections while
 * descriptors are short, and whatever failed (a timer's read, an accept) runs again on its next
 * turn. Any other uncaught exception ends the process as Node would (message, exit code 1).
 */
export function guardResourceErrors(warn: (msg: string) => void, now: () => number = Date.now): void {
  let lastLog = -Infinity;
  let unlogged = 0;
  process.on('uncaughtException', (e: Error & { code?: string }) => {
    if (e?.code !== undefined && RESOURCE_ERRORS.has(e.code)) {
      unlogged++;
      if (now() - lastLog >= 10_000) {
        warn(
          `out of a resource (${e.code}: ${e.message}); ${unlogged} such error(s) since the last warning; going on`,
        );
        lastLog = now();
        unlogged = 0;
      }
      return;
    }
    process.stderr.write(`${e?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
