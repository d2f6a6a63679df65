/**
 * The fast catch-up client: one `grapevine.Catchup/StreamBlockFrames` call to a peer's gRPC
 * endpoint (mutual TLS with our client certificate when TLS is on), a signed request bound to
 * that certificate, and the blocks of each frame (frame.ts; views into it, no copy) handed one
 * at a time, in order, to `onBlock`, which awaits the blocking buffer add. The stream is read
 * through its async iterator, so at most the readable's high-water mark (16 frames) plus the
 * HTTP/2 flow-control window (flowControlWindow, default 4 MiB) are in flight: a slow consumer
 * slows the sender. An idle stream (no frame for idleTimeoutMs) is cancelled; a malformed frame
 * fails the stream (StateError 'malformed').
 *
 *   UNIMPLEMENTED (what a Fabric peer, or a Grapevine peer without the service, answers)
 *     -> StateError 'UNSUPPORTED'; any other failure -> StateError 'CATCHUP_FAILED'.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock, Rng } from '../../base/time.js';
import { channelCredentials, leafDer, tlsTargetOptions, type CommTls } from '../tls.js';
import { errorMessage } from '../../base/errors.js';
import type { Signer } from '../../wire/signer.js';
import { StateError } from '../../core/state/errors.js';
import { buildCatchupRequest, sha256 } from '../../core/state/catchup/request.js';
import { decodeFrame } from '../../core/state/catchup/frame.js';
import { CATCHUP_STREAM_PATH, asBuffer } from './service.js';

export interface CatchupClientOptions {
  readonly signer: Signer;
  readonly clock: Clock;
  readonly rng: Rng;
  /** Omit for plaintext. */
  readonly tls?: CommTls;
  readonly idleTimeoutMs: number;
  /** Bound on cached gRPC clients (one per endpoint). Default 16. */
  readonly maxClients?: number;
  /** HTTP/2 receive window of the connection and stream, bytes. Default 4 MiB (HTTP/2's is 64 KiB). */
  readonly flowControlWindow?: number;
}

export const CATCHUP_FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

export class CatchupClient {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly tlsCertHash?: Uint8Array;
  private closed = false;

  constructor(private readonly o: CatchupClientOptions) {
    if (o.tls)
      this.tlsCertHash = sha256(leafDer(o.tls.clientCertPem ?? o.tls.certPem, 'TLS client certificate'));
  }

  /**
   * Stream blocks start..end of `channel` from `endpoint`; `onBlock(seq, bytes)` returns false to
   * stop early. Resolves with the number of blocks handed over.
   */
  async stream(
    endpoint: string,
    channel: string,
    start: bigint,
    end: bigint,
    onBlock: (seq: bigint, bytes: Uint8Array) => Promise<boolean>,
  ): Promise<number> {
    if (this.closed) throw new StateError('STOPPED', 'catch-up client closed');
    const req = buildCatchupRequest({
      channel,
      start,
      end,
      signer: this.o.signer,
      nowMs: this.o.clock.now(),
      nonce: this.o.rng.bytes(24),
      tlsCertHash: this.tlsCertHash,
    });
    const call = this.client(endpoint).makeServerStreamRequest<Uint8Array, Uint8Array>(
      CATCHUP_STREAM_PATH,
      asBuffer,
      (b: Buffer) => b,
      req,
    );
    let idle = false;
    let timer = this.o.clock.setTimeout(onIdle, this.o.idleTimeoutMs);
    function onIdle(): void {
      idle = true;
      call.cancel();
    }
    let count = 0;
    let seq = start;
    try {
      for await (const frame of call as AsyncIterable<Uint8Array>) {
        this.o.clock.clearTimer(timer);
        for (const bytes of decodeFrame(frame)) {
          if (!(await onBlock(seq, bytes))) {
            call.cancel();
            return count;
          }
          count++;
          seq++;
        }
        timer = this.o.clock.setTimeout(onIdle, this.o.idleTimeoutMs);
      }
      return count;
    } catch (e) {
      if (e instanceof StateError && e.code === 'malformed') {
        call.cancel();
        throw new StateError('malformed', `catch-up from ${endpoint} after ${count} blocks: ${e.message}`);
      }
      const code = (e as { code?: number }).code;
      if (code === grpc.status.UNIMPLEMENTED)
        throw new StateError('UNSUPPORTED', `${endpoint} does not serve catch-up`, { cause: e });
      if (idle)
        throw new StateError(
          'CATCHUP_FAILED',
          `catch-up from ${endpoint} idle for ${this.o.idleTimeoutMs} ms after ${count} blocks`,
        );
      throw new StateError(
        'CATCHUP_FAILED',
        `catch-up from ${endpoint} failed after ${count} blocks: ${errorMessage(e)}`,
        { cause: e },
      );
    } finally {
      this.o.clock.clearTimer(timer);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(endpoint: string): grpc.Client {
    let c = this.clients.get(endpoint);
    if (c) return c;
    if (this.clients.size >= (this.o.maxClients ?? 16)) {
      const [oldest, oc] = this.clients.entries().next().value as [string, grpc.Client];
      oc.close();
      this.clients.delete(oldest);
    }
    c = new grpc.Client(endpoint, channelCredentials(this.o.tls), {
      'grpc.max_receive_message_length': 100 * 1024 * 1024,
      'grpc.max_send_message_length': 1024 * 1024,
      'grpc-node.flow_control_window': this.o.flowControlWindow ?? CATCHUP_FLOW_CONTROL_WINDOW,
      ...(this.o.tls ? tlsTargetOptions(endpoint) : {}),
    });
    this.clients.set(endpoint, c);
    return c;
  }
}
