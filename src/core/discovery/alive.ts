/**
 * Receive side of AliveMessages (PROTOCOL.md §2.4, §4.3): parsing, PeerTime order, and
 * Fabric's ValidateAliveMsg.
 *
 *   parse:    the envelope's payload is a GossipMessage with alive_msg, a Member and a non-empty
 *             pki_id, and a timestamp                                   else 'malformed'
 *   validate: the envelope is signed                                     else 'unsigned'
 *             alive.identity present -> identity store Put(pki_id, identity) else 'identity_rejected'
 *             identity = store Get(pki_id)                                else 'unknown_identity'
 *             Verify(identity, signature, payload as received), and the same for the
 *             SecretEnvelope when present                                else 'bad_signature'
 *   newer(a, b): (inc_num, seq_num) lexicographically; a higher inc_num (restart) always wins.
 * Nothing is re-encoded: verification and forwarding use the bytes as received.
 */
import { create } from '@bufbuild/protobuf';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import type { IdentityStore } from '../../identity/store.js';
import { parseSerializedIdentity } from '../../identity/x509identity.js';
import { EnvelopeSchema, type Envelope, type GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { openEnvelope, secretInternalEndpoint } from '../../wire/gossip.js';
import type { AliveEnvelope, DiscoveryCrypto, DropReason, PeerTime } from './types.js';
import type { VerifiedAlives } from './verified.js';

/** A discovery message refused; `code` is the DropReason. */
export class DiscoveryDropError extends GrapevineError {
  declare readonly code: DropReason;
  constructor(reason: DropReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
  }
}

/** a is strictly newer than b. */
export function isNewer(a: PeerTime, b: PeerTime): boolean {
  return a.incNum > b.incNum || (a.incNum === b.incNum && a.seqNum > b.seqNum);
}

export function samePeerTime(a: PeerTime, b: PeerTime): boolean {
  return a.incNum === b.incNum && a.seqNum === b.seqNum;
}

/**
 * Decode an alive envelope; throws DiscoveryDropError('malformed'). `decoded` is its payload
 * already decoded (a ReceivedMessage's `message`), which saves decoding it a second time.
 */
export function parseAlive(envelope: Envelope | undefined, decoded?: GossipMessage): AliveEnvelope {
  if (!envelope) throw new DiscoveryDropError('malformed', 'missing alive envelope');
  let message = decoded;
  if (!message) {
    try {
      message = openEnvelope(envelope).message;
    } catch (e) {
      throw new DiscoveryDropError('malformed', `alive envelope does not parse: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }
  if (message.content.case !== 'aliveMsg')
    throw new DiscoveryDropError('malformed', `expected alive_msg, got ${message.content.case}`);
  const alive = message.content.value;
  const m = alive.membership;
  if (!m || m.pkiId.length === 0)
    throw new DiscoveryDropError('malformed', 'alive message without membership or pki_id');
  const ts = alive.timestamp;
  if (!ts) throw new DiscoveryDropError('malformed', 'alive message without timestamp');
  return {
    envelope,
    message,
    pkiId: m.pkiId,
    endpoint: m.endpoint,
    metadata: m.metadata,
    time: { incNum: ts.incNum, seqNum: ts.seqNum },
  };
}

/** The internal endpoint in an alive envelope's secret, or '' (§4.4). */
export function internalEndpointOf(envelope: Envelope): string {
  return secretInternalEndpoint(envelope.secretEnvelope) ?? '';
}

/** The same signed payload without its SecretEnvelope (§4.8); payload bytes are shared, not re-encoded. */
export function stripSecret(envelope: Envelope): Envelope {
  if (!envelope.secretEnvelope) return envelope;
  return create(EnvelopeSchema, { payload: envelope.payload, signature: envelope.signature });
}

/** The org of an identity: crypto.orgOf, else the SerializedIdentity's mspid. */
export function orgOfIdentity(crypto: DiscoveryCrypto, identity: Uint8Array | undefined): string | undefined {
  if (!identity || identity.length === 0) return undefined;
  try {
    if (crypto.orgOf) return crypto.orgOf(identity) || undefined;
    return parseSerializedIdentity(identity).mspId || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fabric's ValidateAliveMsg (§2.4 row AliveMessage). Throws DiscoveryDropError. `verified`: the
 * messages whose signatures already checked out (verified.ts); the identity is looked up either way.
 */
export function validateAlive(
  a: AliveEnvelope,
  store: IdentityStore,
  crypto: DiscoveryCrypto,
  verified?: VerifiedAlives,
): void {
  const { envelope } = a;
  if (envelope.signature.length === 0)
    throw new DiscoveryDropError('unsigned', 'alive message is not signed');
  const alive = a.message.content.case === 'aliveMsg' ? a.message.content.value : undefined;
  if (alive && alive.identity.length > 0) {
    try {
      store.put(a.pkiId, alive.identity);
    } catch (e) {
      throw new DiscoveryDropError(
        'identity_rejected',
        `identity in alive message refused: ${errorMessage(e)}`,
        { cause: e },
      );
    }
  }
  const identity = store.get(a.pkiId);
  if (!identity)
    throw new DiscoveryDropError('unknown_identity', 'no identity known for the alive message PKI-ID');
  if (verified?.has(a, identity)) return;
  checkSignature(crypto, identity, envelope.signature, envelope.payload, 'alive message');
  const secret = envelope.secretEnvelope;
  if (secret) checkSignature(crypto, identity, secret.signature, secret.payload, 'secret envelope');
  verified?.add(a, identity);
}

function checkSignature(
  crypto: DiscoveryCrypto,
  identity: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
  what: string,
): void {
  let ok: boolean | void;
  try {
    ok = signature.length > 0 && crypto.verify(identity, signature, data);
  } catch (e) {
    throw new DiscoveryDropError('bad_signature', `${what} signature invalid: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (ok === false) throw new DiscoveryDropError('bad_signature', `${what} signature invalid`);
}
