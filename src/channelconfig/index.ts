/** Channel configuration: parsing, policies, the policy DSL and block-set verification. */
export { parsePolicyDsl, formatPolicyDsl } from './policydsl.js';
export { ChannelPolicies, PolicyGroup } from './policies.js';
export { SignaturePolicyImpl, type CompiledPolicy } from './signature-policy.js';
export { SignatureSet } from './signature-set.js';
export { parseGoDuration } from './duration.js';
export { parseChannelConfigWith, parseConfig, configOfBlock, type MspFactory } from './parse.js';
export type * from './types.js';
export { parseChannelConfig, verifyBlocks, x509MspFactory, mcsVerifyDeps } from './channel-config.js';
export { verifyBlocksWith, type BlockInput, type BlockResult, type BlockVerifyDeps } from './verify.js';
