/**
 * Channel MAC (PROTOCOL.md §2.10): SHA-256(pkiId ‖ channel name bytes). StateInfo carries the MAC
 * of its own PKI-ID, StateInfoPullRequest the MAC of the requester's; a receiver finds the
 * channel by recomputing the MAC for each joined channel.
 */
import { createHash } from 'node:crypto';
import type { PkiId } from '../../base/pkiid.js';

export function channelMac(pkiId: PkiId, channel: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(pkiId).update(channel, 'utf8').digest());
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
