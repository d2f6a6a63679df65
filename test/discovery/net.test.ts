/**
 * Discovery over real gRPC sockets on 127.0.0.1 with TLS, shortened timers: 2 orgs x 5 peers
 * (crypto from testCrypto), peer4 of each org without an external endpoint. Membership converges
 * to Fabric's disclosure; a stopped peer is declared dead and found again when it comes back on
 * the same port.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { commCryptoFromMsps, loadCommIdentity, loadCommTls } from '../../src/comm/identity.js';
import type { CommCrypto } from '../../src/core/link/types.js';
import { GrpcTransport } from '../../src/comm/transport.js';
import { pkiIdKey } from '../../src/base/pkiid.js';
import { Discovery } from '../../src/core/discovery/index.js';
import { fabricMspConfigFromFolder, loadMspFolder, mspFromFabricConfig } from '../../src/identity/index.js';
import { IdentityStore } from '../../src/identity/store.js';
import type { Msp } from '../../src/identity/types.js';
import { cryptoRng, realClock } from '../../src/base/real-clock.js';
import { Metrics } from '../../src/base/metrics.js';
import { testCrypto } from '../helpers/crypto.js';
import { until } from '../helpers/until.js';
import { readFileSync, readdirSync } from 'node:fs';
import { discoveryConfig } from '../../src/core/discovery/config.js';

const ORGS = 2;
const PEERS = 5;
const ALIVE_MS = 1000;
const TIMERS = {
  aliveTimeIntervalMs: ALIVE_MS, // expiration 5x = 5 s, reconnect = expiration
  pullIntervalMs: 500,
  membershipResponseTimeoutMs: 500,
};

interface Peer {
  readonly org: number;
  readonly i: number;
  readonly mspId: string;
  readonly external: boolean;
  port: number;
  transport?: GrpcTransport;
  disc?: Discovery;
  store?: IdentityStore;
  pkiId?: string;
}

const running: Peer[] = [];
after(async () => {
  for (const p of running) await stopPeer(p);
});

async function stopPeer(p: Peer): Promise<void> {
  p.disc?.stop();
  const stopping = p.transport?.stop();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([stopping, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
  p.store?.stop();
  p.store = undefined;
  p.disc = undefined;
  p.transport = undefined;
}

test(
  'real sockets: 2 orgs x 5 peers converge to Fabric disclosure; stopped peer dead, then found again',
  { timeout: 120_000 },
  async () => {
    const log = (what: string) => process.env.GRAPEVINE_TEST_TRACE && console.log(`[net] ${what}`);
    const root = await testCrypto({ orgs: ORGS, peersPerOrg: PEERS });
    const orgDir = (o: number) => join(root, 'peerOrganizations', `org${o}.example.com`);
    const msps: Msp[] = [];
    const tlsCAs: Uint8Array[] = [];
    for (let o = 1; o <= ORGS; o++) {
      msps.push(
        mspFromFabricConfig(fabricMspConfigFromFolder(loadMspFolder(join(orgDir(o), 'msp')), `Org${o}MSP`)),
      );
      const dir = join(orgDir(o), 'msp', 'tlscacerts');
      tlsCAs.push(readFileSync(join(dir, readdirSync(dir)[0])));
    }
    const crypto: CommCrypto = commCryptoFromMsps(() => msps, realClock);
    const peers: Peer[] = [];
    for (let o = 1; o <= ORGS; o++) {
      for (let i = 0; i < PEERS; i++)
        peers.push({ org: o, i, mspId: `Org${o}MSP`, external: i !== 4, port: 0 });
    }
    const endpoint = (p: Peer) => `127.0.0.1:${p.port}`;

    async function boot(p: Peer): Promise<void> {
      const dir = join(orgDir(p.org), 'peers', `peer${p.i}.org${p.org}.example.com`);
      const identity = loadCommIdentity(join(dir, 'msp'), p.mspId);
      const metrics = new Metrics();
      const store = new IdentityStore({
        self: { pkiId: identity.pkiId, identity: identity.signer.serializedIdentity },
        validator: crypto,
        clock: realClock,
      });
      const transport = await GrpcTransport.start({
        clock: realClock,
        rng: cryptoRng,
        identity,
        crypto,
        tls: loadCommTls(join(dir, 'tls'), tlsCAs),
        listenAddress: `127.0.0.1:${p.port}`,
        identityStore: store,
        metrics,
      });
      p.port = Number(transport.endpoint.split(':').pop());
      p.pkiId = pkiIdKey(identity.pkiId);
      const boot0 = peers.find((q) => q.org === p.org && q.i === 0)!;
      const disc = new Discovery({
        transport,
        identityStore: store,
        crypto: {
          verify: (id, sig, data) => crypto.verifySignature(id, sig, data),
          orgOf: (id) => crypto.orgOf(id),
        },
        signer: identity.signer,
        mspId: p.mspId,
        config: discoveryConfig({
          ...TIMERS,
          endpoint: endpoint(p),
          externalEndpoint: p.external ? endpoint(p) : '',
          bootstrap: boot0.port ? [endpoint(boot0)] : [],
        }),
        clock: realClock,
        rng: cryptoRng,
        metrics,
      });
      p.transport = transport;
      p.disc = disc;
      p.store = store;
      disc.start();
      const anchors = peers
        .filter((q) => q.i === 0 && q.port)
        .map((q) => ({ host: '127.0.0.1', port: q.port, mspId: q.mspId }));
      disc.connectToAnchors(anchors, 'mychannel');
      if (!running.includes(p)) running.push(p);
    }

    // peer0 of each org first (they are the bootstrap and anchor peers), then the rest.
    for (const p of peers.filter((q) => q.i === 0)) await boot(p);
    for (const p of peers.filter((q) => q.i !== 0)) await boot(p);
    log('all booted');

    const expected = (viewer: Peer, down?: Peer) =>
      peers
        .filter(
          (q) => q !== viewer && q !== down && (q.org === viewer.org || (q.external && viewer.external)),
        )
        .map((q) => q.pkiId!)
        .sort();
    const view = (p: Peer) =>
      p
        .disc!.aliveMembers()
        .map((m) => pkiIdKey(m.pkiId))
        .sort();
    const converged = (down?: Peer) =>
      peers
        .filter((p) => p !== down)
        .every((p) => JSON.stringify(view(p)) === JSON.stringify(expected(p, down)));

    try {
      await until(() => converged(), 'membership convergence', 30_000);
    } catch (e) {
      for (const p of peers)
        console.log(
          p.org,
          p.i,
          view(p).length,
          expected(p).length,
          await p.transport!.metrics.text().then((t) =>
            t
              .split('\n')
              .filter((l) => /^gossip_(discovery|comm)/.test(l))
              .join(' | '),
          ),
        );
      throw e;
    }
    for (const p of peers) {
      for (const m of p.disc!.aliveMembers()) {
        if (m.mspId !== p.mspId) assert.equal(m.internalEndpoint, '', 'no internal endpoint across orgs');
      }
    }

    log('converged');
    // Stop peer2.org1: everyone who saw it declares it dead.
    const victim = peers.find((p) => p.org === 1 && p.i === 2)!;
    const watchers = peers.filter((p) => p !== victim && expected(p).includes(victim.pkiId!));
    await stopPeer(victim);
    log('victim stopped');
    const stoppedAt = Date.now();
    const victimKey = victim.pkiId!;
    const stateIn = (p: Peer) => p.disc!.aliveMembers().some((m) => pkiIdKey(m.pkiId) === victimKey);
    await until(() => watchers.every((p) => !stateIn(p)), 'victim declared dead', 15_000);
    assert.ok(
      watchers.every((p) => p.disc!.deadMembers().some((m) => pkiIdKey(m.pkiId) === victimKey)),
      'dead, not forgotten',
    );
    await until(() => converged(victim), 'the others agree on everyone else', 10_000); // a transient presumed-dead flap may be healing
    const deadAfter = Date.now() - stoppedAt;
    assert.ok(deadAfter < 25_000, `dead after ${deadAfter} ms`);

    // Bring it back on the same port: found again by everyone.
    log('victim dead');
    await boot(victim);
    log('victim back');
    await until(() => converged(), 'victim found again', 30_000);
  },
);
