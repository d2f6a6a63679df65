/**
 * Gossip envelopes (PROTOCOL.md §1.3–§1.6).
 *
 * Sign once over the serialized GossipMessage and send those exact bytes; verification and
 * forwarding always use the payload bytes as received. A `ReceivedMessage` keeps the original
 * envelope next to its decoded message for that reason.
 */
import { create } from '@bufbuild/protobuf';
import { WireError } from '../base/errors.js';
import { decode, encode } from './codec.js';
import {
  EnvelopeSchema,
  GossipMessageSchema,
  GossipMessage_Tag as Tag,
  PullMsgType,
  SecretEnvelopeSchema,
  SecretSchema,
  type Envelope,
  type GossipMessage,
  type SecretEnvelope,
} from './gen/gossip/message_pb.js';
import type { Signer } from './signer.js';

export { Tag, PullMsgType };
export type GossipContentCase = NonNullable<GossipMessage['content']['case']>;
export type GossipMessageInit = Parameters<typeof create<typeof GossipMessageSchema>>[1];

/** A decoded gossip message together with the envelope it came in. */
export interface SignedGossip {
  readonly envelope: Envelope;
  readonly message: GossipMessage;
}

/** Serialize and sign a GossipMessage; returns the envelope to send. */
export function signGossip(msg: GossipMessage | GossipMessageInit, signer: Signer): SignedGossip {
  const message = create(GossipMessageSchema, msg as GossipMessageInit);
  const payload = encode(GossipMessageSchema, message);
  const envelope = create(EnvelopeSchema, { payload, signature: signer.sign(payload) });
  return { envelope, message };
}

/** Serialize without a signature (Fabric's NoopSign): empty `signature`. */
export function unsignedGossip(msg: GossipMessage | GossipMessageInit): SignedGossip {
  const message = create(GossipMessageSchema, msg as GossipMessageInit);
  const envelope = create(EnvelopeSchema, { payload: encode(GossipMessageSchema, message) });
  return { envelope, message };
}

/** A SecretEnvelope carrying the internal endpoint, signed by the same key (§4.1). */
export function signedSecret(internalEndpoint: string, signer: Signer): SecretEnvelope {
  const payload = encode(SecretSchema, { content: { case: 'internalEndpoint', value: internalEndpoint } });
  return create(SecretEnvelopeSchema, { payload, signature: signer.sign(payload) });
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return decode(EnvelopeSchema, bytes, 'gossip.Envelope');
}

export function encodeEnvelope(env: Envelope): Uint8Array {
  return encode(EnvelopeSchema, env);
}

/** Decode the GossipMessage inside an envelope; a message without content is malformed. */
export function openEnvelope(envelope: Envelope): SignedGossip {
  const message = decode(GossipMessageSchema, envelope.payload, 'gossip.GossipMessage');
  if (message.content.case === undefined) {
    throw new WireError('MALFORMED', 'gossip message has no content (unknown or missing type)');
  }
  return { envelope, message };
}

/** The internal endpoint of a SecretEnvelope, or undefined when absent or malformed. */
export function secretInternalEndpoint(secret: SecretEnvelope | undefined): string | undefined {
  if (!secret || secret.payload.length === 0) return undefined;
  try {
    const s = decode(SecretSchema, secret.payload);
    return s.content.case === 'internalEndpoint' ? s.content.value : undefined;
  } catch {
    return undefined;
  }
}

/** Channel-restricted tags: handed to the channel named by `channel` (or found by MAC). */
export function isChannelRestricted(tag: Tag): boolean {
  return tag === Tag.CHAN_ONLY || tag === Tag.CHAN_AND_ORG || tag === Tag.CHAN_OR_ORG;
}

/** Org-restricted tags: disseminated only to peers of the sender's org. */
export function isOrgRestricted(tag: Tag): boolean {
  return tag === Tag.ORG_ONLY || tag === Tag.CHAN_AND_ORG;
}

/**
 * The tag each message type must carry (§1.5, Fabric's IsTagLegal). Returns an error text
 * for an illegal combination, or undefined when legal.
 */
export function tagError(msg: GossipMessage): string | undefined {
  const tag = msg.tag;
  if (tag === Tag.UNDEFINED) return 'tag UNDEFINED';
  const c = msg.content;
  const want = (t: Tag) => (tag === t ? undefined : `${c.case} needs tag ${Tag[t]}, has ${Tag[tag] ?? tag}`);
  switch (c.case) {
    case 'dataMsg':
    case 'leadershipMsg':
      return want(Tag.CHAN_AND_ORG);
    case 'aliveMsg':
    case 'memReq':
    case 'memRes':
      return want(Tag.EMPTY);
    case 'peerIdentity':
      return want(Tag.ORG_ONLY);
    case 'hello':
    case 'dataDig':
    case 'dataReq':
    case 'dataUpdate': {
      const t = c.value.msgType;
      if (t === PullMsgType.BLOCK_MSG) return want(Tag.CHAN_AND_ORG);
      if (t === PullMsgType.IDENTITY_MSG) return want(Tag.EMPTY);
      return `${c.case} with msg_type UNDEFINED`;
    }
    case 'stateInfo':
    case 'stateSnapshot':
    case 'stateInfoPullReq':
    case 'stateRequest':
    case 'stateResponse':
      return want(Tag.CHAN_OR_ORG);
    default:
      return `unknown message type ${c.case ?? 'none'}`;
  }
}

export function channelName(msg: GossipMessage): string {
  return Buffer.from(msg.channel).toString('utf8');
}

export function channelBytes(channel: string): Uint8Array {
  return new Uint8Array(Buffer.from(channel, 'utf8'));
}
