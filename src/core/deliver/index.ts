/** The deliver client (peer -> orderer, PROTOCOL.md §8). */
export {
  Deliverer,
  type DelivererOptions,
  type DeliverConnector,
  type DeliverStream,
  type DelivererStats,
} from './deliverer.js';
export { ConnectionSource, Endpoint, ordererOrgsOf, type OrdererOrgEndpoints } from './endpoints.js';
export {
  ReconnectBackoff,
  backoffDelayMs,
  maxFailures,
  INITIAL_RETRY_DELAY_MS,
  type BackoffStep,
} from './backoff.js';
export {
  FABRIC_DELIVER_DEFAULTS,
  resolveDeliverConfig,
  type DeliverClientConfig,
  type AddressOverride,
} from './config.js';
export { DeliverMetrics, type DelivererMetrics, type DisconnectReason } from './metrics.js';
