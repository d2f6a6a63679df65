/**
 * What comm needs from the identity layer, and adapters that build it:
 *   CommCrypto = the identity store's validator (§2.5) + "verify a signature with this
 *   identity" (§2.4, the handshake's step 5) + org-of-identity (the identity switch, §3.1 step 5);
 *   built from the channel orgs' MSPs (the Msp contract of src/identity/types.ts).
 *   CommIdentity = our PKI-ID and signer, loaded from a cryptogen MSP folder.
 * An identity whose MSP ID no org has is refused with code UNKNOWN_MSP.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, VerifyError, errorMessage } from '../base/errors.js';
import type { Msp, MspIdentity } from '../identity/types.js';
import { parseSerializedIdentity, pkiIdOf, serializeIdentity } from '../identity/x509identity.js';
import { signEcdsa } from '../identity/ecdsa.js';
import type { CommTls } from './tls.js';
import type { CommCrypto, CommIdentity } from '../core/link/types.js';
import type { Clock } from '../base/time.js';

/**
 * CommCrypto over the MSPs of the channel orgs (pass the current set; `msps` is read on every
 * call, so a getter may return a new set after a config update).
 */
export function commCryptoFromMsps(msps: () => Iterable<Msp>, clock: Clock): CommCrypto {
  const find = (identity: Uint8Array): { msp: Msp; id: MspIdentity } => {
    let mspId: string;
    try {
      mspId = parseSerializedIdentity(identity).mspId;
    } catch (e) {
      throw new VerifyError('MALFORMED', `identity does not parse: ${errorMessage(e)}`, { cause: e });
    }
    for (const msp of msps()) {
      if (msp.id === mspId) return { msp, id: msp.deserialize(identity) };
    }
    throw new VerifyError('UNKNOWN_MSP', `no channel org has MSP ID ${JSON.stringify(mspId)}`);
  };
  const now = () => new Date(clock.now());
  return {
    pkiIdOf: (identity) => pkiIdOf(identity),
    expiration: (identity) => find(identity).id.expiresAt,
    validateIdentity(identity) {
      const { msp, id } = find(identity);
      msp.validate(id, now());
    },
    verifySignature: (identity, signature, data) => find(identity).id.verify(data, signature),
    orgOf(identity) {
      try {
        return parseSerializedIdentity(identity).mspId;
      } catch {
        return undefined;
      }
    },
  };
}

function onlyFile(dir: string, what: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch (e) {
    throw new ConfigError('MISSING_FILE', `${what}: cannot read folder ${dir}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (names.length === 0) throw new ConfigError('MISSING_FILE', `${what}: folder ${dir} is empty`);
  return join(dir, names.sort()[0]);
}

function readOrFail(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError('MISSING_FILE', `${what}: cannot read ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Our signing identity from an MSP folder (signcerts + keystore). */
export function loadCommIdentity(mspDir: string, mspId: string): CommIdentity {
  const certPath = onlyFile(join(mspDir, 'signcerts'), 'MSP signcerts');
  const keyPath = onlyFile(join(mspDir, 'keystore'), 'MSP keystore');
  const certPem = readOrFail(certPath, 'signing certificate');
  let key;
  try {
    key = createPrivateKey(readOrFail(keyPath, 'signing key'));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('BAD_KEY', `${keyPath}: not a private key: ${errorMessage(e)}`, { cause: e });
  }
  const serializedIdentity = serializeIdentity(mspId, new Uint8Array(certPem));
  return {
    pkiId: pkiIdOf(serializedIdentity),
    mspId,
    signer: { serializedIdentity, sign: (data) => signEcdsa(key, data) },
  };
}

/**
 * TLS material from a cryptogen `tls/` folder: server.crt/key (or client.crt/key) and ca.crt,
 * plus `extraRootCAs` (the other orgs' TLS CAs).
 */
export function loadCommTls(tlsDir: string, extraRootCAs: readonly Uint8Array[] = []): CommTls {
  const has = (n: string) => readdirSync(tlsDir).includes(n);
  const base = has('server.crt') ? 'server' : 'client';
  return {
    certPem: readOrFail(join(tlsDir, `${base}.crt`), 'TLS certificate'),
    keyPem: readOrFail(join(tlsDir, `${base}.key`), 'TLS key'),
    rootCAs: [readOrFail(join(tlsDir, 'ca.crt'), 'TLS CA certificate'), ...extraRootCAs],
  };
}
