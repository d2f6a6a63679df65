/**
 * The local network's working folder (`grapevine network up --dir`):
 *
 *   network.json          ports and names (the genesis block fixes the ports, so a second run
 *                         reuses them; --reset makes a new folder)
 *   crypto/               cryptogen layout: orderer org example.com, org1/org2.example.com x 3 peers
 *   configtx.yaml, genesis.block   channel `grapevine` (etcdraft, one orderer, anchor = peer0)
 *   orderer/              orderer ledger;  peers/<name>/core.yaml + data/;  logs/<name>.log
 *
 * prepareLayout() creates what is missing; everything is written to a temporary name first and
 * network.json last, so an interrupted first run is redone rather than half reused.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { generateCrypto } from '../cryptogen/index.js';
import { ConfigError, errorMessage } from '../base/errors.js';
import { channelConfigtxYaml, writeConfigtxGenesis } from './channel-yaml.js';
import {
  localCryptoConfig,
  ordererCryptoPath,
  orgDomain,
  orgMspId,
  peerCryptoPath,
  userCryptoPath,
} from './crypto-layout.js';

export const CHANNEL = 'grapevine';
export const ORGS = 2;
export const PEERS_PER_ORG = 3;
const LAYOUT_VERSION = 1;
const MARKER = '.grapevine-network';
const PROFILE = 'Grapevine';

export interface PeerSpec {
  /** peer0.org1.example.com */
  readonly name: string;
  readonly org: number;
  readonly index: number;
  readonly mspId: string;
  readonly port: number;
  readonly opsPort: number;
}

export interface NetworkLayout {
  readonly version: number;
  readonly dir: string;
  readonly channel: string;
  readonly orderer: { readonly name: string; readonly port: number };
  readonly peers: readonly PeerSpec[];
  /** Transactions cut per block at most, and the batch timeout. */
  readonly batch: { readonly maxMessageCount: number; readonly timeout: string };
}

/** Linux's range of local ports for outgoing connections (ip_local_port_range), or its default. */
export function ephemeralPortRange(
  read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
): [number, number] {
  try {
    const [lo, hi] = read().trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo! > 0 && lo! <= hi!) return [lo!, hi!];
  } catch {
    /* not Linux */
  }
  return [32768, 60999];
}

/** The lowest port freePort hands out (below it: well-known and registered services). */
const LOW_PORT = 10_000;

/**
 * A port on 127.0.0.1 that is free now, below the ephemeral range when there is room: a port
 * the kernel picked (listen on 0) is in that range, and while its server is down (a peer
 * restarted, a network brought up again) any outgoing connection on the machine may take it as
 * its local port, and the server's listen then fails with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const [lo] = ephemeralPortRange();
  for (let i = 0; i < 100 && lo - LOW_PORT > 1000; i++) {
    const port = LOW_PORT + Math.floor(Math.random() * (lo - LOW_PORT));
    if (await portFree(port)) return port;
  }
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

export const cryptoDir = (l: NetworkLayout) => join(l.dir, 'crypto');
export const peerCryptoDir = (l: NetworkLayout, p: PeerSpec) => peerCryptoPath(cryptoDir(l), p.org, p.index);
export const ordererCryptoDir = (l: NetworkLayout) => ordererCryptoPath(cryptoDir(l));
export const userMspDir = (l: NetworkLayout, org: number) =>
  join(userCryptoPath(cryptoDir(l), org, 'User1'), 'msp');
export const genesisFile = (l: NetworkLayout) => join(l.dir, 'genesis.block');
export const peerHome = (l: NetworkLayout, p: PeerSpec) => join(l.dir, 'peers', p.name);
export const logFile = (l: NetworkLayout, name: string) => join(l.dir, 'logs', `${name}.log`);

function configtxYaml(l: NetworkLayout): string {
  const anchor = (org: number) => l.peers.find((p) => p.org === org && p.index === 0)!.port;
  return channelConfigtxYaml({
    header: `# Written by grapevine network up. Channel ${l.channel}: ${ORGS} peer orgs, one etcdraft orderer.`,
    root: cryptoDir(l),
    profile: PROFILE,
    orgs: Array.from({ length: ORGS }, (_, i) => i + 1),
    anchorPort: anchor,
    ordererEndpoints: [`127.0.0.1:${l.orderer.port}`],
    consenterPort: l.orderer.port,
    batchTimeout: l.batch.timeout,
    maxMessageCount: l.batch.maxMessageCount,
  });
}

/** A peer's core.yaml: Fabric's keys, Grapevine's fast profile, mutual knowledge through peer0 (bootstrap + anchor). */
export function coreYaml(l: NetworkLayout, p: PeerSpec): string {
  const c = peerCryptoDir(l, p);
  const peer0 = l.peers.find((q) => q.org === p.org && q.index === 0)!;
  const endpoint = `127.0.0.1:${p.port}`;
  return `# Written by grapevine network up for ${p.name}.
peer:
  id: ${p.name}
  networkId: grapevine-local
  address: ${endpoint}
  listenAddress: ${endpoint}
  fileSystemPath: data
  mspConfigPath: ${join(c, 'msp')}
  localMspId: ${p.mspId}
  tls:
    enabled: true
    cert: {file: ${join(c, 'tls', 'server.crt')}}
    key: {file: ${join(c, 'tls', 'server.key')}}
    rootcert: {file: ${join(c, 'tls', 'ca.crt')}}
  gossip:
    bootstrap: ${p.index === 0 ? '[]' : `[127.0.0.1:${peer0.port}]`}
    useLeaderElection: true
    orgLeader: false
    endpoint: ${endpoint}
    externalEndpoint: ${endpoint}
  deliveryclient:
    connTimeout: 3s
operations:
  listenAddress: 127.0.0.1:${p.opsPort}
metrics:
  provider: prometheus
grapevine:
  profile: fast
  channels: [${genesisFile(l)}]
`;
}

