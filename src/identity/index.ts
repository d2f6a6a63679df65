/** The identity layer's public API (PROTOCOL.md §2). */
export type * from './types.js';
export { loadMspFolder, fabricMspConfigFromFolder } from './mspdir.js';
export type { MspFolder, PemFile, NodeOUsConfig, OuIdentifierConfig } from './mspdir.js';
export {
  serializeIdentity,
  pkiIdOf,
  pkiIdFromParts,
  parseSerializedIdentity,
  certToPem,
  wellFormedCert,
  identityFromSerialized,
  X509Identity,
} from './x509identity.js';
export { pemDecode, pemDecodeAll, pemEncode } from './pem.js';
export type { PemBlock } from './pem.js';
export {
  signEcdsa,
  checkEcdsa,
  verifyEcdsa,
  parseEcdsaSignature,
  encodeEcdsaSignature,
  curveOrder,
  EcdsaVerifier,
} from './ecdsa.js';
export type { VerifierStats } from './ecdsa.js';
export { parseCert } from './cert.js';
export type { CertInfo } from './cert.js';
export { LruCache } from './lru.js';
export { mspFromFabricConfig, X509Msp } from './msp.js';
export type { MspOptions, OuIdentifier } from './msp.js';
export { loadSigningIdentity, createSigner } from './signer.js';
export { createMspManager } from './manager.js';
export { parseCrl } from './crl.js';
export type { Crl } from './crl.js';
export {
  MessageCryptoService,
  checkTransactionsWellFormed,
  READERS_POLICY,
  BLOCK_VALIDATION_POLICY,
} from './mcs.js';
export type { ChannelProvider } from './mcs.js';
