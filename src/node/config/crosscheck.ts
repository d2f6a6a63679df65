/**
 * Rules across keys, checked on the resolved PeerConfig:
 * - useLeaderElection and orgLeader both true: Fabric panics at channel initialisation (§7.1).
 * - grapevine.observer with orgLeader: an observer never leads.
 * - TLS enabled (peer or operations) needs the server certificate and key files.
 * - peer.tls.clientCert.file and clientKey.file: both or neither (Fabric's GetClientCertificate).
 * - implicit collection policy: 0 <= requiredPeerCount <= maxPeerCount (Fabric panics otherwise).
 * Checks of one key (ranges, e.g. peer.keepalive.client.interval >= 60s) are the config table's
 * (src/config/table.ts), made as each value is read.
 */
import type { PeerConfig } from './types.js';

/** Problems found; `from(key)` says where a key's value came from (" (from ...)" or ""). */
export function crossCheck(c: PeerConfig, from: (key: string) => string): string[] {
  const problems: string[] = [];
  const problem = (message: string) => problems.push(message);
  const g = c.peer.gossip;
  if (g.useLeaderElection && g.orgLeader) {
    problem(
      `peer.gossip.useLeaderElection and peer.gossip.orgLeader are both true: choose one ` +
        `(useLeaderElection${from('peer.gossip.useLeaderElection')}, orgLeader${from('peer.gossip.orgLeader')}); ` +
        "a peer is either elected leader dynamically or is its org's static leader; Fabric refuses both",
    );
  }
  if (c.grapevine.observer && g.orgLeader) {
    problem(
      `grapevine.observer is true${from('grapevine.observer')} but peer.gossip.orgLeader is true${from('peer.gossip.orgLeader')}: ` +
        'an observer never leads its org; set peer.gossip.orgLeader to false (or grapevine.observer to false)',
    );
  }
  const tls = c.peer.tls;
  if (tls.enabled) {
    for (const name of ['cert', 'key'] as const) {
      if (tls[name].file === '')
        problem(`peer.tls.${name}.file: not set, but peer.tls.enabled is true${from('peer.tls.enabled')}`);
    }
  }
  const certSet = from('peer.tls.clientCert.file') !== '';
  const keySet = from('peer.tls.clientKey.file') !== '';
  if (certSet !== keySet) {
    const [set, unset] = certSet ? ['clientCert', 'clientKey'] : ['clientKey', 'clientCert'];
    problem(
      `peer.tls.${unset}.file: not set, but peer.tls.${set}.file is${from(`peer.tls.${set}.file`)}; set both or neither (then the server pair is used)`,
    );
  }
  const ops = c.operations.tls;
  if (ops.enabled) {
    for (const name of ['cert', 'key'] as const) {
      if (ops[name].file === '')
        problem(
          `operations.tls.${name}.file: not set, but operations.tls.enabled is true${from('operations.tls.enabled')}`,
        );
    }
  }
  const policy = g.pvtData.implicitCollectionDisseminationPolicy;
  const P = 'peer.gossip.pvtData.implicitCollectionDisseminationPolicy';
  if (policy.maxPeerCount < policy.requiredPeerCount) {
    problem(
      `${P}.maxPeerCount (${policy.maxPeerCount}) is below requiredPeerCount (${policy.requiredPeerCount})${from(`${P}.maxPeerCount`)}`,
    );
  }
  return problems;
}
