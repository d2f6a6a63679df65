/** Shared set-up for the simulation tests: a seeded network of SimNodes from deterministic identities. */
import { create } from '@bufbuild/protobuf';
import { type ReceivedMessage } from '../../src/core/link/types.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import type { CommConfig } from '../../src/core/link/comm-config.js';
import { SimNetwork, SimNode, simCrypto, type LinkSpec, type SimOrg } from '../../src/sim/index.js';
import {
  GossipMessageSchema,
  GossipMessage_Tag as Tag,
  type Envelope,
} from '../../src/wire/gen/gossip/message_pb.js';
import { unsignedGossip } from '../../src/wire/gossip.js';

export const FULL = process.env.GRAPEVINE_TEST_FULL === '1';

/** Seeds run by a seeded scenario: a fixed sample, many more under `npm run test:full`. */
export function seeds(quick: number, full: number, base = 1): number[] {
  return Array.from({ length: FULL ? full : quick }, (_, i) => base + i * 7919);
}

export interface Cluster {
  readonly net: SimNetwork;
  readonly nodes: SimNode[];
  readonly orgs: SimOrg[];
  /** Messages each node's subscriber received, in order: `from-endpoint:text`. */
  readonly inbox: Map<string, string[]>;
}

export async function cluster(
  seed: number,
  n: number,
  opts: {
    orgs?: number;
    link?: Partial<LinkSpec>;
    config?: Partial<CommConfig>;
    breakDetectMs?: number;
  } = {},
): Promise<Cluster> {
  const orgCount = opts.orgs ?? 2;
  const crypto = await simCrypto({ orgs: orgCount, peersPerOrg: Math.ceil(n / orgCount) });
  const net = new SimNetwork({ seed, link: opts.link, breakDetectMs: opts.breakDetectMs });
  const inbox = new Map<string, string[]>();
  const nodes = crypto.peers.slice(0, n).map(
    (identity) =>
      new SimNode(net, {
        identity,
        trust: crypto.orgs,
        config: opts.config,
        onBoot: (node) => {
          const box = inbox.get(node.endpoint) ?? [];
          inbox.set(node.endpoint, box);
          node.transport.subscribe(
            () => true,
            (m: ReceivedMessage) => box.push(`${m.conn.endpoint}:${text(m)}`),
          );
        },
      }),
  );
  return { net, nodes, orgs: crypto.orgs, inbox };
}

/** An unsigned test message carrying `text` (a DataMessage-free alive-less payload: empty memReq). */
export function msg(textValue: string): Envelope {
  return unsignedGossip(
    create(GossipMessageSchema, {
      tag: Tag.EMPTY,
      channel: new TextEncoder().encode(textValue),
      content: { case: 'memReq', value: {} },
    }),
  ).envelope;
}

export function text(m: ReceivedMessage): string {
  return new TextDecoder().decode(m.message.channel);
}

export const peerOf = (node: SimNode) => ({ endpoint: node.endpoint, pkiId: node.identity.pkiId });

/** Connected-peer keys of a node, sorted. */
export function links(node: SimNode): string[] {
  return node.transport
    .connectedPeers()
    .map((p) => pkiIdKey(p))
    .sort();
}

/** Every pair of up nodes has exactly one connection, and both ends agree. */
export function fullMesh(nodes: SimNode[]): boolean {
  const up = nodes.filter((n) => n.isUp);
  return up.every((a) => {
    const l = links(a);
    return l.length === up.length - 1 && new Set(l).size === l.length;
  });
}
