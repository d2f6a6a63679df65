/**
 * Grapevine as a library (the package's `exports` entry, `import { ... } from 'grapevine'`):
 * what Node.js Fabric tooling needs, typed, and nothing else.
 *   - identities and MSPs: MSP folders (cryptogen's layout), signing identities, MSPs from a
 *     FabricMSPConfig, serialized identities and PKI-IDs;
 *   - blocks: decode/encode, verification against a channel config block (hash chain, orderer
 *     signatures, BlockValidation policy), and the JSON `configtxlator proto_decode` prints;
 *   - configuration: a peer's core.yaml (+ CORE_* variables), the orderer's;
 *   - the deliver client: OrdererClient (Broadcast; Deliver of one block or the config block);
 *   - the embedded orderer and the peer daemon.
 * Everything else under dist/ is internal and may change without notice.
 */

// identities and MSPs
export {
  loadMspFolder,
  fabricMspConfigFromFolder,
  mspFromFabricConfig,
  createMspManager,
  loadSigningIdentity,
  serializeIdentity,
  parseSerializedIdentity,
  identityFromSerialized,
  pkiIdOf,
  parseCert,
  pemDecode,
  pemEncode,
} from './identity/index.js';
export type {
  LocalIdentity,
  Msp,
  MspIdentity,
  MspManager,
  NodeRole,
  MspFolder,
  CertInfo,
} from './identity/index.js';
export type { Signer } from './wire/signer.js';

// blocks: wire form, verification, JSON
export { decodeBlock, encodeBlock, isConfigBlock, blockChannelId } from './wire/block.js';
export type { Block } from './wire/gen/common/common_pb.js';
export { verifyBlocks, configOfBlock, parseChannelConfig } from './channelconfig/index.js';
export type { BlockInput, BlockResult, ChannelConfig } from './channelconfig/index.js';
export {
  blockToJson,
  jsonToBlock,
  bytesToTree,
  jsonToBytes,
  formatJson,
  MESSAGE_TYPES,
} from './blockjson/index.js';

// configuration
export { loadPeerConfig, PeerConfigError, type LoadPeerConfigOptions } from './node/config/index.js';
export type { PeerConfig } from './node/config/index.js';
export { loadOrdererConfig, type OrdererFileConfig, type OrdererFlags } from './orderer/config.js';

// the deliver client (orderer.AtomicBroadcast)
export { OrdererClient, OrdererClientError, type OrdererClientOptions } from './orderer/client.js';

// the embedded orderer and the peer
export { launchOrderer } from './orderer/launch.js';
export { Orderer } from './orderer/server.js';
export { PeerDaemon, type PeerDaemonOptions } from './node/daemon.js';

// errors and version
export { GrapevineError, ConfigError, VerifyError, WireError } from './base/errors.js';
export { grapevineVersion } from './base/version.js';
