/**
 * A seeded world of simulated peers running the whole gossip node (discovery, identity pull,
 * channels, push and pull) on one channel, with a stand-in for the state layer: every block
 * handed to onBlock is recorded, buffered and committed in order (the "ledger" survives a crash,
 * as a disk does), and the committed height is fed back with updateLedgerHeight. An "orderer"
 * feeds blocks to one leader per org (the lowest-numbered live peer), as static leaders do.
 */
import {
  SimNetwork,
  SimNode,
  simCrypto,
  simOrg,
  simPeer,
  type LinkSpec,
  type SimIdentity,
  type SimOrg,
} from '../../src/sim/index.js';
import { GossipNode } from '../../src/core/gossip/node.js';
import { SimGossipCrypto } from '../../src/sim/crypto.js';
import { makeChain } from '../../src/sim/blockmaker.js';
import { gossipNodeConfig, type GossipNodeConfigInput } from '../../src/core/gossip/nodeconfig.js';
import type { CommConfig } from '../../src/core/link/comm-config.js';

export const CHANNEL = 'simchannel';

export interface Ledger {
  height: bigint;
  /** seq -> times handed to onBlock (per incarnation it must stay 1). */
  readonly handed: Map<bigint, number>;
  /** Blocks handed twice within one incarnation, or handed below the committed height. */
  duplicates: number;
  readonly buffer: Set<bigint>;
  /** seq -> virtual ms when first committed. */
  readonly committedAt: Map<bigint, number>;
  /** seq -> how it first arrived. */
  readonly source: Map<bigint, string>;
  /** seq -> virtual ms when first handed over. */
  readonly handedAt: Map<bigint, number>;
}

export interface World {
  readonly net: SimNetwork;
  readonly nodes: SimNode[];
  readonly orgs: SimOrg[];
  readonly gossip: Map<string, GossipNode>;
  readonly ledgers: Map<string, Ledger>;
  /** Endpoints of peers in the channel's orgs. */
  readonly members: SimNode[];
  readonly blocks: Uint8Array[];
  /** Virtual ms when each block was handed to the leaders. */
  readonly issuedAt: Map<bigint, number>;
  /** Feed block `seq` (1-based) to one live leader per channel org. */
  issue(seq: bigint): void;
  orgOf(node: SimNode): number;
  /** Apply a link spec to every pair of hosts (e.g. loss after a loss-free warm-up). */
  setLinks(spec: Partial<LinkSpec>): void;
}

export interface WorldOptions {
  readonly orgs?: number;
  readonly peersPerOrg?: number;
  /** Orgs (1-based) in the channel; default all. */
  readonly channelOrgs?: readonly number[];
  readonly link?: Partial<LinkSpec>;
  readonly comm?: Partial<CommConfig>;
  readonly gossip?: Omit<GossipNodeConfigInput, 'discovery'> & {
    discovery?: GossipNodeConfigInput['discovery'];
  };
  readonly profile?: 'fabric' | 'fast';
  readonly blocks?: number;
  readonly txCount?: number;
  readonly txBytes?: number;
}

