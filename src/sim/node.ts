/**
 * A simulated peer process: a host on the SimNetwork with its identity, and per incarnation
 * (boot, then every restart) a fresh NodeClock, forked Rng, IdentityStore and SimTransport.
 * `onBoot` hooks build whatever runs on top (discovery, channels, ...) from those parts; a crash
 * halts the node's timers and drops its transport, a restart boots it again.
 * Metrics live for the node's whole life (counts add up across restarts).
 */
import type { CommConfig } from '../core/link/comm-config.js';
import type { HandshakeVerifier } from '../core/link/handshake.js';
import { IdentityStore } from '../identity/store.js';
import { Metrics } from '../base/metrics.js';
import type { NodeClock } from './clock.js';
import type { SimIdentity, SimOrg } from './identities.js';
import type { SimNetwork } from './network.js';
import type { SeededRng } from './rng.js';
import { SimTrust } from './trust.js';
import { SimTransport } from './transport.js';

export interface SimNodeOptions {
  readonly identity: SimIdentity;
  /** Defaults to `<identity name>:7051`. */
  readonly endpoint?: string;
  /** Orgs whose identities this node accepts (its channels' orgs). */
  readonly trust: readonly SimOrg[];
  readonly config?: Partial<CommConfig>;
  /** Runs after every boot with the new incarnation's parts. */
  readonly onBoot?: (node: SimNode) => void;
}

export class SimNode {
  readonly endpoint: string;
  readonly identity: SimIdentity;
  readonly metrics: Metrics;
  /** Boots so far (1 after creation). */
  incarnation = 0;
  clock!: NodeClock;
  rng!: SeededRng;
  trust!: SimTrust;
  identities!: IdentityStore;
  transport!: SimTransport;
  private readonly bootHooks: ((node: SimNode) => void)[] = [];

  constructor(
    readonly network: SimNetwork,
    private readonly opts: SimNodeOptions,
  ) {
    this.identity = opts.identity;
    this.endpoint = opts.endpoint ?? `${opts.identity.name}:7051`;
    this.metrics = new Metrics({ peer: this.endpoint });
    if (opts.onBoot) this.bootHooks.push(opts.onBoot);
    network.addHost(this.endpoint, () => this.boot());
  }

  /** Add a hook run on every later boot (and now, for the current incarnation). */
  onBoot(hook: (node: SimNode) => void): void {
    this.bootHooks.push(hook);
    if (this.isUp) hook(this);
  }

  get isUp(): boolean {
    return this.network.isUp(this.endpoint);
  }

  crash(): void {
    this.network.crash(this.endpoint);
  }

  restart(): void {
    this.network.restart(this.endpoint);
  }

  private boot(): void {
    this.incarnation++;
    this.clock = this.network.hostClock(this.endpoint);
    this.rng = this.network.rng.fork(`${this.endpoint}#${this.incarnation}`);
    this.trust = new SimTrust(this.opts.trust, this.clock);
    const self = { pkiId: this.identity.pkiId, identity: this.identity.serialized };
    this.identities = new IdentityStore({
      self,
      validator: this.trust,
      clock: this.clock,
      metrics: this.metrics,
    });
    const store = this.identities;
    const trust = this.trust;
    const verifier: HandshakeVerifier = {
      putIdentity: (pkiId, identity) => store.put(pkiId, identity),
      verifySignature: (identity, signature, data) => trust.verify(identity, signature, data),
    };
    this.transport = new SimTransport({
      network: this.network,
      endpoint: this.endpoint,
      self: { pkiId: this.identity.pkiId, signer: this.identity.signer },
      verifier,
      identityOf: (pkiId) => store.get(pkiId),
      clock: this.clock,
      rng: this.rng,
      metrics: this.metrics,
      config: this.opts.config,
    });
    for (const h of this.bootHooks) h(this);
  }
}
