/**
 * Alive messages whose signatures checked out (Fabric's ValidateAliveMsg), so that the same bytes
 * are not checked again. Membership responses repeat every member's latest alive message, and
 * discovery does not store the alive messages of a response (as Fabric's msgStore does not): a
 * relay among Fabric peers spent a third of its CPU re-checking the same signatures, on the
 * thread that forwards blocks.
 *
 * An entry matches only the same identity, payload and signatures, byte for byte: ECDSA
 * verification of the same inputs gives the same answer. It is kept for ttlMs (the alive
 * expiration timeout, as long as discovery trusts an alive message it stored), so a
 * certificate that expires or is revoked meanwhile is not trusted longer than that; the identity
 * itself is still looked up in the identity store at every message. Bounded by maxEntries (the
 * alive store's bound, a config key), the oldest entry out first: an evicted message is only
 * checked again.
 */
import type { Clock } from '../../base/time.js';
import type { AliveEnvelope } from './types.js';

interface Entry {
  readonly identity: Uint8Array;
  readonly payload: Uint8Array;
  readonly secretPayload: Uint8Array | undefined;
  readonly secretSignature: Uint8Array | undefined;
  readonly until: number;
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined
    ? a === b
    : a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

export class VerifiedAlives {
  /** By the envelope's signature (base64), oldest first. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly o: { readonly clock: Clock; readonly ttlMs: number; readonly maxEntries: number },
  ) {}

  /** Whether `a`, signed by `identity`, verified within ttlMs. */
  has(a: AliveEnvelope, identity: Uint8Array): boolean {
    const key = keyOf(a);
    const e = this.entries.get(key);
    if (!e) return false;
    if (e.until <= this.o.clock.now()) {
      this.entries.delete(key);
      return false;
    }
    const secret = a.envelope.secretEnvelope;
    return (
      same(e.identity, identity) &&
      same(e.payload, a.envelope.payload) &&
      same(e.secretPayload, secret?.payload) &&
      same(e.secretSignature, secret?.signature)
    );
  }

  /** `a`'s signatures verified against `identity`. */
  add(a: AliveEnvelope, identity: Uint8Array): void {
    const key = keyOf(a);
    this.entries.delete(key);
    while (this.entries.size >= this.o.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const secret = a.envelope.secretEnvelope;
    // copies: the message's bytes are views of the whole received frame
    this.entries.set(key, {
      identity, // the identity store's own bytes
      payload: a.envelope.payload.slice(),
      secretPayload: secret?.payload.slice(),
      secretSignature: secret?.signature.slice(),
      until: this.o.clock.now() + this.o.ttlMs,
    });
  }
}

function keyOf(a: AliveEnvelope): string {
  const s = a.envelope.signature;
  return Buffer.from(s.buffer, s.byteOffset, s.length).toString('base64');
}
