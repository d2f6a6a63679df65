/**
 * The four pull messages (PROTOCOL.md §1.7, §6.4) as Fabric sends them: unsigned, outer
 * GossipMessage nonce 0, the correlation nonce inside the sub-message, tag and channel of the
 * pull instance (block pull: CHAN_AND_ORG + channel; identity pull: EMPTY, no channel).
 */
import type { Envelope, GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import {
  channelBytes,
  unsignedGossip,
  type GossipMessageInit,
  type PullMsgType,
  type Tag,
} from '../../wire/gossip.js';

/** What identifies one pull instance on the wire. */
export interface PullWireKind {
  readonly msgType: PullMsgType;
  readonly tag: Tag;
  /** Channel name; '' for none (identity pull). */
  readonly channel: string;
}

export type PullMessageCase = 'hello' | 'dataDig' | 'dataReq' | 'dataUpdate';

/** Metric/log label of each pull message. */
export const PULL_TYPE_LABEL: Record<PullMessageCase, string> = {
  hello: 'hello',
  dataDig: 'data_dig',
  dataReq: 'data_req',
  dataUpdate: 'data_update',
};

export function isPullCase(c: GossipMessage['content']['case']): c is PullMessageCase {
  return c === 'hello' || c === 'dataDig' || c === 'dataReq' || c === 'dataUpdate';
}

/** The pull msg_type of a pull message, or undefined for any other message. */
export function pullMsgTypeOf(msg: GossipMessage): PullMsgType | undefined {
  const c = msg.content;
  return isPullCase(c.case) ? (c.value as { msgType: PullMsgType }).msgType : undefined;
}

function wrap(kind: PullWireKind, content: NonNullable<GossipMessageInit>['content']): Envelope {
  return unsignedGossip({
    nonce: 0n,
    tag: kind.tag,
    channel: kind.channel === '' ? new Uint8Array(0) : channelBytes(kind.channel),
    content,
  }).envelope;
}

export function helloEnvelope(kind: PullWireKind, nonce: bigint): Envelope {
  return wrap(kind, { case: 'hello', value: { nonce, msgType: kind.msgType } });
}

export function digestEnvelope(kind: PullWireKind, nonce: bigint, digests: readonly Uint8Array[]): Envelope {
  return wrap(kind, { case: 'dataDig', value: { nonce, msgType: kind.msgType, digests: [...digests] } });
}

export function requestEnvelope(kind: PullWireKind, nonce: bigint, digests: readonly Uint8Array[]): Envelope {
  return wrap(kind, { case: 'dataReq', value: { nonce, msgType: kind.msgType, digests: [...digests] } });
}

/** `data` are the stored envelopes exactly as received or signed (never re-encoded). */
export function updateEnvelope(kind: PullWireKind, nonce: bigint, data: readonly Envelope[]): Envelope {
  return wrap(kind, { case: 'dataUpdate', value: { nonce, msgType: kind.msgType, data: [...data] } });
}
