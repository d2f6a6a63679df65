/**
 * The gossip handshake (PROTOCOL.md §3.2), pure and I/O-free: shared by the real gRPC
 * transport and the simulated one, so both refuse exactly the same peers.
 *
 * Algorithm (both sides run it; both send first, neither waits for the other):
 *   0. if our TLS is on and the remote presented no TLS certificate -> NO_TLS_CERT (before sending)
 *   send  GossipMessage{tag EMPTY, nonce 0, conn{pki_id, identity, tls_cert_hash, probe}}, signed;
 *         tls_cert_hash = SHA-256(DER of our own TLS leaf: client cert when dialling, server cert
 *         when accepting), empty when TLS is off.
 *   receive the first stream message within connTimeout (the caller times it: TIMEOUT), then
 *   1. it must be a `conn` message                                   -> NOT_CONN
 *   2. with a non-empty pki_id                                       -> EMPTY_PKI_ID
 *   3. identity store Put(pki_id, identity) must succeed (§2.5)     -> IDENTITY_REJECTED / UNKNOWN_MSP
 *   4. TLS on: tls_cert_hash == SHA-256(leaf the remote presented)   -> TLS_HASH_MISMATCH
 *   5. the envelope signature verifies with the message's own identity -> BAD_SIGNATURE
 *   6. probe=true received by the initiator                          -> PROBE_UNEXPECTED
 *   The result is the connection's info (PKI-ID, identity, endpoint, signed ConnEstablish).
 */
import { createHash } from 'node:crypto';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import { GossipMessage_Tag as Tag, type Envelope } from '../../wire/gen/gossip/message_pb.js';
import { openEnvelope, signGossip } from '../../wire/gossip.js';
import type { Signer } from '../../wire/signer.js';
import type { ConnectionInfo } from './types.js';
import type { PkiId } from '../../base/pkiid.js';

export type HandshakeReason =
  | 'NO_TLS_CERT'
  | 'NOT_CONN'
  | 'EMPTY_PKI_ID'
  | 'IDENTITY_REJECTED'
  | 'TLS_HASH_MISMATCH'
  | 'BAD_SIGNATURE'
  | 'TIMEOUT'
  | 'PROBE_UNEXPECTED'
  | 'UNKNOWN_MSP';

export const HANDSHAKE_REASONS: readonly HandshakeReason[] = [
  'NO_TLS_CERT',
  'NOT_CONN',
  'EMPTY_PKI_ID',
  'IDENTITY_REJECTED',
  'TLS_HASH_MISMATCH',
  'BAD_SIGNATURE',
  'TIMEOUT',
  'PROBE_UNEXPECTED',
  'UNKNOWN_MSP',
];

/** A handshake that failed; `code` and `reason` are the same stable HandshakeReason. */
export class HandshakeError extends GrapevineError {
  readonly reason: HandshakeReason;
  /** What the remote's ConnEstablish claimed, when the refusal came after it parsed. */
  remote?: { readonly pkiId: PkiId; readonly identity: Uint8Array };
  constructor(reason: HandshakeReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.reason = reason;
  }
}

/** What the handshake needs from the identity layer. */
export interface HandshakeVerifier {
  /**
   * Identity store Put (§2.5). Throws when refused; an error whose `code` is 'UNKNOWN_MSP'
   * (no channel org's MSP knows the identity) is reported as UNKNOWN_MSP, anything else as
   * IDENTITY_REJECTED.
   */
  putIdentity(pkiId: PkiId, identity: Uint8Array): void;
  /** §2.4 Verify(identity, signature, message): throws or returns false when invalid. */
  verifySignature(identity: Uint8Array, signature: Uint8Array, data: Uint8Array): boolean | void;
}

/** Our side of the handshake. */
export interface HandshakeSelf {
  readonly pkiId: PkiId;
  readonly signer: Signer;
}

const EMPTY = new Uint8Array(0);

/** SHA-256 of a TLS leaf certificate's DER, or empty when there is none (TLS off). */
export function tlsCertHash(der: Uint8Array | undefined): Uint8Array {
  if (!der || der.length === 0) return EMPTY;
  return new Uint8Array(createHash('sha256').update(der).digest());
}

/** Build our signed ConnEstablish envelope (§3.2 "Send"). */
export function buildConnEstablish(
  self: HandshakeSelf,
  ownTlsCertDer: Uint8Array | undefined,
  probe: boolean,
): Envelope {
  return signGossip(
    {
      tag: Tag.EMPTY,
      nonce: 0n,
      content: {
        case: 'conn',
        value: {
          pkiId: self.pkiId,
          identity: self.signer.serializedIdentity,
          tlsCertHash: tlsCertHash(ownTlsCertDer),
          probe,
        },
      },
    },
    self.signer,
  ).envelope;
}

