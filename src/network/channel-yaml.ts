/**
 * configtx.yaml for a local channel over crypto material in cryptogen's layout (crypto-layout.ts),
 * and its genesis block: an orderer org (OrdererMSP) with its OrdererEndpoints, application orgs
 * Org<n>MSP each with one anchor peer on 127.0.0.1, one etcdraft consenter (orderer0's TLS
 * certificate), V2_0 capabilities and the usual Signature / ImplicitMeta policies.
 * Used by `network up` and by the real-socket tests.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGenesisBlock, parseConfigtx } from '../configtx/index.js';
import { encodeBlock } from '../wire/block.js';
import { ordererCryptoPath, orgMspPath } from './crypto-layout.js';

export interface ChannelYamlSpec {
  /** Crypto root (cryptogen layout). */
  readonly root: string;
  /** Name of the one profile. */
  readonly profile: string;
  /** Application orgs in the channel (1-based org numbers). */
  readonly orgs: readonly number[];
  /** Port of org n's anchor peer (on 127.0.0.1). */
  readonly anchorPort: (org: number) => number;
  /** OrdererEndpoints of the orderer org (host:port). */
  readonly ordererEndpoints: readonly string[];
  /** Port of the one etcdraft consenter (on 127.0.0.1). */
  readonly consenterPort: number;
  readonly batchTimeout: string;
  readonly maxMessageCount: number;
  readonly absoluteMaxBytes?: string;
  readonly preferredMaxBytes?: string;
  /** A first line, e.g. a `# ...` comment. */
  readonly header?: string;
}

/** The `- &OrdererOrg` entry of the Organizations list. */
export function ordererOrgYaml(root: string, endpoints: readonly string[]): string {
  return `  - &OrdererOrg
    Name: OrdererOrg
    ID: OrdererMSP
    MSPDir: ${orgMspPath(root, 'orderer')}
    Policies:
      Readers: {Type: Signature, Rule: "OR('OrdererMSP.member')"}
      Writers: {Type: Signature, Rule: "OR('OrdererMSP.member')"}
      Admins: {Type: Signature, Rule: "OR('OrdererMSP.admin')"}
    OrdererEndpoints:
${endpoints.map((e) => `      - ${e}`).join('\n')}
`;
}

/** The `- &Org<n>` entry of the Organizations list, with one anchor peer on 127.0.0.1. */
export function appOrgYaml(root: string, n: number, anchorPort: number): string {
  return `  - &Org${n}
    Name: Org${n}MSP
    ID: Org${n}MSP
    MSPDir: ${orgMspPath(root, n)}
    Policies:
      Readers: {Type: Signature, Rule: "OR('Org${n}MSP.admin', 'Org${n}MSP.peer', 'Org${n}MSP.client')"}
      Writers: {Type: Signature, Rule: "OR('Org${n}MSP.admin', 'Org${n}MSP.client')"}
      Admins: {Type: Signature, Rule: "OR('Org${n}MSP.admin')"}
      Endorsement: {Type: Signature, Rule: "OR('Org${n}MSP.peer')"}
    AnchorPeers:
      - Host: 127.0.0.1
        Port: ${anchorPort}
`;
}

/** The whole configtx.yaml of a channel with one profile. */
export function channelConfigtxYaml(s: ChannelYamlSpec): string {
  const ordTls = join(ordererCryptoPath(s.root), 'tls');
  return `${s.header === undefined ? '' : `${s.header}\n`}Organizations:
${ordererOrgYaml(s.root, s.ordererEndpoints)}${s.orgs.map((n) => appOrgYaml(s.root, n, s.anchorPort(n))).join('')}
Capabilities:
  Channel: &ChannelCapabilities {V2_0: true}
  Orderer: &OrdererCapabilities {V2_0: true}
  Application: &ApplicationCapabilities {V2_0: true}
Profiles:
  ${s.profile}:
    Policies:
      Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
      Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
      Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
    Capabilities: *ChannelCapabilities
    Orderer:
      OrdererType: etcdraft
      BatchTimeout: ${s.batchTimeout}
      BatchSize:
        MaxMessageCount: ${s.maxMessageCount}
        AbsoluteMaxBytes: ${s.absoluteMaxBytes ?? '10 MB'}
        PreferredMaxBytes: ${s.preferredMaxBytes ?? '2 MB'}
      EtcdRaft:
        Consenters:
          - Host: 127.0.0.1
            Port: ${s.consenterPort}
            ClientTLSCert: ${ordTls}/server.crt
            ServerTLSCert: ${ordTls}/server.crt
      Organizations:
        - *OrdererOrg
      Policies:
        Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
        Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
        Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
        BlockValidation: {Type: ImplicitMeta, Rule: "ANY Writers"}
      Capabilities: *OrdererCapabilities
    Application:
      Organizations:
${s.orgs.map((n) => `        - *Org${n}`).join('\n')}
      Policies:
        Readers: {Type: ImplicitMeta, Rule: "ANY Readers"}
        Writers: {Type: ImplicitMeta, Rule: "ANY Writers"}
        Admins: {Type: ImplicitMeta, Rule: "MAJORITY Admins"}
        LifecycleEndorsement: {Type: ImplicitMeta, Rule: "MAJORITY Endorsement"}
        Endorsement: {Type: ImplicitMeta, Rule: "MAJORITY Endorsement"}
      Capabilities: *ApplicationCapabilities
`;
}

/** Write `text` to `file` (configtx.yaml) and return the encoded genesis block of `profile` for `channel`. */
export function writeConfigtxGenesis(
  file: string,
  text: string,
  profile: string,
  channel: string,
): Uint8Array {
  writeFileSync(file, text);
  return encodeBlock(buildGenesisBlock(parseConfigtx(text, file), profile, channel));
}
