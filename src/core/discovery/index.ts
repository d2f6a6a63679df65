/** Discovery and membership (PROTOCOL.md §4): the public API for the layers above. */
export { Discovery } from './discovery.js';
export { preferredEndpoint, remotePeerOf } from './endpoint.js';
export type { Endpoints } from './endpoint.js';
export type { DiscoveryOptions, AnchorPeer } from './discovery.js';
export { discoveryConfig, FABRIC_DISCOVERY_DEFAULTS, isHostPort } from './config.js';
export type { DiscoveryConfig, DiscoveryConfigInput } from './config.js';
export {
  DiscoveryDropError,
  isNewer,
  parseAlive,
  validateAlive,
  stripSecret,
  internalEndpointOf,
} from './alive.js';
export { discloses, envelopeFor, aliveRoutable } from './disclosure.js';
export type { Party } from './disclosure.js';
export { SelfAlive, membershipRequest, membershipResponse } from './self.js';
export type * from './types.js';
