/**
 * Comm layer configuration (PROTOCOL.md §1.2, §3, §11): one typed place, Fabric's defaults.
 * Key names in comments are core.yaml's.
 */
import { ConfigError } from '../base/errors.js';
import { MAX_MESSAGE_BYTES } from '../wire/services.js';

export interface CommConfig {
  /** `peer.gossip.dialTimeout`: TCP + TLS connect deadline (ms). */
  readonly dialTimeoutMs: number;
  /** `peer.gossip.connTimeout`: Ping deadline and handshake read deadline (ms). */
  readonly connTimeoutMs: number;
  /** Stream deadline of a probe=true handshake (Fabric's handshakeTimeout, 10 s). */
  readonly handshakeTimeoutMs: number;
  /** `peer.gossip.sendBuffSize`: per-connection send queue (code default 20; core.yaml 200). */
  readonly sendBuffSize: number;
  /** `peer.gossip.recvBuffSize`: per-connection receive queue; full = stop reading. */
  readonly recvBuffSize: number;
  /** Sends waiting for room in a full queue (respond, sendWithAck), per connection; beyond: dropped. */
  readonly maxBlockedSends: number;
  /** `peer.maxRecvMsgSize` / `peer.maxSendMsgSize` (bytes). */
  readonly maxRecvMsgSize: number;
  readonly maxSendMsgSize: number;
  /** `peer.keepalive.client.interval` / `.timeout` (ms); Fabric servers refuse pings < 60 s apart. */
  readonly clientKeepaliveIntervalMs: number;
  readonly clientKeepaliveTimeoutMs: number;
  /** `peer.keepalive.interval` / `.timeout`: the server pings an idle client (ms). */
  readonly serverKeepaliveIntervalMs: number;
  readonly serverKeepaliveTimeoutMs: number;
  /** `peer.tls.clientAuthRequired`: verify client certificates against the orgs' TLS CAs. */
  readonly clientAuthRequired: boolean;
  /**
   * Both peers dialled each other at once: an existing connection younger than this, in the
   * other direction, is kept when it was opened by the peer with the lower PKI-ID (so both ends
   * keep the same TCP connection). Older ones are replaced as Fabric does (§3.3).
   */
  readonly dedupWindowMs: number;
  /** Capacity of the presumed-dead notification backlog (Fabric: channel of 100). */
  readonly presumedDeadBuffer: number;
  /**
   * `peer.connectiontimeout`: an inbound connection must finish its TLS handshake within this
   * (Fabric's grpc.ConnectionTimeout, 5 s); a client that never does is cut.
   */
  readonly serverConnTimeoutMs: number;
  /**
   * stop(): how long (real time) to wait for work in progress to wind down after everything was
   * closed and aborted; past it the transport stops anyway (every socket is already destroyed).
   */
  readonly stopGraceMs: number;
}

export const FABRIC_COMM_DEFAULTS: CommConfig = Object.freeze({
  dialTimeoutMs: 3000,
  connTimeoutMs: 2000,
  handshakeTimeoutMs: 10_000,
  sendBuffSize: 20,
  recvBuffSize: 20,
  maxBlockedSends: 1000,
  maxRecvMsgSize: MAX_MESSAGE_BYTES,
  maxSendMsgSize: MAX_MESSAGE_BYTES,
  clientKeepaliveIntervalMs: 60_000,
  clientKeepaliveTimeoutMs: 20_000,
  serverKeepaliveIntervalMs: 7_200_000,
  serverKeepaliveTimeoutMs: 20_000,
  clientAuthRequired: false,
  dedupWindowMs: 5000,
  presumedDeadBuffer: 100,
  serverConnTimeoutMs: 5000,
  stopGraceMs: 2000,
});

const MIN_CLIENT_KEEPALIVE_MS = 60_000;

/**
 * Fabric defaults overridden by `overrides`. As Fabric's GetIntOrDefault/GetDurationOrDefault,
 * a 0 means the default. Throws ConfigError naming the bad key.
 */
export function commConfig(overrides: Partial<CommConfig> = {}): CommConfig {
  const out: Record<string, number | boolean> = { ...FABRIC_COMM_DEFAULTS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in FABRIC_COMM_DEFAULTS))
      throw new ConfigError('UNKNOWN_KEY', `comm config: unknown key ${key}`);
    const def = (FABRIC_COMM_DEFAULTS as unknown as Record<string, number | boolean>)[key];
    if (typeof def === 'boolean') {
      if (typeof value !== 'boolean')
        throw new ConfigError('BAD_VALUE', `comm config: ${key} must be a boolean`);
      out[key] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
      throw new ConfigError(
        'BAD_VALUE',
        `comm config: ${key} must be a non-negative integer, got ${String(value)}`,
      );
    }
    out[key] = value === 0 ? def : value;
  }
  const cfg = out as unknown as CommConfig;
  if (cfg.clientKeepaliveIntervalMs < MIN_CLIENT_KEEPALIVE_MS) {
    throw new ConfigError(
      'BAD_VALUE',
      `comm config: clientKeepaliveIntervalMs ${cfg.clientKeepaliveIntervalMs} < 60000; Fabric servers close clients that ping more often`,
    );
  }
  return cfg;
}
