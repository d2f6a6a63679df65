/**
 * Our own AliveMessages (PROTOCOL.md §4.1).
 *
 *   inc_num = clock ns when discovery started, constant for the process;
 *   seq_num = a counter incremented before every message built (sent or not): 1, 2, ...;
 *   Member{endpoint = external endpoint, metadata (empty, as Fabric's, unless set: Grapevine's
 *   stream marker), pki_id};
 *   identity = our SerializedIdentity only while now < start + publishCertPeriod;
 *   GossipMessage{tag EMPTY, nonce 0, no channel}, signed; with a SecretEnvelope{internal
 *   endpoint} signed by the same key when asked for and the internal endpoint is set.
 * MembershipRequests wrap a fresh alive envelope, unsigned, nonce 0 (sync) or random (§4.5).
 */
import type { Clock } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { GossipMessage_Tag as Tag, type Envelope } from '../../wire/gen/gossip/message_pb.js';
import { signGossip, signedSecret, unsignedGossip } from '../../wire/gossip.js';
import type { Signer } from '../../wire/signer.js';
import type { PeerTime } from './types.js';

export interface SelfAliveOptions {
  readonly pkiId: PkiId;
  readonly signer: Signer;
  readonly externalEndpoint: string;
  readonly internalEndpoint: string;
  readonly publishCertPeriodMs: number;
  readonly clock: Clock;
}

export class SelfAlive {
  readonly incNum: bigint;
  private readonly startMs: number;
  private seq = 0n;
  /** Member.metadata of the next messages (empty: Fabric's bytes exactly). */
  metadata: Uint8Array = new Uint8Array(0);

  constructor(private readonly opts: SelfAliveOptions) {
    this.incNum = opts.clock.nowNs();
    this.startMs = opts.clock.now();
  }

  /** Timestamp of the last message built. */
  get lastTime(): PeerTime {
    return { incNum: this.incNum, seqNum: this.seq };
  }

  /** Build and sign a new alive envelope (always consumes a seq_num). */
  build(includeInternalEndpoint: boolean): Envelope {
    const o = this.opts;
    this.seq++;
    const withIdentity = o.clock.now() < this.startMs + o.publishCertPeriodMs;
    const { envelope } = signGossip(
      {
        tag: Tag.EMPTY,
        nonce: 0n,
        content: {
          case: 'aliveMsg',
          value: {
            membership: { endpoint: o.externalEndpoint, pkiId: o.pkiId, metadata: this.metadata },
            timestamp: { incNum: this.incNum, seqNum: this.seq },
            identity: withIdentity ? o.signer.serializedIdentity : new Uint8Array(0),
          },
        },
      },
      o.signer,
    );
    if (includeInternalEndpoint && o.internalEndpoint !== '')
      envelope.secretEnvelope = signedSecret(o.internalEndpoint, o.signer);
    return envelope;
  }
}

/** GossipMessage{tag EMPTY, nonce, mem_req{self_information, known = []}}, unsigned. */
export function membershipRequest(selfInformation: Envelope, nonce: bigint): Envelope {
  return unsignedGossip({
    tag: Tag.EMPTY,
    nonce,
    content: { case: 'memReq', value: { selfInformation, known: [] } },
  }).envelope;
}

/** GossipMessage{tag EMPTY, nonce = request's, mem_res{alive, dead}}, unsigned. */
export function membershipResponse(alive: Envelope[], dead: Envelope[], nonce: bigint): Envelope {
  return unsignedGossip({ tag: Tag.EMPTY, nonce, content: { case: 'memRes', value: { alive, dead } } })
    .envelope;
}
