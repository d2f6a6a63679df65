/** The peer's configuration: core.yaml + CORE_* environment -> PeerConfig, and its module views. */
export {
  loadPeerConfig,
  PeerConfigError,
  detectIPv4,
  FABRIC_CONFIG_DIR,
  type LoadPeerConfigOptions,
} from './load.js';
export { KEYS, envName, type KeyDef } from './keys.js';
export {
  commConfigOf,
  discoveryConfigOf,
  channelGossipConfigOf,
  pullConfigOf,
  emitterConfigOf,
  gossipNodeConfigOf,
  electionConfigOf,
  stateConfigOf,
  streamConfigOf,
  deliverConfigOf,
  type DeliverConfigOptions,
} from './modules.js';
export type * from './types.js';
