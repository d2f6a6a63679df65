/**
 * The peer daemon (`grapevine peer start`): one PeerConfig becomes a running peer.
 *
 *   1. the local MSP (peer.mspConfigPath, peer.localMspId) and its signing identity;
 *   2. the channels: join blocks and the ledgers already under grapevine.ledgerPath (channels.ts);
 *   3. no orderer is needed to start (as Fabric's peer: a follower never contacts one, a leader's
 *      deliver client retries with backoff); while the deliver client runs and no orderer endpoint
 *      answers a TCP dial, OrdererWatch logs a warning (repeated every minute);
 *   4. TLS (peer.tls.*: our pair, peer.tls.rootcert.file, clientRootCAs, and every channel org's
 *      TLS CAs from the config blocks), then the gossip gRPC server (GrpcTransport), which also
 *      serves Grapevine's catch-up stream (grapevine.catchup.serve; a caller must satisfy the
 *      channel's Readers policy, its request bound to its TLS client certificate) and, with
 *      grapevine.deliverServer.enabled, orderer.AtomicBroadcast/Deliver from the peer's ledgers
 *      (the orderer's handler, comm/deliver/server.ts: a relay for Fabric peers' deliver clients;
 *      Broadcast answers UNIMPLEMENTED);
 *   5. the operations server (operations.listenAddress): /healthz as Fabric's (no gossip check: a
 *      lone peer is alive), /readyz failing while the peer has no gossip connection, /status
 *      (what the peer sees of the network, ./status.ts, with its alerts, ./alerts.ts, evaluated
 *      every second for the grapevine_alerts gauge; the members' external endpoints probed every
 *      grapevine.alerts.probeInterval, ./probe.ts);
 *   6. the GossipService with each channel's ledger (and, with grapevine.catchup.enabled, the
 *      catch-up client; streamed blocks verified in worker threads by the MCS), then start.
 * With grapevine.observer the peer never leads (its election config says neither election nor
 * static leader, config/modules.ts) and runs no block stream (no marker: no Grapevine peer takes
 * it as upstream or source; it gets blocks by push, pull and state transfer, as a Fabric peer).
 * Any failure undoes what was started (in reverse) and throws an error naming what to fix.
 * stop() stops everything in reverse order; idempotent.
 */
import { processResources, residentBytes } from '../base/resources.js';
import { existsSync, readFileSync } from 'node:fs';
import { loadCommIdentity } from '../comm/identity.js';
import { pkiIdKey } from '../base/pkiid.js';
import type { CommTls } from '../comm/tls.js';
import { GrpcTransport } from '../comm/transport.js';
import { ConfigError, errorMessage, GrapevineError } from '../base/errors.js';
import { loadSigningIdentity, MessageCryptoService } from '../identity/index.js';
import type { LocalIdentity } from '../identity/types.js';
import { ChannelCryptoRegistry, commCryptoFromMcs, GossipService } from '../service/index.js';
import { CatchupClient, catchupHandlers, CatchupService } from '../comm/catchup/index.js';
import { preferredEndpoint } from '../core/discovery/index.js';
import { deliverMetrics, deliverServerHandlers, DeliverServerService } from '../comm/deliver/server.js';
import { DeliverStreamLimit } from '../core/deliver/serve.js';
import { GrpcUpstreamConnector } from '../comm/deliver/grpc.js';
import { cryptoRng, realClock } from '../base/real-clock.js';
import { componentLogger, rootLogger, type Logger } from '../base/log.js';
import { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';
import { openChannelLedgers, readJoinBlock, type JoinBlock, type OpenChannel } from './channels.js';
import {
  commConfigOf,
  deliverConfigOf,
  streamConfigOf,
  electionConfigOf,
  gossipNodeConfigOf,
  stateConfigOf,
} from './config/index.js';
import type { PeerConfig } from './config/types.js';
import type { LogSpecTarget } from '../ops/operations.js';
import { OperationsServer } from '../ops/operations.js';
import { operationsOptionsFromConfig } from './operations-config.js';
import { CommitTracker, type ChannelState, type PeerStateSnapshot, type StreamState } from './peerstate.js';
import {
  alertInputOf,
  buildStatus,
  CertCache,
  LeaderWatch,
  MemberSince,
  refusedCounts,
  serveStatus,
  type PeerStatusDocument,
} from './status.js';
import { ALERT_KINDS, AlertEvaluator, type Alert } from './alerts.js';
import { dialTcp, dialTls, EndpointProbe } from './probe.js';
import type { StreamFollower } from '../core/stream/follower.js';
import { grapevineVersion } from '../base/version.js';

export interface PeerDaemonOptions {
  readonly config: PeerConfig;
  /** Config block files to join (besides grapevine.channels). */
  readonly join?: readonly string[];
  readonly logger?: Logger;
  readonly logSpec?: LogSpecTarget;
  /** How often to check that an orderer answers while the deliver client runs (ms). Default 10 s. */
  readonly ordererCheckMs?: number;
  /** How often to repeat the warning while no orderer answers (ms). Default 60 s. */
  readonly ordererWarnMs?: number;
}

export class DaemonError extends GrapevineError {}

/** How often the alerts are judged (ms). */
const ALERT_EVALUATE_MS = 1000;

type Closer = () => Promise<void> | void;

function readKeyFile(key: string, file: string): Uint8Array {
  if (file === '') throw new ConfigError('MISSING_FILE', `${key}: not set`);
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new ConfigError('MISSING_FILE', `${key}: cannot read ${file}: ${errorMessage(e)}`, { cause: e });
  }
}

