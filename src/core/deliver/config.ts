/**
 * Deliver client configuration (`peer.deliveryclient.*`, PROTOCOL.md §8, §11): a slice of the
 * config table (src/config/table.ts gives each key's default, check and meaning). As Fabric's
 * GetDurationOrDefault, a 0 duration means the default.
 */
import { fields, resolveSlice, slice, sliceDefaults, type SliceConfig } from '../../config/slice.js';

export interface AddressOverride {
  /** The address as written in the channel config. */
  readonly from: string;
  readonly to: string;
  /** PEM CA certificates to trust for `to` (caCertsFile contents). */
  readonly caCerts: readonly Uint8Array[];
}

export const DELIVER_SLICE = slice(
  'deliver client config',
  {
    ...fields(
      'peer.deliveryclient.blockGossipEnabled',
      'peer.deliveryclient.reconnectTotalTimeThreshold',
      'peer.deliveryclient.connTimeout',
      'peer.deliveryclient.reConnectBackoffThreshold',
      'peer.maxRecvMsgSize',
      'peer.maxSendMsgSize',
    ),
    keepaliveIntervalMs: 'peer.keepalive.deliveryClient.interval',
    keepaliveTimeoutMs: 'peer.keepalive.deliveryClient.timeout',
  } as const,
  {
    /** `peer.deliveryclient.addressOverrides`, with each caCertsFile read. */
    addressOverrides: [] as readonly AddressOverride[],
  },
);

export type DeliverClientConfig = SliceConfig<typeof DELIVER_SLICE>;

export const FABRIC_DELIVER_DEFAULTS: DeliverClientConfig = Object.freeze(sliceDefaults(DELIVER_SLICE));

/** Fill defaults (a 0 is the default) and check; throws ConfigError naming the key. */
export function resolveDeliverConfig(input: Partial<DeliverClientConfig> = {}): DeliverClientConfig {
  return resolveSlice(DELIVER_SLICE, input);
}
