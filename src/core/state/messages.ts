/**
 * State transfer messages on the gossip wire (PROTOCOL.md §9.2–§9.4), byte-for-byte as Fabric:
 *   RemoteStateRequest{start_seq_num, end_seq_num} and RemoteStateResponse{payloads}: unsigned
 *   GossipMessages with tag CHAN_OR_ORG, the channel name, and a nonce (a fresh random u64 per
 *   request; the response echoes it). Payload{seq_num, data = block bytes as stored,
 *   private_data empty (no private data yet)}.
 *   Authorisation (§9.4): the message's channel must be ours and the sender's handshake
 *   (ConnEstablish payload + signature, conn.auth) must satisfy the channel's Readers policy.
 */
import type { ReceivedMessage } from '../link/types.js';
import { errorMessage } from '../../base/errors.js';
import {
  channelBytes,
  channelName,
  tagError,
  Tag,
  unsignedGossip,
  type SignedGossip,
} from '../../wire/gossip.js';
import type { StateCrypto } from './types.js';

export function stateRequestMessage(
  channel: string,
  start: bigint,
  end: bigint,
  nonce: bigint,
): SignedGossip {
  return unsignedGossip({
    tag: Tag.CHAN_OR_ORG,
    channel: channelBytes(channel),
    nonce,
    content: { case: 'stateRequest', value: { startSeqNum: start, endSeqNum: end } },
  });
}

export function stateResponseMessage(
  channel: string,
  nonce: bigint,
  payloads: readonly { seqNum: bigint; data: Uint8Array }[],
): SignedGossip {
  return unsignedGossip({
    tag: Tag.CHAN_OR_ORG,
    channel: channelBytes(channel),
    nonce,
    content: {
      case: 'stateResponse',
      value: { payloads: payloads.map((p) => ({ seqNum: p.seqNum, data: p.data })) },
    },
  });
}

export function isStateMessage(m: ReceivedMessage): boolean {
  const c = m.message.content.case;
  return c === 'stateRequest' || c === 'stateResponse';
}

/** undefined when authorised; otherwise why not (for the drop counter's detail). */
export function stateMessageRefusal(
  crypto: StateCrypto,
  channel: string,
  m: ReceivedMessage,
): string | undefined {
  if (channelName(m.message) !== channel)
    return `message for channel ${JSON.stringify(channelName(m.message))}`;
  const bad = tagError(m.message);
  if (bad) return bad;
  try {
    crypto.verifyByChannel(channel, m.conn.identity, m.conn.auth.signature, m.conn.auth.signedData);
    return undefined;
  } catch (e) {
    return `sender may not read channel ${channel}: ${errorMessage(e)}`;
  }
}
