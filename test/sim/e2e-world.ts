/**
 * A seeded world for end-to-end runs of the GossipService on the simulation: SimNodes (2 orgs x
 * 4 peers by default), each incarnation running a full GossipService (gossip node, state
 * provider, deliver client, dynamic election) with the sim crypto, and an in-memory orderer
 * (MemoryOrderer, behind the deliver client's DeliverConnector: the real orderer is a gRPC server
 * and cannot run on the simulated transport) serving one channel on two endpoints.
 * Each peer's ledger survives crashes (a disk); every append is checked (number = height,
 * previous hash) and recorded, so a block committed twice or out of order is seen.
 *
 * `streams` turns block streams (core/stream) on for every peer: each incarnation serves
 * Deliver over the simulated rpc (sim/deliver.ts: the peer's ledger through the real serving
 * logic, with the simulation's Readers policy) and its GossipService gets a SimUpstreamConnector
 * and the streams config. Per peer the world counts, for every incarnation together:
 *   copies: full block copies received: Deliver block frames (from upstream peers and from the
 *     orderer), gossip DataMsg blocks, blocks in pull updates (dataUpdate of BLOCK_MSG) and in
 *     state responses (anti-entropy); `arrivals(n)`: how each committed block first arrived (the
 *     state provider's payload source: stream, orderer, gossip, state, catchup);
 *   the orderer's streams (connects) and egress are the MemoryOrderer's.
 */
import {
  SimNetwork,
  SimNode,
  simCrypto,
  simOrg,
  simPeer,
  type LinkSpec,
  type SimIdentity,
} from '../../src/sim/index.js';
import { SimGossipCrypto } from '../../src/sim/crypto.js';
import { makeChain } from '../../src/sim/blockmaker.js';
import { GossipService, type ChannelSetup } from '../../src/service/index.js';
import { MemoryOrderer } from '../../src/sim/memorderer.js';
import type { StateLedger } from '../../src/core/state/types.js';
import { electionConfig, type ElectionConfigInput } from '../../src/core/election/index.js';
import { stateConfig, type StateConfigInput } from '../../src/core/state/config.js';
import { resolveDeliverConfig, type DeliverClientConfig } from '../../src/core/deliver/index.js';
import { GrapevineError } from '../../src/base/errors.js';
import { blockHeaderHash, decodeBlock } from '../../src/wire/block.js';
import { silentLogger } from '../../src/base/log.js';
import { gossipNodeConfig, type GossipNodeConfigInput } from '../../src/core/gossip/nodeconfig.js';
import { streamConfig, type StreamConfig } from '../../src/core/stream/config.js';
import { SimUpstreamConnector, serveSimDeliver, withSimReaders } from '../../src/sim/deliver.js';
import type { DeliverConnector } from '../../src/core/deliver/deliverer.js';
import type { Clock } from '../../src/base/time.js';
import { METRICS } from '../../src/base/metric-table.js';
import { PullMsgType } from '../../src/wire/gossip.js';

export const CHANNEL = 'e2echannel';
export const ORDERERS = ['orderer0.example.com:7050', 'orderer1.example.com:7050'];

/** A peer's disk: committed blocks, checked on append; one writer (incarnation) at a time. */
export class SimDisk {
  readonly blocks: Uint8Array[] = [];
  /** Virtual time of each append (genesis: 0), when the disk has a clock. */
  readonly at: number[] = [0];
  private lastHash: Uint8Array | undefined;
  /** Appends refused (wrong number or previous hash): a block committed twice or out of order. */
  refused = 0;
  private writer = 0;

  constructor(
    genesis: Uint8Array,
    private readonly clock?: Clock,
  ) {
    this.put(genesis);
    this.at.length = 1;
  }

  get height(): bigint {
    return BigInt(this.blocks.length);
  }

  /** The ledger for a new incarnation; the previous one's appends fail from now on. */
  open(): StateLedger {
    const me = ++this.writer;
    return {
      height: () => this.height,
      getBlockBytes: async (n) => this.blocks[Number(n)],
      append: async (bytes) => {
        if (me !== this.writer) throw new GrapevineError('CLOSED', 'ledger of a crashed incarnation');
        this.put(bytes);
        return this.height;
      },
    };
  }

