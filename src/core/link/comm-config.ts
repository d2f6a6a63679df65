/**
 * Comm layer configuration (PROTOCOL.md §1.2, §3, §11): a slice of the config table
 * (src/config/table.ts gives each key's default, check and meaning) plus the comm layer's own
 * settings.
 */
import { resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';

export const COMM_SLICE = slice(
  'comm config',
  {
    /** TCP + TLS connect deadline. */
    dialTimeoutMs: 'peer.gossip.dialTimeout',
    /** Ping deadline and handshake read deadline. */
    connTimeoutMs: 'peer.gossip.connTimeout',
    sendBuffSize: 'peer.gossip.sendBuffSize',
    /** Full = stop reading. */
    recvBuffSize: 'peer.gossip.recvBuffSize',
    maxRecvMsgSize: 'peer.maxRecvMsgSize',
    maxSendMsgSize: 'peer.maxSendMsgSize',
    /** Fabric servers refuse pings < 60 s apart. */
    clientKeepaliveIntervalMs: 'peer.keepalive.client.interval',
    clientKeepaliveTimeoutMs: 'peer.keepalive.client.timeout',
    /** The server pings an idle client. */
    serverKeepaliveIntervalMs: 'peer.keepalive.interval',
    serverKeepaliveTimeoutMs: 'peer.keepalive.timeout',
    /** Verify client certificates against the orgs' TLS CAs. */
    clientAuthRequired: 'peer.tls.clientAuthRequired',
    /**
     * An inbound connection must finish its TLS handshake within this (Fabric's
     * grpc.ConnectionTimeout); a client that never does is cut.
     */
    serverConnTimeoutMs: 'peer.connectiontimeout',
    /** Connection caps and the first-stream deadline of the server's port (base/conn-gate.ts). */
    maxConns: 'grapevine.connLimits.maxConns',
    maxConnsPerAddress: 'grapevine.connLimits.maxConnsPerAddress',
    idleTimeoutMs: 'grapevine.connLimits.idleTimeout',
    maxUnauthenticatedBytes: 'grapevine.connLimits.maxUnauthenticatedBytes',
    maxUnauthenticatedBytesTotal: 'grapevine.connLimits.maxUnauthenticatedBytesTotal',
  } as const,
  {
    /** Stream deadline of a probe=true handshake (Fabric's handshakeTimeout, 10 s). */
    handshakeTimeoutMs: 10_000,
    /** Sends waiting for room in a full queue (respond, sendWithAck), per connection; beyond: dropped. */
    maxBlockedSends: 1000,
    /**
     * Both peers dialled each other at once: an existing connection younger than this, in the
     * other direction, is kept when it was opened by the peer with the lower PKI-ID (so both ends
     * keep the same TCP connection). Older ones are replaced as Fabric does (§3.3).
     */
    dedupWindowMs: 5000,
    /** Capacity of the presumed-dead notification backlog (Fabric: channel of 100). */
    presumedDeadBuffer: 100,
    /**
     * stop(): how long (real time) to wait for work in progress to wind down after everything was
     * closed and aborted; past it the transport stops anyway (every socket is already destroyed).
     */
    stopGraceMs: 2000,
  },
);

export type CommConfig = SliceConfig<typeof COMM_SLICE>;

export const FABRIC_COMM_DEFAULTS: CommConfig = Object.freeze(sliceDefaults(COMM_SLICE));

/**
 * Fabric defaults overridden by `overrides`. As Fabric's GetIntOrDefault/GetDurationOrDefault,
 * a 0 means the default; the client keepalive is at least 60 s (Fabric servers close clients
 * that ping more often). Throws ConfigError naming the bad key.
 */
export function commConfig(overrides: Partial<CommConfig> = {}): CommConfig {
  return resolveSlice(COMM_SLICE, overrides);
}
