/**
 * The PeerConfig handed to each module as that module's own typed config. The profile has been
 * applied by the loader already, so every module is given explicit values with its `fabric`
 * defaults underneath. Module-only bounds (maxMembers, maxItems, ...) keep the modules' defaults.
 */
import { readFileSync } from 'node:fs';
import { channelGossipConfig, type ChannelGossipConfig } from '../../channel/config.js';
import { commConfig, type CommConfig } from '../../comm/config.js';
import {
  resolveDeliverConfig,
  type AddressOverride,
  type DeliverClientConfig,
} from '../../deliver/config.js';
import { discoveryConfig, type DiscoveryConfig } from '../../discovery/config.js';
import { electionConfig, type ElectionConfig } from '../../election/config.js';
import { errorMessage } from '../../errors.js';
import { FABRIC_EMITTER_DEFAULTS, type EmitterConfig } from '../../gossip/emitter.js';
import type { GossipNodeConfigInput } from '../../gossip/nodeconfig.js';
import { pullConfig, type PullConfig } from '../../gossip/pull/config.js';
import { stateConfig, type StateConfig } from '../../state/config.js';
import type { PeerConfig } from './types.js';

export function commConfigOf(c: PeerConfig): CommConfig {
  const g = c.peer.gossip;
  const ka = c.peer.keepalive;
  return commConfig({
    dialTimeoutMs: g.dialTimeoutMs,
    connTimeoutMs: g.connTimeoutMs,
    sendBuffSize: g.sendBuffSize,
    recvBuffSize: g.recvBuffSize,
    maxRecvMsgSize: c.peer.maxRecvMsgSize,
    maxSendMsgSize: c.peer.maxSendMsgSize,
    clientKeepaliveIntervalMs: ka.client.intervalMs,
    clientKeepaliveTimeoutMs: ka.client.timeoutMs,
    serverKeepaliveIntervalMs: ka.intervalMs,
    serverKeepaliveTimeoutMs: ka.timeoutMs,
    clientAuthRequired: c.peer.tls.clientAuthRequired,
  });
}

export function discoveryConfigOf(c: PeerConfig): DiscoveryConfig {
  const g = c.peer.gossip;
  return discoveryConfig({
    endpoint: g.endpoint,
    externalEndpoint: g.externalEndpoint,
    bootstrap: g.bootstrap,
    aliveTimeIntervalMs: g.aliveTimeIntervalMs,
    aliveExpirationTimeoutMs: g.aliveExpirationTimeoutMs,
    reconnectIntervalMs: g.reconnectIntervalMs,
    msgExpirationFactor: g.msgExpirationFactor,
    publishCertPeriodMs: g.publishCertPeriodMs,
    pullIntervalMs: g.pullIntervalMs,
    pullPeerNum: g.pullPeerNum,
    propagatePeerNum: g.propagatePeerNum,
    maxConnectionAttempts: g.maxConnectionAttempts,
  });
}

export function channelGossipConfigOf(c: PeerConfig): ChannelGossipConfig {
  const g = c.peer.gossip;
  return channelGossipConfig({
    publishStateInfoIntervalMs: g.publishStateInfoIntervalMs,
    requestStateInfoIntervalMs: g.requestStateInfoIntervalMs,
    pullIntervalMs: g.pullIntervalMs,
    pullPeerNum: g.pullPeerNum,
    propagatePeerNum: g.propagatePeerNum,
    maxBlockCountToStore: g.maxBlockCountToStore,
    leaderAliveThresholdMs: g.election.leaderAliveThresholdMs,
  });
}

export function pullConfigOf(c: PeerConfig): PullConfig {
  const g = c.peer.gossip;
  return pullConfig({
    pullIntervalMs: g.pullIntervalMs,
    pullPeerNum: g.pullPeerNum,
    digestWaitTimeMs: g.digestWaitTimeMs,
    requestWaitTimeMs: g.requestWaitTimeMs,
    responseWaitTimeMs: g.responseWaitTimeMs,
  });
}

