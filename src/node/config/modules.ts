/**
 * The PeerConfig handed to each module as that module's own typed config: each module's slice of
 * the config table (its `*_SLICE`) read from the resolved PeerConfig, with the module's own bounds
 * (maxMembers, maxItems, ...) at their defaults. The loader has checked every value and applied
 * the profile and Fabric's derived defaults, so nothing is checked again here.
 */
import { STREAM_SLICE, type StreamConfig } from '../../core/stream/config.js';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../base/errors.js';
import { sliceOf, type FieldMap, type Slice, type SliceSpec } from '../../config/slice.js';
import { CHANNEL_SLICE, type ChannelGossipConfig } from '../../core/channel/config.js';
import { COMM_SLICE, type CommConfig } from '../../core/link/comm-config.js';
import { DELIVER_SLICE, type AddressOverride, type DeliverClientConfig } from '../../core/deliver/config.js';
import { DISCOVERY_SLICE, type DiscoveryConfig } from '../../core/discovery/config.js';
import { ELECTION_SLICE, type ElectionConfig } from '../../core/election/config.js';
import { EMITTER_SLICE, type EmitterConfig } from '../../core/link/emitter.js';
import type { GossipNodeConfig } from '../../core/gossip/nodeconfig.js';
import { PULL_SLICE, type PullConfig } from '../../core/pull/config.js';
import { CATCHUP_SLICE, STATE_SLICE, type StateConfig } from '../../core/state/config.js';
import type { PeerConfig } from './types.js';

/** A module's slice of `c`: its keys' values, its own bounds at their defaults. */
function view<M extends FieldMap, B extends object>(spec: SliceSpec<M, B>, c: PeerConfig): Slice<M> & B {
  return Object.freeze({ ...spec.bounds, ...sliceOf(spec.fields, c) }) as Slice<M> & B;
}

export const commConfigOf = (c: PeerConfig): CommConfig => view(COMM_SLICE, c);
export const discoveryConfigOf = (c: PeerConfig): DiscoveryConfig => view(DISCOVERY_SLICE, c);
export const channelGossipConfigOf = (c: PeerConfig): ChannelGossipConfig => view(CHANNEL_SLICE, c);
export const pullConfigOf = (c: PeerConfig): PullConfig => view(PULL_SLICE, c);
export const emitterConfigOf = (c: PeerConfig): EmitterConfig => view(EMITTER_SLICE, c);
/** An observer (grapevine.observer) neither takes part in the election nor leads statically. */
export const electionConfigOf = (c: PeerConfig): ElectionConfig =>
  c.grapevine.observer
    ? Object.freeze({ ...view(ELECTION_SLICE, c), useLeaderElection: false, orgLeader: false })
    : view(ELECTION_SLICE, c);

/** The gossip node's config (the profile is already applied). */
export function gossipNodeConfigOf(c: PeerConfig): GossipNodeConfig {
  return Object.freeze({
    discovery: discoveryConfigOf(c),
    channel: channelGossipConfigOf(c),
    emitter: emitterConfigOf(c),
    pull: pullConfigOf(c),
    identityPull: true,
  });
}

/** An observer runs no block stream: it carries no marker, so no peer takes it as upstream or source. */
export const streamConfigOf = (c: PeerConfig): StreamConfig =>
  c.grapevine.observer ? Object.freeze({ ...view(STREAM_SLICE, c), enabled: false }) : view(STREAM_SLICE, c);

export function stateConfigOf(c: PeerConfig): StateConfig {
  return Object.freeze({ ...view(STATE_SLICE, c), catchup: view(CATCHUP_SLICE, c) });
}

export interface DeliverConfigOptions {
  readonly readFile?: (path: string) => Uint8Array;
  /** Called for each override skipped because its caCertsFile is unreadable or holds no certificate (Fabric skips it too). */
  readonly warn?: (message: string) => void;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function deliverConfigOf(c: PeerConfig, opts: DeliverConfigOptions = {}): DeliverClientConfig {
  const read = opts.readFile ?? ((p: string) => readFileSync(p));
  const overrides: AddressOverride[] = [];
  for (const o of c.peer.deliveryclient.addressOverrides) {
    const caCerts: Uint8Array[] = [];
    if (o.caCertsFile !== '') {
      let text: string;
      try {
        text = Buffer.from(read(o.caCertsFile)).toString('utf8');
      } catch (e) {
        opts.warn?.(
          `peer.deliveryclient.addressOverrides: cannot read caCertsFile ${o.caCertsFile} of ${o.from} -> ${o.to}: ${errorMessage(e)}; override skipped`,
        );
        continue;
      }
      for (const m of text.match(PEM_CERT) ?? []) caCerts.push(new TextEncoder().encode(`${m}\n`));
      if (caCerts.length === 0) {
        opts.warn?.(
          `peer.deliveryclient.addressOverrides: no certificate in caCertsFile ${o.caCertsFile} of ${o.from} -> ${o.to}; override skipped`,
        );
        continue;
      }
    }
    overrides.push({ from: o.from, to: o.to, caCerts });
  }
  return Object.freeze({ ...view(DELIVER_SLICE, c), addressOverrides: overrides });
}
