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
