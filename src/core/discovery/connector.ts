/**
 * Bootstrap and anchor peers (PROTOCOL.md §4.6, §4.7): find out who is at an endpoint, then
 * ask it for membership until it answers.
 *
 *   repeat up to maxConnectionAttempts times, reconnectInterval apart:
 *     handshake (probe=true) to learn and authenticate the remote identity;
 *     bootstrap: the remote must be of our org; anchor: if the config says the anchor is of our
 *     org, the remote must be; failure -> sleep, retry.
 *   then, with a random nonce, a MembershipRequest carrying our internal endpoint only when the
 *   remote is of our org; resend every reconnectInterval until a MembershipResponse with that
 *   nonce arrives within membershipResponseTimeout of a send, up to maxConnectionAttempts sends.
 * At most one loop per endpoint runs at a time; stop() ends every loop.
 */
import type { ConnectionInfo, RemotePeer, Transport } from '../link/types.js';
import type { Rng } from '../../base/time.js';
import { errorMessage } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import type { Metrics } from '../../base/metrics.js';
import type { DiscoveryConfig } from './config.js';
import type { Timers } from './timers.js';
import { METRICS } from '../../base/metric-table.js';

export interface ConnectTarget {
  readonly endpoint: string;
  readonly kind: 'bootstrap' | 'anchor';
  /** Anchor: the org the channel config places it in. */
  readonly configuredOrg?: string;
}

export interface ConnectorDeps {
  readonly transport: Transport;
  readonly timers: Timers;
  readonly rng: Rng;
  readonly config: DiscoveryConfig;
  readonly ownOrg: string;
  readonly orgOf: (identity: Uint8Array) => string | undefined;
  /** Build our membership request (fresh alive) for `remote` and return the send function. */
  readonly makeRequest: (remote: RemotePeer, nonce: bigint, includeInternalEndpoint: boolean) => () => void;
  readonly log: Logger;
  readonly metrics?: Metrics;
}

export class Connector {
  private readonly active = new Set<string>();
  private readonly waiters = new Map<bigint, () => void>();

  constructor(private readonly d: ConnectorDeps) {}

  /** Endpoints whose connect loop is running. */
  get running(): readonly string[] {
    return [...this.active];
  }

  connect(target: ConnectTarget): void {
    if (this.d.timers.isStopped || this.active.has(target.endpoint)) return;
    this.active.add(target.endpoint);
    void this.loop(target).finally(() => this.active.delete(target.endpoint));
  }

  /** A MembershipResponse with this nonce arrived. */
  onResponse(nonce: bigint): void {
    this.waiters.get(nonce)?.();
  }

  private async loop(t: ConnectTarget): Promise<void> {
    const { config, timers, log } = this.d;
    for (let i = 0; i < config.maxConnectionAttempts && !timers.isStopped; i++) {
      let sameOrg: boolean;
      let info: ConnectionInfo;
      try {
        info = await this.d.transport.handshake({ endpoint: t.endpoint });
        sameOrg = this.d.orgOf(info.identity) === this.d.ownOrg;
        if (t.kind === 'bootstrap' && !sameOrg)
          throw new Error(`${t.endpoint} isn't in our organization, cannot be a bootstrap peer`);
        if (t.kind === 'anchor' && t.configuredOrg === this.d.ownOrg && !sameOrg) {
          throw new Error(`anchor peer ${t.endpoint} isn't in our org, but is claimed to be`);
        }
      } catch (e) {
        this.count(t, 'identify_failed');
        log.debug({ endpoint: t.endpoint, kind: t.kind, err: errorMessage(e) }, 'could not identify peer');
        if (!(await timers.sleep(config.reconnectIntervalMs))) return;
        continue;
      }
      await this.sendUntilAnswered(t, { endpoint: t.endpoint, pkiId: info.pkiId }, sameOrg);
      return;
    }
  }

  private async sendUntilAnswered(t: ConnectTarget, remote: RemotePeer, sameOrg: boolean): Promise<void> {
    const { config, timers, log } = this.d;
    const nonce = this.d.rng.u64();
    const send = this.d.makeRequest(remote, nonce, sameOrg);
    for (let i = 0; i < config.maxConnectionAttempts && !timers.isStopped; i++) {
      const answered = await timers.wait(config.membershipResponseTimeoutMs, (done) => {
        this.waiters.set(nonce, done);
        send();
        return () => this.waiters.delete(nonce);
      });
      if (answered) {
        this.count(t, 'answered');
        log.debug({ endpoint: t.endpoint, kind: t.kind }, 'membership response received');
        return;
      }
      if (timers.isStopped) return;
      this.count(t, 'unanswered');
      if (!(await timers.sleep(config.reconnectIntervalMs))) return;
    }
  }

  private count(t: ConnectTarget, result: string): void {
    this.d.metrics
      ?.counter(METRICS.grapevineGossipDiscoveryConnectAttemptsTotal)
      .inc({ kind: t.kind, result });
  }
}
