/**
 * The client side of a config update (what `configtxlator compute_update` and `peer channel
 * update` / `signconfigtx` do; our own code):
 *
 * computeConfigUpdate(channel, original, updated): per group, from the root down, compare the
 *   policies, values and sub-groups by key. An element whose content or mod_policy changed goes
 *   to the write set at version + 1; a new one at version 0; an unchanged one is left out, or,
 *   when its group's membership changed (an element added or removed, or the group's mod_policy
 *   changed), appears in both sets with just its version. A group whose membership changed is
 *   written at version + 1 with its mod_policy; a group with only changed members appears at its
 *   version in both sets, holding those members; an untouched group is left out. The read set
 *   names every group on the way to a change, with its version.
 * signConfigUpdate: ConfigSignature{signature_header = SignatureHeader{creator, nonce},
 *   signature = sign(signature_header || config_update)}.
 * configUpdateEnvelope: Envelope of type CONFIG_UPDATE holding ConfigUpdateEnvelope{config_update,
 *   signatures}, signed by the submitter.
 * withAnchorPeers: a copy of a config with an application org's AnchorPeers value replaced.
 */
import { clone, create, equals } from '@bufbuild/protobuf';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../base/errors.js';
import { encode } from '../wire/codec.js';
import { HeaderType, SignatureHeaderSchema, type Envelope } from '../wire/gen/common/common_pb.js';
import {
  ConfigGroupSchema,
  ConfigPolicySchema,
  ConfigSchema,
  ConfigSignatureSchema,
  ConfigUpdateEnvelopeSchema,
  ConfigUpdateSchema,
  ConfigValueSchema,
  type Config,
  type ConfigGroup,
  type ConfigSignature,
  type ConfigUpdate,
} from '../wire/gen/common/configtx_pb.js';
import { PolicySchema } from '../wire/gen/common/policies_pb.js';
import { AnchorPeersSchema } from '../wire/gen/peer/configuration_pb.js';
import { signedEnvelope } from '../wire/orderer.js';
import type { Signer } from '../wire/signer.js';

interface GroupDiff {
  readonly read: ConfigGroup;
  readonly write: ConfigGroup;
  readonly changed: boolean;
}

const emptyGroup = (): ConfigGroup => create(ConfigGroupSchema);

/**
 * The policies or the values of a group, by key: unchanged ones (same content and mod_policy) go
 * to `same` with just their version, changed ones to `write` at version + 1, new ones to `write`
 * at version 0. True when one was added or removed (the group's membership changed).
 */
function diffLeaves<T extends { version: bigint; modPolicy: string }>(
  orig: Record<string, T>,
  upd: Record<string, T>,
  sameContent: (o: T, u: T) => boolean,
  make: (version: bigint, content?: T) => T,
  same: Record<string, T>,
  write: Record<string, T>,
): boolean {
  let moved = false;
  for (const [k, o] of Object.entries(orig)) {
    const u = upd[k];
    if (!u) moved = true;
    else if (u.modPolicy === o.modPolicy && sameContent(o, u)) same[k] = make(o.version);
    else write[k] = make(o.version + 1n, u);
  }
  for (const [k, u] of Object.entries(upd)) {
    if (orig[k]) continue;
    moved = true;
    write[k] = make(0n, u);
  }
  return moved;
}

