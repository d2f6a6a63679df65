/**
 * Deliver client configuration (`peer.deliveryclient.*`, PROTOCOL.md §8, §11): one typed place,
 * Fabric v2.4.9's defaults. As Fabric's GetDurationOrDefault, a 0 duration means the default.
 */
import { ConfigError } from '../../base/errors.js';
import { MAX_MESSAGE_BYTES } from '../../wire/services.js';

export interface AddressOverride {
  /** The address as written in the channel config. */
  readonly from: string;
  readonly to: string;
  /** PEM CA certificates to trust for `to` (caCertsFile contents). */
  readonly caCerts: readonly Uint8Array[];
}

export interface DeliverClientConfig {
  /** `peer.deliveryclient.blockGossipEnabled`: the leader gossips the blocks it pulls. Fabric true. */
  readonly blockGossipEnabled: boolean;
  /** `peer.deliveryclient.reconnectTotalTimeThreshold` (ms): total backoff before an elected leader yields. Fabric 3600 s. */
  readonly reconnectTotalTimeThresholdMs: number;
  /** `peer.deliveryclient.connTimeout` (ms): orderer dial timeout. Fabric 3 s. */
  readonly connTimeoutMs: number;
  /** `peer.deliveryclient.reConnectBackoffThreshold` (ms): cap of one backoff sleep. Fabric 3600 s. */
  readonly reConnectBackoffThresholdMs: number;
  /** `peer.deliveryclient.addressOverrides`. */
  readonly addressOverrides: readonly AddressOverride[];
  /** `peer.keepalive.deliveryClient.interval` / `.timeout` (ms). Fabric 60 s / 20 s. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  /** `peer.maxRecvMsgSize` / `peer.maxSendMsgSize`. Fabric 100 MiB. */
  readonly maxRecvMsgSize: number;
  readonly maxSendMsgSize: number;
}

export const FABRIC_DELIVER_DEFAULTS: DeliverClientConfig = Object.freeze({
  blockGossipEnabled: true,
  reconnectTotalTimeThresholdMs: 3_600_000,
  connTimeoutMs: 3_000,
  reConnectBackoffThresholdMs: 3_600_000,
  addressOverrides: [],
  keepaliveIntervalMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxRecvMsgSize: MAX_MESSAGE_BYTES,
  maxSendMsgSize: MAX_MESSAGE_BYTES,
});

const DURATIONS = [
  'reconnectTotalTimeThresholdMs',
  'connTimeoutMs',
  'reConnectBackoffThresholdMs',
  'keepaliveIntervalMs',
  'keepaliveTimeoutMs',
] as const;

/** Fill defaults (0 durations included) and validate; throws ConfigError naming the key. */
export function resolveDeliverConfig(input: Partial<DeliverClientConfig> = {}): DeliverClientConfig {
  const out: { -readonly [K in keyof DeliverClientConfig]: DeliverClientConfig[K] } = {
    ...FABRIC_DELIVER_DEFAULTS,
  };
  for (const [k, v] of Object.entries(input) as [keyof DeliverClientConfig, unknown][]) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  for (const k of DURATIONS) {
    const v = out[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(
        'BAD_CONFIG',
        `peer.deliveryclient: ${k} must be a non-negative number of ms, got ${String(v)}`,
      );
    }
    if (v === 0) out[k] = FABRIC_DELIVER_DEFAULTS[k];
  }
  for (const k of ['maxRecvMsgSize', 'maxSendMsgSize'] as const) {
    if (!Number.isSafeInteger(out[k]) || out[k] <= 0) {
      throw new ConfigError('BAD_CONFIG', `peer.${k} must be a positive integer, got ${String(out[k])}`);
    }
  }
  if (typeof out.blockGossipEnabled !== 'boolean') {
    throw new ConfigError('BAD_CONFIG', 'peer.deliveryclient.blockGossipEnabled must be true or false');
  }
  return out;
}
