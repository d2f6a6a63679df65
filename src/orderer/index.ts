/** The embedded single-node ordering service (orderer.AtomicBroadcast over TLS). */
export { Orderer, ORDERER_DEFAULTS, type OrdererOptions, type OrdererTls } from './server.js';
export { Chain, OrdererError, type ChainOptions } from './chain.js';
export { BlockCutter, type OrderedMessage, type CutResult } from './blockcutter.js';
export {
  BlockWriter,
  writerStateAfter,
  raftMetadataOf,
  METADATA_SLOTS,
  type WriterState,
} from './blockwriter.js';
export {
  processBroadcast,
  CHANNEL_WRITERS,
  CHANNEL_ORDERER_WRITERS,
  type BroadcastResult,
  type BroadcastDeps,
} from './broadcast.js';
export {
  handleDeliver,
  DeliverStreamError,
  CHANNEL_READERS,
  CHANNEL_ORDERER_READERS,
  type DeliverIO,
  type DeliverDeps,
} from './deliver.js';
export { loadOrdererConfig, type OrdererFileConfig, type OrdererFlags } from './config.js';
export { launchOrderer } from './launch.js';
