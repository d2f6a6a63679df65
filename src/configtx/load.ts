/**
 * loadConfigtx: read a configtx.yaml (configtxgen's format) into a Configtx.
 *
 * The YAML is read as YAML 1.1 (as Fabric's go-yaml v2 reads it), with anchors, aliases and
 * `<<:` merges resolved. The whole file is then decoded strictly (every profile and the
 * top-level Organizations/Channel/Application/Orderer/Capabilities sections), so a typo
 * anywhere fails with the file and key path, as configtxgen does. Defaults and path
 * resolution happen later, for the one profile a block is built from (see profile.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../base/errors.js';
import { Reader, join } from './reader.js';
import { toBool, toDurationNs, toInt, toStr, toUint32, toUint64 } from './scalars.js';
import type {
  AnchorPeerSpec,
  ApplicationSpec,
  CapabilityMap,
  Configtx,
  ConfigtxPolicy,
  ConsenterSpec,
  ConsortiumSpec,
  EtcdRaftSpec,
  OrdererSpec,
  OrganizationSpec,
  PolicyMap,
  ProfileSpec,
} from './types.js';

export function loadConfigtx(path: string): Configtx {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('CONFIGTX_FILE', `cannot read configtx file ${path}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  return parseConfigtx(text, path);
}

/** Parse configtx.yaml text; `path` names the file in errors and anchors relative paths. */
export function parseConfigtx(text: string, path: string): Configtx {
  const doc = parseDocument(text, { version: '1.1', merge: true, intAsBigInt: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError('CONFIGTX_YAML', `${path}: invalid YAML: ${doc.errors[0].message}`);
  }
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: 10_000 });
  } catch (e) {
    throw new ConfigError('CONFIGTX_YAML', `${path}: invalid YAML: ${errorMessage(e)}`, { cause: e });
  }
  const r = new Reader(path);
  const top =
    r.struct(tree ?? {}, '', [
      'Profiles',
      'Organizations',
      'Channel',
      'Application',
      'Orderer',
      'Capabilities',
    ] as const) ?? {};
  const profiles = new Map<string, ProfileSpec>();
  for (const [name, v] of r.entries(top.Profiles, 'Profiles') ?? []) {
    profiles.set(name, readProfile(r, v, join('Profiles', name)));
  }
  const organizations = readOrgs(r, top.Organizations, 'Organizations');
  // Decoded only to reject what configtxgen rejects; profiles reach them through anchors.
  readProfile(r, top.Channel, 'Channel');
  readApplication(r, top.Application, 'Application');
  readOrderer(r, top.Orderer, 'Orderer');
  for (const [k, v] of r.entries(top.Capabilities, 'Capabilities') ?? [])
    readCapabilities(r, v, join('Capabilities', k));
  const abs = resolve(path);
  return { path, dir: dirname(abs), profiles, organizations };
}

function readProfile(r: Reader, v: unknown, where: string): ProfileSpec {
  const s =
    r.struct(v, where, [
      'Consortium',
      'Application',
      'Orderer',
      'Consortiums',
      'Capabilities',
      'Policies',
    ] as const) ?? {};
  let consortiums: Map<string, ConsortiumSpec> | undefined;
  const entries = r.entries(s.Consortiums, join(where, 'Consortiums'));
  if (entries !== undefined) {
    consortiums = new Map();
    for (const [name, cv] of entries) {
      const cw = join(join(where, 'Consortiums'), name);
      const c = r.struct(cv, cw, ['Organizations'] as const) ?? {};
      consortiums.set(name, { organizations: readOrgs(r, c.Organizations, join(cw, 'Organizations')) });
    }
  }
  return {
    where,
    consortium: r.optional(toStr, s.Consortium, join(where, 'Consortium'), ''),
    application:
      s.Application === undefined ? undefined : readApplication(r, s.Application, join(where, 'Application')),
    orderer: s.Orderer === undefined ? undefined : readOrderer(r, s.Orderer, join(where, 'Orderer')),
    consortiums,
    capabilities: readCapabilities(r, s.Capabilities, join(where, 'Capabilities')),
    policies: readPolicies(r, s.Policies, join(where, 'Policies')),
  };
}

