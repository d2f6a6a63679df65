/**
 * The comm layer's crypto over the MessageCryptoService (PROTOCOL.md §2.4, §2.5, §3.2), as
 * Fabric's comm verifies a ConnEstablish through the identity mapper and the MCS: identities are
 * validated by the local MSP or a joined channel's MSPs, signatures are checked with mcs.Verify
 * (a channel identity through that channel's Readers policy).
 */
import type { CommCrypto } from '../comm/identity.js';
import type { MessageCryptoService } from '../identity/mcs.js';
import { parseSerializedIdentity } from '../identity/x509identity.js';

export function commCryptoFromMcs(mcs: Pick<MessageCryptoService, 'pkiIdOf' | 'validateIdentity' | 'expiration' | 'verify'>): CommCrypto {
  return {
    pkiIdOf: (identity) => mcs.pkiIdOf(identity),
    validateIdentity: (identity) => mcs.validateIdentity(identity),
    expiration: (identity) => mcs.expiration(identity),
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