  /** Fence the current writer (the process died). */
  close(): void {
    this.writer++;
  }

  private put(bytes: Uint8Array): void {
    const h = decodeBlock(bytes).header!;
    if (h.number !== this.height) {
      this.refused++;
      throw new GrapevineError('WRONG_NUMBER', `block ${h.number} at height ${this.height}`);
    }
    if (this.lastHash && !Buffer.from(h.previousHash).equals(Buffer.from(this.lastHash))) {
      this.refused++;
      throw new GrapevineError('BAD_PREVIOUS_HASH', `block ${h.number}: previous hash`);
    }
    this.lastHash = blockHeaderHash(h);
    this.blocks.push(bytes);
    this.at.push(this.clock?.now() ?? 0);
  }
}

export interface E2eWorldOptions {
  readonly orgs?: number;
  readonly peersPerOrg?: number;
  readonly blocks?: number;
  readonly txCount?: number;
  readonly txBytes?: number;
  readonly link?: Partial<LinkSpec>;
  readonly election?: ElectionConfigInput;
  readonly state?: StateConfigInput;
  readonly deliver?: Partial<DeliverClientConfig>;
  readonly profile?: 'fabric' | 'fast';
  readonly ordererLatencyMs?: number;
  /** Block streams on every peer (true: the defaults; or grapevine.streams.* overrides). */
  readonly streams?: boolean | Partial<StreamConfig>;
  /**
   * With `streams`: the peers that keep streams off all the same (Fabric's push and pull in an
   * org of streaming peers, the mixed mode), by org (1-based) and index in the org (0-based).
   */
  readonly plain?: (org: number, index: number) => boolean;
  /** Gossip node config overrides (channel, pull, emitter) on top of the profile. */
  readonly gossip?: Omit<GossipNodeConfigInput, 'discovery'>;
}

/** Full block copies a peer received, by way. */
export interface Copies {
  stream: number;
  orderer: number;
  push: number;
  pull: number;
  state: number;
}

export const copiesTotal = (c: Copies): number => c.stream + c.orderer + c.push + c.pull + c.state;

/**
 * Bytes of the block streams between peers that are not block bytes, per receiving peer: the
 * seek envelope and rpc REQUEST header sent when a stream opens, and per DeliverResponse its
 * protobuf framing around the block (all of a status), the rpc's one kind byte per message and
 * its WINDOW credit frame (5 bytes per half window, 8 messages by default).
 */
export const RPC_REQUEST_HEADER = 7 + '/orderer.AtomicBroadcast/Deliver'.length;

export interface E2eWorld {
  readonly net: SimNetwork;
  readonly nodes: SimNode[];
  readonly services: Map<string, GossipService>;
  readonly disks: Map<string, SimDisk>;
  readonly orderer: MemoryOrderer;
  /** The chain the orderer cuts from (index = block number; 0 = genesis). */
  readonly chain: Uint8Array[];
  orgOf(n: SimNode): number;
  crash(n: SimNode): void;
  restart(n: SimNode): void;
  /** Cut the next block of the chain; returns its number. */
  cut(): bigint;
  /** Live nodes that lead the channel, per org (1-based). */
  leaders(org: number): SimNode[];
  /** Live peers whose ledger is below `height`. */
  behind(height: bigint): string[];
  /** Full block copies received per peer (endpoint), all incarnations. */
  readonly copies: Map<string, Copies>;
  /** Committed blocks of a peer by how each first arrived (the state provider's payload source). */
  arrivals(n: SimNode): Promise<Record<string, number>>;
  /** Block stream bytes that are not block bytes, per peer (see RPC_REQUEST_HEADER). */
  readonly streamOverhead: Map<string, number>;
  /** The stream connector of a peer's current incarnation (streams on). */
  readonly upstreams: Map<string, SimUpstreamConnector>;
}

