/** cryptogen-compatible crypto material: crypto-config.yaml parsing and folder generation. */
export {
  parseCryptoConfig,
  validateCryptoConfig,
  CryptoConfigSchema,
  type CryptoConfig,
  type OrgSpec,
  type NodeSpec,
  type NodeTemplate,
  type UsersSpec,
} from './config.js';
export {
  renderCryptoConfig,
  renderTemplate,
  type ResolvedOrg,
  type ResolvedNode,
  type CaSubject,
} from './render.js';
export { generateCrypto, nodeOUsConfigYaml, type GenerateOptions } from './generate.js';
export { subjectKeyId, validityFor } from './certs.js';
