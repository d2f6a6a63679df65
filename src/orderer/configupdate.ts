/**
 * Config updates for an existing channel (Fabric common/configtx validator + update @v2.4.9 and
 * the orderer's bundle checks; our own code). Given the current config and a CONFIG_UPDATE
 * envelope:
 *   1. the envelope's payload is a CONFIG_UPDATE holding a ConfigUpdateEnvelope, whose
 *      config_update is a ConfigUpdate for this channel;
 *   2. read set: every element it names exists now at exactly the version it states;
 *   3. delta = write-set elements whose version differs from the read set's (or absent there);
 *      empty -> refused; each needs a legal mod_policy; a new element must be at version 0, an
 *      existing one at its version + 1 and its CURRENT mod_policy must be satisfied by the
 *      ConfigSignatures (data = signature_header || config_update, identity = the header's
 *      creator). A relative mod_policy is resolved in the element's group (a group's own
 *      policies for a group), an absolute one from /Channel;
 *   4. new config = current elements overlaid with the delta, rebuilt from /Channel down
 *      (configmap.ts), sequence + 1; it must parse as a channel config, keep the consensus type,
 *      every org's MSP ID, the Application section and (our single-node limit) the consenters;
 *   5. result ConfigEnvelope{config, last_update = the envelope as received}.
 * Every refusal is a ConfigUpdateError (Fabric answers them BAD_REQUEST) with Fabric's wording.
 */
import { create } from '@bufbuild/protobuf';
import type { ChannelConfig } from '../channelconfig/types.js';
import { GrapevineError, errorMessage } from '../base/errors.js';
import type { SignedData } from '../identity/types.js';
import { decode } from '../wire/codec.js';
import { HeaderType, SignatureHeaderSchema, type Envelope } from '../wire/gen/common/common_pb.js';
import {
  ConfigEnvelopeSchema,
  ConfigSchema,
  ConfigUpdateEnvelopeSchema,
  ConfigUpdateSchema,
  type Config,
  type ConfigEnvelope,
  type ConfigUpdate,
  type ConfigUpdateEnvelope,
} from '../wire/gen/common/configtx_pb.js';
import {
  configIdProblem,
  configMapToGroup,
  elementModPolicy,
  elementVersion,
  mapConfig,
  type ConfigElement,
  type ConfigMap,
} from './configmap.js';
import { channelHeaderOf } from '../identity/envelope.js';

/** A config update the orderer refuses; `message` is what goes into BroadcastResponse.info. */
export class ConfigUpdateError extends GrapevineError {}

export interface ProposeDeps {
  /** Policy evaluation time (certificate validity). */
  readonly now: Date;
  /** Parse a proposed config (throws when it is not a usable channel config). */
  parse(channelId: string, config: Config): ChannelConfig;
}

export interface ProposedUpdate {
  readonly configEnvelope: ConfigEnvelope;
  /** The parsed new config (sequence = current + 1). */
  readonly config: ChannelConfig;
}

const fail = (code: string, message: string): never => {
  throw new ConfigUpdateError(code, message);
};

