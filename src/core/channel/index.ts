/** Channels (PROTOCOL.md §5) and block dissemination (§6): the public API for the layers above. */
export { GossipChannel } from './channel.js';
export { Dissemination } from './dissemination.js';
export { BlockMessageStore, BLOCK_STORE_DEFAULTS } from './blockstore.js';
export type { StoredBlock, BlockRemoval, BlockMessageStoreOptions } from './blockstore.js';
export { createStateInfoCache, createForeignStateInfoStore, createLeadershipStore } from './stores.js';
export type { StateInfoCache, ForeignStateInfoStore, LeadershipStore, LeaderStamp } from './stores.js';
export { SelfStateInfo, parseStateInfo, peerTimeNewer } from './stateinfo.js';
export type { PeerTime, StateInfoEnvelope, ChaincodeInfo } from './stateinfo.js';
export { channelMac, bytesEqual } from './mac.js';
export { joinInfoFromConfig, isJoinInfo, orgsKey } from './join.js';
export type { JoinInfo, JoinOrg } from './join.js';
export { channelGossipConfig, FABRIC_CHANNEL_DEFAULTS } from './config.js';
export type { ChannelGossipConfig, ChannelGossipConfigInput } from './config.js';
export { GossipDropError, dropError } from './errors.js';
export type { GossipDropReason } from './errors.js';
export type * from './types.js';