function readApplication(r: Reader, v: unknown, where: string): ApplicationSpec {
  const s = r.struct(v, where, ['Organizations', 'Capabilities', 'Policies', 'ACLs'] as const) ?? {};
  let acls: Map<string, string> | undefined;
  const entries = r.entries(s.ACLs, join(where, 'ACLs'));
  if (entries !== undefined) {
    acls = new Map(
      entries.map(([k, ref]) => [k, r.optional(toStr, ref ?? undefined, join(join(where, 'ACLs'), k), '')]),
    );
  }
  return {
    where,
    organizations: readOrgs(r, s.Organizations, join(where, 'Organizations')),
    capabilities: readCapabilities(r, s.Capabilities, join(where, 'Capabilities')),
    policies: readPolicies(r, s.Policies, join(where, 'Policies')),
    acls,
  };
}

function readOrderer(r: Reader, v: unknown, where: string): OrdererSpec {
  const keys = [
    'OrdererType',
    'Addresses',
    'BatchTimeout',
    'BatchSize',
    'Kafka',
    'EtcdRaft',
    'Organizations',
    'MaxChannels',
    'Capabilities',
    'Policies',
  ] as const;
  const s = r.struct(v, where, keys) ?? {};
  const bw = join(where, 'BatchSize');
  const b =
    r.struct(s.BatchSize, bw, ['MaxMessageCount', 'AbsoluteMaxBytes', 'PreferredMaxBytes'] as const) ?? {};
  const kafka = r.struct(s.Kafka, join(where, 'Kafka'), ['Brokers'] as const);
  return {
    where,
    ordererType: r.optional(toStr, s.OrdererType, join(where, 'OrdererType'), ''),
    addresses: readStrings(r, s.Addresses, join(where, 'Addresses')) ?? [],
    batchTimeoutNs: r.optional(toDurationNs, s.BatchTimeout, join(where, 'BatchTimeout'), 0n),
    batchSize: {
      maxMessageCount: r.optional(toUint32, b.MaxMessageCount, join(bw, 'MaxMessageCount'), 0),
      absoluteMaxBytes: r.optional(toUint32, b.AbsoluteMaxBytes, join(bw, 'AbsoluteMaxBytes'), 0),
      preferredMaxBytes: r.optional(toUint32, b.PreferredMaxBytes, join(bw, 'PreferredMaxBytes'), 0),
    },
    kafkaBrokers: readStrings(r, kafka?.Brokers, join(where, 'Kafka.Brokers')),
    etcdRaft: readEtcdRaft(r, s.EtcdRaft, join(where, 'EtcdRaft')),
    organizations: readOrgs(r, s.Organizations, join(where, 'Organizations')),
    maxChannels: r.optional(toUint64, s.MaxChannels, join(where, 'MaxChannels'), 0n),
    capabilities: readCapabilities(r, s.Capabilities, join(where, 'Capabilities')),
    policies: readPolicies(r, s.Policies, join(where, 'Policies')),
  };
}

function readEtcdRaft(r: Reader, v: unknown, where: string): EtcdRaftSpec | undefined {
  const s = r.struct(v, where, ['Consenters', 'Options'] as const);
  if (s === undefined) return undefined;
  const consenters: ConsenterSpec[] = (r.list(s.Consenters, join(where, 'Consenters')) ?? []).map((cv, i) => {
    const cw = `${join(where, 'Consenters')}[${i}]`;
    const c = r.struct(cv, cw, ['Host', 'Port', 'ClientTlsCert', 'ServerTlsCert'] as const);
    if (c === undefined) r.fail(cw, 'empty consenter');
    return {
      host: r.optional(toStr, c.Host, join(cw, 'Host'), ''),
      port: r.optional(toUint32, c.Port, join(cw, 'Port'), 0),
      clientTlsCert: r.optional(toStr, c.ClientTlsCert, join(cw, 'ClientTLSCert'), ''),
      serverTlsCert: r.optional(toStr, c.ServerTlsCert, join(cw, 'ServerTLSCert'), ''),
    };
  });
  const ow = join(where, 'Options');
  const optionKeys = [
    'TickInterval',
    'ElectionTick',
    'HeartbeatTick',
    'MaxInflightBlocks',
    'SnapshotIntervalSize',
  ] as const;
  const o = r.struct(s.Options, ow, optionKeys);
  const options =
    o === undefined
      ? undefined
      : {
          tickInterval: r.optional(toStr, o.TickInterval, join(ow, 'TickInterval'), ''),
          electionTick: r.optional(toUint32, o.ElectionTick, join(ow, 'ElectionTick'), 0),
          heartbeatTick: r.optional(toUint32, o.HeartbeatTick, join(ow, 'HeartbeatTick'), 0),
          maxInflightBlocks: r.optional(toUint32, o.MaxInflightBlocks, join(ow, 'MaxInflightBlocks'), 0),
          snapshotIntervalSize: r.optional(
            toUint32,
            o.SnapshotIntervalSize,
            join(ow, 'SnapshotIntervalSize'),
            0,
          ),
        };
  return { consenters, options };
}

