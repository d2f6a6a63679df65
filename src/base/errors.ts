/**
 * Typed errors with a stable `code`, so callers (and metrics) can tell failures apart
 * without matching on message text.
 */
export class GrapevineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bytes that do not decode as the expected protobuf or structure. */
export class WireError extends GrapevineError {}

/** A signature, certificate, identity or block that fails a check. */
export class VerifyError extends GrapevineError {}

/** Bad configuration or files given by the user. */
export class ConfigError extends GrapevineError {}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A broken internal invariant: a bug in this code, never a bad input or a peer's fault. */
export class InvariantError extends GrapevineError {}

/**
 * Throw InvariantError('INVARIANT', message) unless `cond` holds. Pass a function to build the
 * message only when it fails (hot paths).
 */
export function invariant(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError('INVARIANT', typeof message === 'string' ? message : message());
}
