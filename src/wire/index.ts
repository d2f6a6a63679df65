export * from './codec.js';
export * from './gossip.js';
export * from './block.js';
export * from './orderer.js';
export * from './services.js';
export * from './der.js';
export type { Signer } from './signer.js';
