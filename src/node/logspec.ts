/**
 * Log levels at runtime from a Fabric logging spec (`FABRIC_LOGGING_SPEC`, PUT /logspec).
 *
 * Spec syntax (Fabric's flogging): fields separated by ':'; a field `level` sets the default;
 * a field `name[,name...]=level` sets the level of loggers named `name` and their descendants
 * (`gossip` covers `gossip.discovery`); a name ending in '.' covers that logger only. The last
 * default wins; an empty spec is `info`. Levels: payload, debug, info, warn(ing), error, dpanic,
 * panic, fatal, notice (= info), critical (= error), in lower or upper case.
 *
 * Our loggers are pino children carrying a `component` binding. Each component has a Fabric
 * logger name (comm -> gossip.comm, discovery -> gossip.discovery, deliver -> deliveryClient, ...),
 * so Fabric specs work as written; the component's own name matches too (`election=debug`).
 * Every child made from `root` is tracked (weakly) and re-levelled when the spec changes.
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { ConfigError } from '../base/errors.js';
import { FABRIC_LOGGER_NAMES, FabricLogDestination, logFormatFromEnv, type LogFormat } from '../base/log.js';
import type { LogSpecTarget } from '../ops/operations.js';

export type FabricLevel = 'payload' | 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';

export interface ParsedLogSpec {
  readonly defaultLevel: FabricLevel;
  /** Logger name (as written, possibly ending in '.') -> level. */
  readonly levels: ReadonlyMap<string, FabricLevel>;
}

const LEVEL_WORDS: Record<string, FabricLevel> = {
  payload: 'payload',
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  dpanic: 'dpanic',
  panic: 'panic',
  fatal: 'fatal',
};

function levelOf(word: string): FabricLevel | undefined {
  // Fabric accepts all-lower or all-upper case only.
  if (word !== word.toLowerCase() && word !== word.toUpperCase()) return undefined;
  return LEVEL_WORDS[word.toLowerCase()];
}

const LOGGER_NAME = /^[A-Za-z0-9_#:-]+(\.[A-Za-z0-9_#:-]+)*$/;

/** Parse a Fabric logging spec; throws ConfigError with Fabric's wording on a bad one. */
export function parseLogSpec(spec: string): ParsedLogSpec {
  let defaultLevel: FabricLevel = 'info';
  const levels = new Map<string, FabricLevel>();
  const bad = (why: string) =>
    new ConfigError('BAD_LOGSPEC', `invalid logging specification '${spec}': ${why}`);
  for (const field of spec.split(':')) {
    const parts = field.split('=');
    if (parts.length === 1) {
      if (field === '') continue;
      const level = levelOf(field);
      if (!level) throw bad(`bad segment '${field}'`);
      defaultLevel = level;
    } else if (parts.length === 2) {
      if (parts[0] === '') throw bad(`no logger specified in segment '${field}'`);
      const level = levelOf(parts[1]);
      if (!level) throw bad(`bad segment '${field}'`);
      for (const name of parts[0].split(',')) {
        const bare = name.endsWith('.') ? name.slice(0, -1) : name;
        if (!LOGGER_NAME.test(bare)) throw bad(`bad logger name '${name}'`);
        levels.set(name, level);
      }
    } else {
      throw bad(`bad segment '${field}'`);
    }
  }
  return { defaultLevel, levels };
}

/** The spec in Fabric's canonical form: sorted `name=level` fields, then the default. */
export function formatLogSpec(p: ParsedLogSpec): string {
  const fields = [...p.levels].map(([name, level]) => `${name}=${level}`).sort();
  fields.push(p.defaultLevel);
  return fields.join(':');
}

/** Level for a dotted logger name: the nearest configured ancestor (Fabric's rule), if any. */
export function specLevelFor(p: ParsedLogSpec, name: string): FabricLevel | undefined {
  let candidate = `${name}.`;
  for (;;) {
    const hit = p.levels.get(candidate);
    if (hit) return hit;
    const idx = candidate.lastIndexOf('.');
    if (idx <= 0) return undefined;
    candidate = candidate.slice(0, idx);
  }
}

export { FABRIC_LOGGER_NAMES };

const PINO_LEVEL: Record<FabricLevel, Level> = {
  payload: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  dpanic: 'fatal',
  panic: 'fatal',
  fatal: 'fatal',
};

export interface LogLevelsOptions {
  /** Initial spec; default 'info'. Throws ConfigError if bad. */
  readonly spec?: string;
  /** Where pino's JSON lines go, as they are (tests); default: Fabric's format on stderr. */
  readonly destination?: DestinationStream;
  /** The format on stderr when no destination is given; default from FABRIC_LOGGING_FORMAT. */
  readonly format?: LogFormat;
}

/** A root pino logger whose descendants follow a Fabric logging spec, changeable at runtime. */
export class LogLevels implements LogSpecTarget {
  readonly root: Logger;
  private parsed: ParsedLogSpec;
  private readonly children = new Set<WeakRef<Logger>>();
  private pruneAt = 256;

  constructor(opts: LogLevelsOptions = {}) {
    this.parsed = parseLogSpec(opts.spec ?? 'info');
    const options = {
      level: PINO_LEVEL[this.parsed.defaultLevel],
      base: undefined,
      onChild: (child: Logger) => this.track(child),
    };
    this.root = pino(
      options,
      opts.destination ?? new FabricLogDestination({ format: opts.format ?? logFormatFromEnv() }),
    );
  }

  spec(): string {
    return formatLogSpec(this.parsed);
  }

  activateSpec(spec: string): void {
    this.parsed = parseLogSpec(spec);
    this.root.level = PINO_LEVEL[this.parsed.defaultLevel];
    for (const ref of this.children) {
      const child = ref.deref();
      if (child) this.apply(child);
      else this.children.delete(ref);
    }
  }

  /** The Fabric level a logger for `component` gets under the current spec. */
  levelFor(component: string | undefined): FabricLevel {
    if (component === undefined) return this.parsed.defaultLevel;
    const fabricName = FABRIC_LOGGER_NAMES[component];
    return (
      (fabricName !== undefined ? specLevelFor(this.parsed, fabricName) : undefined) ??
      specLevelFor(this.parsed, component) ??
      this.parsed.defaultLevel
    );
  }

  /** Loggers currently tracked (for tests). */
  trackedCount(): number {
    let n = 0;
    for (const ref of this.children) if (ref.deref()) n++;
    return n;
  }

  private track(child: Logger): void {
    this.apply(child);
    this.children.add(new WeakRef(child));
    if (this.children.size >= this.pruneAt) {
      for (const ref of this.children) if (!ref.deref()) this.children.delete(ref);
      this.pruneAt = Math.max(256, this.children.size * 2);
    }
  }

  private apply(child: Logger): void {
    const component = (child.bindings() as { component?: unknown }).component;
    child.level = PINO_LEVEL[this.levelFor(typeof component === 'string' ? component : undefined)];
  }
}
