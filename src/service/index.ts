/** The gossip service (PROTOCOL.md §10): per-channel wiring of gossip, state, deliver and election. */
export {
  GossipService,
  type GossipServiceOptions,
  type ServiceCrypto,
  type GossipPayloadLike,
} from './service.js';
export { ServiceChannel } from './channel.js';
export { setupFromConfig, parseSetup, toSetup, configBlockOf, isChannelSetup } from './setup.js';
export type { ChannelSetup, OrdererSetup, ChannelConfigInput, ConfigParser } from './setup.js';
export { watchConfigBlocks, txCountUpTo2 } from './configwatch.js';
// The MCS adapters live with the gossip node, which uses them first.
export { McsChannels as ChannelCryptoRegistry, commCryptoFromMcs } from '../core/gossip/mcsadapter.js';
