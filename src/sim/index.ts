/** The simulated world (ARCHITECTURE.md §1): virtual time, seeded randomness, an in-memory network. */
export { VirtualClock, NodeClock, DEFAULT_EPOCH_MS } from './clock.js';
export { SeededRng } from './rng.js';
export { SimNetwork, SimSocket, SimNetError, DEFAULT_LINK } from './network.js';
export type { LinkSpec, NetworkOptions, NetStats } from './network.js';
export { SimTransport } from './transport.js';
export type { SimTransportOptions } from './transport.js';
export { SimLinkStream } from './conn.js';
export { SimRpc, SimCall, SimRpcError } from './rpc.js';
export type { SimRpcCode, SimRpcStatus, SimServerCall, SimRpcHandler, SimCallOptions } from './rpc.js';
export { SimNode } from './node.js';
export type { SimNodeOptions } from './node.js';
export { SimTrust } from './trust.js';
export { simCrypto, simOrg, simPeer, memoSigner } from './identities.js';
export type { SimCrypto, SimIdentity, SimOrg, SimOrgSpec } from './identities.js';
export { DeterministicP256Key } from './p256.js';
export { FaultSchedule } from './faults.js';
export type { Fault, ScheduledFault } from './faults.js';
export {
  SIM_DELIVER_METHOD,
  SimUpstreamConnector,
  serveSimDeliver,
  simReadersPolicy,
  withSimReaders,
} from './deliver.js';
export type { SimDeliverServerOptions, SimUpstreamOptions } from './deliver.js';
