/**
 * A real network in one process on 127.0.0.1 (also used by bench/e2e.bench.ts): testCrypto
 * material, a channel genesis block (configtx with the orgs' anchor peers and two orderer
 * endpoints), embedded orderers (TLS; a second one replicates the first with importBlock, as a
 * follower fed the same blocks), and peers each running a GossipService over a GrpcTransport
 * (mutual TLS), the MessageCryptoService, a BlockStore ledger and the gRPC deliver client.
 */
import { realClock, cryptoRng } from '../../src/base/real-clock.js';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sslCredentials, tlsTargetOptions } from '../../src/comm/tls.js';
import * as grpc from '@grpc/grpc-js';
import { loadCommIdentity, loadCommTls } from '../../src/comm/identity.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import {
  resolveDeliverConfig,
  type DeliverConnector,
  type DeliverStream,
} from '../../src/core/deliver/index.js';
import { GrpcDeliverConnector, RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { GrpcUpstreamConnector } from '../../src/comm/deliver/grpc.js';
import {
  deliverMetrics,
  deliverServerHandlers,
  DeliverServerService,
} from '../../src/comm/deliver/server.js';
import { streamConfig, type StreamConfig } from '../../src/core/stream/config.js';
import type { UpstreamConnector } from '../../src/core/stream/follower.js';
import { parseDeliverResponse } from '../../src/wire/deliver-frames.js';
import { electionConfig, type ElectionConfigInput } from '../../src/core/election/index.js';
import { loadSigningIdentity, MessageCryptoService } from '../../src/identity/index.js';
import type { LocalIdentity } from '../../src/identity/types.js';
import { BlockStore } from '../../src/ledger/index.js';
import { Orderer } from '../../src/orderer/server.js';
import { ChannelCryptoRegistry, commCryptoFromMcs, GossipService } from '../../src/service/index.js';
import { stateConfig, type StateConfigInput } from '../../src/core/state/config.js';
import type { StateLedger } from '../../src/core/state/types.js';
import { gossipNodeConfig, type GossipNodeConfigInput } from '../../src/core/gossip/nodeconfig.js';
import type { Logger } from '../../src/base/log.js';
import { Metrics } from '../../src/base/metrics.js';
import { channelConfigtxYaml, writeConfigtxGenesis } from '../../src/network/channel-yaml.js';
import { freePort } from '../../src/network/layout.js';
import { decode, encode } from '../../src/wire/codec.js';
import { EnvelopeSchema, HeaderType } from '../../src/wire/gen/common/common_pb.js';
import { BroadcastResponseSchema } from '../../src/wire/gen/orderer/ab_pb.js';
import { signedEnvelope } from '../../src/wire/index.js';
import { broadcastAll } from '../helpers/broadcast.js';
import { testCrypto, testOrdererDir, testOrgMspDir, testPeerDir, testUserDir } from '../helpers/crypto.js';

export const CHANNEL = 'e2enet';

function firstFile(dir: string): Buffer {
  return readFileSync(
    join(
      dir,
      readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .sort()[0]!,
    ),
  );
}

export interface NetSpec {
  readonly orgs: number;
  readonly peersPerOrg: number;
  /** Orgs present in the crypto material but not in the channel (e.g. 1 for a non-member). */
  readonly outsiderOrgs?: number;
  readonly maxMessageCount?: number;
  readonly batchTimeout?: string;
  readonly absoluteMaxBytes?: string;
  readonly preferredMaxBytes?: string;
}

export interface NetChannel {
  readonly root: string;
  readonly genesis: Uint8Array;
  readonly ordererPorts: number[];
  /** peerPorts[org-1][peer] */
  readonly peerPorts: number[][];
  readonly spec: NetSpec;
}

export async function netChannel(spec: NetSpec): Promise<NetChannel> {
  const total = spec.orgs + (spec.outsiderOrgs ?? 0);
  const root = await testCrypto({ orgs: total, peersPerOrg: spec.peersPerOrg });
  const ordererPorts = [await freePort(), await freePort()];
  const peerPorts: number[][] = [];
  for (let o = 0; o < total; o++) {
    const row: number[] = [];
    for (let p = 0; p < spec.peersPerOrg; p++) row.push(await freePort());
    peerPorts.push(row);
  }
  const text = channelConfigtxYaml({
    root,
    profile: 'E2e',
    orgs: Array.from({ length: spec.orgs }, (_, i) => i + 1),
    anchorPort: (n) => peerPorts[n - 1]![0]!,
    ordererEndpoints: ordererPorts.map((p) => `127.0.0.1:${p}`),
    consenterPort: ordererPorts[0]!,
    batchTimeout: spec.batchTimeout ?? '100ms',
    maxMessageCount: spec.maxMessageCount ?? 1,
    absoluteMaxBytes: spec.absoluteMaxBytes,
    preferredMaxBytes: spec.preferredMaxBytes,
  });
  const dir = mkdtempSync(join(tmpdir(), 'grapevine-e2e-cfg-'));
  const genesis = writeConfigtxGenesis(join(dir, 'configtx.yaml'), text, 'E2e', CHANNEL);
  return { root, genesis, ordererPorts, peerPorts, spec };
}

export function ordererTlsCa(net: NetChannel): Buffer {
  return readFileSync(join(testOrdererDir(net.root), 'tls', 'ca.crt'));
}

/** Orderer number i (0 or 1) on its port from the genesis block. */
export async function startOrderer(net: NetChannel, i: number): Promise<Orderer> {
  const dir = testOrdererDir(net.root);
  return Orderer.start({
    signer: loadSigningIdentity(join(dir, 'msp'), 'OrdererMSP', { now: new Date() }).signer,
    listen: `127.0.0.1:${net.ordererPorts[i]}`,
    dataDir: mkdtempSync(join(tmpdir(), 'grapevine-e2e-orderer-')),
    genesis: net.genesis,
    tls: {
      certPem: readFileSync(join(dir, 'tls', 'server.crt')),
      keyPem: readFileSync(join(dir, 'tls', 'server.key')),
      clientAuthRequired: false,
    },
  });
}

/** Copy every block of `from` into `to` as it is cut, until stop() or either orderer stops. */
export function replicate(from: Orderer, to: Orderer): { stop(): void; done: Promise<void> } {
  const a = from.chain(CHANNEL)!;
  const b = to.chain(CHANNEL)!;
  const ac = new AbortController();
  const done = (async () => {
    let n = b.height();
    while (!ac.signal.aborted) {
      await a.waitForHeight(n + 1n, ac.signal);
      if (ac.signal.aborted || a.height() <= n) return;
      const bytes = await a.getBlockBytes(n).catch(() => undefined);
      if (!bytes) return;
      try {
        await b.importBlock(bytes);
      } catch {
        return;
      }
      n++;
    }
  })();
  return { stop: () => ac.abort(), done };
}

/** A Broadcast client for the channel's writer (User1@org1): one stream per call. */
export class Writer {
  readonly user: LocalIdentity;
  private n = 0;
  constructor(private readonly net: NetChannel) {
    this.user = loadSigningIdentity(join(testUserDir(net.root, 1, 'User1'), 'msp'), 'Org1MSP', {
      now: new Date(),
    });
  }

  envelopes(count: number, bytes = 16): Uint8Array[] {
    return Array.from({ length: count }, () => {
      const i = this.n++;
      const data = new Uint8Array(bytes).fill(i & 0xff);
      return encode(
        EnvelopeSchema,
        signedEnvelope(
          {
            type: HeaderType.ENDORSER_TRANSACTION,
            channelId: CHANNEL,
            data,
            nowMs: Date.now(),
            txId: `e2e-${process.pid}-${i}`,
            preciseTimestamp: true,
          },
          this.user.signer,
        ),
      );
    });
  }

  /** One open Broadcast stream: send() writes an envelope; statuses are counted; close() ends it. */
  open(address: string): { send(env: Uint8Array): void; readonly statuses: number[]; close(): void } {
    // no IP address as the TLS server name (Node's DEP0123): the placeholder name tls.ts checks
    const client = new grpc.Client(address, sslCredentials(ordererTlsCa(this.net)), {
      'grpc.max_send_message_length': 100 * 1024 * 1024,
      ...tlsTargetOptions(address),
    });
    const m = RawAtomicBroadcastService.Broadcast;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    const statuses: number[] = [];
    call.on('data', (b: Buffer) => statuses.push(decode(BroadcastResponseSchema, b).status));
    call.on('error', () => undefined);
    return {
      statuses,
      send: (env) => void call.write(Buffer.from(env)),
      close: () => {
        call.end();
        client.close();
      },
    };
  }

  /** Send envelopes to `address`; resolves with the statuses. */
  broadcast(address: string, envs: Uint8Array[]): Promise<number[]> {
    return broadcastAll(address, sslCredentials(ordererTlsCa(this.net)), envs, {
      'grpc.max_send_message_length': 100 * 1024 * 1024,
      ...tlsTargetOptions(address),
    });
  }
}

/** A connector that records the endpoint in use and every status an orderer answered. */
export class RecordingConnector implements DeliverConnector {
  current = '';
  readonly statuses: number[] = [];
  readonly addresses: string[] = [];
  /** Bytes of DeliverResponse frames received (the orderer's egress towards this peer, before gRPC/TLS framing). */
  bytes = 0;
  /** Blocks received (full copies from the orderer). */
  blocks = 0;
  constructor(private readonly inner: DeliverConnector) {}
  async connect(
    endpoint: Parameters<DeliverConnector['connect']>[0],
    env: Uint8Array,
  ): Promise<DeliverStream> {
    const s = await this.inner.connect(endpoint, env);
    this.current = endpoint.address;
    this.addresses.push(endpoint.address);
    return {
      recv: async () => {
        const f = await s.recv();
        if (f) {
          this.bytes += f.byteLength;
          try {
            const r = parseDeliverResponse(f);
            if (r.case === 'status') this.statuses.push(r.status);
            else if (r.case === 'block') this.blocks++;
          } catch {
            /* the deliverer reports it */
          }
        }
        return f;
      },
      close: () => s.close(),
    };
  }
}

export interface NetPeer {
  readonly org: number;
  readonly index: number;
  readonly endpoint: string;
  readonly service: GossipService;
  readonly transport: GrpcTransport;
  readonly ledger: BlockStore;
  readonly connector: RecordingConnector;
  readonly metrics: Metrics;
  stop(): Promise<void>;
  /**
   * As a SIGKILL looks to the others: the transport goes first (every socket destroyed, gossip and
   * Deliver streams cut, nothing said), then the rest stops quietly in-process.
   */
  kill(): Promise<void>;
}

export interface PeerOptions {
  readonly election?: ElectionConfigInput;
  readonly state?: StateConfigInput;
  readonly blockGossipEnabled?: boolean;
  /** Wrap the ledger the service commits to (e.g. to time commits). */
  readonly wrapLedger?: (l: StateLedger) => StateLedger;
  readonly logger?: Logger;
  /** Gossip config merged over the defaults (e.g. Fabric's pull interval). */
  readonly gossip?: Omit<GossipNodeConfigInput, 'discovery'>;
  /**
   * Block streams (grapevine.streams.*): the peer serves orderer.AtomicBroadcast/Deliver on its
   * gossip port (as the daemon does) and streams from the org's other Grapevine peers through a
   * GrpcUpstreamConnector. `true` = the defaults. Absent: no streams, no Deliver server.
   */
  readonly streams?: boolean | Partial<StreamConfig>;
  /** Serve Deliver on the gossip port even without streams (a relay or an upstream for others). */
  readonly deliverServer?: boolean;
  /** Wrap the upstream connector (e.g. to count or break streams). */
  readonly wrapUpstream?: (c: UpstreamConnector) => UpstreamConnector;
  /** Verify stream blocks in a worker thread, as the daemon does (GossipServiceOptions). */
  readonly verifyWorkers?: boolean;
}

/** peer<index>.org<org>: transport, MCS, ledger (genesis appended), GossipService started. */
export async function startPeer(
  net: NetChannel,
  org: number,
  index: number,
  o: PeerOptions = {},
): Promise<NetPeer> {
  const dir = testPeerDir(net.root, org, index);
  const mspId = `Org${org}MSP`;
  const local = loadSigningIdentity(join(dir, 'msp'), mspId, { now: new Date() });
  const registry = new ChannelCryptoRegistry();
  const mcs = new MessageCryptoService(local, registry, () => new Date());
  const total = net.spec.orgs + (net.spec.outsiderOrgs ?? 0);
  const tlsCas = Array.from({ length: total }, (_, i) =>
    firstFile(join(testOrgMspDir(net.root, i + 1), 'tlscacerts')),
  );
  const port = net.peerPorts[org - 1]![index]!;
  const endpoint = `127.0.0.1:${port}`;
  const metrics = new Metrics({ peer: endpoint });
  const streams =
    o.streams === undefined || o.streams === false
      ? undefined
      : streamConfig(o.streams === true ? {} : o.streams);
  const commTls = loadCommTls(join(dir, 'tls'), tlsCas);
  // the Deliver server is registered before the gossip server binds; it finds the channels
  // through the service, built below (until then every channel is NOT_FOUND)
  const built: { service?: GossipService } = {};
  const serveDeliver = streams?.enabled === true || o.deliverServer === true;
  const deliverServed = serveDeliver
    ? [
        {
          definition: DeliverServerService,
          implementation: deliverServerHandlers({
            source: (ch) => built.service?.deliverSource(ch),
            now: () => realClock.now(),
            timeWindowMs: 15 * 60_000,
            mutualTls: true,
            metrics: deliverMetrics(metrics),
          }),
        },
      ]
    : [];
  const transport = await GrpcTransport.start({
    clock: realClock,
    rng: cryptoRng,
    identity: loadCommIdentity(join(dir, 'msp'), mspId),
    crypto: commCryptoFromMcs(mcs),
    tls: commTls,
    // a Deliver server binds seeks to the client's verified TLS certificate (as a daemon with
    // peer.tls.clientAuthRequired): the stream's tls_cert_hash is checked for real
    ...(serveDeliver ? { config: { clientAuthRequired: true } } : {}),
    services: deliverServed,
    listenAddress: endpoint,
    metrics,
    logger: o.logger,
  });
  const ledger = await BlockStore.open(mkdtempSync(join(tmpdir(), 'grapevine-e2e-peer-')));
  await ledger.append(net.genesis);
  const tls = {
    clientAuthRequired: false,
    certPem: readFileSync(join(dir, 'tls', 'server.crt')),
    keyPem: readFileSync(join(dir, 'tls', 'server.key')),
  };
  const deliverCfg = { connTimeoutMs: 1000, blockGossipEnabled: o.blockGossipEnabled ?? true };
  const connector = new RecordingConnector(new GrpcDeliverConnector(resolveDeliverConfig(deliverCfg), tls));
  let upstream: GrpcUpstreamConnector | undefined;
  if (streams?.enabled)
    upstream = new GrpcUpstreamConnector(resolveDeliverConfig(deliverCfg), commTls, streams.receiveWindow);
  const upstreamConnector = upstream && (o.wrapUpstream ? o.wrapUpstream(upstream) : upstream);
  const service = new GossipService({
    clock: realClock,
    rng: cryptoRng,
    transport,
    identityStore: transport.identityStore,
    crypto: mcs,
    signer: local.signer,
    mspId,
    gossip: gossipNodeConfig(
      {
        ...(o.gossip ?? {}),
        discovery: {
          endpoint,
          externalEndpoint: endpoint,
          bootstrap: index === 0 ? [] : [`127.0.0.1:${net.peerPorts[org - 1]![0]}`],
        },
      },
      'fast',
    ),
    election: electionConfig(o.election ?? { useLeaderElection: true }, 'fast'),
    state: stateConfig(o.state ?? { enabled: true, checkIntervalMs: 1000, responseTimeoutMs: 1000 }),
    deliver: resolveDeliverConfig(deliverCfg),
    deliverTls: tls,
    deliverConnector: connector,
    ...(streams ? { streams } : {}),
    ...(upstreamConnector ? { upstreamConnector } : {}),
    ...(o.verifyWorkers ? { verifyWorkers: true } : {}),
    channelCrypto: registry,
    metrics,
    logger: o.logger,
    ownsTransport: true,
  });
  built.service = service;
  service.initializeChannel(net.genesis, o.wrapLedger ? o.wrapLedger(ledger) : ledger);
  service.start();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await service.stop();
      upstream?.closeAll();
      await ledger.close();
    })());
  return {
    org,
    index,
    endpoint,
    service,
    transport,
    ledger,
    connector,
    metrics,
    stop,
    async kill() {
      upstream?.closeAll();
      await transport.stop();
      await stop();
    },
  };
}
