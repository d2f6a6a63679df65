/** The operations server's options from the peer's core.yaml (`operations.*`, `metrics.provider`). */
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../base/errors.js';
import type { OperationsDeps, OperationsServerOptions, OperationsTlsOptions } from '../ops/operations.js';
import type { PeerConfig } from './config/types.js';

/**
 * Server options from the peer's config, reading the TLS files (ConfigError naming the key and
 * the file when one cannot be read). Undefined when operations.listenAddress is empty.
 * /metrics is served only with metrics.provider prometheus.
 */
export function operationsOptionsFromConfig(
  cfg: PeerConfig,
  deps: OperationsDeps = {},
): OperationsServerOptions | undefined {
  const ops = cfg.operations;
  if (ops.listenAddress === '') return undefined;
  const read = (key: string, file: string): Uint8Array => {
    try {
      return (deps.readFile ?? readFileSync)(file);
    } catch (e) {
      throw new ConfigError('BAD_FILE', `${key}: cannot read ${file}: ${errorMessage(e)}`);
    }
  };
  const tls: OperationsTlsOptions | undefined = ops.tls.enabled
    ? {
        cert: read('operations.tls.cert.file', ops.tls.cert.file),
        key: read('operations.tls.key.file', ops.tls.key.file),
        clientRootCAs: ops.tls.clientRootCAs.files.map((f) => read('operations.tls.clientRootCAs.files', f)),
        clientAuthRequired: ops.tls.clientAuthRequired,
      }
    : undefined;
  return {
    listenAddress: ops.listenAddress,
    ...(tls ? { tls } : {}),
    ...(cfg.metrics.provider === 'prometheus' && deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.logSpec ? { logSpec: deps.logSpec } : {}),
    ...(deps.version ? { version: deps.version } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    connLimits: {
      maxConns: cfg.grapevine.connLimits.maxConns,
      maxConnsPerAddress: cfg.grapevine.connLimits.maxConnsPerAddress,
      handshakeTimeoutMs: cfg.peer.connectiontimeoutMs,
      idleTimeoutMs: cfg.grapevine.connLimits.idleTimeoutMs,
      maxUnauthenticatedBytes: cfg.grapevine.connLimits.maxUnauthenticatedBytes,
      maxUnauthenticatedBytesTotal: cfg.grapevine.connLimits.maxUnauthenticatedBytesTotal,
    },
    ...(deps.metrics ? { connMetrics: deps.metrics } : {}),
  };
}
