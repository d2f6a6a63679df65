/**
 * Real-socket gossip peers in one process (127.0.0.1, TLS): crypto from testCrypto, channel
 * configs from configtx.yaml (src/network/channel-yaml.ts) -> genesis -> parseChannelConfig, one GossipNode per peer
 * over a GrpcTransport, the real MessageCryptoService, blocks signed by orderer0.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testCrypto, testOrdererDir, testOrgMspDir, testPeerDir } from '../helpers/crypto.js';
import { channelConfigtxYaml, writeConfigtxGenesis } from '../../src/network/channel-yaml.js';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import type { ChannelConfig } from '../../src/channelconfig/types.js';
import { loadSigningIdentity, MessageCryptoService } from '../../src/identity/index.js';
import { IdentityStore } from '../../src/identity/store.js';
import { loadCommTls } from '../../src/comm/identity.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import { GossipNode } from '../../src/core/gossip/node.js';
import { McsChannels, commCryptoFromMcs } from '../../src/core/gossip/mcsadapter.js';
import { gossipNodeConfig, type GossipNodeConfigInput } from '../../src/core/gossip/nodeconfig.js';
import type { BlockEvent } from '../../src/core/channel/types.js';
import { Metrics } from '../../src/base/metrics.js';
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import type { Signer } from '../../src/wire/signer.js';

export interface NetPeer {
  readonly name: string;
  readonly org: number;
  readonly transport: GrpcTransport;
  readonly node: GossipNode;
  readonly metrics: Metrics;
  /** The peer's own signer (its MSP signing identity). */
  readonly signer: Signer;
  /** channel -> seq -> first arrival (performance.now()) */
  readonly got: Map<string, Map<bigint, number>>;
  /** Blocks handed to onBlock more than once. */
  dupes: number;
}

export interface NetWorld {
  readonly peers: NetPeer[];
  readonly orderer: Signer;
  readonly configs: Map<string, ChannelConfig>;
  stop(): Promise<void>;
}

export interface NetOptions {
  readonly orgs: number;
  readonly peersPerOrg: number;
  /** channel -> orgs (1-based) in it. */
  readonly channels: Record<string, readonly number[]>;
  readonly gossip?: Omit<GossipNodeConfigInput, 'discovery'>;
  readonly profile?: 'fabric' | 'fast';
  /** Update ledger heights from delivered blocks (in-order commit). Default true. */
  readonly commit?: boolean;
}

/**
 * The 'fast' profile with more slack: 10-15 peers share one event loop here, and on a loaded
 * 2-core machine that loop lags. fast's 2 s publishCertPeriod can pass before the first alive
 * goes out, and its 50-100 ms pull windows then close before the digests of the identity pull
 * arrive: peers would never learn each other's identities. Its 200 ms membership sync also
 * costs thousands of signature checks a second in one process, as do its 200 ms StateInfo timers.
 */
const ONE_PROCESS_DISCOVERY = {
  aliveTimeIntervalMs: 500,
  aliveExpirationTimeoutMs: 15_000,
  reconnectIntervalMs: 1000,
  pullIntervalMs: 1000,
  publishCertPeriodMs: 30_000,
} as const;
// A dial that times out presumes the peer dead (as Fabric), which a lagging loop must not cause.
const ONE_PROCESS_COMM = { dialTimeoutMs: 15_000, connTimeoutMs: 15_000, sendBuffSize: 200 } as const;
const ONE_PROCESS_CHANNEL = {
  publishStateInfoIntervalMs: 1000,
  requestStateInfoIntervalMs: 1000,
  pullIntervalMs: 1000,
} as const;
const ONE_PROCESS_PULL = {
  pullIntervalMs: 500,
  digestWaitTimeMs: 300,
  requestWaitTimeMs: 450,
  responseWaitTimeMs: 600,
} as const;

function pem(dir: string): Buffer {
  return readFileSync(join(dir, readdirSync(dir).filter((f) => !f.startsWith('.'))[0]!));
}

