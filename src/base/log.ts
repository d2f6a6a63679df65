/**
 * Logging: pino, one child logger per component with `component`, and `channel` where it applies.
 * Level from GRAPEVINE_LOG_LEVEL (default info; tests default to silent); a peer's levels follow
 * FABRIC_LOGGING_SPEC (src/node/logspec.ts).
 *
 * Lines go to stderr in Fabric's formats (FabricLogDestination), chosen by FABRIC_LOGGING_FORMAT:
 *
 *   text (default)  2026-12-07 13:55:12.345 UTC 0051 INFO [gossip.discovery] discovery -> message key=value
 *                   Fabric's `%{time} %{id:04x} %{level:.4s} [%{module}] %{shortfunc} -> %{message}`,
 *                   in UTC, without colours; the function slot holds Grapevine's component name;
 *                   fields follow as key=value (a value with a space, quote or '=' JSON-quoted).
 *   json            {"level":"info","ts":1796653709.395,"name":"gossip.discovery","msg":"...",...fields}
 *                   as Fabric's zap JSON encoder: string level, ts in seconds, the logger name.
 *
 * The module/name is Fabric's logger name of the component (FABRIC_LOGGER_NAMES: discovery ->
 * gossip.discovery), or the component itself. A key bound twice (a child of a child) appears once,
 * the innermost value winning.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Our component names -> Fabric's logger names. Components not listed keep their own name. */
export const FABRIC_LOGGER_NAMES: Readonly<Record<string, string>> = {
  comm: 'gossip.comm',
  discovery: 'gossip.discovery',
  gossip: 'gossip.gossip',
  channel: 'gossip.channel',
  pull: 'gossip.pull',
  election: 'gossip.election',
  state: 'gossip.state',
  service: 'gossip.service',
  deliver: 'deliveryClient',
  ledger: 'ledgerstorage',
  orderer: 'orderer',
  operations: 'operations.runner',
  node: 'peer',
};

export type LogFormat = 'text' | 'json';

/** FABRIC_LOGGING_FORMAT: `json`, else Fabric's text format (custom format strings are not supported). */
export function logFormatFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): LogFormat {
  return (env.FABRIC_LOGGING_FORMAT ?? '').trim().toLowerCase() === 'json' ? 'json' : 'text';
}

const LEVEL_TEXT: Readonly<Record<number, string>> = {
  10: 'DEBU',
  20: 'DEBU',
  30: 'INFO',
  40: 'WARN',
  50: 'ERRO',
  60: 'FATA',
};
const LEVEL_JSON: Readonly<Record<number, string>> = {
  10: 'debug',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** 2026-12-07 13:55:12.345 UTC */
export function fabricTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`
  );
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return String(v);
  // pino's error serializer: {type, message, stack}
  const m = (v as { message?: unknown }).message;
  if (typeof m === 'string' && 'stack' in (v as object)) return JSON.stringify(m);
  return JSON.stringify(v);
}

/** Fields pino adds that Fabric's lines do not carry. */
const DROPPED = new Set(['level', 'time', 'msg', 'component', 'pid', 'hostname']);

/** A pino destination writing Fabric's text or JSON lines (see the top of this file). */
export class FabricLogDestination implements DestinationStream {
  private seq = 0;
  private readonly out: { write(s: string): unknown };

  constructor(
    private readonly o: {
      readonly format: LogFormat;
      /** Default: process.stderr. */
      readonly out?: { write(s: string): unknown };
      /** The name of lines without a component. Default 'grapevine'. */
      readonly rootName?: string;
    },
  ) {
    this.out = o.out ?? process.stderr;
  }

  write(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.out.write(line);
      return;
    }
    this.out.write(this.format(rec));
  }

  format(rec: Record<string, unknown>): string {
    const level = typeof rec.level === 'number' ? rec.level : 30;
    const time = typeof rec.time === 'number' ? rec.time : Date.now();
    const component = typeof rec.component === 'string' ? rec.component : undefined;
    const name = (component && FABRIC_LOGGER_NAMES[component]) ?? component ?? this.o.rootName ?? 'grapevine';
    const msg = typeof rec.msg === 'string' ? rec.msg : rec.msg === undefined ? '' : String(rec.msg);
    this.seq++;
    if (this.o.format === 'json') {
      const out: Record<string, unknown> = {
        level: LEVEL_JSON[level] ?? (level < 30 ? 'debug' : 'error'),
        ts: time / 1000,
        name,
        msg,
      };
      for (const [k, v] of Object.entries(rec)) if (!DROPPED.has(k)) out[k] = v;
      return `${JSON.stringify(out)}\n`;
    }
    let fields = '';
    for (const [k, v] of Object.entries(rec)) if (!DROPPED.has(k)) fields += ` ${k}=${fieldValue(v)}`;
    const lvl = LEVEL_TEXT[level] ?? (level < 30 ? 'DEBU' : 'ERRO');
    const seq = (this.seq & 0xffff).toString(16).padStart(4, '0');
    return `${fabricTime(time)} ${seq} ${lvl} [${name}] ${component ?? 'main'} -> ${msg}${fields}\n`;
  }
}

const defaultLevel = process.env.GRAPEVINE_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info');

export const rootLogger: Logger = pino(
  { level: defaultLevel, base: undefined },
  new FabricLogDestination({ format: logFormatFromEnv() }),
);

export function componentLogger(
  component: string,
  fields: Record<string, unknown> = {},
  parent: Logger = rootLogger,
): Logger {
  return parent.child({ component, ...fields });
}

/** A logger that drops everything (unit tests of one module). */
export const silentLogger: Logger = pino({ level: 'silent' });
