/**
 * The local signing identity from an MSP folder (Fabric's local MSP): signcerts[0] is the
 * certificate, the keystore file whose key matches it is the key. The serialized identity
 * carries the certificate PEM-encoded as Go writes it (§2.1), so its PKI-ID is what Fabric
 * peers compute for us. Signatures: ECDSA P-256 / SHA-256 / DER / low-S (§2.3).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, GrapevineError } from '../base/errors.js';
import type { Signer } from '../wire/signer.js';
import { signEcdsa } from './ecdsa.js';
import { fabricMspConfigFromFolder, loadMspFolder, type PemFile } from './mspdir.js';
import { mspFromFabricConfig } from './msp.js';
import { pemDecode } from './pem.js';
import type { LocalIdentity } from './types.js';
import { certToPem, serializeIdentity } from './x509identity.js';

/** A Signer over an EC private key. */
export function createSigner(key: KeyObject, serializedIdentity: Uint8Array): Signer {
  return {
    serializedIdentity,
    sign: (data: Uint8Array) => signEcdsa(key, data),
  };
}

function spki(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

function matchingKey(keystore: readonly PemFile[], certKey: KeyObject, dir: string): KeyObject {
  const want = spki(certKey);
  for (const f of keystore) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: Buffer.from(f.bytes), format: 'pem' });
    } catch (e) {
      throw new ConfigError('BAD_KEY', `${f.path}: not a valid private key: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (spki(createPublicKey(key)).equals(want)) return key;
  }
  throw new ConfigError(
    'KEY_MISMATCH',
    `${dir}/keystore: no key matches the signing certificate (${keystore.map((f) => f.path).join(', ')})`,
  );
}

/** Load the signing identity of an MSP folder; throws ConfigError naming the file and problem. */
export function loadSigningIdentity(mspDir: string, mspId: string, opts: { now: Date }): LocalIdentity {
  const now = opts.now;
  const folder = loadMspFolder(mspDir);
  if (folder.signcerts.length === 0)
    throw new ConfigError('MISSING_SIGNCERT', `${mspDir}/signcerts: no signing certificate found`);
  if (folder.keystore.length === 0)
    throw new ConfigError('MISSING_KEYSTORE', `${mspDir}/keystore: missing or empty (no private key)`);
  let msp;
  try {
    msp = mspFromFabricConfig(fabricMspConfigFromFolder(folder, mspId));
  } catch (e) {
    throw new ConfigError((e as GrapevineError).code ?? 'MSP_SETUP', `${mspDir}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const certFile = folder.signcerts[0];
  const der = pemDecode(certFile.bytes)!.block.der;
  let identity = msp.deserialize(serializeIdentity(mspId, certToPem(der)));
  if (now.getTime() > identity.expiresAt.getTime()) {
    throw new ConfigError(
      'EXPIRED_SIGNCERT',
      `${certFile.path}: signing certificate expired at ${identity.expiresAt.toISOString()}`,
    );
  }
  try {
    msp.validate(identity, now);
    const canonical = msp.canonicalDer(identity);
    if (!Buffer.from(canonical).equals(der))
      identity = msp.deserialize(serializeIdentity(mspId, certToPem(canonical)));
  } catch (e) {
    throw new ConfigError(
      'INVALID_SIGNCERT',
      `${certFile.path}: signing certificate is not valid for MSP ${mspId}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const key = matchingKey(folder.keystore, identity.publicKey, mspDir);
  return { signer: createSigner(key, identity.serialized), identity, msp };
}
