/**
 * StateInfo messages (PROTOCOL.md §5.2): parsing what arrives and producing our own.
 *
 * Our StateInfo: {pki_id = own, channel_MAC = MAC(own PKI-ID, channel), timestamp = {inc_num = ns
 * when the channel state was created, seq_num = ns when the properties last changed}, properties
 * = {ledger_height, left_channel, chaincodes}} in GossipMessage{tag CHAN_OR_ORG, nonce 0, channel
 * EMPTY}, signed once per change. Initial height 1. The clock's nowNs is strictly increasing, so
 * every change has a newer seq_num. Publication is change-driven: a change sets `dirty`; the
 * channel's publish timer gossips the latest signed message and clears it.
 * PeerTime order: (inc_num, seq_num) lexicographically.
 */
import { create } from '@bufbuild/protobuf';
import type { Clock } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { errorMessage } from '../../base/errors.js';
import {
  ChaincodeSchema,
  type Envelope,
  type GossipMessage,
  type Properties,
  type StateInfo,
} from '../../wire/gen/gossip/message_pb.js';
import { openEnvelope, signGossip, Tag } from '../../wire/gossip.js';
import type { Signer } from '../../wire/signer.js';
import { dropError } from './errors.js';
import { channelMac } from './mac.js';

export interface PeerTime {
  readonly incNum: bigint;
  readonly seqNum: bigint;
}

/** a is strictly newer than b. */
export function peerTimeNewer(a: PeerTime, b: PeerTime): boolean {
  return a.incNum > b.incNum || (a.incNum === b.incNum && a.seqNum > b.seqNum);
}

/** A received (or our own) StateInfo with the envelope it came in (never re-encoded). */
export interface StateInfoEnvelope {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
  readonly info: StateInfo;
  readonly pkiId: PkiId;
  readonly time: PeerTime;
  readonly properties: Properties | undefined;
}

/** Parse an envelope that must hold a StateInfo; throws GossipDropError('malformed'). */
export function parseStateInfo(envelope: Envelope, message?: GossipMessage): StateInfoEnvelope {
  let m = message;
  if (!m) {
    try {
      m = openEnvelope(envelope).message;
    } catch (e) {
      throw dropError('malformed', `StateInfo element does not parse: ${errorMessage(e)}`, e);
    }
  }
  if (m.content.case !== 'stateInfo')
    throw dropError('malformed', `expected a StateInfo, got ${m.content.case ?? 'nothing'}`);
  const info = m.content.value;
  if (info.pkiId.length === 0) throw dropError('malformed', 'StateInfo without pki_id');
  const ts = info.timestamp;
  return {
    envelope,
    message: m,
    info,
    pkiId: info.pkiId,
    time: { incNum: ts?.incNum ?? 0n, seqNum: ts?.seqNum ?? 0n },
    properties: info.properties,
  };
}

export interface ChaincodeInfo {
  readonly name: string;
  readonly version: string;
}

/** Our own StateInfo for one channel. */
export class SelfStateInfo {
  private readonly incNum: bigint;
  private height = 1n;
  private left = false;
  private chaincodes: readonly ChaincodeInfo[] = [];
  private current!: StateInfoEnvelope;
  /** Changed since the last publication. */
  dirty = true;

  constructor(
    private readonly channel: string,
    private readonly pkiId: PkiId,
    private readonly signer: Signer,
    private readonly clock: Clock,
  ) {
    this.incNum = clock.nowNs();
    this.rebuild();
  }

  get latest(): StateInfoEnvelope {
    return this.current;
  }

  get ledgerHeight(): bigint {
    return this.height;
  }

  get leftChannel(): boolean {
    return this.left;
  }

  /** Returns whether anything changed (and a new message was signed). */
  update(change: { height?: bigint; left?: boolean; chaincodes?: readonly ChaincodeInfo[] }): boolean {
    const height = change.height ?? this.height;
    const left = change.left ?? this.left;
    const chaincodes = change.chaincodes ?? this.chaincodes;
    if (height === this.height && left === this.left && sameChaincodes(chaincodes, this.chaincodes))
      return false;
    this.height = height;
    this.left = left;
    this.chaincodes = chaincodes;
    this.rebuild();
    this.dirty = true;
    return true;
  }

  private rebuild(): void {
    const { envelope, message } = signGossip(
      {
        tag: Tag.CHAN_OR_ORG,
        nonce: 0n,
        content: {
          case: 'stateInfo',
          value: {
            pkiId: this.pkiId,
            channelMAC: channelMac(this.pkiId, this.channel),
            timestamp: { incNum: this.incNum, seqNum: this.clock.nowNs() },
            properties: {
              ledgerHeight: this.height,
              leftChannel: this.left,
              chaincodes: this.chaincodes.map((c) =>
                create(ChaincodeSchema, { name: c.name, version: c.version }),
              ),
            },
          },
        },
      },
      this.signer,
    );
    this.current = parseStateInfo(envelope, message);
  }
}

function sameChaincodes(a: readonly ChaincodeInfo[], b: readonly ChaincodeInfo[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i].name && c.version === b[i].version);
}