function diffGroup(orig: ConfigGroup, upd: ConfigGroup): GroupDiff {
  const read = create(ConfigGroupSchema, { version: orig.version });
  const write = create(ConfigGroupSchema, { version: orig.version });
  const same = create(ConfigGroupSchema);
  let members = orig.modPolicy !== upd.modPolicy;

  const policiesMoved = diffLeaves(
    orig.policies,
    upd.policies,
    (o, u) => equals(PolicySchema, o.policy ?? create(PolicySchema), u.policy ?? create(PolicySchema)),
    (version, u) =>
      create(ConfigPolicySchema, { version, ...(u && { modPolicy: u.modPolicy, policy: u.policy }) }),
    same.policies,
    write.policies,
  );
  const valuesMoved = diffLeaves(
    orig.values,
    upd.values,
    (o, u) => Buffer.from(u.value).equals(o.value),
    (version, u) =>
      create(ConfigValueSchema, { version, ...(u && { modPolicy: u.modPolicy, value: u.value }) }),
    same.values,
    write.values,
  );
  members ||= policiesMoved || valuesMoved;

  for (const [k, o] of Object.entries(orig.groups)) {
    const u = upd.groups[k];
    if (!u) {
      members = true;
      continue;
    }
    const d = diffGroup(o, u);
    if (!d.changed) same.groups[k] = d.read;
    else {
      read.groups[k] = d.read;
      write.groups[k] = d.write;
    }
  }
  for (const [k, u] of Object.entries(upd.groups)) {
    if (orig.groups[k]) continue;
    members = true;
    const d = diffGroup(emptyGroup(), u);
    write.groups[k] = create(ConfigGroupSchema, {
      version: 0n,
      modPolicy: u.modPolicy,
      policies: d.write.policies,
      values: d.write.values,
      groups: d.write.groups,
    });
  }

  if (!members) {
    const any =
      Object.keys(write.policies).length +
        Object.keys(write.values).length +
        Object.keys(write.groups).length >
      0;
    if (!any) return { read: create(ConfigGroupSchema, { version: orig.version }), write, changed: false };
    return { read, write, changed: true };
  }
  for (const [k, v] of Object.entries(same.policies)) read.policies[k] = write.policies[k] = v;
  for (const [k, v] of Object.entries(same.values)) read.values[k] = write.values[k] = v;
  for (const [k, v] of Object.entries(same.groups)) read.groups[k] = write.groups[k] = v;
  write.version = orig.version + 1n;
  write.modPolicy = upd.modPolicy;
  return { read, write, changed: true };
}

/** The ConfigUpdate turning `original` into `updated`; ConfigError NO_DIFFERENCE when they are equal. */
export function computeConfigUpdate(channelId: string, original: Config, updated: Config): ConfigUpdate {
  const d = diffGroup(original.channelGroup ?? emptyGroup(), updated.channelGroup ?? emptyGroup());
  if (!d.changed)
    throw new ConfigError('NO_DIFFERENCE', 'no differences detected between original and updated config');
  return create(ConfigUpdateSchema, { channelId, readSet: d.read, writeSet: d.write });
}

export function signConfigUpdate(
  configUpdate: Uint8Array,
  signer: Signer,
  nonce?: Uint8Array,
): ConfigSignature {
  const signatureHeader = encode(SignatureHeaderSchema, {
    creator: signer.serializedIdentity,
    nonce: nonce ?? new Uint8Array(randomBytes(24)),
  });
  return create(ConfigSignatureSchema, {
    signatureHeader,
    signature: signer.sign(Buffer.concat([signatureHeader, configUpdate])),
  });
}

export interface UpdateEnvelopeOptions {
  readonly channelId: string;
  /** Serialized ConfigUpdate. */
  readonly configUpdate: Uint8Array;
  readonly signatures: readonly ConfigSignature[];
  /** Signs the envelope (Fabric: the submitting admin). */
  readonly submitter: Signer;
  readonly nowMs: number;
}

export function configUpdateEnvelope(o: UpdateEnvelopeOptions): Envelope {
  return signedEnvelope(
    {
      type: HeaderType.CONFIG_UPDATE,
      channelId: o.channelId,
      data: encode(ConfigUpdateEnvelopeSchema, {
        configUpdate: o.configUpdate,
        signatures: [...o.signatures],
      }),
      nowMs: o.nowMs,
    },
    o.submitter,
  );
}

/** A copy of `config` with Application/<org>'s AnchorPeers set (mod_policy Admins when new). */
export function withAnchorPeers(
  config: Config,
  org: string,
  anchors: readonly { host: string; port: number }[],
): Config {
  const next = clone(ConfigSchema, config);
  const group = next.channelGroup?.groups['Application']?.groups[org];
  if (!group) {
    const known = Object.keys(next.channelGroup?.groups['Application']?.groups ?? {}).join(', ');
    throw new ConfigError(
      'NO_SUCH_ORG',
      `application org ${org} is not in the channel config (orgs: ${known})`,
    );
  }
  const value = encode(AnchorPeersSchema, {
    anchorPeers: anchors.map((a) => ({ host: a.host, port: a.port })),
  });
  const old = group.values['AnchorPeers'];
  group.values['AnchorPeers'] = create(ConfigValueSchema, {
    version: old?.version ?? 0n,
    modPolicy: old?.modPolicy || 'Admins',
    value,
  });
  return next;
}
