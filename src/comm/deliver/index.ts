/** orderer.AtomicBroadcast over gRPC: the deliver client's connector and raw frames (shared with the orderer). */
export { GrpcDeliverConnector, DeliverConnectError, type DeliverTls } from './grpc.js';
export { RawAtomicBroadcastService } from './frames.js';
