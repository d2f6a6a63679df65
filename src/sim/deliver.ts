/**
 * `orderer.AtomicBroadcast/Deliver` in the simulation: the same serving logic as a real peer
 * (core/deliver/serve.ts: checks, seek semantics, statuses, the block loop over a DeliverSource)
 * over the simulated rpc (rpc.ts), and the client end the block streams of core/stream use.
 *
 * Server (serveSimDeliver): one rpc method on the host's endpoint, registered per incarnation (a
 * crash drops it; boot registers again). The call's request is the seek envelope; DeliverIO:
 *   recv: the request, then undefined (the sim rpc is server-streaming: one request, so the client
 *     half-closed after it, as the stream follower does on gRPC after its one SeekInfo);
 *   sendBlock / sendStatus: one rpc message each, the DeliverResponse frame as on gRPC
 *     (wire/deliver-frames.ts), under the rpc's flow control (a slow reader holds the loop back);
 *   signal: aborted when the call is cancelled (client cancel, crash, broken stream);
 *   no TLS in the simulation: mutual TLS off, so no tls_cert_hash binding.
 * A stream that ends with an error (cancel, failed send) ends the rpc with that error's status.
 *
 * Readers policy: the simulation has no channel configs, so no policy engine; simReaders gives
 * the evaluator the sim crypto already uses for channel policies (SimGossipCrypto.verifyByChannel):
 * a signature set satisfies the Readers policy when one signer's identity is valid (chains to a
 * trusted org CA, within validity at virtual time), its MSP is one of the channel's orgs and its
 * signature verifies. Anyone else is FORBIDDEN, as by the orderer.
 *
 * Client (SimUpstreamConnector.open): dial the endpoint (one RTT, refused when the host is down,
 * timeout when partitioned: gRPC's wait for a ready channel), then an rpc call carrying the seek
 * envelope; recv gives each message (a DeliverResponse frame), undefined once the call ended
 * (any status), close cancels the call.
 */
import { VerifyError, errorMessage } from '../base/errors.js';
import type { Clock } from '../base/time.js';
import {
  DeliverStreamError,
  handleDeliver,
  type DeliverDeps,
  type DeliverIO,
  type DeliverMetrics,
  type DeliverSource,
} from '../core/deliver/serve.js';
import type { DeliverStream } from '../core/deliver/deliverer.js';
import type { UpstreamConnector } from '../core/stream/follower.js';
import type { PolicyEvaluator, SignedData } from '../identity/types.js';
import { deliverBlockFrame, deliverStatusFrame } from '../wire/deliver-frames.js';
import type { SimGossipCrypto } from './crypto.js';
import type { SimNetwork } from './network.js';
import { SimRpcError, type SimCall, type SimServerCall } from './rpc.js';

/** The rpc method name (the gRPC method's full name). */
export const SIM_DELIVER_METHOD = '/orderer.AtomicBroadcast/Deliver';

export interface SimDeliverServerOptions {
  readonly net: SimNetwork;
  /** The host serving (its gossip endpoint). */
  readonly endpoint: string;
  /** The host's clock (timestamps of seek envelopes are checked against it). */
  readonly clock: Clock;
  /** The channel `channelId` if it is served here. */
  source(channelId: string): DeliverSource | undefined;
  /** Default General.Authentication.TimeWindow, 15 min. */
  readonly timeWindowMs?: number;
  readonly metrics?: DeliverMetrics;
  /** Streams that ended with an error. */
  onError?(e: unknown): void;
}

/** Serve Deliver on `endpoint` (this incarnation); returns a remover. */
export function serveSimDeliver(o: SimDeliverServerOptions): () => void {
  const deps: DeliverDeps = {
    source: (ch) => o.source(ch),
    now: () => o.clock.now(),
    timeWindowMs: o.timeWindowMs ?? 15 * 60_000,
    mutualTls: false,
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
  return o.net.rpc.serve(o.endpoint, SIM_DELIVER_METHOD, async (call) => {
    try {
      await handleDeliver(simDeliverIO(call), deps);
    } catch (e) {
      o.onError?.(e);
      const cancelled = e instanceof DeliverStreamError && e.code === 'CANCELLED';
      throw new SimRpcError(cancelled ? 'CANCELLED' : 'UNKNOWN', errorMessage(e));
    }
  });
}

function simDeliverIO(call: SimServerCall): DeliverIO {
  const ac = new AbortController();
  call.onCancel(() => ac.abort());
  let request: Uint8Array | undefined = call.request;
  return {
    recv: async () => {
      const r = request;
      request = undefined;
      return r;
    },
    sendBlock: (block) => call.send(deliverBlockFrame(block)),
    sendStatus: (status) => call.send(deliverStatusFrame(status)),
    signal: ac.signal,
  };
}

/**
 * A DeliverSource whose Readers policy is the simulation's (see the header): the channel's
 * orgs' members. Everything else is `inner`'s.
 */
export function withSimReaders(inner: DeliverSource, crypto: SimGossipCrypto): DeliverSource {
  const readers = { policies: simReadersPolicy(crypto, inner.channelId), path: '/Channel/Readers' };
  return {
    channelId: inner.channelId,
    get errored() {
      return inner.errored;
    },
    get sequence() {
      return inner.sequence;
    },
    readers: () => readers,
    height: () => inner.height(),
    getBlockBytes: (n) => inner.getBlockBytes(n),
    waitForHeight: (h, signal) => inner.waitForHeight(h, signal),
  };
}

/** Readers of `channel` in the simulation: one valid signature by a member of a channel org. */
export function simReadersPolicy(crypto: SimGossipCrypto, channel: string): PolicyEvaluator {
  return {
    evaluate(path: string, signed: readonly SignedData[]): void {
      let why = 'no signature';
      for (const sd of signed) {
        try {
          crypto.verifyByChannel(channel, sd.identity, sd.signature, sd.data);
          return;
        } catch (e) {
          why = errorMessage(e);
        }
      }
      throw new VerifyError('POLICY', `${path} of ${channel} not satisfied: ${why}`);
    },
  };
}

export interface SimUpstreamOptions {
  /** Dial timeout (the deliver client's connTimeout); default 3 s. */
  readonly dialTimeoutMs?: number;
  /** DeliverResponses buffered unread (the rpc window); default 16. */
  readonly window?: number;
}

/** The stream followers' connector on a simulated host: Deliver calls to other hosts. */
export class SimUpstreamConnector implements UpstreamConnector {
  /** Calls opened (dial succeeded), for tests and benchmarks. */
  opened = 0;

  constructor(
    private readonly net: SimNetwork,
    private readonly from: string,
    private readonly o: SimUpstreamOptions = {},
  ) {}

  async open(endpoint: string, seekEnvelope: Uint8Array): Promise<DeliverStream> {
    await this.net.dial(this.from, endpoint, this.o.dialTimeoutMs ?? 3000);
    this.opened++;
    const call = this.net.rpc.call(this.from, endpoint, SIM_DELIVER_METHOD, seekEnvelope, {
      window: this.o.window ?? 16,
    });
    return new SimDeliverStream(call);
  }
}

class SimDeliverStream implements DeliverStream {
  constructor(private readonly call: SimCall) {}

  async recv(): Promise<Uint8Array | undefined> {
    try {
      return await this.call.next();
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.call.cancel();
  }
}
