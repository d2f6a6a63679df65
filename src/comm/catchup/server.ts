/**
 * Serving `grapevine.Catchup/StreamBlockFrames` (service.ts): check the request (request.ts),
 * then write blocks first..min(last, height - 1) as stored, in order, several per frame
 * (frame.ts: as many as fit in maxFrameBytes, at least one), honouring the stream's
 * backpressure (wait for 'drain' when write() says so; one block read ahead), stop when the
 * client cancels. At most maxConcurrentStreams streams at once.
 *
 * `catchupHandlers` plugs into any grpc.Server (the peer's, next to gossip.Gossip);
 * `CatchupServer` owns a server of its own (tests, benchmarks, or a separate port).
 */
import * as grpc from '@grpc/grpc-js';
import { authenticateCall } from '../listener.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import type { Clock } from '../../base/time.js';
import { serverCredentials, serverCallCertDer, type CommTls } from '../tls.js';
import type { Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { CatchupConfig } from '../../core/state/config.js';
import type { StateCrypto, StateLedger } from '../../core/state/types.js';
import { CatchupRequestError, verifyCatchupRequest } from '../../core/state/catchup/request.js';
import { encodeFrame, framedSize } from '../../core/state/catchup/frame.js';
import { CatchupService } from './service.js';
import { METRICS } from '../../base/metric-table.js';

export interface CatchupServerDeps {
  /** The ledger of a channel we serve, or undefined. */
  ledger(channel: string): StateLedger | undefined;
  readonly crypto: StateCrypto;
  readonly clock: Clock;
  readonly config: CatchupConfig;
  /** The server runs TLS (a client certificate is then required and bound to the request). */
  readonly tls: boolean;
  readonly logger: Logger;
  readonly metrics?: Metrics;
}

type Call = grpc.ServerWritableStream<Uint8Array, Uint8Array>;

function fail(call: Call, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}

const STATUS: Record<string, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
};

export function catchupHandlers(d: CatchupServerDeps): grpc.UntypedServiceImplementation {
  let active = 0;
  const refused = d.metrics?.counter(METRICS.grapevineCatchupRefusedTotal);
  const sent = d.metrics?.counter(METRICS.grapevineCatchupBlocksSentTotal);
  const serve = async (call: Call): Promise<void> => {
    let req;
    try {
      req = verifyCatchupRequest(call.request, {
        crypto: d.crypto,
        nowMs: d.clock.now(),
        maxClockSkewMs: d.config.maxClockSkewMs,
        tls: d.tls,
        clientCertDer: serverCallCertDer(call),
      });
    } catch (e) {
      const code = e instanceof CatchupRequestError ? e.code : 'INVALID_ARGUMENT';
      refused?.inc({ reason: code });
      d.logger.debug({ peer: call.getPeer(), err: errorMessage(e) }, 'catch-up request refused');
      return fail(call, STATUS[code], errorMessage(e));
    }
    authenticateCall(call); // a signed request from a channel member: no stranger (listener.ts)
    const ledger = d.ledger(req.channel);
    if (!ledger) {
      refused?.inc({ reason: 'NOT_FOUND' });
      return fail(call, grpc.status.NOT_FOUND, `channel ${req.channel} is not served here`);
    }
    let cancelled = false;
    let wake: (() => void) | undefined;
    call.on('cancelled', () => {
      cancelled = true;
      wake?.();
    });
    call.on('drain', () => wake?.());
    const height = ledger.height();
    const last = req.end < height - 1n ? req.end : height - 1n;
    let n = req.start;
    let ahead: Promise<Uint8Array | undefined> | undefined = n <= last ? ledger.getBlockBytes(n) : undefined;
    const maxFrame = d.config.maxFrameBytes;
    let frame: Uint8Array[] = [];
    let frameBytes = 0;
    const flush = async (): Promise<void> => {
      const blocks = frame;
      frame = [];
      frameBytes = 0;
      sent?.inc(blocks.length);
      if (!call.write(encodeFrame(blocks)) && !cancelled) await new Promise<void>((r) => (wake = r));
      wake = undefined;
    };
    try {
      while (ahead && !cancelled) {
        const bytes = await ahead;
        if (!bytes) break;
        n++;
        ahead = n <= last ? ledger.getBlockBytes(n) : undefined;
        const size = framedSize(bytes);
        if (frame.length > 0 && frameBytes + size > maxFrame) await flush();
        frame.push(bytes);
        frameBytes += size;
      }
      if (frame.length > 0 && !cancelled) await flush();
    } catch (e) {
      ahead?.catch(() => undefined);
      const msg = e instanceof GrapevineError ? `${e.code}: ${e.message}` : errorMessage(e);
      return fail(call, grpc.status.UNAVAILABLE, `reading block ${n}: ${msg}`);
    }
    if (!cancelled) call.end();
  };
  return {
    StreamBlockFrames: (call: Call) => {
      if (active >= d.config.maxConcurrentStreams) {
        refused?.inc({ reason: 'RESOURCE_EXHAUSTED' });
        return fail(call, grpc.status.RESOURCE_EXHAUSTED, 'too many catch-up streams');
      }
      active++;
      void serve(call).finally(() => active--);
    },
  };
}

/** A grpc.Server of its own hosting only the catch-up service. */
export class CatchupServer {
  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  static async start(
    address: string,
    tls: CommTls | undefined,
    deps: Omit<CatchupServerDeps, 'tls'>,
  ): Promise<CatchupServer> {
    const server = new grpc.Server({
      'grpc.max_send_message_length': 100 * 1024 * 1024,
      'grpc.max_receive_message_length': 1024 * 1024,
    });
    server.addService(CatchupService, catchupHandlers({ ...deps, tls: tls !== undefined }));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, serverCredentials(tls, false), (err, p) =>
        err
          ? reject(
              new GrapevineError('LISTEN', `cannot listen on ${address}: ${err.message}`, { cause: err }),
            )
          : resolve(p),
      ),
    );
    return new CatchupServer(server, port);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.tryShutdown(() => resolve());
      this.server.forceShutdown();
    });
  }
}