function readOrgs(r: Reader, v: unknown, where: string): OrganizationSpec[] {
  return (r.list(v, where) ?? []).map((ov, i) => readOrg(r, ov, `${where}[${i}]`));
}

function readOrg(r: Reader, v: unknown, where: string): OrganizationSpec {
  const keys = [
    'Name',
    'ID',
    'MSPDir',
    'MSPType',
    'Policies',
    'AnchorPeers',
    'OrdererEndpoints',
    'AdminPrincipal',
    'SkipAsForeign',
  ] as const;
  const s = r.struct(v, where, keys);
  if (s === undefined) r.fail(where, 'empty organization');
  const name = r.optional(toStr, s.Name, join(where, 'Name'), '');
  const named = name === '' ? where : `${where} (${name})`;
  const anchorPeers: AnchorPeerSpec[] = (r.list(s.AnchorPeers, join(named, 'AnchorPeers')) ?? []).map(
    (av, i) => {
      const aw = `${join(named, 'AnchorPeers')}[${i}]`;
      const a = r.struct(av, aw, ['Host', 'Port'] as const) ?? {};
      return {
        host: r.optional(toStr, a.Host, join(aw, 'Host'), ''),
        port: r.optional(toInt, a.Port, join(aw, 'Port'), 0),
      };
    },
  );
  return {
    where: named,
    name,
    id: r.optional(toStr, s.ID, join(named, 'ID'), ''),
    mspDir: r.optional(toStr, s.MSPDir, join(named, 'MSPDir'), ''),
    mspType: r.optional(toStr, s.MSPType, join(named, 'MSPType'), ''),
    policies: readPolicies(r, s.Policies, join(named, 'Policies')),
    anchorPeers,
    ordererEndpoints: readStrings(r, s.OrdererEndpoints, join(named, 'OrdererEndpoints')) ?? [],
    adminPrincipal: r.optional(toStr, s.AdminPrincipal, join(named, 'AdminPrincipal'), ''),
    skipAsForeign: r.optional(toBool, s.SkipAsForeign, join(named, 'SkipAsForeign'), false),
  };
}

function readPolicies(r: Reader, v: unknown, where: string): PolicyMap | undefined {
  const entries = r.entries(v, where);
  if (entries === undefined) return undefined;
  const out = new Map<string, ConfigtxPolicy>();
  for (const [name, pv] of entries) {
    const pw = join(where, name);
    const p = r.struct(pv, pw, ['Type', 'Rule'] as const);
    if (p === undefined) r.fail(pw, 'empty policy (expected Type and Rule)', 'CONFIGTX_POLICY');
    out.set(name, {
      type: r.optional(toStr, p.Type, join(pw, 'Type'), ''),
      rule: r.optional(toStr, p.Rule, join(pw, 'Rule'), ''),
    });
  }
  return out;
}

function readCapabilities(r: Reader, v: unknown, where: string): CapabilityMap | undefined {
  const entries = r.entries(v, where);
  if (entries === undefined) return undefined;
  return new Map(entries.map(([k, b]) => [k, b === null ? false : r.scalar(toBool, b, join(where, k))]));
}

function readStrings(r: Reader, v: unknown, where: string): string[] | undefined {
  return r.list(v, where)?.map((s, i) => r.scalar(toStr, s, `${where}[${i}]`));
}