export async function e2eWorld(seed: number, o: E2eWorldOptions = {}): Promise<E2eWorld> {
  const crypto = await simCrypto({ orgs: o.orgs ?? 2, peersPerOrg: o.peersPerOrg ?? 4 });
  const ordererOrg = await simOrg(0, { domain: 'example.com', mspId: 'OrdererMSP' });
  const ordererId: SimIdentity = await simPeer(ordererOrg, 0);
  const chain = makeChain({
    channel: CHANNEL,
    orderer: ordererId.signer,
    from: 0n,
    n: (o.blocks ?? 100) + 1,
    txCount: o.txCount ?? 1,
    txBytes: o.txBytes ?? 64,
  });
  const net = new SimNetwork({ seed, link: o.link });
  const mspIds = new Set(crypto.orgs.map((org) => org.mspId));
  const channels = new Map([[CHANNEL, mspIds]]);
  const orderer = new MemoryOrderer({
    clock: net.clock,
    addresses: ORDERERS,
    latencyMs: o.ordererLatencyMs ?? 5,
    blocks: [chain[0]!],
    readers: (_c, mspId) => mspIds.has(mspId),
  });
  const setup: ChannelSetup = {
    channelId: CHANNEL,
    join: {
      channelId: CHANNEL,
      sequence: 0n,
      orgs: crypto.orgs.map((org) => ({
        mspId: org.mspId,
        anchorPeers: [{ host: `peer0.${org.domain}`, port: 7051 }],
      })),
    },
    orderer: { globalAddresses: [], orgs: new Map([['OrdererOrg', { addresses: ORDERERS, rootCerts: [] }]]) },
  };
  const services = new Map<string, GossipService>();
  const disks = new Map<string, SimDisk>();
  const copies = new Map<string, Copies>();
  const upstreams = new Map<string, SimUpstreamConnector>();
  const streamOverhead = new Map<string, number>();
  const streamsAll =
    o.streams === undefined || o.streams === false
      ? undefined
      : streamConfig(o.streams === true ? {} : o.streams);
  const orgIndex = new Map<SimNode, number>();

  const nodes = crypto.peers.map((identity) => {
    const node = new SimNode(net, { identity, trust: [...crypto.orgs, ordererOrg], onBoot: (n) => boot(n) });
    orgIndex.set(node, crypto.orgs.indexOf(identity.org) + 1);
    return node;
  });

  function boot(n: SimNode): void {
    let disk = disks.get(n.endpoint);
    if (!disk) {
      disk = new SimDisk(chain[0]!, net.clock);
      disks.set(n.endpoint, disk);
    }
    let count = copies.get(n.endpoint);
    if (!count) {
      count = { stream: 0, orderer: 0, push: 0, pull: 0, state: 0 };
      copies.set(n.endpoint, count);
    }
    const c = count;
    n.transport.subscribe(
      () => true,
      (m) => {
        const k = m.message.content;
        if (k.case === 'dataMsg') c.push++;
        else if (k.case === 'dataUpdate' && k.value.msgType === PullMsgType.BLOCK_MSG)
          c.pull += k.value.data.length;
        else if (k.case === 'stateResponse') c.state += k.value.payloads.length;
      },
    );
    const incarnation = n.incarnation;
    const org = n.identity.org;
    const gossipCrypto = new SimGossipCrypto(n.trust, channels);
    const alive = () => n.isUp && n.incarnation === incarnation;
    let upstreamConnector: SimUpstreamConnector | undefined;
    const orgNo = crypto.orgs.indexOf(org) + 1;
    const streams =
      streamsAll && !o.plain?.(orgNo, crypto.peers.filter((p) => p.org === org).indexOf(n.identity))
        ? streamsAll
        : undefined;
    if (streams) {
      const ep = n.endpoint;
      upstreamConnector = countingUpstream(new SimUpstreamConnector(net, ep), c, (bytes) =>
        streamOverhead.set(ep, (streamOverhead.get(ep) ?? 0) + bytes),
      );
      upstreams.set(n.endpoint, upstreamConnector);
    }
    const gossipCfg = gossipNodeConfig(
      {
        ...(o.gossip ?? {}),
        discovery: {
          endpoint: n.endpoint,
          externalEndpoint: n.endpoint,
          bootstrap: [`peer0.${org.domain}:7051`],
        },
      },
      o.profile ?? 'fabric',
    );
    const svc = new GossipService({
      transport: n.transport,
      identityStore: n.identities,
      crypto: gossipCrypto,
      signer: n.identity.signer,
      mspId: org.mspId,
      gossip: gossipCfg,
      election: electionConfig({ useLeaderElection: true, ...(o.election ?? {}) }, o.profile ?? 'fabric'),
      state: stateConfig({
        enabled: true,
        checkIntervalMs: 2000,
        responseTimeoutMs: 1000,
        ...(o.state ?? {}),
      }),
      deliver: resolveDeliverConfig(o.deliver),
      deliverConnector: countingOrderer(orderer.connector(n.clock, alive), c),
      ...(streams && upstreamConnector ? { streams, upstreamConnector } : {}),
      clock: n.clock,
      rng: n.rng,
      metrics: n.metrics,
      logger: silentLogger,
    });
    services.set(n.endpoint, svc);
    svc.initializeChannel(setup, disk.open());
    if (streams) {
      serveSimDeliver({
        net,
        endpoint: n.endpoint,
        clock: n.clock,
        source: (ch) => {
          const s = svc.deliverSource(ch);
          return s ? withSimReaders(s, gossipCrypto) : undefined;
        },
      });
    }
    svc.start();
  }

  let next = 1;
  return {
    net,
    nodes,
    services,
    disks,
    orderer,
    chain,
    orgOf: (n) => orgIndex.get(n)!,
    crash(n) {
      n.crash();
      disks.get(n.endpoint)!.close();
    },
    restart(n) {
      n.restart();
    },
    cut() {
      const b = chain[next];
      if (!b) throw new Error(`the chain has only ${chain.length - 1} blocks`);
      next++;
      return orderer.cut(b);
    },
    leaders(org) {
      return nodes.filter(
        (n) => n.isUp && orgIndex.get(n) === org && services.get(n.endpoint)!.isLeader(CHANNEL),
      );
    },
    copies,
    upstreams,
    streamOverhead,
    async arrivals(n) {
      const out: Record<string, number> = {};
      for (const source of ['orderer', 'stream', 'gossip', 'state', 'catchup']) {
        const v = await n.metrics.value(METRICS.grapevineStateCommittedTotal, { source });
        if (v) out[source] = v;
      }
      return out;
    },
    behind(height) {
      return nodes
        .filter((n) => n.isUp && disks.get(n.endpoint)!.height < height)
        .map((n) => `${n.endpoint}@${disks.get(n.endpoint)!.height}`);
    },
  };
}

