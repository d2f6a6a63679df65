/**
 * SimTransport: the shared comm link (src/core/link/link.ts, PROTOCOL.md §3) over the simulated
 * network: the same handshake, dedup, queues, acks, demux, presumed dead and counters as the
 * real GrpcTransport. This file supplies only the world:
 *   ping(endpoint) = TCP connect within dialTimeout + a Ping within connTimeout (one RTT each);
 *   open(endpoint) = ping, then a stream (SimLinkStream, conn.ts); dial errors are DialError
 *     CONNECT / PING (REFUSED or TIMEOUT from the network in the message);
 *   accepted sockets go to the link; receive batches are handed over at once (defer = run now);
 *   stop does not wait for work in progress (virtual time would have to run for it);
 *   a crash of the host (network hook) abandons the link: nothing is sent, nobody is told.
 */
import { commConfig, type CommConfig } from '../core/link/comm-config.js';
import type { HandshakeVerifier } from '../core/link/handshake.js';
import { Link } from '../core/link/link.js';
import { LinkTransport } from '../core/link/link-transport.js';
import { DialError, type LinkWorld } from '../core/link/stream.js';
import type { PkiId } from '../base/pkiid.js';
import type { Clock, Rng } from '../base/time.js';
import { errorMessage } from '../base/errors.js';
import { parseSerializedIdentity } from '../identity/x509identity.js';
import type { Metrics } from '../base/metrics.js';
import type { Signer } from '../wire/signer.js';
import { SimLinkStream } from './conn.js';
import type { SimNetwork } from './network.js';

export interface SimTransportOptions {
  readonly network: SimNetwork;
  readonly endpoint: string;
  readonly self: { readonly pkiId: PkiId; readonly signer: Signer };
  /** Identity store Put + signature check (see trust.ts / node.ts). */
  readonly verifier: HandshakeVerifier;
  /** Stored identity of a PKI-ID (identity store Get), for the identity-switch org check. */
  readonly identityOf?: (pkiId: PkiId) => Uint8Array | undefined;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly metrics: Metrics;
  readonly config?: Partial<CommConfig>;
}

export class SimTransport extends LinkTransport {
  override readonly selfPkiId: PkiId;
  readonly endpoint: string;
  readonly config: CommConfig;
  protected override readonly link: Link;

  constructor(opts: SimTransportOptions) {
    super();
    const net = opts.network;
    const self = (this.endpoint = opts.endpoint);
    this.selfPkiId = opts.self.pkiId;
    const cfg = (this.config = commConfig(opts.config));
    const ping = async (endpoint: string): Promise<void> => {
      try {
        await net.dial(self, endpoint, cfg.dialTimeoutMs);
      } catch (e) {
        throw new DialError('CONNECT', `cannot connect to ${endpoint}: ${errorMessage(e)}`, { cause: e });
      }
      try {
        await net.dial(self, endpoint, cfg.connTimeoutMs);
      } catch (e) {
        throw new DialError('PING', `Ping ${endpoint} failed: ${errorMessage(e)}`, { cause: e });
      }
    };
    let unlisten = (): void => undefined;
    const world: LinkWorld = {
      ping,
      open: async (endpoint) => {
        await ping(endpoint);
        return new SimLinkStream(net.openStream(self, endpoint), 'out');
      },
      defer: (fn) => fn(),
      stopAccepting: () => unlisten(),
      settle: () => Promise.resolve(true),
      released: () => undefined,
    };
    const link = (this.link = new Link({
      self: opts.self,
      verifier: opts.verifier,
      identityOf: opts.identityOf ?? (() => undefined),
      orgOf,
      tlsEnabled: false,
      world,
      config: cfg,
      retireGraceMs: 0,
      clock: opts.clock,
      rng: opts.rng,
      metrics: opts.metrics,
    }));
    unlisten = net.listen(self, (socket) => link.accept(new SimLinkStream(socket, 'in')));
    net.onCrash(self, () => link.abandon());
  }

  /** Messages queued on the connection to `pkiId` (tests). */
  queued(pkiId: PkiId): number {
    return this.link.queued(pkiId);
  }

  get isStopped(): boolean {
    return this.link.isStopped;
  }
}

function orgOf(identity: Uint8Array): string | undefined {
  try {
    return parseSerializedIdentity(identity).mspId;
  } catch {
    return undefined;
  }
}