/** Fabric's EnvelopeToConfigUpdate: the ConfigUpdateEnvelope inside a CONFIG_UPDATE envelope. */
export function configUpdateEnvelopeOf(env: Envelope): ConfigUpdateEnvelope {
  try {
    const { payload, channelHeader } = channelHeaderOf(env);
    if (channelHeader.type !== HeaderType.CONFIG_UPDATE) {
      fail(
        'NOT_CONFIG_UPDATE',
        `invalid type ${HeaderType[channelHeader.type] ?? channelHeader.type}, expected CONFIG_UPDATE`,
      );
    }
    return decode(ConfigUpdateEnvelopeSchema, payload.data, 'common.ConfigUpdateEnvelope');
  } catch (e) {
    throw new ConfigUpdateError(
      'BAD_ENVELOPE',
      `error converting envelope to config update: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

/** Fabric's ConfigUpdateEnvelopeAsSignedData. */
export function configSignaturesAsSignedData(ce: ConfigUpdateEnvelope): SignedData[] {
  return ce.signatures.map((sig, i) => {
    let creator: Uint8Array;
    try {
      creator = decode(SignatureHeaderSchema, sig.signatureHeader, 'common.SignatureHeader').creator;
    } catch (e) {
      throw new ConfigUpdateError('BAD_SIGNATURE_HEADER', `signature ${i}: ${errorMessage(e)}`, { cause: e });
    }
    return {
      data: Buffer.concat([sig.signatureHeader, ce.configUpdate]),
      identity: creator,
      signature: sig.signature,
    };
  });
}

function modPolicyProblem(modPolicy: string): string | undefined {
  if (modPolicy === '') return 'mod_policy not set';
  const trimmed = modPolicy.startsWith('/') ? modPolicy.slice(1) : modPolicy;
  const parts = trimmed.split('/');
  for (let i = 0; i < parts.length; i++) {
    const bad = configIdProblem(parts[i]!);
    if (bad) return `path element at ${i} is invalid: ${bad}`;
  }
  return undefined;
}

/** Check `existing`'s mod_policy against the signatures; returns the failure or undefined. */
function checkModPolicy(
  cfg: ChannelConfig,
  key: string,
  existing: ConfigElement,
  signed: readonly SignedData[],
  now: Date,
): string | undefined {
  const modPolicy = elementModPolicy(existing);
  let policies = cfg.policies;
  if (modPolicy !== '' && !modPolicy.startsWith('/') && existing.path.length > 0) {
    const rel = [...existing.path.slice(1), ...(existing.kind === 'group' ? [existing.key] : [])];
    const sub = cfg.policies.group(rel.join('/'));
    if (!sub) return `unexpected missing policy ${modPolicy} for item ${key}`;
    policies = sub;
  }
  if (!policies.has(modPolicy)) return `unexpected missing policy ${modPolicy} for item ${key}`;
  const why = policies.check(modPolicy, signed, now);
  return why === undefined ? undefined : `policy for ${key} not satisfied: ${why}`;
}

function authorize(cfg: ChannelConfig, ce: ConfigUpdateEnvelope, now: Date): ConfigMap {
  let update: ConfigUpdate;
  try {
    update = decode(ConfigUpdateSchema, ce.configUpdate, 'common.ConfigUpdate');
  } catch (e) {
    return fail('BAD_CONFIG_UPDATE', errorMessage(e));
  }
  if (update.channelId !== cfg.channelId) {
    fail(
      'WRONG_CHANNEL',
      `ConfigUpdate for channel '${update.channelId}' but envelope for channel '${cfg.channelId}'`,
    );
  }
  const current = mapConfig(cfg.config.channelGroup);
  const mapped = (what: string, g: ConfigUpdate['readSet']): ConfigMap => {
    try {
      return mapConfig(g);
    } catch (e) {
      return fail('BAD_CONFIG_UPDATE', `error mapping ${what}: ${errorMessage(e)}`);
    }
  };
  const readSet = mapped('ReadSet', update.readSet);
  for (const [key, el] of readSet) {
    const existing = current.get(key);
    if (!existing) {
      fail(
        'READ_SET',
        `error validating ReadSet: existing config does not contain element for ${key} but was in the read set`,
      );
    } else if (elementVersion(existing) !== elementVersion(el)) {
      fail(
        'READ_SET',
        `error validating ReadSet: proposed update requires that key ${key} be at version ${elementVersion(el)}, but it is currently at version ${elementVersion(existing)}`,
      );
    }
  }
  const writeSet = mapped('WriteSet', update.writeSet);
  const delta: ConfigMap = new Map();
  for (const [key, el] of writeSet) {
    const read = readSet.get(key);
    if (read && elementVersion(read) === elementVersion(el)) continue;
    delta.set(key, el);
  }
  const signed = configSignaturesAsSignedData(ce);
  const bad = (m: string): never => fail('DELTA_SET', `error validating DeltaSet: ${m}`);
  if (delta.size === 0) bad('delta set was empty -- update would have no effect');
  for (const key of [...delta.keys()].sort()) {
    const el = delta.get(key)!;
    const problem = modPolicyProblem(elementModPolicy(el));
    if (problem) bad(`invalid mod_policy for element ${key}: ${problem}`);
    const existing = current.get(key);
    const version = elementVersion(el);
    if (!existing) {
      if (version !== 0n) bad(`attempted to set key ${key} to version ${version}, but key does not exist`);
      continue;
    }
    if (version !== elementVersion(existing) + 1n) {
      bad(
        `attempt to set key ${key} to version ${version}, but key is at version ${elementVersion(existing)}`,
      );
    }
    const why = checkModPolicy(cfg, key, existing, signed, now);
    if (why) bad(why);
  }
  const result: ConfigMap = new Map(current);
  for (const [key, el] of delta) result.set(key, el);
  return result;
}

/** Fabric's ValidateNew plus the limits of our single-node orderer. */
function checkTransition(cur: ChannelConfig, next: ChannelConfig): void {
  if (cur.consensusType.type !== next.consensusType.type) {
    fail(
      'CONSENSUS_TYPE',
      `attempted to change consensus type from ${cur.consensusType.type} to ${next.consensusType.type}`,
    );
  }
  for (const [label, before, after] of [
    ['orderer', cur.ordererOrgs, next.ordererOrgs],
    ['application', cur.applicationOrgs, next.applicationOrgs],
  ] as const) {
    for (const org of before) {
      const n = after.find((o) => o.name === org.name);
      if (n && n.mspId !== org.mspId) {
        fail('MSP_ID', `${label} org ${org.name} attempted to change MSP ID from ${org.mspId} to ${n.mspId}`);
      }
    }
  }
  if (cur.config.channelGroup?.groups['Application'] && !next.config.channelGroup?.groups['Application']) {
    fail('NO_APPLICATION', 'current config has application section, but new config does not');
  }
  const consenters = (c: ChannelConfig): string =>
    (c.consensusType.etcdraft?.consenters ?? [])
      .map((x) => `${x.host}:${x.port}`)
      .sort()
      .join(',');
  if (consenters(cur) !== consenters(next)) {
    fail(
      'CONSENTERS',
      'consensus metadata update for channel config update is invalid: this single-node orderer cannot change its consenter set',
    );
  }
}

/** Validate a CONFIG_UPDATE envelope against `cfg` and compute the next config. */
export function proposeConfigUpdate(cfg: ChannelConfig, env: Envelope, deps: ProposeDeps): ProposedUpdate {
  const where = `error applying config update to existing channel '${cfg.channelId}'`;
  try {
    const ce = configUpdateEnvelopeOf(env);
    let map: ConfigMap;
    try {
      map = authorize(cfg, ce, deps.now);
    } catch (e) {
      throw new ConfigUpdateError(
        e instanceof GrapevineError ? e.code : 'AUTHORIZE',
        `error authorizing update: ${errorMessage(e)}`,
        { cause: e },
      );
    }
    let channelGroup;
    try {
      channelGroup = configMapToGroup(map);
    } catch (e) {
      return fail('REBUILD', `could not turn configMap back to channelGroup: ${errorMessage(e)}`);
    }
    const config = create(ConfigSchema, { sequence: cfg.sequence + 1n, channelGroup });
    let next: ChannelConfig;
    try {
      next = deps.parse(cfg.channelId, config);
    } catch (e) {
      return fail('BAD_CONFIG', errorMessage(e));
    }
    checkTransition(cfg, next);
    return { configEnvelope: create(ConfigEnvelopeSchema, { config, lastUpdate: env }), config: next };
  } catch (e) {
    const code = e instanceof GrapevineError ? e.code : 'CONFIG_UPDATE';
    throw new ConfigUpdateError(code, `${where}: ${errorMessage(e)}`, { cause: e });
  }
}
