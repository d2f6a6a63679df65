/**
 * What the link (link.ts) reads of the comm configuration; src/comm/config.ts's CommConfig
 * (core.yaml keys, Fabric defaults, checks) is one. Both worlds pass the same table.
 */
export interface LinkConfig {
  /** `peer.gossip.connTimeout`: handshake read deadline (ms). */
  readonly connTimeoutMs: number;
  /** `peer.gossip.sendBuffSize`: per-connection send queue; also sends waiting for one dial. */
  readonly sendBuffSize: number;
  /** `peer.gossip.recvBuffSize`: per-connection receive queue; full = stop reading. */
  readonly recvBuffSize: number;
  /** Sends waiting for room in a full queue (respond, sendWithAck), per connection. */
  readonly maxBlockedSends: number;
  /** `peer.maxRecvMsgSize` / `peer.maxSendMsgSize` (bytes). */
  readonly maxRecvMsgSize: number;
  readonly maxSendMsgSize: number;
  /** Window of the simultaneous-dial rule (connstore.ts). */
  readonly dedupWindowMs: number;
  /** Capacity of the presumed-dead backlog (Fabric: channel of 100). */
  readonly presumedDeadBuffer: number;
  /** stop(): longest wait for work in progress after everything was closed. */
  readonly stopGraceMs: number;
}
