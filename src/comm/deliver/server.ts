/**
 * `orderer.AtomicBroadcast/Deliver` on a gRPC server: the thin adapter from a grpc-js duplex call
 * to the I/O-free serving logic of core/deliver/serve.ts (seek semantics, statuses, checks, the
 * block loop over a DeliverSource; see there). Used by the embedded orderer over its Chain and by
 * every Grapevine peer over its ledger (the relay). This module adds only the call plumbing: the
 * requests, frames written under backpressure, the cancel signal, the client TLS certificate for
 * the binding check, and the gRPC error a failed stream ends with.
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import {
  DeliverStreamError,
  handleDeliver,
  type DeliverDeps,
  type DeliverIO,
} from '../../core/deliver/serve.js';
import { sha256 } from '../../wire/block.js';
import { deliverBlockFrame, deliverStatusFrame } from '../../wire/deliver-frames.js';
import { remoteCertDer } from '../tls.js';
import { authenticateCall } from '../listener.js';
import { RawAtomicBroadcastService } from './frames.js';

export {
  CHANNEL_ORDERER_READERS,
  CHANNEL_READERS,
  DELIVER_DATA_TYPE,
  DELIVER_FILTERED,
  DeliverStreamError,
  deliverMetrics,
  handleDeliver,
  readersOf,
  type DeliverDeps,
  type DeliverIO,
  type DeliverMetrics,
  type DeliverSource,
} from '../../core/deliver/serve.js';

type DuplexCall = grpc.ServerDuplexStream<Buffer, Buffer>;

/** An AbortSignal aborted when the call is cancelled or closed. */
export function cancelSignal(call: DuplexCall): AbortSignal {
  const ac = new AbortController();
  if (call.cancelled) ac.abort();
  call.on('cancelled', () => ac.abort());
  call.on('close', () => ac.abort());
  return ac.signal;
}

/** Write one frame, waiting for 'drain' under backpressure; rejects once the call is gone. */
export async function writeFrame(call: DuplexCall, frame: Buffer, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new GrapevineError('CANCELLED', 'call cancelled');
  if (call.write(frame)) return;
  await once(call, 'drain', { signal }).catch(() => {
    throw new GrapevineError('CANCELLED', 'call cancelled while sending');
  });
}

/** The call's requests one by one (undefined at the client's half-close or an error). */
export function callReader(call: DuplexCall): () => Promise<Uint8Array | undefined> {
  // destroyOnReturn false: the default iterator destroys the call at the client's half-close,
  // and a destroyed call can no longer send its final status
  const it = (
    call as unknown as { iterator(o: { destroyOnReturn: boolean }): AsyncIterator<Buffer> }
  ).iterator({ destroyOnReturn: false });
  return async () => {
    try {
      const r = await it.next();
      return r.done ? undefined : new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    } catch {
      return undefined;
    }
  };
}

/** End a call whose handler threw: CANCELLED for a cancelled stream, INTERNAL otherwise. */
export function failCall(call: DuplexCall, e: unknown): void {
  const code =
    e instanceof DeliverStreamError && e.code === 'CANCELLED' ? grpc.status.CANCELLED : grpc.status.INTERNAL;
  try {
    call.emit('error', { code, details: errorMessage(e) });
  } catch {
    /* finished */
  }
}

/**
 * Serve one gRPC Deliver call with handleDeliver (the TLS binding from the call's client
 * certificate). A seek that passed its checks authenticates the call's connection (listener.ts).
 */
export async function serveDeliverCall(call: DuplexCall, deps: DeliverDeps): Promise<void> {
  const signal = cancelSignal(call);
  const cert = remoteCertDer(call);
  const io: DeliverIO = {
    recv: callReader(call),
    sendBlock: (block) => writeFrame(call, deliverBlockFrame(block), signal),
    sendStatus: (status) => writeFrame(call, deliverStatusFrame(status), signal),
    signal,
    clientCertHash: cert ? sha256(cert) : undefined,
    authorized: () => authenticateCall(call),
  };
  await handleDeliver(io, deps);
  call.end();
}

/**
 * orderer.AtomicBroadcast for a peer's gRPC server: Deliver from `deps`; Broadcast answers
 * UNIMPLEMENTED (a peer is not an orderer). `onError` hears streams that ended with an error.
 */
export function deliverServerHandlers(
  deps: DeliverDeps,
  onError?: (e: unknown) => void,
): grpc.UntypedServiceImplementation {
  return {
    Broadcast: (call: DuplexCall) => {
      call.on('error', () => undefined);
      call.emit('error', {
        code: grpc.status.UNIMPLEMENTED,
        details: 'this is a peer: Broadcast goes to an ordering service node',
      });
    },
    Deliver: (call: DuplexCall) => {
      call.on('error', () => undefined);
      serveDeliverCall(call, deps).catch((e: unknown) => {
        onError?.(e);
        failCall(call, e);
      });
    },
  };
}

export { RawAtomicBroadcastService as DeliverServerService };
