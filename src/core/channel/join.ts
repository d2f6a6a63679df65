/**
 * What joining (or reconfiguring) a channel needs (PROTOCOL.md §5.1, §10.2): the config
 * sequence, the Application orgs' MSP IDs and their anchor peers. Built from a parsed channel
 * config, or given directly (simulation).
 */
import type { ChannelConfig } from '../../channelconfig/types.js';
import type { ChannelCryptoContext } from '../../identity/types.js';
import { byCodeUnits } from '../../base/order.js';

export interface JoinOrg {
  readonly mspId: string;
  readonly anchorPeers: readonly { readonly host: string; readonly port: number }[];
}

export interface JoinInfo {
  readonly channelId: string;
  readonly sequence: bigint;
  readonly orgs: readonly JoinOrg[];
  /** The channel's MSPs and policies (registered with the MessageCryptoService), when known. */
  readonly crypto?: ChannelCryptoContext;
}

export function joinInfoFromConfig(config: ChannelConfig): JoinInfo {
  return {
    channelId: config.channelId,
    sequence: config.sequence,
    orgs: config.applicationOrgs.map((o) => ({
      mspId: o.mspId,
      anchorPeers: o.anchorPeers.map((a) => ({ host: a.host, port: a.port })),
    })),
    crypto: config.cryptoContext(),
  };
}

export function isJoinInfo(x: JoinInfo | ChannelConfig): x is JoinInfo {
  return Array.isArray((x as JoinInfo).orgs);
}

/** A comparable key of the org set and anchors (§10.2: rejoin only when it changed). */
export function orgsKey(orgs: readonly JoinOrg[]): string {
  return JSON.stringify(
    orgs
      .map((o) => [o.mspId, o.anchorPeers.map((a) => `${a.host}:${a.port}`)])
      .sort((a, b) => byCodeUnits(String(a[0]), String(b[0]))),
  );
}
