/**
 * A seeded simulated channel for the state tests: channel orgs Org1MSP and Org2MSP, an outsider
 * org Org3MSP, an orderer org whose signer made the chain, and a StateProvider per member node
 * with an in-memory ledger. Each provider's view lists the other channel members with their
 * ledger heights (what StateInfo would advertise); a test may replace it.
 */
import { SimGossipCrypto } from '../../src/sim/crypto.js';
import { SimNetwork, SimNode, simCrypto, simOrg, simPeer, type SimIdentity } from '../../src/sim/index.js';
import {
  stateConfig,
  StateProvider,
  type StateConfigInput,
  type StatePeer,
} from '../../src/core/state/index.js';
import { MemLedger, chain, fastSigner } from '../state/fixtures.js';

export const CHANNEL = 'simchannel';

export interface StateWorld {
  readonly net: SimNetwork;
  readonly blocks: Uint8Array[];
  readonly nodes: SimNode[];
  readonly providers: Map<SimNode, StateProvider>;
  readonly ledgers: Map<SimNode, MemLedger>;
  /** Per node: replace the peers its view reports (undefined: every other member with its height). */
  readonly views: Map<SimNode, (() => StatePeer[]) | undefined>;
  readonly outsider: SimNode;
  peerOf(n: SimNode): StatePeer;
  stop(): Promise<void>;
}

export async function stateWorld(
  seed: number,
  o: { heights: number[]; chainLength: number; config?: StateConfigInput },
): Promise<StateWorld> {
  const crypto = await simCrypto({ orgs: 3, peersPerOrg: 3 });
  const ordererOrg = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer: SimIdentity = await simPeer(ordererOrg, 0);
  const blocks = chain(CHANNEL, fastSigner(orderer), o.chainLength);
  const channels = new Map([[CHANNEL, new Set(['Org1MSP', 'Org2MSP'])]]);
  const net = new SimNetwork({ seed });
  const trust = [...crypto.orgs, ordererOrg];
  const members = [crypto.peers[0], crypto.peers[1], crypto.peers[3], crypto.peers[4], crypto.peers[2]].slice(
    0,
    o.heights.length,
  );
  const providers = new Map<SimNode, StateProvider>();
  const ledgers = new Map<SimNode, MemLedger>();
  const views = new Map<SimNode, (() => StatePeer[]) | undefined>();
  const nodes: SimNode[] = [];
  const peerOf = (n: SimNode): StatePeer => ({
    pkiId: n.identity.pkiId,
    endpoint: n.endpoint,
    ledgerHeight: ledgers.get(n)?.height() ?? 0n,
  });
  members.forEach((identity, i) => {
    const ledger = new MemLedger(blocks.slice(0, o.heights[i]));
    const node = new SimNode(net, { identity, trust });
    ledgers.set(node, ledger);
    nodes.push(node);
    const provider = new StateProvider({
      channel: CHANNEL,
      ledger,
      crypto: new SimGossipCrypto(node.trust, channels),
      transport: node.transport,
      view: { peersOfChannel: () => views.get(node)?.() ?? nodes.filter((x) => x !== node).map(peerOf) },
      clock: node.clock,
      rng: node.rng,
      config: stateConfig({ enabled: true, ...o.config }),
      metrics: node.metrics,
    });
    providers.set(node, provider);
  });
  for (const p of providers.values()) p.start();
  const outsider = new SimNode(net, { identity: crypto.peers[6], trust });
  return {
    net,
    blocks,
    nodes,
    providers,
    ledgers,
    views,
    outsider,
    peerOf,
    stop: async () => {
      await Promise.all([...providers.values()].map((p) => p.stop()));
    },
  };
}