export async function world(seed: number, o: WorldOptions = {}): Promise<World> {
  const orgCount = o.orgs ?? 2;
  const perOrg = o.peersPerOrg ?? 5;
  const crypto = await simCrypto({ orgs: orgCount, peersPerOrg: perOrg });
  const ordererOrg = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const orderer: SimIdentity = await simPeer(ordererOrg, 0);
  const channelOrgs = new Set(
    (o.channelOrgs ?? crypto.orgs.map((_, i) => i + 1)).map((n) => crypto.orgs[n - 1]!.mspId),
  );
  const channels = new Map([[CHANNEL, channelOrgs]]);
  const net = new SimNetwork({ seed, link: o.link });
  const gossip = new Map<string, GossipNode>();
  const ledgers = new Map<string, Ledger>();
  const orgIndex = new Map<SimNode, number>();
  const blocks = makeChain({
    channel: CHANNEL,
    orderer: orderer.signer,
    n: o.blocks ?? 20,
    txCount: o.txCount ?? 1,
    txBytes: o.txBytes ?? 64,
  });
  const anchors = crypto.orgs
    .filter((org) => channelOrgs.has(org.mspId))
    .map((org) => ({ mspId: org.mspId, anchorPeers: [{ host: `peer0.${org.domain}`, port: 7051 }] }));
  const nodes = crypto.peers.map((identity) => {
    const node = new SimNode(net, {
      identity,
      trust: [...crypto.orgs, ordererOrg],
      config: o.comm,
      onBoot: (n) => boot(n),
    });
    orgIndex.set(node, crypto.orgs.indexOf(identity.org) + 1);
    return node;
  });

  function boot(n: SimNode): void {
    const ledger: Ledger = ledgers.get(n.endpoint) ?? {
      height: 1n,
      handed: new Map(),
      duplicates: 0,
      buffer: new Set(),
      committedAt: new Map(),
      source: new Map(),
      handedAt: new Map(),
    };
    ledgers.set(n.endpoint, ledger);
    ledger.handed.clear();
    ledger.buffer.clear();
    const org = n.identity.org;
    const g = new GossipNode({
      transport: n.transport,
      identityStore: n.identities,
      crypto: new SimGossipCrypto(n.trust, channels),
      signer: n.identity.signer,
      mspId: org.mspId,
      config: gossipNodeConfig(
        {
          ...o.gossip,
          discovery: {
            endpoint: n.endpoint,
            externalEndpoint: n.endpoint,
            bootstrap: [`peer0.${org.domain}:7051`],
            ...(o.gossip?.discovery ?? {}),
          },
        },
        o.profile,
      ),
      clock: n.clock,
      rng: n.rng,
      metrics: n.metrics,
    });
    gossip.set(n.endpoint, g);
    if (channelOrgs.has(org.mspId)) {
      g.joinChannel({ channelId: CHANNEL, sequence: 0n, orgs: anchors });
      g.updateLedgerHeight(CHANNEL, ledger.height);
      g.onBlock((e) => {
        const count = (ledger.handed.get(e.seqNum) ?? 0) + 1;
        ledger.handed.set(e.seqNum, count);
        if (count > 1 || e.seqNum < ledger.height) ledger.duplicates++;
        if (!ledger.source.has(e.seqNum)) ledger.source.set(e.seqNum, e.source);
        if (!ledger.handedAt.has(e.seqNum)) ledger.handedAt.set(e.seqNum, n.clock.now());
        ledger.buffer.add(e.seqNum);
        commit(n, g, ledger);
      });
    }
    g.start();
  }

  function commit(n: SimNode, g: GossipNode, ledger: Ledger): void {
    let moved = false;
    while (ledger.buffer.has(ledger.height)) {
      ledger.buffer.delete(ledger.height);
      ledger.committedAt.set(ledger.height, n.clock.now());
      ledger.height++;
      moved = true;
    }
    if (moved) g.updateLedgerHeight(CHANNEL, ledger.height);
  }

  const members = nodes.filter((n) => channelOrgs.has(n.identity.org.mspId));
  const issuedAt = new Map<bigint, number>();
  return {
    net,
    nodes,
    orgs: crypto.orgs,
    gossip,
    ledgers,
    members,
    blocks,
    issuedAt,
    orgOf: (n) => orgIndex.get(n)!,
    setLinks(spec) {
      for (const a of nodes)
        for (const b of nodes) if (a !== b) net.setLink(a.endpoint, b.endpoint, spec, true);
    },
    issue(seq) {
      issuedAt.set(seq, net.clock.now());
      for (const mspId of channelOrgs) {
        const leader = members.find((n) => n.isUp && n.identity.org.mspId === mspId);
        if (!leader) continue;
        const g = gossip.get(leader.endpoint)!;
        const ledger = ledgers.get(leader.endpoint)!;
        g.gossipBlock(CHANNEL, seq, blocks[Number(seq) - 1]!);
        if (seq >= ledger.height) {
          ledger.handed.set(seq, (ledger.handed.get(seq) ?? 0) + 1);
          if (!ledger.source.has(seq)) ledger.source.set(seq, 'orderer');
          ledger.buffer.add(seq);
          commit(leader, g, ledger);
        }
      }
    },
  };
}

/** Live channel members missing a block up to `upTo`. */
export function missing(w: World, upTo: bigint): string[] {
  return w.members
    .filter((n) => n.isUp && w.ledgers.get(n.endpoint)!.height <= upTo)
    .map((n) => `${n.endpoint}@${w.ledgers.get(n.endpoint)!.height}`);
}
