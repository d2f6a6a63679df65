/**
 * gRPC service definitions for @grpc/grpc-js, with protobuf-es types:
 * `gossip.Gossip` (GossipStream, Ping) and `orderer.AtomicBroadcast` (Broadcast, Deliver).
 * Deserializers turn malformed bytes into a gRPC error instead of a crash.
 */
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import {
  EnvelopeSchema as GossipEnvelopeSchema,
  EmptySchema,
  type Envelope as GossipEnvelope,
  type Empty,
} from './gen/gossip/message_pb.js';
import {
  EnvelopeSchema as CommonEnvelopeSchema,
  type Envelope as CommonEnvelope,
} from './gen/common/common_pb.js';
import {
  BroadcastResponseSchema,
  DeliverResponseSchema,
  type BroadcastResponse,
  type DeliverResponse,
} from './gen/orderer/ab_pb.js';

function method<Req extends DescMessage, Res extends DescMessage>(
  path: string,
  req: Req,
  res: Res,
  requestStream: boolean,
  responseStream: boolean,
): grpc.MethodDefinition<MessageShape<Req>, MessageShape<Res>> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: (m: MessageShape<Req>) => Buffer.from(toBinary(req, m)),
    requestDeserialize: (b: Buffer) => fromBinary(req, b),
    responseSerialize: (m: MessageShape<Res>) => Buffer.from(toBinary(res, m)),
    responseDeserialize: (b: Buffer) => fromBinary(res, b),
    originalName: path.slice(path.lastIndexOf('/') + 1),
  };
}

const passthrough = (b: Buffer): Buffer => b;

/** A bidi-streaming method whose frames stay raw bytes (the caller encodes and decodes them). */
export function rawStreamMethod(path: string, name: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: passthrough,
    requestDeserialize: passthrough,
    responseSerialize: passthrough,
    responseDeserialize: passthrough,
    originalName: name,
  };
}

export const GossipService = {
  GossipStream: method('/gossip.Gossip/GossipStream', GossipEnvelopeSchema, GossipEnvelopeSchema, true, true),
  Ping: method('/gossip.Gossip/Ping', EmptySchema, EmptySchema, false, false),
} satisfies grpc.ServiceDefinition;

export const AtomicBroadcastService = {
  Broadcast: method(
    '/orderer.AtomicBroadcast/Broadcast',
    CommonEnvelopeSchema,
    BroadcastResponseSchema,
    true,
    true,
  ),
  Deliver: method(
    '/orderer.AtomicBroadcast/Deliver',
    CommonEnvelopeSchema,
    DeliverResponseSchema,
    true,
    true,
  ),
} satisfies grpc.ServiceDefinition;

export interface GossipServiceHandlers extends grpc.UntypedServiceImplementation {
  GossipStream: grpc.handleBidiStreamingCall<GossipEnvelope, GossipEnvelope>;
  Ping: grpc.handleUnaryCall<Empty, Empty>;
}

export interface AtomicBroadcastHandlers extends grpc.UntypedServiceImplementation {
  Broadcast: grpc.handleBidiStreamingCall<CommonEnvelope, BroadcastResponse>;
  Deliver: grpc.handleBidiStreamingCall<CommonEnvelope, DeliverResponse>;
}

export const GossipClient = grpc.makeGenericClientConstructor(GossipService, 'gossip.Gossip');
export const AtomicBroadcastClient = grpc.makeGenericClientConstructor(
  AtomicBroadcastService,
  'orderer.AtomicBroadcast',
);

export interface GossipClientApi extends grpc.Client {
  GossipStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<GossipEnvelope, GossipEnvelope>;
  Ping(
    req: Empty,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Empty) => void,
  ): grpc.ClientUnaryCall;
}

export interface AtomicBroadcastClientApi extends grpc.Client {
  Broadcast(options?: grpc.CallOptions): grpc.ClientDuplexStream<CommonEnvelope, BroadcastResponse>;
  Deliver(options?: grpc.CallOptions): grpc.ClientDuplexStream<CommonEnvelope, DeliverResponse>;
}

/** Fabric's default max send/receive message size (PROTOCOL.md §1.2; the config table's default). */
export { MAX_MESSAGE_BYTES } from '../config/table.js';
