/** What the wire helpers need to sign: the local identity's key. Implemented in src/identity. */
export interface Signer {
  /** ECDSA P-256 / SHA-256 / DER / low-S signature over `data` (PROTOCOL.md §2.3). */
  sign(data: Uint8Array): Uint8Array;
  /** The serialized msp.SerializedIdentity of the signer. */
  readonly serializedIdentity: Uint8Array;
}
