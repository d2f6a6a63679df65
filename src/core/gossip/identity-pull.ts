/**
 * Identity pull (PROTOCOL.md §2.6; Fabric's certstore.go): the pull engine with msg_type
 * IDENTITY_MSG, tag EMPTY, no channel, item id = the raw 32-byte PKI-ID, pulling from all alive
 * members.
 *
 *   The store starts with our own PeerIdentity{pki_id, cert = our serialized identity, metadata
 *     nil} in GossipMessage{tag EMPTY, nonce 0, no channel}, signed once; it is never replaced.
 *   Egress: sameOrgOrOurOrgPullFilter (./pull/filter.ts) for the requester's handshake identity.
 *   A solicited DataUpdate is accepted only if every element is a PeerIdentity whose pki_id is
 *     hash(cert), whose envelope verifies with that cert (Verify, §2.4) and whose cert validates;
 *     one bad element drops the whole update. Accepted identities are Put into the identity
 *     store; those the store refuses (expired, ...) are not held for pulling.
 *   When the identity store purges an identity, it leaves the pull store too.
 */
import type { ReceivedMessage, Transport, Unsubscribe } from '../link/types.js';
import type { Clock, Rng } from '../../base/time.js';
import type { PkiId } from '../../base/pkiid.js';
import { GrapevineError, errorMessage } from '../../base/errors.js';
import type { IdentityStore } from '../../identity/store.js';
import { parseSerializedIdentity } from '../../identity/x509identity.js';
import { silentLogger, type Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { GossipMessage } from '../../wire/gen/gossip/message_pb.js';
import { PullMsgType, Tag, signGossip } from '../../wire/gossip.js';
import type { Signer } from '../../wire/signer.js';
import type { PullConfig } from '../pull/config.js';
import { PullEngine, type PullMember } from '../pull/engine.js';
import { sameOrgOrOurOrgPullFilter } from '../pull/filter.js';
import type { PullItem } from '../pull/store.js';
import { METRICS, type CounterDef } from '../../base/metric-table.js';

/** What the identity pull needs from the MessageCryptoService (which satisfies it). */
export interface IdentityPullCrypto {
  /** SHA-256(mspid || id_bytes) (§2.2). */
  pkiIdOf(identity: Uint8Array): Uint8Array;
  /** §2.4 Verify: throws, or returns false, when the signature is not valid. */
  verify(identity: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean | void;
  /** Throws unless the local MSP or a channel MSP validates the identity. */
  validateIdentity(identity: Uint8Array): void;
}

export type IdentityRejection = 'not_identity' | 'pki_id_mismatch' | 'bad_signature' | 'invalid_identity';

/** Why an identity DataUpdate was refused; `code` is the IdentityRejection. */
export class IdentityUpdateError extends GrapevineError {}

export interface IdentityPullOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly rng: Rng;
  /** Our signing identity (its serializedIdentity is our cert). */
  readonly signer: Signer;
  readonly selfPkiId: PkiId;
  /** Our org (MSP ID). */
  readonly selfOrg: string;
  readonly identities: IdentityStore;
  readonly crypto: IdentityPullCrypto;
  /** All alive members, with their preferred endpoints. */
  readonly membership: () => readonly PullMember[];
  /** Whether discovery knows the peer (or us) with a non-empty external endpoint. */
  readonly hasExternalEndpoint: (pkiId: PkiId) => boolean;
  /** Org of a serialized identity; default: its mspid field. */
  readonly orgOfIdentity?: (identity: Uint8Array) => string | undefined;
  readonly config?: PullConfig;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Subscribe to the transport for IDENTITY_MSG pull messages in start(). Default true. */
  readonly subscribe?: boolean;
}

export function mspIdOfIdentity(identity: Uint8Array): string | undefined {
  try {
    return parseSerializedIdentity(identity).mspId || undefined;
  } catch {
    return undefined;
  }
}

export class IdentityPuller {
  readonly engine: PullEngine;
  /** Our own signed PeerIdentity item. */
  readonly selfItem: PullItem;
  private readonly log: Logger;
  private readonly orgOfIdentity: (identity: Uint8Array) => string | undefined;
  private unsubscribePurge?: Unsubscribe;

  constructor(private readonly opts: IdentityPullOptions) {
    this.log = opts.logger ?? silentLogger;
    this.orgOfIdentity = opts.orgOfIdentity ?? mspIdOfIdentity;
    this.selfItem = selfIdentityItem(opts.selfPkiId, opts.signer);
    const view = {
      selfOrg: opts.selfOrg,
      orgOfIdentity: this.orgOfIdentity,
      orgOfPeer: (pkiId: PkiId) => {
        const identity = opts.identities.get(pkiId);
        return identity ? this.orgOfIdentity(identity) : undefined;
      },
      hasExternalEndpoint: opts.hasExternalEndpoint,
    };
    this.engine = new PullEngine({
      name: 'identity',
      transport: opts.transport,
      clock: opts.clock,
      rng: opts.rng,
      config: opts.config,
      metrics: opts.metrics,
      logger: this.log,
      subscribe: opts.subscribe ?? true,
      adapter: {
        msgType: PullMsgType.IDENTITY_MSG,
        tag: Tag.EMPTY,
        channel: '',
        membership: opts.membership,
        itemId: identityItemId,
        egressFilter: (requester) => sameOrgOrOurOrgPullFilter(view, requester.conn.identity),
        acceptUpdate: (items, from) => this.acceptUpdate(items, from),
      },
    });
    this.engine.add(this.selfItem);
  }

  start(): void {
    if (this.unsubscribePurge) return;
    this.unsubscribePurge = this.opts.identities.onPurge((pkiId) => {
      if (!Buffer.from(pkiId).equals(Buffer.from(this.opts.selfPkiId))) this.engine.remove(pkiId);
    });
    this.engine.start();
  }

  stop(): void {
    this.engine.stop();
    this.unsubscribePurge?.();
  }

  /** Hand a received IDENTITY_MSG pull message over (when not subscribed to the transport). */
  handleMessage(m: ReceivedMessage): void {
    this.engine.handleMessage(m);
  }

  /** Validate the whole update (one bad element drops it), then Put each identity. */
  private acceptUpdate(items: readonly PullItem[], from: ReceivedMessage): PullItem[] {
    try {
      for (const item of items) validateIdentityItem(this.opts.crypto, item);
    } catch (e) {
      const reason = e instanceof IdentityUpdateError ? e.code : 'invalid_identity';
      this.count(METRICS.grapevineGossipIdentityPullRejectedTotal, { reason });
      throw e;
    }
    const accepted: PullItem[] = [];
    for (const item of items) {
      const { pkiId, cert } = (item.message.content as { value: { pkiId: Uint8Array; cert: Uint8Array } })
        .value;
      try {
        this.opts.identities.put(pkiId, cert);
        accepted.push(item);
      } catch (e) {
        this.count(METRICS.grapevineGossipIdentityPullPutRefusedTotal, {
          reason: (e as { code?: string }).code ?? 'error',
        });
        this.log.debug(
          { from: from.conn.endpoint, err: errorMessage(e) },
          'identity pull: identity store refused a pulled identity',
        );
      }
    }
    return accepted;
  }

  private count(def: CounterDef<'reason'>, labels: { reason: string }): void {
    this.opts.metrics?.counter(def).inc(labels);
  }
}

/** Item id of an identity message: its raw PKI-ID. */
export function identityItemId(message: GossipMessage): Uint8Array {
  if (message.content.case !== 'peerIdentity')
    throw new IdentityUpdateError('not_identity', `not a PeerIdentity: ${message.content.case}`);
  return message.content.value.pkiId;
}

/** Our own PeerIdentity message (tag EMPTY, nonce 0, no channel, metadata nil), signed once. */
export function selfIdentityItem(selfPkiId: PkiId, signer: Signer): PullItem {
  const { envelope, message } = signGossip(
    {
      tag: Tag.EMPTY,
      nonce: 0n,
      content: { case: 'peerIdentity', value: { pkiId: selfPkiId, cert: signer.serializedIdentity } },
    },
    signer,
  );
  return { id: new Uint8Array(selfPkiId), envelope, message };
}

/** Throws IdentityUpdateError unless the item is a self-consistent, verified, valid PeerIdentity. */
export function validateIdentityItem(crypto: IdentityPullCrypto, item: PullItem): void {
  const c = item.message.content;
  if (c.case !== 'peerIdentity')
    throw new IdentityUpdateError(
      'not_identity',
      `update element is ${c.case ?? 'empty'}, not a PeerIdentity`,
    );
  const { pkiId, cert } = c.value;
  let computed: Uint8Array;
  try {
    computed = crypto.pkiIdOf(cert);
  } catch (e) {
    throw new IdentityUpdateError('invalid_identity', `identity cannot be parsed: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (!Buffer.from(computed).equals(Buffer.from(pkiId))) {
    throw new IdentityUpdateError('pki_id_mismatch', 'PeerIdentity pki_id is not the hash of its cert');
  }
  let ok: boolean | void;
  try {
    ok = crypto.verify(cert, item.envelope.signature, item.envelope.payload);
  } catch (e) {
    throw new IdentityUpdateError(
      'bad_signature',
      `PeerIdentity signature does not verify: ${errorMessage(e)}`,
      { cause: e },
    );
  }
  if (ok === false) throw new IdentityUpdateError('bad_signature', 'PeerIdentity signature does not verify');
  try {
    crypto.validateIdentity(cert);
  } catch (e) {
    throw new IdentityUpdateError('invalid_identity', `PeerIdentity cert is not valid: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}
