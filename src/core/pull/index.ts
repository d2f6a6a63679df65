/** The pull engine (PROTOCOL.md §6.4) and its block-pull instance. */
export { PullEngine } from './engine.js';
export type { PullAdapter, PullEngineOptions, PullMember, PullDropReason } from './engine.js';
export { PullItemStore, itemKey } from './store.js';
export type { PullItem, AddResult } from './store.js';
export { pullConfig, FABRIC_PULL_DEFAULTS } from './config.js';
export type { PullConfig } from './config.js';
export { sameOrgOrOurOrgPullFilter } from './filter.js';
export type { OrgView } from './filter.js';
export {
  helloEnvelope,
  digestEnvelope,
  requestEnvelope,
  updateEnvelope,
  pullMsgTypeOf,
  isPullCase,
} from './messages.js';
export type { PullWireKind, PullMessageCase } from './messages.js';
export { createBlockPuller, blockItemId, parseBlockDigest, BlockUpdateError } from './block-puller.js';
export type { BlockPuller, BlockPullerOptions, BlockPullDeps } from './block-puller.js';
export type { PulledBlock, BlockPullHooks, BlockStoreView } from '../channel/types.js';
