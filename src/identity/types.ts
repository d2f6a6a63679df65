/**
 * The identity layer's public contracts. Implementations live beside this file; the channel
 * config (policies) and every layer above depend only on these shapes.
 */
import type { X509Certificate } from 'node:crypto';
import type { MSPPrincipal } from '../wire/gen/msp/msp_principal_pb.js';

/** NodeOU roles of an identity (msp/config.yaml NodeOUs). */
export type NodeRole = 'client' | 'peer' | 'admin' | 'orderer';

/** A deserialized X.509 MSP identity (PROTOCOL.md §2.1). */
export interface MspIdentity {
  readonly mspId: string;
  /** id_bytes exactly as received (a PEM certificate). */
  readonly idBytes: Uint8Array;
  /** The serialized msp.SerializedIdentity, exactly as received or produced. */
  readonly serialized: Uint8Array;
  /** SHA-256(mspid || id_bytes) (§2.2). */
  readonly pkiId: Uint8Array;
  readonly cert: X509Certificate;
  /** Certificate NotAfter. */
  readonly expiresAt: Date;
  /** Organizational units in the certificate subject. */
  readonly ous: readonly string[];
  /** Verify an ECDSA signature over `data` with this identity's key (DER, SHA-256, low-S required). */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

/**
 * A verifying MSP: one org's trust anchors and rules, built from an MSP folder or from the
 * MSPConfig of a channel config.
 */
export interface Msp {
  readonly id: string;
  /** Parse a SerializedIdentity of this MSP; throws VerifyError (wrong MSP ID, not well-formed). */
  deserialize(serialized: Uint8Array): MspIdentity;
  /**
   * Throws VerifyError (code CHAIN, EXPIRED, NOT_YET_VALID, REVOKED, NODE_OU, NOT_WELL_FORMED)
   * unless the identity chains to this MSP's roots/intermediates, is within its validity period
   * at `now`, is not revoked by a CRL, and satisfies the NodeOU rules.
   */
  validate(identity: MspIdentity, now: Date): void;
  /** The NodeOU role of a valid identity (undefined when NodeOUs are off or none matches). */
  roleOf(identity: MspIdentity): NodeRole | undefined;
  /** Whether the identity satisfies an MSPPrincipal (ROLE, ORGANIZATION_UNIT, IDENTITY, ...). */
  satisfiesPrincipal(identity: MspIdentity, principal: MSPPrincipal, now: Date): boolean;
  /** PEM/DER of the TLS root and intermediate CAs of this org (for TLS trust pools). */
  readonly tlsRootCerts: readonly Uint8Array[];
  readonly tlsIntermediateCerts: readonly Uint8Array[];
}

/** A set of MSPs by ID (the local MSP, or a channel's orgs). */
export interface MspManager {
  readonly msps: ReadonlyMap<string, Msp>;
  /** Deserialize with the MSP named in the identity; throws VerifyError when unknown or malformed. */
  deserialize(serialized: Uint8Array): { msp: Msp; identity: MspIdentity };
}

/** Signed data as a policy evaluates it (Fabric's protoutil.SignedData). */
export interface SignedData {
  readonly data: Uint8Array;
  readonly identity: Uint8Array;
  readonly signature: Uint8Array;
}

/** Policies of one channel, by path such as `/Channel/Application/Readers`. */
export interface PolicyEvaluator {
  /** Throws VerifyError (code POLICY) when the signature set does not satisfy the policy. */
  evaluate(policyPath: string, signed: readonly SignedData[], now: Date): void;
}

/** What the MessageCryptoService needs to know about a channel. */
export interface ChannelCryptoContext {
  readonly channelId: string;
  readonly msps: MspManager;
  readonly policies: PolicyEvaluator;
}

/** The local node's signing identity: its signer, its identity and its (local) MSP. */
export interface LocalIdentity {
  readonly signer: import('../wire/signer.js').Signer;
  readonly identity: MspIdentity;
  readonly msp: Msp;
}
