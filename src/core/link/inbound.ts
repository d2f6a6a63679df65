/**
 * What one received gossip frame is (PROTOCOL.md §3.6), shared by the real and simulated
 * connections so both apply the same checks in the same order:
 *   over maxRecvMsgSize -> bad 'oversized', close; not an Envelope -> bad, close;
 *   payload not a GossipMessage -> bad, close; no content, `conn` or `empty` -> bad, keep the
 *   connection (Fabric drops those and reads on); anything else -> a message to hand on.
 */
import { decode } from '../../wire/codec.js';
import { GossipMessageSchema, type Envelope, type GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { decodeFrame } from './frame.js';

export type BadInputReason =
  | 'oversized'
  | 'malformed_envelope'
  | 'malformed_payload'
  | 'no_content'
  | 'unexpected_conn'
  | 'unexpected_empty';

export type InboundFrame =
  | { readonly ok: true; readonly envelope: Envelope; readonly message: GossipMessage }
  | {
      readonly ok: false;
      readonly reason: BadInputReason;
      /** set when the connection must close */ readonly close?: string;
    };

export function readInboundFrame(frame: Uint8Array, maxRecvMsgSize: number): InboundFrame {
  if (frame.length > maxRecvMsgSize) return { ok: false, reason: 'oversized', close: 'oversized message' };
  let envelope: Envelope;
  let message: GossipMessage;
  try {
    envelope = decodeFrame(frame);
  } catch {
    return {
      ok: false,
      reason: 'malformed_envelope',
      close: 'received bytes that are not a gossip Envelope',
    };
  }
  try {
    message = decode(GossipMessageSchema, envelope.payload, 'gossip.GossipMessage');
  } catch {
    return {
      ok: false,
      reason: 'malformed_payload',
      close: 'received a payload that is not a GossipMessage',
    };
  }
  const c = message.content.case;
  if (c === undefined) return { ok: false, reason: 'no_content' };
  if (c === 'conn') return { ok: false, reason: 'unexpected_conn' };
  if (c === 'empty') return { ok: false, reason: 'unexpected_empty' };
  return { ok: true, envelope, message };
}
