/**
 * The PeerConfig handed to each module as that module's own typed config. The profile has been
 * applied by the loader already, so every module is given explicit values with its `fabric`
 * defaults underneath. Module-only bounds (maxMembers, maxItems, ...) keep the modules' defaults.
 */
import { readFileSync } from 'node:fs';
import { channelGossipConfig, type ChannelGossipConfig } from '../../core/channel/config.js';
import { commConfig, type CommConfig } from '../../comm/config.js';
import {
  resolveDeliverConfig,
  type AddressOverride,
  type DeliverClientConfig,
} from '../../core/deliver/config.js';
import { discoveryConfig, type DiscoveryConfig } from '../../core/discovery/config.js';
import { electionConfig, type ElectionConfig } from '../../core/election/config.js';
import { errorMessage } from '../../base/errors.js';
import { FABRIC_EMITTER_DEFAULTS, type EmitterConfig } from '../../core/link/emitter.js';
import type { GossipNodeConfigInput } from '../../core/gossip/nodeconfig.js';
import { pullConfig, type PullConfig } from '../../core/pull/config.js';
import { stateConfig, type StateConfig } from '../../core/state/config.js';
import type { PeerConfig } from './types.js';

/** The fields `keys` of `from`: module config keys spelled as in PeerConfig pass through unchanged. */
function pick<T extends object, K extends keyof T>(from: T, ...keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = from[k];
  return out;
}

export function commConfigOf(c: PeerConfig): CommConfig {
  const g = c.peer.gossip;
  const ka = c.peer.keepalive;
  return commConfig({
    ...pick(g, 'dialTimeoutMs', 'connTimeoutMs', 'sendBuffSize', 'recvBuffSize'),
    ...pick(c.peer, 'maxRecvMsgSize', 'maxSendMsgSize'),
    clientKeepaliveIntervalMs: ka.client.intervalMs,
    clientKeepaliveTimeoutMs: ka.client.timeoutMs,
    serverKeepaliveIntervalMs: ka.intervalMs,
    serverKeepaliveTimeoutMs: ka.timeoutMs,
    clientAuthRequired: c.peer.tls.clientAuthRequired,
  });
}

export function discoveryConfigOf(c: PeerConfig): DiscoveryConfig {
  const g = c.peer.gossip;
  return discoveryConfig(
    pick(
      g,
      'endpoint',
      'externalEndpoint',
      'bootstrap',
      'aliveTimeIntervalMs',
      'aliveExpirationTimeoutMs',
      'reconnectIntervalMs',
      'msgExpirationFactor',
      'publishCertPeriodMs',
      'pullIntervalMs',
      'pullPeerNum',
      'propagatePeerNum',
      'maxConnectionAttempts',
    ),
  );
}

export function channelGossipConfigOf(c: PeerConfig): ChannelGossipConfig {
  const g = c.peer.gossip;
  return channelGossipConfig({
    ...pick(
      g,
      'publishStateInfoIntervalMs',
      'requestStateInfoIntervalMs',
      'pullIntervalMs',
      'pullPeerNum',
      'propagatePeerNum',
      'maxBlockCountToStore',
    ),
    leaderAliveThresholdMs: g.election.leaderAliveThresholdMs,
  });
}

export function pullConfigOf(c: PeerConfig): PullConfig {
  const g = c.peer.gossip;
  return pullConfig(
    pick(g, 'pullIntervalMs', 'pullPeerNum', 'digestWaitTimeMs', 'requestWaitTimeMs', 'responseWaitTimeMs'),
  );
}

export function emitterConfigOf(c: PeerConfig): EmitterConfig {
  const g = c.peer.gossip;
  return Object.freeze({
    ...FABRIC_EMITTER_DEFAULTS,
    ...pick(g, 'propagateIterations', 'maxPropagationBurstSize', 'maxPropagationBurstLatencyMs'),
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
    ...pick(g, 'useLeaderElection', 'orgLeader'),
    ...pick(
      g.election,
      'startupGracePeriodMs',
      'membershipSampleIntervalMs',
      'leaderAliveThresholdMs',
      'leaderElectionDurationMs',
    ),
  });
}

/**
 * Note: stateConfig treats 0 as "default" for every count; Fabric keeps a configured
 * `state.maxRetries: 0` (no extra sends). That one value cannot be expressed yet and becomes 3.
 */
export function stateConfigOf(c: PeerConfig): StateConfig {
  const s = c.peer.gossip.state;
  return stateConfig({
    ...pick(
      s,
      'enabled',
      'checkIntervalMs',
      'responseTimeoutMs',
      'batchSize',
      'blockBufferSize',
      'maxRetries',
      'channelSize',
    ),
    nonBlockingCommitMode: c.peer.gossip.nonBlockingCommitMode,
    catchup: pick(
      c.grapevine.catchup,
      'enabled',
      'minGap',
      'maxBlocksPerStream',
      'unsupportedTtlMs',
      'idleTimeoutMs',
      'maxClockSkewMs',
      'maxConcurrentStreams',
      'maxFrameBytes',
      'verifyWorkers',
      'maxVerifyInFlight',
      'verifyAllSignatures',
    ),
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
    ...pick(
      d,
      'blockGossipEnabled',
      'reconnectTotalTimeThresholdMs',
      'connTimeoutMs',
      'reConnectBackoffThresholdMs',
    ),
    addressOverrides: overrides,
    keepaliveIntervalMs: c.peer.keepalive.deliveryClient.intervalMs,
    keepaliveTimeoutMs: c.peer.keepalive.deliveryClient.timeoutMs,
    ...pick(c.peer, 'maxRecvMsgSize', 'maxSendMsgSize'),
  });
}
