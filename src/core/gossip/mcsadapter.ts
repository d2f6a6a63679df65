/**
 * Wiring a real peer's MessageCryptoService (src/identity/mcs.ts) into the layers:
 *   McsChannels: the MCS's channel provider; the gossip node registers every joined channel's
 *     MSPs and policies here (GossipNodeOptions.channelCrypto), so foreign-org identities
 *     validate once a shared channel is joined (§2.4).
 *   commCryptoFromMcs: the comm layer's CommCrypto (identity store validator, handshake
 *     signature check, org of an identity) on top of the same MCS.
 */
import type { CommCrypto } from '../link/types.js';
import type { ChannelProvider } from '../../identity/mcs.js';
import type { MessageCryptoService } from '../../identity/mcs.js';
import type { ChannelCryptoContext } from '../../identity/types.js';
import { parseSerializedIdentity } from '../../identity/x509identity.js';

export class McsChannels implements ChannelProvider {
  private readonly channels = new Map<string, ChannelCryptoContext>();
  get(channelId: string): ChannelCryptoContext | undefined {
    return this.channels.get(channelId);
  }
  all(): Iterable<ChannelCryptoContext> {
    return this.channels.values();
  }
  set(channelId: string, ctx: ChannelCryptoContext): void {
    this.channels.set(channelId, ctx);
  }
}

export function commCryptoFromMcs(
  mcs: Pick<MessageCryptoService, 'pkiIdOf' | 'validateIdentity' | 'expiration' | 'verify'>,
): CommCrypto {
  return {
    pkiIdOf: (identity) => mcs.pkiIdOf(identity),
    expiration: (identity) => mcs.expiration(identity),
    validateIdentity: (identity) => mcs.validateIdentity(identity),
    verifySignature(identity, signature, data) {
      try {
        mcs.verify(identity, signature, data);
        return true;
      } catch {
        return false;
      }
    },
    orgOf(identity) {
      try {
        return parseSerializedIdentity(identity).mspId;
      } catch {
        return undefined;
      }
    },
  };
}