/** DeliverResponse{block} (field 2, length-delimited) starts with tag byte 0x12. */
const isBlockFrame = (f: Uint8Array | undefined): boolean => f !== undefined && f[0] === 0x12;

/** Bytes of a DeliverResponse frame that are not the block: framing, or a whole status. */
function frameOverhead(f: Uint8Array): number {
  if (!isBlockFrame(f)) return f.length;
  let len = 0;
  let shift = 0;
  let i = 1;
  for (; i < f.length; i++) {
    len += (f[i]! & 0x7f) * 2 ** shift;
    shift += 7;
    if (f[i]! < 0x80) break;
  }
  return f.length - len;
}

/** Counts the block frames of the streams it opens as `stream` copies, the rest as overhead. */
function countingUpstream(
  inner: SimUpstreamConnector,
  c: Copies,
  overhead: (bytes: number) => void,
): SimUpstreamConnector {
  const open = inner.open.bind(inner);
  inner.open = async (endpoint, seek) => {
    const s = await open(endpoint, seek);
    overhead(seek.length + RPC_REQUEST_HEADER);
    return {
      recv: async () => {
        const f = await s.recv();
        if (f) overhead(frameOverhead(f) + 1 + 5 / 8);
        if (isBlockFrame(f)) c.stream++;
        return f;
      },
      close: () => s.close(),
    };
  };
  return inner;
}

/** Counts the block frames from the orderer as `orderer` copies. */
function countingOrderer(inner: DeliverConnector, c: Copies): DeliverConnector {
  return {
    connect: async (endpoint, seek) => {
      const s = await inner.connect(endpoint, seek);
      return {
        recv: async () => {
          const f = await s.recv();
          if (isBlockFrame(f)) c.orderer++;
          return f;
        },
        close: () => s.close(),
      };
    },
  };
}