export async function netWorld(o: NetOptions): Promise<NetWorld> {
  const root = await testCrypto({ orgs: o.orgs, peersPerOrg: o.peersPerOrg });
  const tlsCas = Array.from(
    { length: o.orgs },
    (_, i) => new Uint8Array(pem(join(testOrgMspDir(root, i + 1), 'tlscacerts'))),
  );
  const parts: {
    name: string;
    org: number;
    peer: number;
    mcs: MessageCryptoService;
    channels: McsChannels;
    transport: GrpcTransport;
    store: IdentityStore;
    signer: Signer;
    metrics: Metrics;
  }[] = [];
  try {
    for (let org = 1; org <= o.orgs; org++) {
      for (let peer = 0; peer < o.peersPerOrg; peer++) {
        const dir = testPeerDir(root, org, peer);
        const local = loadSigningIdentity(join(dir, 'msp'), `Org${org}MSP`, { now: new Date() });
        const channels = new McsChannels();
        const mcs = new MessageCryptoService(local, channels, () => new Date());
        const metrics = new Metrics({ peer: `peer${peer}.org${org}` });
        const store = new IdentityStore({
          self: { pkiId: local.identity.pkiId, identity: local.identity.serialized },
          validator: mcs,
          clock: realClock,
          metrics,
        });
        const transport = await GrpcTransport.start({
          clock: realClock,
          rng: cryptoRng,
          identity: { pkiId: local.identity.pkiId, mspId: `Org${org}MSP`, signer: local.signer },
          crypto: commCryptoFromMcs(mcs),
          tls: loadCommTls(join(dir, 'tls'), tlsCas),
          listenAddress: '127.0.0.1:0',
          identityStore: store,
          metrics,
          config: ONE_PROCESS_COMM,
        });
        parts.push({
          name: `peer${peer}.org${org}`,
          org,
          peer,
          mcs,
          channels,
          transport,
          store,
          signer: local.signer,
          metrics,
        });
      }
    }
  } catch (e) {
    await Promise.all(parts.map((p) => p.transport.stop()));
    throw e;
  }
  const anchors = new Map(
    parts.filter((p) => p.peer === 0).map((p) => [p.org, Number(p.transport.endpoint.split(':')[1])]),
  );
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-dissem-'));
  const genesisOf = (ch: string, members: readonly number[]) =>
    writeConfigtxGenesis(
      join(dir, `configtx-${ch}.yaml`),
      channelConfigtxYaml({
        root,
        profile: `P_${ch}`,
        orgs: members,
        anchorPort: (n) => anchors.get(n)!,
        ordererEndpoints: ['127.0.0.1:7050'],
        consenterPort: 7050,
        batchTimeout: '1s',
        maxMessageCount: 5,
      }),
      `P_${ch}`,
      ch,
    );
  const configs = new Map(
    Object.entries(o.channels).map(([ch, members]) => [ch, parseChannelConfig(genesisOf(ch, members))]),
  );
  const orderer = loadSigningIdentity(join(testOrdererDir(root), 'msp'), 'OrdererMSP', {
    now: new Date(),
  }).signer;
  const peers: NetPeer[] = parts.map((p) => {
    const bootstrap = parts.find((q) => q.org === p.org && q.peer === 0)!.transport.endpoint;
    const node = new GossipNode({
      transport: p.transport,
      identityStore: p.store,
      crypto: p.mcs,
      signer: p.signer,
      mspId: `Org${p.org}MSP`,
      config: gossipNodeConfig(
        {
          ...o.gossip,
          pull: { ...ONE_PROCESS_PULL, ...o.gossip?.pull },
          channel: { ...ONE_PROCESS_CHANNEL, ...o.gossip?.channel },
          discovery: {
            ...ONE_PROCESS_DISCOVERY,
            endpoint: p.transport.endpoint,
            externalEndpoint: p.transport.endpoint,
            bootstrap: [bootstrap],
          },
        },
        o.profile ?? 'fast',
      ),
      channelCrypto: p.channels,
      clock: realClock,
      rng: cryptoRng,
      metrics: p.metrics,
      ownsTransport: true,
    });
    const np: NetPeer = {
      name: p.name,
      org: p.org,
      transport: p.transport,
      node,
      metrics: p.metrics,
      signer: p.signer,
      got: new Map(),
      dupes: 0,
    };
    const heights = new Map<string, bigint>();
    const pending = new Map<string, Set<bigint>>();
    node.onBlock((e: BlockEvent) => {
      const got = np.got.get(e.channel) ?? new Map<bigint, number>();
      np.got.set(e.channel, got);
      if (got.has(e.seqNum)) np.dupes++;
      else got.set(e.seqNum, performance.now());
      if (o.commit === false) return;
      const buf = pending.get(e.channel) ?? new Set<bigint>();
      pending.set(e.channel, buf);
      buf.add(e.seqNum);
      let h = heights.get(e.channel) ?? 1n;
      while (buf.delete(h)) h++;
      heights.set(e.channel, h);
      node.updateLedgerHeight(e.channel, h);
    });
    for (const [ch, members] of Object.entries(o.channels))
      if (members.includes(p.org)) node.joinChannel(configs.get(ch)!);
    return np;
  });
  for (const p of peers) p.node.start();
  return {
    peers,
    orderer,
    configs,
    stop: async () => {
      await Promise.all(peers.map((p) => p.node.stop()));
      for (const p of parts) p.store.stop();
    },
  };
}

/** Per peer: alive / dead members in discovery, and members of `channel`, for failure messages. */
export function membershipSummary(peers: readonly NetPeer[], channel: string): string {
  return peers
    .map(
      (p) =>
        `${p.name}: alive ${p.node.discovery.aliveMembers().length} dead ${p.node.discovery.deadMembers().length} in ${channel} ${p.node.peersOfChannel(channel).length}`,
    )
    .join('; ');
}