export function emitterConfigOf(c: PeerConfig): EmitterConfig {
  const g = c.peer.gossip;
  return Object.freeze({
    ...FABRIC_EMITTER_DEFAULTS,
    propagateIterations: g.propagateIterations,
    maxPropagationBurstSize: g.maxPropagationBurstSize,
    maxPropagationBurstLatencyMs: g.maxPropagationBurstLatencyMs,
  });
}

/** Input for gossipNodeConfig(input, 'fabric') (the profile is already applied). */
export function gossipNodeInputOf(c: PeerConfig): GossipNodeConfigInput {
  return {
    discovery: discoveryConfigOf(c),
    channel: channelGossipConfigOf(c),
    emitter: emitterConfigOf(c),
    pull: pullConfigOf(c),
  };
}

export function electionConfigOf(c: PeerConfig): ElectionConfig {
  const g = c.peer.gossip;
  return electionConfig({
    useLeaderElection: g.useLeaderElection,
    orgLeader: g.orgLeader,
    startupGracePeriodMs: g.election.startupGracePeriodMs,
    membershipSampleIntervalMs: g.election.membershipSampleIntervalMs,
    leaderAliveThresholdMs: g.election.leaderAliveThresholdMs,
    leaderElectionDurationMs: g.election.leaderElectionDurationMs,
  });
}

/**
 * Note: stateConfig treats 0 as "default" for every count; Fabric keeps a configured
 * `state.maxRetries: 0` (no extra sends). That one value cannot be expressed yet and becomes 3.
 */
export function stateConfigOf(c: PeerConfig): StateConfig {
  const s = c.peer.gossip.state;
  return stateConfig({
    enabled: s.enabled,
    checkIntervalMs: s.checkIntervalMs,
    responseTimeoutMs: s.responseTimeoutMs,
    batchSize: s.batchSize,
    blockBufferSize: s.blockBufferSize,
    maxRetries: s.maxRetries,
    channelSize: s.channelSize,
    nonBlockingCommitMode: c.peer.gossip.nonBlockingCommitMode,
  });
}

export interface DeliverConfigOptions {
  readonly readFile?: (path: string) => Uint8Array;
  /** Called for each override skipped because its caCertsFile is unreadable or holds no certificate (Fabric skips it too). */
  readonly warn?: (message: string) => void;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function deliverConfigOf(c: PeerConfig, opts: DeliverConfigOptions = {}): DeliverClientConfig {
  const read = opts.readFile ?? ((p: string) => readFileSync(p));
  const overrides: AddressOverride[] = [];
  for (const o of c.peer.deliveryclient.addressOverrides) {
    const caCerts: Uint8Array[] = [];
    if (o.caCertsFile !== '') {
      let text: string;
      try {
        text = Buffer.from(read(o.caCertsFile)).toString('utf8');
      } catch (e) {
        opts.warn?.(
          `peer.deliveryclient.addressOverrides: cannot read caCertsFile ${o.caCertsFile} of ${o.from} -> ${o.to}: ${errorMessage(e)}; override skipped`,
        );
        continue;
      }
      for (const m of text.match(PEM_CERT) ?? []) caCerts.push(new TextEncoder().encode(`${m}\n`));
      if (caCerts.length === 0) {
        opts.warn?.(
          `peer.deliveryclient.addressOverrides: no certificate in caCertsFile ${o.caCertsFile} of ${o.from} -> ${o.to}; override skipped`,
        );
        continue;
      }
    }
    overrides.push({ from: o.from, to: o.to, caCerts });
  }
  const d = c.peer.deliveryclient;
  return resolveDeliverConfig({
    blockGossipEnabled: d.blockGossipEnabled,
    reconnectTotalTimeThresholdMs: d.reconnectTotalTimeThresholdMs,
    connTimeoutMs: d.connTimeoutMs,
    reConnectBackoffThresholdMs: d.reConnectBackoffThresholdMs,
    addressOverrides: overrides,
    keepaliveIntervalMs: c.peer.keepalive.deliveryClient.intervalMs,
    keepaliveTimeoutMs: c.peer.keepalive.deliveryClient.timeoutMs,
    maxRecvMsgSize: c.peer.maxRecvMsgSize,
    maxSendMsgSize: c.peer.maxSendMsgSize,
  });
}
