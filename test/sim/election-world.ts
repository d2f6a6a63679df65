/**
 * A seeded world of simulated peers running the whole gossip node and a dynamic leader election
 * per peer on one channel (real signed LeadershipMessages routed by the node, §7), with Fabric's
 * default timers. A monitor samples the leaders of every org every 100 ms of virtual time.
 */
import { pkiIdKey } from '../../src/base/pkiid.js';
import {
  createChannelLeadership,
  electionConfig,
  type ElectionConfig,
  type Leadership,
} from '../../src/core/election/index.js';
import { GossipNode } from '../../src/core/gossip/node.js';
import { SimGossipCrypto } from '../../src/sim/crypto.js';
import { SimNetwork, SimNode, simCrypto, type SimOrg } from '../../src/sim/index.js';
import { gossipNodeConfig } from '../../src/core/gossip/nodeconfig.js';

export const CHANNEL = 'simchannel';

export interface Sample {
  readonly at: number;
  /** Per org (MSP ID): endpoints of live leaders. */
  readonly leaders: ReadonlyMap<string, readonly string[]>;
}

export interface ElectionWorld {
  readonly net: SimNetwork;
  readonly nodes: SimNode[];
  readonly orgs: SimOrg[];
  readonly config: ElectionConfig;
  readonly leadership: Map<string, Leadership>;
  readonly samples: Sample[];
  /** Callback log: [virtual ms, endpoint, isLeader]. */
  readonly changes: [number, string, boolean][];
  leaders(mspId: string): string[];
  orgNodes(mspId: string): SimNode[];
  stopMonitor(): void;
}

export async function electionWorld(
  seed: number,
  o: { orgs?: number; peersPerOrg?: number } = {},
): Promise<ElectionWorld> {
  const crypto = await simCrypto({ orgs: o.orgs ?? 2, peersPerOrg: o.peersPerOrg ?? 3 });
  const channels = new Map([[CHANNEL, new Set(crypto.orgs.map((x) => x.mspId))]]);
  const anchors = crypto.orgs.map((org) => ({
    mspId: org.mspId,
    anchorPeers: [{ host: `peer0.${org.domain}`, port: 7051 }],
  }));
  const net = new SimNetwork({ seed });
  const config = electionConfig({ useLeaderElection: true });
  const leadership = new Map<string, Leadership>();
  const changes: [number, string, boolean][] = [];

  const nodes = crypto.peers.map(
    (identity) =>
      new SimNode(net, {
        identity,
        trust: crypto.orgs,
        onBoot: (n) => {
          const org = n.identity.org;
          const g = new GossipNode({
            transport: n.transport,
            identityStore: n.identities,
            crypto: new SimGossipCrypto(n.trust, channels),
            signer: n.identity.signer,
            mspId: org.mspId,
            config: gossipNodeConfig({
              discovery: {
                endpoint: n.endpoint,
                externalEndpoint: n.endpoint,
                bootstrap: [`peer0.${org.domain}:7051`],
              },
            }),
            clock: n.clock,
            rng: n.rng,
            metrics: n.metrics,
          });
          g.joinChannel({ channelId: CHANNEL, sequence: 0n, orgs: anchors });
          g.start();
          const l = createChannelLeadership({
            channel: CHANNEL,
            selfPkiId: n.identity.pkiId,
            mspId: org.mspId,
            config,
            gossip: g,
            clock: n.clock,
            metrics: n.metrics,
            onLeadershipChange: (isLeader) => changes.push([net.clock.now(), n.endpoint, isLeader]),
          });
          leadership.set(n.endpoint, l);
          net.onCrash(n.endpoint, () => {
            if (l.isLeader()) changes.push([net.clock.now(), n.endpoint, false]);
            l.stop();
          });
          l.start();
        },
      }),
  );

  const orgNodes = (mspId: string) => nodes.filter((n) => n.identity.org.mspId === mspId);
  const leaders = (mspId: string) =>
    orgNodes(mspId)
      .filter((n) => n.isUp && leadership.get(n.endpoint)?.isLeader())
      .map((n) => n.endpoint);
  const samples: Sample[] = [];
  const timer = net.clock.setInterval(() => {
    samples.push({
      at: net.clock.now(),
      leaders: new Map(crypto.orgs.map((org) => [org.mspId, leaders(org.mspId)])),
    });
  }, 100);
  return {
    net,
    nodes,
    orgs: crypto.orgs,
    config,
    leadership,
    samples,
    changes,
    leaders,
    orgNodes,
    stopMonitor: () => net.clock.clearTimer(timer),
  };
}

/** The endpoint with the lowest PKI-ID among `nodes`. */
export function lowest(nodes: readonly SimNode[]): string {
  return [...nodes].sort((a, b) => (pkiIdKey(a.identity.pkiId) < pkiIdKey(b.identity.pkiId) ? -1 : 1))[0]!
    .endpoint;
}
