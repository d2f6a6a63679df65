/**
 * orderer.AtomicBroadcast with raw frames (shared by the deliver client and the embedded orderer): requests stay the bytes the client sent (envelopes go
 * into blocks exactly as received) and blocks are sent as stored, never re-encoded.
 * DeliverResponse frames are built and parsed by src/wire/deliver-frames.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { AtomicBroadcastService, rawStreamMethod } from '../../wire/services.js';

export const RawAtomicBroadcastService = {
  Broadcast: rawStreamMethod(AtomicBroadcastService.Broadcast.path, 'Broadcast'),
  Deliver: rawStreamMethod(AtomicBroadcastService.Deliver.path, 'Deliver'),
} satisfies grpc.ServiceDefinition;