async function newLayout(dir: string, batch: NetworkLayout['batch']): Promise<NetworkLayout> {
  const peers: PeerSpec[] = [];
  for (let org = 1; org <= ORGS; org++) {
    for (let index = 0; index < PEERS_PER_ORG; index++) {
      peers.push({
        name: `peer${index}.${orgDomain(org)}`,
        org,
        index,
        mspId: orgMspId(org),
        port: await freePort(),
        opsPort: await freePort(),
      });
    }
  }
  return {
    version: LAYOUT_VERSION,
    dir,
    channel: CHANNEL,
    orderer: { name: 'orderer0.example.com', port: await freePort() },
    peers,
    batch,
  };
}

function readLayout(dir: string): NetworkLayout | undefined {
  const file = join(dir, 'network.json');
  if (!existsSync(file)) return undefined;
  let l: NetworkLayout;
  try {
    l = JSON.parse(readFileSync(file, 'utf8')) as NetworkLayout;
  } catch (e) {
    throw new ConfigError(
      'BAD_NETWORK_DIR',
      `${file}: not readable JSON (${errorMessage(e)}); run with --reset to make a new network`,
    );
  }
  if (l.version !== LAYOUT_VERSION || !Array.isArray(l.peers) || !existsSync(genesisFile({ ...l, dir }))) {
    throw new ConfigError(
      'BAD_NETWORK_DIR',
      `${dir}: not a network folder of this Grapevine version; run with --reset to make a new network`,
    );
  }
  return { ...l, dir };
}

/** Check that the layout's fixed ports are free (a second network, or another program, may hold them). */
export async function checkPorts(l: NetworkLayout): Promise<void> {
  const all = [
    { what: `orderer ${l.orderer.name}`, port: l.orderer.port },
    ...l.peers.flatMap((p) => [
      { what: `peer ${p.name} (gossip)`, port: p.port },
      { what: `peer ${p.name} (operations)`, port: p.opsPort },
    ]),
  ];
  const busy: string[] = [];
  for (const a of all) if (!(await portFree(a.port))) busy.push(`127.0.0.1:${a.port} (${a.what})`);
  if (busy.length > 0) {
    throw new ConfigError(
      'PORT_IN_USE',
      `${l.dir}: ports fixed by this network's genesis block are in use: ${busy.join(', ')}. Stop the program using them (another \`network up\`?) or run with --reset to pick new ports`,
    );
  }
}

export interface PreparedLayout {
  readonly layout: NetworkLayout;
  /** Whether the folder was created by this call. */
  readonly created: boolean;
}

export interface PrepareLayoutOptions {
  readonly reset?: boolean;
  /** The batch size of a new network's genesis block (a reused one keeps its own). Default 10 transactions, 250ms. */
  readonly batch?: NetworkLayout['batch'];
}

/** Reuse `dir` when it holds a network, else create one (crypto, genesis, core.yaml files). */
export async function prepareLayout(dirIn: string, opts: PrepareLayoutOptions = {}): Promise<PreparedLayout> {
  const dir = resolve(dirIn);
  const ours = existsSync(join(dir, MARKER)) || existsSync(join(dir, 'network.json'));
  const nonEmpty = existsSync(dir) && readdirSync(dir).length > 0;
  if (nonEmpty && !ours) {
    throw new ConfigError(
      'BAD_NETWORK_DIR',
      `${dir}: the folder exists and is not a Grapevine network folder; give an empty or new folder with --dir`,
    );
  }
  if (opts.reset) rmSync(dir, { recursive: true, force: true });
  const existing = readLayout(dir);
  if (existing) {
    await checkPorts(existing);
    return { layout: existing, created: false };
  }
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // an unfinished first run of ours
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, MARKER), 'made by grapevine network up\n');
  const l = await newLayout(dir, opts.batch ?? { maxMessageCount: 10, timeout: '250ms' });
  await generateCrypto(localCryptoConfig(ORGS, PEERS_PER_ORG), cryptoDir(l));
  writeFileSync(
    genesisFile(l),
    writeConfigtxGenesis(join(dir, 'configtx.yaml'), configtxYaml(l), PROFILE, l.channel),
  );
  for (const p of l.peers) {
    mkdirSync(peerHome(l, p), { recursive: true });
    writeFileSync(join(peerHome(l, p), 'core.yaml'), coreYaml(l, p));
  }
  mkdirSync(join(dir, 'orderer'), { recursive: true });
  const { dir: _omit, ...saved } = l;
  void _omit;
  writeFileSync(join(dir, 'network.json'), `${JSON.stringify(saved, null, 2)}\n`);
  return { layout: l, created: true };
}