function loadLocalMsp(cfg: PeerConfig): LocalIdentity {
  const dir = cfg.peer.mspConfigPath;
  const id = cfg.peer.localMspId;
  if (id === '')
    throw new ConfigError(
      'NO_MSP_ID',
      "peer.localMspId: not set; give the MSP ID of this peer's org (e.g. Org1MSP)",
    );
  if (dir === '' || !existsSync(dir)) {
    throw new ConfigError(
      'MISSING_MSP',
      `peer.mspConfigPath: the local MSP folder ${dir || '(not set)'} does not exist; point it at the peer's msp/ folder (signcerts, keystore, cacerts)`,
    );
  }
  try {
    return loadSigningIdentity(dir, id, { now: new Date() });
  } catch (e) {
    throw new ConfigError(
      'BAD_MSP',
      `peer.mspConfigPath: cannot load the local MSP ${id} from ${dir}: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

function gossipTls(cfg: PeerConfig, channels: readonly OpenChannel[]): CommTls | undefined {
  const t = cfg.peer.tls;
  if (!t.enabled) return undefined;
  const roots: Uint8Array[] = [];
  if (t.rootcert.file !== '') roots.push(readKeyFile('peer.tls.rootcert.file', t.rootcert.file));
  for (const f of t.clientRootCAs.files) roots.push(readKeyFile('peer.tls.clientRootCAs.files', f));
  for (const ch of channels) {
    for (const org of [...ch.config.applicationOrgs, ...ch.config.ordererOrgs])
      roots.push(...org.msp.tlsRootCerts, ...org.msp.tlsIntermediateCerts);
  }
  const clientCert =
    t.clientCert.file !== t.cert.file
      ? readKeyFile('peer.tls.clientCert.file', t.clientCert.file)
      : undefined;
  const clientKey =
    t.clientKey.file !== t.key.file ? readKeyFile('peer.tls.clientKey.file', t.clientKey.file) : undefined;
  return {
    certPem: readKeyFile('peer.tls.cert.file', t.cert.file),
    keyPem: readKeyFile('peer.tls.key.file', t.key.file),
    ...(clientCert ? { clientCertPem: clientCert } : {}),
    ...(clientKey ? { clientKeyPem: clientKey } : {}),
    rootCAs: roots,
  };
}

/** A channel's orderer endpoints, after peer.deliveryclient.addressOverrides. */
function ordererAddresses(cfg: PeerConfig, ch: OpenChannel): string[] {
  const overrides = new Map(cfg.peer.deliveryclient.addressOverrides.map((o) => [o.from, o.to]));
  return [...new Set(ch.config.ordererEndpoints().map((e) => overrides.get(e.address) ?? e.address))];
}

/**
 * While the peer's deliver client runs for a channel (leader or stream source) and no orderer
 * endpoint of the channel accepts a TCP connection, say so: a warning when it starts, repeated
 * every `repeatMs` while it lasts, and an info line when an endpoint answers again. The peer
 * starts and stays up without an orderer (as Fabric's: followers never need one; the deliver
 * client retries with backoff). Checks every `everyMs`; channels not delivering are not dialled.
 */
export class OrdererWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly down = new Map<string, number>();

  constructor(
    private readonly o: {
      readonly channels: readonly { readonly channelId: string; readonly addresses: readonly string[] }[];
      readonly delivering: (channel: string) => boolean;
      readonly log: Logger;
      readonly everyMs: number;
      readonly repeatMs: number;
      readonly now?: () => number;
    },
  ) {}

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.o.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Channels for which no orderer answered at the last check. */
  unreachable(): string[] {
    return [...this.down.keys()];
  }

  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const now = this.o.now ?? Date.now;
    try {
      for (const ch of this.o.channels) {
        if (!this.o.delivering(ch.channelId) || ch.addresses.length === 0) {
          this.down.delete(ch.channelId);
          continue;
        }
        const errors: string[] = [];
        for (const a of ch.addresses) {
          const err = await dialTcp(a, 1000);
          if (err === undefined) break;
          errors.push(`${a}: ${err}`);
        }
        const since = this.down.get(ch.channelId);
        if (errors.length < ch.addresses.length) {
          if (since !== undefined) {
            this.down.delete(ch.channelId);
            this.o.log.info({ channel: ch.channelId }, 'an orderer endpoint answers again');
          }
          continue;
        }
        if (since === undefined || now() - since >= this.o.repeatMs) {
          this.down.set(ch.channelId, now());
          this.o.log.warn(
            { channel: ch.channelId, endpoints: errors.join('; ') },
            'no orderer endpoint answers; the deliver client keeps retrying with backoff (start the ordering service, or map the address with peer.deliveryclient.addressOverrides)',
          );
        }
      }
    } finally {
      this.running = false;
    }
  }
}

export class PeerDaemon {
  private stopping?: Promise<void>;
  private readonly startedAt = Date.now();
  private readonly certs = new CertCache();
  private readonly alerts: AlertEvaluator;

  private constructor(
    readonly config: PeerConfig,
    readonly service: GossipService,
    readonly transport: GrpcTransport,
    readonly operations: OperationsServer | undefined,
    readonly channels: readonly OpenChannel[],
    private readonly tracker: CommitTracker,
    private readonly leaders: LeaderWatch,
    private readonly since: MemberSince,
    private readonly probe: EndpointProbe,
    /** Our serialized identity (our certificate's expiry for the alerts). */
    private readonly selfIdentity: Uint8Array,
    private readonly closers: Closer[],
    private readonly log: Logger,
  ) {
    const a = config.grapevine.alerts;
    this.alerts = new AlertEvaluator(
      { lagBlocks: a.lagBlocks, afterMs: a.afterMs, certExpiryMs: a.certExpiryDays * 86_400_000 },
      realClock,
    );
  }

  /** Start a peer; on failure nothing is left running and the error names what to fix. */
  static async start(o: PeerDaemonOptions): Promise<PeerDaemon> {
    const cfg = o.config;
    const root = o.logger ?? rootLogger;
    const log = componentLogger('node', { peer: cfg.peer.id || cfg.peer.address }, root);
    const closers: Closer[] = [];
    const undo = async () => {
      for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    };
    try {
      const local = loadLocalMsp(cfg);
      const joins: JoinBlock[] = [
        ...cfg.grapevine.channels.map((f) => readJoinBlock(f, 'grapevine.channels')),
        ...(o.join ?? []).map((f) => readJoinBlock(f, '--join')),
      ];
      const channels = await openChannelLedgers(cfg.grapevine.ledgerPath, joins);
      for (const ch of channels) closers.push(() => ch.ledger.close());
      if (channels.length === 0)
        log.warn('no channel to serve: give a channel config block with --join or grapevine.channels');
      for (const ch of channels)
        if (ordererAddresses(cfg, ch).length === 0)
          log.warn(
            { channel: ch.channelId },
            'the channel config names no orderer endpoint (OrdererEndpoints of the orderer orgs): this peer cannot lead the channel',
          );

      const mspId = cfg.peer.localMspId;
      const registry = new ChannelCryptoRegistry();
      const mcs = new MessageCryptoService(local, registry, () => new Date());
      // no `peer` label (Fabric has none); process metrics and fabric_version as Fabric's peer
      const metrics = new Metrics();
      metrics.collectProcessMetrics();
      processResources().maxMemoryBytes = cfg.grapevine.connLimits.maxMemory;
      metrics.gauge(METRICS.fabricVersion).set({ version: grapevineVersion() }, 1);
      metrics.gauge(METRICS.ledgerBlockchainHeight, function () {
        for (const ch of channels) this.set({ channel: ch.channelId }, Number(ch.ledger.height()));
      });
      const tls = gossipTls(cfg, channels);
      const stateCfg = stateConfigOf(cfg);
      // the catch-up server is registered before the gossip server binds; it finds the channels'
      // ledgers through the service, built below (until then every channel is NOT_FOUND)
      const built: { service?: GossipService } = {};
      const catchupServed = cfg.grapevine.catchup.serve
        ? [
            {
              definition: CatchupService,
              implementation: catchupHandlers({
                ledger: (ch) => built.service?.catchupLedger(ch),
                crypto: mcs,
                clock: realClock,
                config: stateCfg.catchup,
                tls: tls !== undefined,
                logger: componentLogger('catchup', {}, root),
                metrics,
              }),
            },
          ]
        : [];
      // orderer.AtomicBroadcast/Deliver from our ledgers (the relay), same port and TLS
      const deliverLog = componentLogger('deliverserver', {}, root);
      const deliverServed = cfg.grapevine.deliverServer.enabled
        ? [
            {
              definition: DeliverServerService,
              implementation: deliverServerHandlers(
                {
                  source: (ch) => built.service?.deliverSource(ch),
                  now: () => realClock.now(),
                  timeWindowMs: cfg.peer.authentication.timewindowMs,
                  mutualTls: tls !== undefined && cfg.peer.tls.clientAuthRequired,
                  metrics: deliverMetrics(metrics),
                  limit: new DeliverStreamLimit(cfg.grapevine.deliverServer.maxStreams, () =>
                    metrics.counter(METRICS.grapevineDeliverStreamsRefusedTotal).inc(),
                  ),
                },
                (e) => deliverLog.debug({ err: errorMessage(e) }, 'deliver stream ended with an error'),
              ),
            },
          ]
        : [];
      let transport: GrpcTransport;
      try {
        transport = await GrpcTransport.start({
          clock: realClock,
          rng: cryptoRng,
          identity: loadCommIdentity(cfg.peer.mspConfigPath, mspId),
          crypto: commCryptoFromMcs(mcs),
          ...(tls ? { tls } : {}),
          services: [...catchupServed, ...deliverServed],
          listenAddress: cfg.peer.listenAddress,
          config: commConfigOf(cfg),
          metrics,
          grpcMetrics: true,
          logger: root,
        });
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new DaemonError(
          'LISTEN_FAILED',
          `peer.listenAddress: cannot serve gossip on ${cfg.peer.listenAddress}: ${errorMessage(e)} (is another peer using the port?)`,
          { cause: e },
        );
      }
      closers.push(() => transport.stop());

      const opsOptions = operationsOptionsFromConfig(cfg, {
        metrics,
        logSpec: o.logSpec,
        logger: root,
        version: { version: grapevineVersion() },
      });
      let operations: OperationsServer | undefined;
      if (opsOptions) {
        const ops = new OperationsServer(opsOptions);
        closers.push(() => ops.stop());
        await ops.start();
        operations = ops;
      }

      const clientCert = cfg.peer.tls.enabled
        ? readKeyFile('peer.tls.clientCert.file', cfg.peer.tls.clientCert.file)
        : undefined;
      const clientKey = cfg.peer.tls.enabled
        ? readKeyFile('peer.tls.clientKey.file', cfg.peer.tls.clientKey.file)
        : undefined;
      let catchupClient: CatchupClient | undefined;
      if (stateCfg.catchup.enabled) {
        const client = new CatchupClient({
          signer: local.signer,
          clock: realClock,
          rng: cryptoRng,
          ...(tls ? { tls } : {}),
          idleTimeoutMs: stateCfg.catchup.idleTimeoutMs,
        });
        closers.push(() => client.close());
        catchupClient = client;
      }
      const deliverCfg = deliverConfigOf(cfg, { warn: (m) => log.warn(m) });
      const streamCfg = streamConfigOf(cfg);
      // a streaming peer is an upstream for others: it must serve Deliver
      const streaming = streamCfg.enabled && cfg.grapevine.deliverServer.enabled;
      if (streamCfg.enabled && !streaming)
        log.warn('grapevine.streams.enabled needs grapevine.deliverServer.enabled; block streams are off');
      let upstreamConnector: GrpcUpstreamConnector | undefined;
      if (streaming) {
        const c = new GrpcUpstreamConnector(deliverCfg, tls, streamCfg.receiveWindow);
        closers.push(() => c.closeAll());
        upstreamConnector = c;
      }
      const svc = new GossipService({
        clock: realClock,
        rng: cryptoRng,
        transport,
        identityStore: transport.identityStore,
        crypto: mcs,
        signer: local.signer,
        mspId,
        gossip: gossipNodeConfigOf(cfg),
        election: electionConfigOf(cfg),
        state: stateCfg,
        ...(catchupClient ? { catchup: { client: catchupClient } } : {}),
        // catch-up and stream blocks, verified off the main thread
        verifyWorkers: catchupClient !== undefined || streaming,
        deliver: deliverCfg,
        streams: streamCfg,
        ...(upstreamConnector ? { upstreamConnector } : {}),
        ...(clientCert && clientKey
          ? {
              deliverTls: {
                clientAuthRequired: cfg.peer.tls.clientAuthRequired,
                certPem: clientCert,
                keyPem: clientKey,
              },
            }
          : {}),
        channelCrypto: registry,
        metrics,
        logger: root,
      });
      built.service = svc;
      closers.push(() => svc.stop());
      const tracker = new CommitTracker(
        transport,
        (ch) => svc.isLeader(ch),
        undefined,
        (ch, n) => {
          const sc = svc.channel(ch);
          const from = sc?.streamSender(n) ?? sc?.follower?.upstream?.pkiId;
          return from && pkiIdKey(from);
        },
      );
      closers.push(() => tracker.stop());
      for (const ch of channels) svc.initializeChannel(ch.configBlock, tracker.wrap(ch.channelId, ch.ledger));
      svc.start();
      // a channel that commits nothing (its ledger failed: disk full) fails liveness until the
      // commit loop recovered it; /healthz names the channel and the reason
      operations?.registerChecker('ledger', () => {
        const failed = svc.commitFailures();
        if (failed.length > 0)
          throw new Error(
            failed
              .map(
                (f) =>
                  `channel ${f.channel} commits nothing since ${new Date(f.since).toISOString()}: ${f.reason}`,
              )
              .join('; '),
          );
      });
      // liveness (/healthz) as Fabric's has no gossip check; readiness (/readyz) is Grapevine's
      operations?.registerReadinessChecker('gossip', () => {
        if (transport.connectedPeers().length === 0 && channels.length > 0)
          throw new Error('no gossip connection to any peer');
      });
      const watch = new OrdererWatch({
        channels: channels.map((ch) => ({ channelId: ch.channelId, addresses: ordererAddresses(cfg, ch) })),
        delivering: (ch) => svc.deliver.isDelivering(ch),
        log,
        everyMs: o.ordererCheckMs ?? 10_000,
        repeatMs: o.ordererWarnMs ?? 60_000,
      });
      watch.start();
      closers.push(() => watch.stop());
      const leaders = new LeaderWatch(
        (h) => svc.node.onLeadership(h),
        () => realClock.now(),
        electionConfigOf(cfg).leaderAliveThresholdMs,
      );
      closers.push(() => leaders.stop());
      const since = new MemberSince(
        (h) => svc.node.discovery.onChange(h),
        () => realClock.now(),
      );
      closers.push(() => since.stop());
      const selfKey = pkiIdKey(transport.selfPkiId);
      // the alive members' external endpoints (other orgs reach them there; ours too, when set);
      // only with an operations server: nothing else reads the alerts
      const probeTls = tls && {
        certPem: tls.clientCertPem ?? tls.certPem,
        keyPem: tls.clientKeyPem ?? tls.keyPem,
        rootCAs: tls.rootCAs,
      };
      const probe = new EndpointProbe({
        targets: () => {
          const disc = svc.node.discovery;
          const targets = disc
            .aliveMembers()
            .filter((m) => m.endpoint !== '' && pkiIdKey(m.pkiId) !== selfKey)
            .map((m) => ({ endpoint: m.endpoint, pkiId: pkiIdKey(m.pkiId) }));
          // and the channels' anchor peers (a wrong AnchorPeers entry is no member's endpoint):
          // named by the member that claims the endpoint, if any ('' when none does)
          const seen = new Set(targets.map((t) => t.endpoint));
          seen.add(transport.endpoint);
          seen.add(cfg.peer.gossip.externalEndpoint);
          let claims: Map<string, string> | undefined;
          for (const c of channels) {
            for (const a of svc.channel(c.channelId)?.anchorPeers() ?? []) {
              if (seen.has(a.endpoint)) continue;
              seen.add(a.endpoint);
              claims ??= new Map(
                [...disc.aliveMembers(), ...disc.deadMembers()].flatMap((m) =>
                  [m.endpoint, m.internalEndpoint].filter((e) => e !== '').map((e) => [e, pkiIdKey(m.pkiId)]),
                ),
              );
              targets.push({ endpoint: a.endpoint, pkiId: claims.get(a.endpoint) ?? '' });
            }
          }
          return targets;
        },
        everyMs: cfg.grapevine.alerts.probeIntervalMs,
        timeoutMs: Math.max(1000, cfg.peer.gossip.connTimeoutMs),
        now: () => realClock.now(),
        dial: probeTls ? (a, ms) => dialTls(a, ms, probeTls) : dialTcp,
      });
      if (operations) probe.start();
      closers.push(() => probe.stop());
      const daemon = new PeerDaemon(
        cfg,
        svc,
        transport,
        operations,
        channels,
        tracker,
        leaders,
        since,
        probe,
        local.identity.serialized,
        closers,
        log,
      );
      // alerts are judged every second ("for longer than T" needs no /status request), and the
      // gauge reads the last judgement; without an operations server nobody reads them
      if (operations) {
        const evaluate = setInterval(() => {
          try {
            daemon.evaluateAlerts(daemon.statusView(new Date(), []));
          } catch (e) {
            log.warn({ err: errorMessage(e) }, 'alert evaluation failed');
          }
        }, ALERT_EVALUATE_MS);
        evaluate.unref();
        closers.push(() => clearInterval(evaluate));
      }
      metrics.gauge(METRICS.grapevineAlerts, function () {
        for (const [kind, n] of daemon.alertCounts()) this.set({ kind }, n);
      });
      operations?.registerRoute('/status', (req, res) => serveStatus(req.method, res, () => daemon.status()));
      log.info(
        {
          endpoint: transport.endpoint,
          ...(cfg.grapevine.observer ? { observer: true } : {}),
          pkiId: pkiIdKey(transport.selfPkiId).slice(0, 16),
          operations: operations?.address(),
          channels: channels.map((c) => `${c.channelId}@${c.ledger.height()}`),
        },
        'peer started',
      );
      return daemon;
    } catch (e) {
      await undo();
      throw e;
    }
  }

  /** The operations server's base URL, if it runs. */
  operationsUrl(): string | undefined {
    const a = this.operations?.address();
    if (!a) return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.operations && this.config.operations.tls.enabled ? 'https' : 'http'}://${host}:${a.port}`;
  }

  /** The peer's state for the network view; drains the commit records. */
  snapshot(): PeerStateSnapshot {
    return {
      id: this.peerId(),
      mspId: this.config.peer.localMspId,
      endpoint: this.endpoint(),
      pkiId: pkiIdKey(this.transport.selfPkiId),
      ...(this.operationsUrl() ? { operations: this.operationsUrl() } : {}),
      pid: process.pid,
      // a snapshot timer must not throw: under EMFILE the read fails (issue 15's crash)
      rssBytes: residentBytes() ?? 0,
      startedAt: this.startedAt,
      channels: this.channelStates(),
      connections: this.transport.connectedPeers().map(pkiIdKey),
      commits: this.tracker.drain(),
    };
  }

  /** GET /status (./status.ts): what this peer sees of the network; drains nothing. */
  async status(): Promise<PeerStatusDocument> {
    const view = this.statusView(new Date(), await refusedCounts(this.service.metrics));
    return { ...view, alerts: this.evaluateAlerts(view) };
  }

  /** Active alerts of each kind at the last evaluation (every kind present). */
  alertCounts(): ReadonlyMap<(typeof ALERT_KINDS)[number], number> {
    return this.alerts.counts();
  }

  /** Judge the alerts on `view` (the status without them); @internal to the daemon's timer. */
  evaluateAlerts(view: Omit<PeerStatusDocument, 'alerts'>): readonly Alert[] {
    const selfCert = this.certs.of(view.peer.pkiId, () => this.selfIdentity, new Date(view.time));
    const dynamic = (ch: string) => this.service.channel(ch)?.mode === 'dynamic';
    return this.alerts.evaluate(
      alertInputOf(view, {
        elected: (ch) => dynamic(ch) || this.leaders.electionSeen(ch),
        declarers: (ch) => this.leaders.declarers(ch),
        ...(selfCert ? { selfNotAfterMs: Date.parse(selfCert.notAfter), selfSubject: selfCert.subject } : {}),
        unreachable: this.probe.failures(),
      }),
    );
  }

  /** The status document without its alerts; @internal to status() and the alert timer. */
  statusView(now: Date, refused: PeerStatusDocument['refused']): Omit<PeerStatusDocument, 'alerts'> {
    const node = this.service.node;
    const store = this.transport.identityStore;
    const pkiId = pkiIdKey(this.transport.selfPkiId);
    const cert = this.certs.of(pkiId, () => this.selfIdentity, now);
    return buildStatus({
      now,
      peer: {
        id: this.peerId(),
        mspId: this.config.peer.localMspId,
        endpoint: this.endpoint(),
        pkiId,
        version: grapevineVersion(),
        startedAt: new Date(this.startedAt).toISOString(),
        observer: this.config.grapevine.observer,
        ...(cert ? { cert } : {}),
      },
      channels: this.channelStates(),
      alive: node.discovery.aliveMembers(),
      dead: node.discovery.deadMembers(),
      channelPeers: (ch) =>
        node
          .peersOfChannel(ch)
          .map((p) => ({ pkiId: p.pkiId, height: Number(p.properties?.ledgerHeight ?? 0n) })),
      identity: (id) => store.peek(id),
      connections: this.transport.connections(),
      commits: this.tracker.recent(),
      refused,
      refusedHandshakes: this.transport.refusedHandshakes(),
      leaders: this.leaders,
      certs: this.certs,
      since: this.since,
      dynamic: (ch) => this.service.channel(ch)?.mode === 'dynamic',
    });
  }

  private peerId(): string {
    return this.config.peer.id || this.config.peer.address;
  }

  private endpoint(): string {
    return this.transport.endpoint || this.config.peer.address;
  }

  /** Per channel: height, leadership, election mode, block stream, channel members. */
  private channelStates(): ChannelState[] {
    const node = this.service.node;
    const lookup = (id: Uint8Array) => node.discovery.lookup(id);
    return this.channels.map((c) => {
      const sc = this.service.channel(c.channelId);
      return {
        name: c.channelId,
        height: Number(c.ledger.height()),
        leader: this.service.isLeader(c.channelId),
        mode: sc?.mode ?? 'none',
        ...(sc?.follower ? { stream: streamStateOf(sc.follower) } : {}),
        ...(sc && sc.anchorPeers().length > 0 ? { anchors: sc.anchorPeers() } : {}),
        members: node.peersOfChannel(c.channelId).map((p) => ({
          pkiId: pkiIdKey(p.pkiId),
          endpoint: preferredEndpoint(p) || lookup(p.pkiId)?.endpoint || '',
          height: Number(p.properties?.ledgerHeight ?? 0n),
        })),
      };
    });
  }

  /** Stop everything (gossip service, operations, transport, ledgers); idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of this.closers.splice(0).reverse()) {
        try {
          await c();
        } catch (e) {
          this.log.warn({ err: errorMessage(e) }, 'error while stopping');
        }
      }
      this.log.info('peer stopped');
    })();
    return this.stopping;
  }
}

/** A channel's block stream as the network view shows it. */
function streamStateOf(f: StreamFollower): StreamState {
  const p = f.lastPlan;
  const up = f.upstream;
  return {
    plan: p.kind,
    ...(up ? { upstream: { endpoint: up.endpoint, pkiId: pkiIdKey(up.pkiId) } } : {}),
    ...('depth' in p ? { depth: p.depth } : {}),
  };
}
