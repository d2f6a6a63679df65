/** State transfer and in-order commit (PROTOCOL.md §9) and Grapevine's fast catch-up. */
export { StateProvider, type StateProviderOptions } from './provider.js';
export { PayloadBuffer, type BufferedPayload, type PushResult } from './buffer.js';
export {
  stateConfig,
  FABRIC_STATE_DEFAULTS,
  CATCHUP_DEFAULTS,
  type StateConfig,
  type StateConfigInput,
  type CatchupConfig,
} from './config.js';
export { StateError, type StateDropReason } from './errors.js';
export {
  stateRequestMessage,
  stateResponseMessage,
  isStateMessage,
  stateMessageRefusal,
} from './messages.js';
export type { ChannelView, StatePeer, StateLedger, StateCrypto, PayloadSource } from './types.js';
export {
  buildCatchupRequest,
  verifyCatchupRequest,
  CatchupRequestError,
  type CatchupRequest,
} from './catchup/request.js';
export { channelViewOf, attachToGossipNode } from './gossipadapter.js';
