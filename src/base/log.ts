/**
 * Logging: pino, one child logger per component with `component`, and `channel`/`peer` where
 * they apply. Level from GRAPEVINE_LOG_LEVEL (default info; tests default to silent).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const defaultLevel = process.env.GRAPEVINE_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info');

export const rootLogger: Logger = pino({ level: defaultLevel, base: undefined });

export function componentLogger(
  component: string,
  fields: Record<string, unknown> = {},
  parent: Logger = rootLogger,
): Logger {
  return parent.child({ component, ...fields });
}

/** A logger that drops everything (unit tests of one module). */
export const silentLogger: Logger = pino({ level: 'silent' });