/** Step 0: with TLS on, a remote that presented no certificate is refused before we send. */
export function checkRemoteTlsPresent(tlsEnabled: boolean, remoteTlsCertDer: Uint8Array | undefined): void {
  if (tlsEnabled && (!remoteTlsCertDer || remoteTlsCertDer.length === 0)) {
    throw new HandshakeError('NO_TLS_CERT', 'remote peer presented no TLS certificate');
  }
}

export interface ReceivedHandshake {
  /** The first message received on the stream, exactly as it arrived. */
  readonly envelope: Envelope;
  /** Whether our side runs TLS (binds the TLS certificate hash). */
  readonly tlsEnabled: boolean;
  /** DER of the leaf certificate the remote presented in this TLS session. */
  readonly remoteTlsCertDer?: Uint8Array;
  /** Remote socket address as seen locally. */
  readonly endpoint: string;
  /** Which side we are: an initiator refuses probe=true. */
  readonly role: 'initiator' | 'responder';
}

export interface HandshakeResult {
  readonly info: ConnectionInfo;
  /** The remote asked for a handshake only (responder side): authenticate and end the stream. */
  readonly probe: boolean;
}

/** Steps 1–6 of §3.2 on the first received message. Throws HandshakeError only. */
export function verifyConnEstablish(rx: ReceivedHandshake, verifier: HandshakeVerifier): HandshakeResult {
  checkRemoteTlsPresent(rx.tlsEnabled, rx.remoteTlsCertDer);
  let message;
  try {
    message = openEnvelope(rx.envelope).message;
  } catch (e) {
    throw new HandshakeError('NOT_CONN', `first message does not parse: ${errorMessage(e)}`, { cause: e });
  }
  if (message.content.case !== 'conn') {
    throw new HandshakeError('NOT_CONN', `first message is ${message.content.case}, not conn`);
  }
  const conn = message.content.value;
  if (conn.pkiId.length === 0) throw new HandshakeError('EMPTY_PKI_ID', 'ConnEstablish has an empty pki_id');
  try {
    return checkConn(rx, verifier, conn);
  } catch (e) {
    // the refusal names what the remote claimed (refused.ts: subject, expiry, PKI-ID)
    if (e instanceof HandshakeError) e.remote ??= { pkiId: conn.pkiId, identity: conn.identity };
    throw e;
  }
}

/** Steps 3–6 on a parsed ConnEstablish. */
function checkConn(
  rx: ReceivedHandshake,
  verifier: HandshakeVerifier,
  conn: { pkiId: Uint8Array; identity: Uint8Array; tlsCertHash: Uint8Array; probe: boolean },
): HandshakeResult {
  try {
    verifier.putIdentity(conn.pkiId, conn.identity);
  } catch (e) {
    const unknown = (e as { code?: unknown }).code === 'UNKNOWN_MSP';
    throw new HandshakeError(
      unknown ? 'UNKNOWN_MSP' : 'IDENTITY_REJECTED',
      `identity refused: ${errorMessage(e)}`,
      { cause: e },
    );
  }
  if (rx.tlsEnabled) {
    const want = tlsCertHash(rx.remoteTlsCertDer);
    if (!Buffer.from(conn.tlsCertHash).equals(want)) {
      throw new HandshakeError(
        'TLS_HASH_MISMATCH',
        'tls_cert_hash does not match the TLS certificate the remote presented',
      );
    }
  }
  let ok: boolean | void;
  try {
    ok =
      rx.envelope.signature.length > 0 &&
      verifier.verifySignature(conn.identity, rx.envelope.signature, rx.envelope.payload);
  } catch (e) {
    throw new HandshakeError('BAD_SIGNATURE', `ConnEstablish signature invalid: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (ok === false) throw new HandshakeError('BAD_SIGNATURE', 'ConnEstablish signature invalid');
  if (conn.probe && rx.role === 'initiator') {
    throw new HandshakeError('PROBE_UNEXPECTED', 'responder sent probe=true');
  }
  return {
    info: {
      pkiId: new Uint8Array(conn.pkiId),
      identity: new Uint8Array(conn.identity),
      endpoint: rx.endpoint,
      auth: { signedData: rx.envelope.payload, signature: rx.envelope.signature },
    },
    probe: conn.probe,
  };
}
